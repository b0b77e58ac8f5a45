"""Workflows that change referrals: logging one, moving it, noting activity.

Each runs in one transaction, so a referral never exists without its first
stage change, and a move never happens without its record.
"""

from datetime import date
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from core.text import clean_email, clean_name
from partners.models import Partner
from partners.services import partner_new
from referrals import rollups
from referrals.criteria import assess
from referrals.models import (
    Activity,
    CriteriaSettings,
    Criterion,
    Label,
    Referral,
    ReferralAnswer,
    Stage,
    StageChange,
    ValueStatement,
)
from referrals.selectors import criteria_in_use, thresholds
from thanks.models import Moment, ThankYou
from thanks.services import thank_yous_schedule

NO_OPEN_STAGE = "The pipeline has no open stage to put a new referral in."
FINAL_VALUE_REQUIRED = "Enter the final value of the sale to move it to Won."
LOST_REASON_REQUIRED = "Say why it was lost: it tells the team what to fix."
STAGE_ARCHIVED = "That stage is archived; choose another."
ACTIVITY_TEXT_REQUIRED = "Write what happened."
CRITERION_NOT_ASKED = (
    "A criterion answered is not one this referral is asked; reload the page."
)
ASSESSED = "Label: {before} → {after} ({yes} of {count} yes)"


def first_stage(stages: list[Stage]) -> Stage:
    """The pipeline's first open stage in use, where a new referral starts
    (`stages`: every stage, in pipeline order)."""
    stage = next(
        (s for s in stages if s.kind == Stage.Kind.OPEN and not s.is_archived), None
    )
    if stage is None:
        raise ValidationError(NO_OPEN_STAGE)
    return stage


def stages_as_they_stand(*stages: Stage) -> list[Stage]:
    """Every stage in pipeline order, read once (after wait_for_reorder:
    their positions as they stand), with the positions of `stages` (the
    caller's instances, read before) brought up to date: what logging or
    moving a referral needs of the stages, in one query."""
    every = list(Stage.objects.order_by("position", "pk"))
    positions = {stage.pk: stage.position for stage in every}
    for stage in stages:
        if stage.pk not in positions:
            raise Stage.DoesNotExist("The stage was deleted meanwhile.")
        stage.position = positions[stage.pk]
    return every


def referral_log(
    *,
    user,
    source: Partner | None = None,
    new_source: dict | None = None,
    owner=None,
    prospect_name: str,
    prospect_email: str = "",
    prospect_phone: str = "",
    prospect_company: str = "",
    prospect_title: str = "",
    estimated_value: Decimal | None = None,
    received_on: date | None = None,
    note: str = "",
    stage: Stage | None = None,
    stage_entered_at=None,
    lost_reason: str = "",
    answers: dict[int, bool] | None = None,
) -> Referral:
    """Log a referral: the referral, its first stage change and its first note.

    Its source is `source`, or `new_source` (name, email, company, phone,
    kind) created in the same transaction, owned by the referral's owner;
    the new source's errors are keyed by its own fields (`name`, `email`).

    A new referral starts in the pipeline's first open stage, or in `stage`
    (an admin adding one, an import) entered at `stage_entered_at`: it then
    starts as a move there would leave it (milestone dates, closed, the
    thanks owed). The caller has checked that `user` may see `source` and
    assign `owner`. `answers` (criterion id: answered yes), optional, assess
    it as referral_assess would, in the same transaction.
    """
    if (source is None) == (new_source is None):
        raise TypeError("referral_log takes a source or a new_source, not both.")
    now = timezone.now()
    if stage is not None:
        stage_entry_check(stage, final_value=estimated_value, lost_reason=lost_reason)
    entered = stage_entered_at or now
    referral = Referral(
        prospect_name=clean_name(prospect_name),
        prospect_email=clean_email(prospect_email),
        prospect_phone=prospect_phone,
        prospect_company=clean_name(prospect_company),
        prospect_title=prospect_title,
        source=source,
        owner=owner or user,
        stage_entered_at=entered,
        estimated_value=estimated_value,
        lost_reason=lost_reason.strip(),
        received_on=received_on or timezone.localdate(),
        last_activity_at=now if note.strip() else None,
    )
    # Lengths and formats, before any write and with no query (the caller
    # checked the related rows): a value too long for its column is a
    # message next to its field, not a database error.
    referral.full_clean(
        exclude=["source", "owner", "stage"],
        validate_unique=False,
        validate_constraints=False,
    )
    # The new source checked before any write too (its errors keyed by its
    # own fields), so no savepoint is needed: inside a caller's transaction
    # (the admin's, an import's) a failure rolls back the caller's
    # transaction too, and each referral logged saves two round trips.
    if new_source is not None:
        source = partner_new(owner=referral.owner, **new_source)
    with transaction.atomic(savepoint=False):
        if new_source is not None:
            source.save()
            referral.source = source
        rollups.wait_for_reorder()  # the stages' positions, as they stand
        if stage is None:
            stages = stages_as_they_stand()
            stage = first_stage(stages)
        else:
            stages = stages_as_they_stand(stage)
        owed = referral_enter(
            referral, stage, at=entered, milestones=milestones_of(stages)
        )
        assessed = None
        if answers:
            assessed = _assessment(referral, answers, owner=referral.owner, had={})
        referral.save(force_insert=True)
        if assessed:
            _assessment_saved(referral, user, *assessed, at=now)
        first_change = StageChange(
            referral=referral, to_stage=stage, at=entered, by=user
        )
        # Counted under the label its answers give it (Not assessed without).
        rollups.referral_counted(
            before=None, after=rollups.snapshot(referral), recorded=(first_change,)
        )
        thank_yous_schedule(
            referral=referral,
            moments=[Moment.RECEIVED, *owed],
            at=entered,
            new_referral=True,
        )
        if note.strip():
            Activity.objects.create(
                referral=referral,
                kind=Activity.Kind.NOTE,
                at=now,
                author=user,
                text=note,
            )
    return referral


def _assessment(referral: Referral, answers: dict[int, bool], *, owner, had: dict):
    """What answering `answers` makes of a referral (its answers so far:
    `had`, criterion id to ReferralAnswer): its score and label set on
    `referral` (not saved), and what _assessment_saved writes. None when
    nothing changes. A criterion must be one its owner's team asks, or one
    it answered already (archived since, or of another list)."""
    asked = {c.pk: c for c in criteria_in_use(team_id=owner.team_id)}
    asked.update({pk: answer.criterion for pk, answer in had.items()})
    if set(answers) - set(asked):
        raise ValidationError(CRITERION_NOT_ASKED)
    changed = {
        pk: yes for pk, yes in answers.items() if pk not in had or had[pk].yes != yes
    }
    if not changed:
        return None
    merged = {pk: answer.yes for pk, answer in had.items()} | answers
    before = referral.label
    referral.score, referral.label = assess(
        [(asked[pk].weight, yes) for pk, yes in merged.items()],
        **thresholds(team_id=owner.team_id),
    )
    text = ASSESSED.format(
        before=Label(before).label,
        after=Label(referral.label).label,
        yes=sum(merged.values()),
        count=len(merged),
    )
    return changed, had, text


def _assessment_saved(referral, user, changed, had, text, *, at) -> None:
    """The answers changed, and the timeline's entry, written."""
    ReferralAnswer.objects.bulk_create(
        ReferralAnswer(referral=referral, criterion_id=pk, yes=yes)
        for pk, yes in changed.items()
        if pk not in had
    )
    revised = [had[pk] for pk in changed if pk in had]
    for answer in revised:
        answer.yes = changed[answer.criterion_id]
    if revised:
        ReferralAnswer.objects.bulk_update(revised, ["yes"])
    Activity.objects.create(
        referral=referral,
        kind=Activity.Kind.ASSESSMENT,
        at=at,
        author=user,
        text=text,
    )


def referral_assess(*, referral: Referral, user, answers: dict[int, bool]) -> bool:
    """Answer (or revise answers to) the referral criteria: the answers
    saved, the score and label worked out again, the change on the timeline.
    Returns False when no answer changed (nothing is written).

    The criteria must be those the owner's team asks now, or ones the
    referral answered already (archived since: the answer stays and still
    counts). The label changes only here: changing the criteria or the
    thresholds leaves every referral's label as it was. The caller has
    checked that `user` may see the referral.

    The summaries count referrals by label: a new label moves the
    referral's counts from its old label's rows to the new one's, in the
    same transaction (waiting for a stage reorder first, as a move does:
    the rows are keyed by the furthest stage reached too).
    """
    with transaction.atomic():
        rollups.wait_for_reorder()
        locked = (
            Referral.objects.select_for_update(of=("self",))
            .select_related("owner")
            .get(pk=referral.pk)
        )
        had = {
            answer.criterion_id: answer
            for answer in ReferralAnswer.objects.filter(referral=locked).select_related(
                "criterion"
            )
        }
        before = rollups.snapshot(locked)
        assessed = _assessment(locked, answers, owner=locked.owner, had=had)
        if assessed is None:
            return False
        locked.save(update_fields=["score", "label", "updated_at"])
        # Nothing to write when the label stays (a score changed within it).
        rollups.referral_counted(before=before, after=rollups.snapshot(locked))
        _assessment_saved(locked, user, *assessed, at=timezone.now())
    referral.score, referral.label = locked.score, locked.label
    return True


def _next_position(rows) -> int:
    last = rows.order_by("-position").values_list("position", flat=True).first()
    return (last or 0) + 10


def criterion_create(*, team, question: str, weight: int) -> Criterion:
    """A criterion at the end of the team's list (no team: the organisation's)."""
    criterion = Criterion(
        team=team,
        question=" ".join(question.split()),
        weight=weight,
        position=_next_position(Criterion.objects.filter(team=team)),
    )
    criterion.full_clean()
    criterion.save()
    return criterion


def criterion_save(*, criterion: Criterion, data: dict) -> Criterion:
    """Save a criterion's question, weight or archived flag. Referrals keep
    their answers and labels (their label changes when someone edits them)."""
    for name, value in data.items():
        setattr(criterion, name, value)
    criterion.question = " ".join(criterion.question.split())
    criterion.full_clean()
    criterion.save(update_fields=list(data))
    return criterion


def statement_create(*, team, text: str) -> ValueStatement:
    statement = ValueStatement(
        team=team,
        text=" ".join(text.split()),
        position=_next_position(ValueStatement.objects.filter(team=team)),
    )
    statement.full_clean()
    statement.save()
    return statement


def statement_save(*, statement: ValueStatement, text: str) -> ValueStatement:
    statement.text = " ".join(text.split())
    statement.full_clean()
    statement.save(update_fields=["text"])
    return statement


def list_shift(*, row, up: bool) -> None:
    """Swap a criterion or a value statement with its neighbour in its list."""
    with transaction.atomic():
        rows = list(
            type(row)
            .objects.select_for_update()
            .filter(team=row.team_id)
            .order_by("position", "pk")
        )
        index = next(i for i, each in enumerate(rows) if each.pk == row.pk)
        other = index - 1 if up else index + 1
        if not 0 <= other < len(rows):
            return
        rows[index], rows[other] = rows[other], rows[index]
        for position, each in enumerate(rows, start=1):
            each.position = position * 10
        type(row).objects.bulk_update(rows, ["position"])


def thresholds_save(*, team, qualified_from: int, lukewarm_from: int):
    """Set the team's (no team: the organisation's) thresholds. Labels
    already given stay until someone edits a referral's answers."""
    settings = CriteriaSettings.objects.filter(team=team).first() or (
        CriteriaSettings(team=team)
    )
    settings.qualified_from, settings.lukewarm_from = qualified_from, lukewarm_from
    settings.full_clean(validate_unique=False)
    settings.save()
    return settings


def milestones_of(stages: list[Stage]) -> dict[str, int]:
    """Each milestone's stage position, of stages already read."""
    return {
        stage.milestone: stage.position
        for stage in stages
        if stage.milestone != Stage.Milestone.NONE
    }


def milestone_positions() -> dict[str, int]:
    """Each milestone's stage position (one query; for callers that enter
    many referrals into stages, such as the benchmark's data)."""
    return dict(
        Stage.objects.exclude(milestone=Stage.Milestone.NONE).values_list(
            "milestone", "position"
        )
    )


def _milestones_reached(stage: Stage, milestones: dict[str, int] | None) -> set[str]:
    """Milestones whose stage comes at or before `stage` in the pipeline."""
    if milestones is None:
        return set(
            Stage.objects.exclude(milestone=Stage.Milestone.NONE)
            .filter(position__lte=stage.position)
            .values_list("milestone", flat=True)
        )
    return {name for name, at in milestones.items() if at <= stage.position}


def stage_entry_check(stage: Stage, *, final_value, lost_reason: str) -> None:
    """What entering `stage` asks for: a stage in use, a final value for Won,
    a reason for Lost (step 1 of a move, and of a referral that starts there)."""
    if stage.is_archived:
        raise ValidationError({"stage": STAGE_ARCHIVED})
    if stage.kind == Stage.Kind.WON and final_value is None:
        raise ValidationError({"final_value": FINAL_VALUE_REQUIRED})
    if stage.kind == Stage.Kind.LOST and not lost_reason.strip():
        raise ValidationError({"lost_reason": LOST_REASON_REQUIRED})


def referral_enter(
    referral: Referral, stage: Stage, *, at, milestones: dict[str, int] | None = None
) -> list[str]:
    """A referral entering `stage` at `at`, as a move or a start leaves it
    (steps 3 and 4 of a move): first contacted and meeting held set once, on
    reaching the milestone's stage or any later open or won one; the furthest
    position; closed_at set on closing, cleared on reopening. Returns the
    moments it now owes thanks for: after the first meeting (reached on an
    open stage: straight to Won is thanked once, for the sale), the sale, the
    loss. `milestones` (from milestone_positions) saves a query per call."""
    referral.stage, referral.stage_entered_at = stage, at
    moments = []
    if stage.kind != Stage.Kind.LOST:
        reached = _milestones_reached(stage, milestones)
        if Stage.Milestone.CONTACTED in reached and not referral.first_contacted_at:
            referral.first_contacted_at = at
        if Stage.Milestone.MEETING in reached and not referral.meeting_held_at:
            referral.meeting_held_at = at
            if stage.kind == Stage.Kind.OPEN:
                moments.append(Moment.MEETING)
    referral.furthest_position = max(
        referral.furthest_position, stage.progress_position
    )
    if stage.kind == Stage.Kind.WON:
        moments.append(Moment.WON)
    if stage.kind == Stage.Kind.LOST:
        moments.append(Moment.LOST)
    referral.closed_at = (referral.closed_at or at) if stage.is_closed else None
    return moments


def referral_move(
    *,
    referral: Referral,
    to_stage: Stage,
    user,
    final_value: Decimal | None = None,
    lost_reason: str = "",
) -> bool:
    """Move a referral to another stage. Returns False when it is already there.

    1. Check what the target stage asks for (a final value for Won, a reason
       for Lost) before touching anything.
    2. Lock the row, so two moves at once cannot both record the same change.
    3. Record the StageChange, and set first contacted / meeting held once:
       reaching the milestone's stage, or any later open or won stage, counts.
    4. Closing sets closed_at; reopening clears it (it is no longer closed).
    5. Schedule the thanks the move owes: after the first meeting (reached on
       an open stage; straight to Won is thanked once, for the sale), the sale,
       and the loss when that moment is switched on.
    """
    stage_entry_check(to_stage, final_value=final_value, lost_reason=lost_reason)

    now = timezone.now()
    # No savepoint, as referral_log: inside a caller's transaction a failure
    # rolls it back too.
    with transaction.atomic(savepoint=False):
        rollups.wait_for_reorder()
        # The row locked (its source read with it, not locked: for the thanks).
        locked = (
            Referral.objects.select_for_update(of=("self",))
            .select_related("source")
            .get(pk=referral.pk)
        )
        if locked.stage_id == to_stage.pk:
            return False
        # Its position as it stands now (a reorder may have moved it since
        # the caller read it): the furthest position reached is taken from it.
        stages = stages_as_they_stand(to_stage)
        before = rollups.snapshot(locked)
        change = StageChange(
            referral=locked,
            from_stage_id=locked.stage_id,
            to_stage=to_stage,
            at=now,
            by=user,
        )
        locked.last_activity_at = now
        moments = referral_enter(
            locked, to_stage, at=now, milestones=milestones_of(stages)
        )
        if to_stage.kind == Stage.Kind.WON:
            locked.estimated_value = final_value
        if to_stage.kind == Stage.Kind.LOST:
            locked.lost_reason = lost_reason.strip()
        locked.save()
        rollups.referral_counted(
            before=before, after=rollups.snapshot(locked), recorded=(change,)
        )
        # The thanks this move owes, in the same transaction: a referral that
        # moves back and forth is thanked once per moment (unique row).
        thank_yous_schedule(referral=locked, moments=moments, at=now)
    _saved_as(referral, locked)
    return True


def _saved_as(referral: Referral, saved: Referral) -> None:
    """The caller's `referral` as `saved` left the database (every field, its
    stage and source), with no query to read it back."""
    for field in Referral._meta.concrete_fields:
        if field.generated:  # the database keeps it
            continue
        setattr(referral, field.attname, getattr(saved, field.attname))
    referral.stage, referral.source = saved.stage, saved.source


def activity_add(
    *, referral: Referral, user, kind: str, text: str, at=None
) -> Activity:
    """Note a call, email, meeting or note on a referral."""
    if not text.strip():
        raise ValidationError({"text": ACTIVITY_TEXT_REQUIRED})
    at = at or timezone.now()
    with transaction.atomic():
        rollups.wait_for_reorder()
        activity = Activity.objects.create(
            referral=referral, kind=kind, at=at, author=user, text=text.strip()
        )
        Referral.objects.filter(pk=referral.pk).update(last_activity_at=at)
    return activity


STAGE_HOLDS_REFERRALS = (
    "“{stage}” holds {count} referral(s), so it cannot be deleted. Archive it "
    "instead: it leaves the board and the move choices, and its history stays."
)


def next_stage_position() -> int:
    """The position after the last stage's (the end of the pipeline)."""
    last = (
        Stage.objects.order_by("-position").values_list("position", flat=True).first()
    )
    return (last or 0) + 10


def stage_create(**fields) -> Stage:
    """A new stage, placed at the end of the pipeline."""
    stage = Stage(position=next_stage_position(), **fields)
    stage.full_clean()
    stage.save()
    return stage


def stage_shift(*, stage: Stage, up: bool) -> None:
    """Swap a stage with its neighbour in the pipeline.

    The two exchange their positions and the rest keep theirs, so only the
    referrals whose furthest stage reached was one of the two are touched
    (the funnel reads that position; see rollups.positions_swapped).
    """
    with transaction.atomic():
        rollups.lock_for_reorder()
        stages = list(Stage.objects.select_for_update().order_by("position", "pk"))
        index = next(i for i, s in enumerate(stages) if s.pk == stage.pk)
        other = index - 1 if up else index + 1
        if not 0 <= other < len(stages):
            return
        if len({each.position for each in stages}) < len(stages):
            # Tied positions (set by hand): number every stage apart, in
            # order, and work out each referral's furthest stage again.
            for position, each in enumerate(stages, start=1):
                each.position = position * 10
            Stage.objects.bulk_update(stages, ["position"])
            rollups.furthest_recompute()
        lower, higher = sorted([stages[index], stages[other]], key=lambda s: s.position)
        lower.position, higher.position = higher.position, lower.position
        Stage.objects.bulk_update([lower, higher], ["position"])
        rollups.positions_swapped(moved_up=higher, moved_down=lower)


def stage_save(*, stage: Stage, data: dict) -> Stage:
    """Save a stage's settings (`data`: field name to new value). Lost never
    counts as progress, so when a stage becomes Lost or stops being Lost, the
    furthest stage reached of the referrals that entered it is worked out
    again."""
    for name, value in data.items():
        setattr(stage, name, value)
    # Lengths, choices and ranges; the name's uniqueness is the database's.
    stage.full_clean(validate_unique=False, validate_constraints=False)
    with transaction.atomic():
        lost = Stage.Kind.LOST
        # From the database: the caller's stage may already hold the new kind.
        was_lost = Stage.objects.values_list("kind", flat=True).get(pk=stage.pk) == lost
        turns = was_lost != (stage.kind == lost)
        if turns:
            rollups.lock_for_reorder()
        stage.save(update_fields=list(data))
        if turns:
            rollups.furthest_recompute(Referral.objects.filter(rollups.ever_in(stage)))
    return stage


def stage_remove(*, stage: Stage) -> None:
    """Delete an empty stage; a stage that holds referrals can only be archived."""
    count = stage.referrals.count()
    if count:
        raise ValidationError(
            STAGE_HOLDS_REFERRALS.format(stage=stage.name, count=count)
        )
    if StageChange.objects.filter(Q(from_stage=stage) | Q(to_stage=stage)).exists():
        raise ValidationError(
            f"“{stage.name}” appears in referrals' histories; archive it instead."
        )
    stage.delete()


def referral_update(*, referral: Referral, user, data: dict) -> Referral:
    """Save edits to a referral (`data`: field name to new value, its stage
    excepted: that moves by referral_move); thanks not yet given follow a
    change of owner or source. Returns the referral as saved.

    The new source is thanked by email or, if they opted out, by a call.
    `user` is who edits (the caller checked they may).
    """
    data = {**data}
    for name in ("prospect_name", "prospect_company"):
        if name in data:
            data[name] = clean_name(data[name])
    if "prospect_email" in data:
        data["prospect_email"] = clean_email(data["prospect_email"])
    with transaction.atomic():
        rollups.wait_for_reorder()
        # The caller's instance may already hold the new values: what it
        # counted for before comes from the database (locked, as a move
        # would lock it).
        locked = Referral.objects.select_for_update().get(pk=referral.pk)
        before, source_before = rollups.snapshot(locked), locked.source_id
        for name, value in data.items():
            setattr(locked, name, value)
        locked.full_clean(
            exclude=["source", "owner", "stage"],
            validate_unique=False,
            validate_constraints=False,
        )
        locked.save(update_fields=list(data))
        referral = locked
        rollups.referral_counted(before=before, after=rollups.snapshot(referral))
        # Against the locked row, not the form's idea of a change: a form
        # loaded before another user's reassignment may write an owner back.
        if before.owner != referral.owner_id:
            thank_yous_follow_owner(referral=referral)
        if referral.source_id != source_before:
            source = referral.source
            pending = ThankYou.objects.filter(
                referral=referral,
                status__in=[ThankYou.Status.SCHEDULED, ThankYou.Status.FAILED],
            )
            if source.can_email:
                pending.update(source=source)
            else:
                pending.update(
                    source=source,
                    channel=ThankYou.Channel.CALL,
                    status=ThankYou.Status.SCHEDULED,
                    due_at=F("deadline_at"),
                )
    return referral


def thank_yous_follow_owner(*, referral: Referral) -> None:
    """A reassigned referral's thank-yous count for (and are owed by) its new owner."""
    ThankYou.objects.filter(referral=referral).update(owner=referral.owner)
