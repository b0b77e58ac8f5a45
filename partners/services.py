from django.core.exceptions import ValidationError
from django.db.models import Q
from django.utils import timezone

from core.text import clean_email, clean_name
from partners.fit import PARTNER_FOCUS_MISSING, Fit, fit
from partners.models import (
    Answer,
    Ask,
    Commitment,
    GivenReferral,
    Outcome,
    Partner,
    TeamFocus,
)

# A referral's stage kind when it is won: referrals.models.Stage.Kind.WON
# (partners sits below referrals; tests/partners/test_asking_rule.py holds
# the two equal).
WON = "won"

NOT_A_CUSTOMER = (
    "{name} is a {kind} source, not a customer: only a customer's outcomes "
    "are recorded, and only customers are asked for referrals."
)
NOT_WON = (
    "This referral is {stage}, not won: outcomes are recorded for won referrals only."
)
DO_NOT_ASK = "{name} asked not to be asked for referrals."
DELIVERED_IN_FUTURE = "A delivery date cannot be in the future."


def _partner(
    *,
    owner,
    name: str,
    email: str = "",
    phone: str = "",
    company: str = "",
    title: str = "",
    kind: str = Partner.Kind.CUSTOMER,
    **fields,
) -> Partner:
    return Partner(
        owner=owner,
        name=clean_name(name),
        email=clean_email(email),
        phone=phone,
        company=clean_name(company),
        title=title,
        kind=kind,
        email_consent_at=timezone.now(),
        **fields,
    )


def partner_create(**fields) -> Partner:
    """A new referral source, owned by the rep who will look after them."""
    partner = _partner(**fields)
    partner.full_clean()
    partner.fit_score = partner_fit(partner=partner).score
    partner.save()
    return partner


def partner_update(*, partner: Partner, consent_before: str) -> Partner:
    """Save a source edited in its form (checked there): when they opted in
    or out of email, and their fit again (the focus, click, trust, kind or
    owner may have changed)."""
    if partner.email_consent != consent_before:
        partner.email_consent_at = timezone.now()  # when they opted in or out
    partner.fit_score = partner_fit(partner=partner).score
    partner.save()
    return partner


# -- Fit (partners.fit): a referral partner against their owner's team's focus --


def team_focus_for(*, team_id: int | None) -> TeamFocus | None:
    """A team's focus, None when it has none (or no team is given)."""
    if team_id is None:
        return None
    return TeamFocus.objects.filter(team_id=team_id).first()


def team_of(user) -> int | None:
    """The team whose focus a user's partners are measured against: their
    own, else (a manager outside the team they manage) the first they
    manage."""
    if user.team_id is not None:
        return user.team_id
    return user.managed_teams.order_by("name").values_list("pk", flat=True).first()


def partner_fit(*, partner: Partner, focus: TeamFocus | None = None) -> Fit:
    """How well a referral partner fits their owner's team (its focus read
    unless given: one query, none for a source that is not a referral
    partner or has no focus written down)."""
    if partner.kind != Partner.Kind.PARTNER:
        return Fit(None, ["Only referral partners have a fit."])
    if partner.focus().is_empty:  # said without reading the team's
        return Fit(None, [PARTNER_FOCUS_MISSING])
    if focus is None:
        focus = team_focus_for(team_id=team_of(partner.owner))
    return fit(
        None if focus is None else focus.focus(),
        partner.focus(),
        click=partner.click,
        trust=partner.trust,
    )


FOCUS_LISTS = ("focus_roles", "focus_industries")
FOCUS_FIELDS = (*FOCUS_LISTS, "focus_size_min", "focus_size_max")


def team_focus_save(*, team, user, **fields) -> TeamFocus:
    """Set a team's focus, then every one of its referral partners' fit (the
    partners owned by the team's members): a few thousand rows at most,
    written in batches."""
    focus = TeamFocus.objects.filter(team=team).first() or TeamFocus(team=team)
    for name in FOCUS_FIELDS:
        value = fields.get(name)
        if name in FOCUS_LISTS:
            value = (value or "").strip()
        setattr(focus, name, value)
    focus.updated_by = user
    focus.full_clean()
    focus.save()
    # The members' partners, and the manager's own when they are not a
    # member (team_of).
    owners = Q(owner__team=team)
    if team.manager is not None and team_of(team.manager) == team.pk:
        owners |= Q(owner=team.manager_id)
    partners = list(
        Partner.objects.filter(owners, kind=Partner.Kind.PARTNER).only(
            "pk", "kind", "click", "trust", "fit_score", *FOCUS_FIELDS
        )
    )
    changed = []
    for partner in partners:
        score = partner_fit(partner=partner, focus=focus).score
        if score != partner.fit_score:
            partner.fit_score = score
            changed.append(partner)
    Partner.objects.bulk_update(changed, ["fit_score"], batch_size=500)
    return focus


def partner_new(**fields) -> Partner:
    """A new referral source as partner_create makes it, checked (lengths,
    formats, choices: a ValidationError keyed by its fields) but not saved,
    with no query: the caller has checked the owner, and saves it in its own
    transaction (referral_log: a source logged with its first referral)."""
    partner = _partner(**fields)
    partner.full_clean(exclude=["owner"])
    return partner


def partner_thanked(*, partner_id: int, at) -> None:
    """Note that the source was thanked at `at` (a thank-you sent or done).

    Only moves forward: a late record of an older thank-you changes nothing.
    """
    Partner.objects.filter(pk=partner_id).filter(
        Q(last_thanked_at__isnull=True) | Q(last_thanked_at__lt=at)
    ).update(last_thanked_at=at)


# -- Outcomes and asks (partners.asking decides who is ready to ask) ------------


def _require_customer(partner: Partner) -> None:
    if partner.kind != Partner.Kind.CUSTOMER:
        raise ValidationError(
            NOT_A_CUSTOMER.format(
                name=partner.name, kind=partner.get_kind_display().lower()
            )
        )


def _require_won(referral) -> None:
    """`referral` (a referrals.Referral, read through its stage) is won."""
    if referral.stage.kind != WON:
        raise ValidationError(NOT_WON.format(stage=referral.stage.name))


def _checked(outcome: Outcome) -> Outcome:
    if outcome.delivered_on and outcome.delivered_on > timezone.localdate():
        raise ValidationError({"delivered_on": DELIVERED_IN_FUTURE})
    outcome.full_clean()
    return outcome


def outcome_record(
    *,
    partner: Partner,
    user,
    promised: str,
    promised_by,
    delivered: str = "",
    delivered_on=None,
    in_full: str = Answer.UNKNOWN,
    on_budget: str = Answer.UNKNOWN,
    satisfaction: int | None = None,
    referral=None,
) -> Outcome:
    """Record what was promised to a customer and, when known, what was
    delivered. Refuses a source that is not a customer, and a `referral`
    (the won referral the outcome comes from) that is not won."""
    _require_customer(partner)
    if referral is not None:
        _require_won(referral)
    outcome = _checked(
        Outcome(
            partner=partner,
            referral=referral,
            promised=promised.strip(),
            promised_by=promised_by,
            delivered=delivered.strip(),
            delivered_on=delivered_on,
            in_full=in_full,
            on_budget=on_budget,
            satisfaction=satisfaction,
            recorded_by=user,
        )
    )
    outcome.save()
    return outcome


OUTCOME_FIELDS = (
    "promised",
    "promised_by",
    "delivered",
    "delivered_on",
    "in_full",
    "on_budget",
    "satisfaction",
)


def outcome_update(*, outcome: Outcome, user, **fields) -> Outcome:
    """Revise an outcome: most often, say what was delivered, when, and how
    satisfied the customer is. The same checks as outcome_record."""
    _require_customer(outcome.partner)
    for name in OUTCOME_FIELDS:
        if name in fields:
            value = fields[name]
            setattr(outcome, name, value.strip() if isinstance(value, str) else value)
    _checked(outcome).save()
    return outcome


def ask_create(*, partner: Partner, user, channel: str, note: str = "") -> Ask:
    """Record that `user` asked a customer for referrals. Refuses a source
    that is not a customer, or one who asked not to be asked. (An email ask
    goes through thanks.services.ask_record, which sends it.)"""
    _require_customer(partner)
    if partner.do_not_ask:
        raise ValidationError(DO_NOT_ASK.format(name=partner.name))
    ask = Ask(partner=partner, asked_by=user, channel=channel, note=note.strip())
    ask.full_clean()
    ask.save()
    return ask


def partner_no_asks(*, partner: Partner) -> bool:
    """The customer asked not to be asked for referrals. Returns False if
    they already had."""
    return bool(
        Partner.objects.filter(pk=partner.pk, do_not_ask=False).update(do_not_ask=True)
    )


# -- Reciprocity: the referrals we give a partner -------------------------------

GIVEN_IN_FUTURE = "A referral given cannot be dated in the future."
GIVEN_FIELDS = ("introduced", "company", "given_on", "note", "result")


def _given_checked(given: GivenReferral) -> GivenReferral:
    if given.given_on and given.given_on > timezone.localdate():
        raise ValidationError({"given_on": GIVEN_IN_FUTURE})
    given.full_clean()
    return given


def given_referral_record(
    *,
    partner: Partner,
    user,
    introduced: str,
    given_on,
    company: str = "",
    note: str = "",
    result: str = GivenReferral.Result.OPEN,
) -> GivenReferral:
    """Record a referral we gave `partner`: whom we introduced to them, when
    (not in the future), and how it turned out when known."""
    given = _given_checked(
        GivenReferral(
            partner=partner,
            introduced=clean_name(introduced),
            company=clean_name(company),
            given_on=given_on,
            note=note.strip(),
            result=result,
            given_by=user,
        )
    )
    given.save()
    return given


def given_referral_update(*, given: GivenReferral, **fields) -> GivenReferral:
    """Revise a referral given: most often, how it turned out."""
    for name in GIVEN_FIELDS:
        if name in fields:
            value = fields[name]
            if name in ("introduced", "company"):
                value = clean_name(value)
            elif name == "note":
                value = value.strip()
            setattr(given, name, value)
    _given_checked(given).save()
    return given


# -- The partnership plan: commitments -------------------------------------------

DONE_IN_FUTURE = "A commitment cannot be done on a date in the future."
COMMITMENT_FIELDS = ("what", "owed_by", "owner", "due_on", "status", "done_on", "notes")


def _commitment_checked(commitment: Commitment) -> Commitment:
    """Done: on a date (today unless said), not in the future; not done: no
    date done."""
    today = timezone.localdate()
    if commitment.status == Commitment.Status.DONE:
        commitment.done_on = commitment.done_on or today
        if commitment.done_on > today:
            raise ValidationError({"done_on": DONE_IN_FUTURE})
    else:
        commitment.done_on = None
    commitment.what = commitment.what.strip()
    commitment.notes = commitment.notes.strip()
    commitment.full_clean()
    return commitment


def commitment_create(
    *,
    partner: Partner,
    owner,
    what: str,
    due_on,
    owed_by: str = Commitment.OwedBy.US,
    status: str = Commitment.Status.OPEN,
    done_on=None,
    notes: str = "",
) -> Commitment:
    """A commitment of `partner`'s plan (thanks.services.commitment_record
    also schedules its reminder)."""
    commitment = _commitment_checked(
        Commitment(
            partner=partner,
            owner=owner,
            what=what,
            due_on=due_on,
            owed_by=owed_by,
            status=status,
            done_on=done_on,
            notes=notes,
        )
    )
    commitment.save()
    return commitment


def commitment_update(*, commitment: Commitment, **fields) -> Commitment:
    """Revise a commitment: most often, mark it done (today unless said)."""
    for name in COMMITMENT_FIELDS:
        if name in fields:
            setattr(commitment, name, fields[name])
    _commitment_checked(commitment).save()
    return commitment
