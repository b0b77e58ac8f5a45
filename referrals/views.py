from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, Q, QuerySet
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST
from django_htmx.http import retarget

from accounts.models import Team
from accounts.scoping import scope_for_user, users_for_user
from core.csv import csv_response
from core.http import safe_next
from core.paginator import CountingPaginator, UncountedPaginator
from partners.forms import OutcomeForm
from partners.services import NOT_WON
from referrals.card import introduction_email, plain_sentence
from referrals.forms import (
    ActivityForm,
    AssessmentForm,
    CriterionForm,
    MoveForm,
    ReferralFilterForm,
    ReferralForm,
    ReferralLogForm,
    StageForm,
    ThresholdsForm,
    ValueStatementForm,
    add_service_errors,
    criteria_answers,
)
from referrals.models import (
    CriteriaSettings,
    Criterion,
    Referral,
    Stage,
    ValueStatement,
)
from referrals.outcomes import referral_customer, referral_outcome_record
from referrals.selectors import (
    LIST_ROW_FIELDS,
    board_columns,
    criteria_in_use,
    list_rows,
    referral_assessment,
    referral_for_user,
    referral_timeline,
    referrals_needing_action,
    stale_filter,
    thresholds,
    value_statements,
)
from referrals.services import (
    activity_add,
    criterion_create,
    criterion_save,
    list_shift,
    referral_assess,
    referral_log,
    referral_move,
    referral_update,
    stage_create,
    stage_remove,
    stage_save,
    stage_shift,
    statement_create,
    statement_save,
    thresholds_save,
)
from thanks.selectors import in_view, team_ids

LOGGED = "Referral logged. Thank {source} soon: they put their name on the line."
MOVED = "{prospect} moved to {stage}."
SAVED = "Changes saved."
ACTIVITY_ADDED = "Activity added."
STAGE_ADDED = "Stage added at the end of the pipeline. Move it where it belongs."
STAGE_DELETED = "Stage “{stage}” deleted."
ASSESSED = "Criteria saved: {label}."
NOT_CHANGED = "No answer changed."
CRITERION_ADDED = "Criterion added at the end of the list."
STATEMENT_ADDED = "Statement added."
STATEMENT_DELETED = "Statement deleted."
OUTCOME_RECORDED = "Outcome recorded for {customer}, the customer."


@login_required
def today(request):
    return render(
        request,
        "referrals/today.html",
        referrals_needing_action(
            user=request.user, thanks_after=_id(request.GET.get("after"))
        ),
    )


def _id(value) -> int | None:
    """A row id from the query string; None when it is not one."""
    try:
        number = int(value or "")
    except ValueError:
        return None
    return number if number > 0 else None


def _filtered_referrals(request):
    form = ReferralFilterForm(request.GET or None, user=request.user)
    user = request.user
    # What referrals_for_user() shows, a manager's team written out as its
    # ids (thanks.selectors.in_view, as Today does): as the team's subquery,
    # PostgreSQL searched once per member of the team, reading every match
    # of a common word each time (a search for the commonest surname: 142 ms
    # of SQL, 45 ms with the ids; docs/operations.md, "Search").
    visible = in_view(
        Referral.objects.select_related("source", "owner", "stage"),
        user,
        team_ids(user),
    )
    return form, form.filter(visible, stale_q=stale_filter)


# The list counts its rows up to this many; beyond, it says "10,000+" and
# pages through the first 10,000 in the order chosen. A search is not
# counted, and its pages stop sooner: each page further reads the matches
# before it (docs/operations.md, "Search").
COUNT_CAP = 10_000
SEARCH_CAP = 1_000
PER_PAGE = 50


class CappedPaginator(CountingPaginator):
    """Pages of a list counted once, up to `cap` rows (`capped`: there are
    more, and the pages stop at the cap)."""

    def __init__(self, object_list, per_page, *, count, cap, **kwargs):
        self.cap = cap
        self.capped = False
        super().__init__(object_list, per_page, count=self._capped(count), **kwargs)

    def _capped(self, count):
        def counted():
            found = count(self.cap + 1)
            self.capped = found > self.cap
            return min(found, self.cap)

        return counted


class PickedThenJoined:
    """The rows of `referrals` (filtered and ordered) as values of `fields`,
    for a paginator: a page's ids are picked from the referrals alone, in a
    subquery, and only those rows joined to their source and owner. Joined
    first, PostgreSQL read all 20,000 sources into a hash to join the rows
    found before sorting them (an admin's search for an email: 7 ms, 1 ms
    picked first)."""

    ordered = True

    def __init__(self, referrals: QuerySet, fields: list[str]):
        self.referrals, self.fields = referrals, fields

    def __getitem__(self, page: slice) -> QuerySet:
        picked = self.referrals.values("pk")[page]
        return (
            Referral.objects.filter(pk__in=picked)
            .order_by(*self.referrals.query.order_by)
            .values(*self.fields)
        )

    def __iter__(self):
        """Every row, joined as they come (not what a page reads)."""
        return iter(self.referrals.values(*self.fields))


@login_required
def referral_list(request):
    form, referrals = _filtered_referrals(request)
    rows = PickedThenJoined(referrals, LIST_ROW_FIELDS)
    if form.searched:
        # A search is not counted: counting a common word's matches read
        # each of them from the table, as much work again as finding the
        # page's (bench/RESULTS.md). Its pages say "50+" until the last.
        paginator = UncountedPaginator(rows, PER_PAGE, cap=SEARCH_CAP)
    else:
        # One COUNT gives the figure and the pages; it reads the referrals
        # alone (the rows' values join the source and owner, and counting
        # those joins read every partner: bench/RESULTS.md) and stops at
        # the cap.
        paginator = CappedPaginator(
            rows,
            PER_PAGE,
            count=lambda most: referrals.order_by()[:most].count(),
            cap=COUNT_CAP,
        )
    page = paginator.get_page(request.GET.get("page"))
    page.object_list = list_rows(page.object_list)
    return render(request, "referrals/referral_list.html", {"form": form, "page": page})


CSV_COLUMNS = [
    ("Prospect", lambda r: r.prospect_name),
    ("Company", lambda r: r.prospect_company),
    ("Email", lambda r: r.prospect_email),
    ("Phone", lambda r: r.prospect_phone),
    ("Title", lambda r: r.prospect_title),
    ("Source", lambda r: r.source.name),
    ("Source company", lambda r: r.source.company),
    ("Owner", lambda r: r.owner.email),
    ("Stage", lambda r: r.stage.name),
    ("Estimated value", lambda r: r.estimated_value),
    ("Received", lambda r: r.received_on.isoformat()),
    (
        "First contacted",
        lambda r: r.first_contacted_at and r.first_contacted_at.isoformat(),
    ),
    ("Meeting held", lambda r: r.meeting_held_at and r.meeting_held_at.isoformat()),
    ("Closed", lambda r: r.closed_at and r.closed_at.isoformat()),
    ("Lost reason", lambda r: r.lost_reason),
    ("Label", lambda r: r.get_label_display()),
    ("Score", lambda r: r.score),
]


@login_required
def referral_export(request):
    """The filtered list as CSV, streamed so a large export never sits in memory."""
    _, referrals = _filtered_referrals(request)
    return csv_response(
        f"referrals-{timezone.localdate().isoformat()}",
        [name for name, _ in CSV_COLUMNS],
        (
            [get(referral) for _, get in CSV_COLUMNS]
            for referral in referrals.iterator(chunk_size=2000)
        ),
    )


@login_required
def referral_new(request):
    form = ReferralLogForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            referral = referral_log(
                user=request.user,
                source=None if form.creates_source else data["source"],
                new_source=form.new_source,
                owner=data.get("owner"),
                prospect_name=data["prospect_name"],
                prospect_email=data["prospect_email"],
                prospect_phone=data["prospect_phone"],
                prospect_company=data["prospect_company"],
                prospect_title=data["prospect_title"],
                estimated_value=data["estimated_value"],
                received_on=data["received_on"],
                note=data["note"],
                answers=form.answers,  # the criteria checklist's, optional
            )
        except ValidationError as error:  # next to its field, the input kept
            add_service_errors(form, error, form.SERVICE_FIELDS)
        else:
            messages.success(request, LOGGED.format(source=referral.source.name))
            return redirect(referral)
    return render(request, "referrals/referral_new.html", {"form": form})


@login_required
def referral_new_checklist(request):
    """The Log referral form's checklist for ?owner= (htmx, when the owner
    changes): the criteria their referrals are asked, with the answers sent
    along kept where still asked. The owner must be one the user may assign
    to (the one scoping rule's users_for_user); 404 otherwise."""
    owner = get_object_or_404(
        users_for_user(request.user).select_related("team"),
        pk=_id(request.GET.get("owner")),
    )
    answers = {k: v for k, v in request.GET.items() if k.startswith("criterion_")}
    form = ReferralLogForm(user=request.user, initial={**answers, "owner": owner})
    return render(request, "referrals/_log_checklist.html", {"form": form})


@login_required
def referral_detail(request, pk):
    referral = referral_for_user(user=request.user, pk=pk)
    won = referral.stage.kind == Stage.Kind.WON
    return render(
        request,
        "referrals/referral_detail.html",
        {
            "referral": referral,
            # A won referral's outcomes (one query more, on won referrals
            # only), those of customers the user may see: a customer given
            # to another rep since keeps its outcomes out of this page.
            "outcomes": list(
                scope_for_user(
                    referral.outcomes.select_related("partner"),
                    request.user,
                    owner_field="partner__owner",
                )
            )
            if won
            else [],
            "timeline": referral_timeline(referral=referral),
            "move_form": MoveForm(initial={"stage": referral.stage_id}),
            "activity_form": ActivityForm(),
            "assessment_form": AssessmentForm(
                rows=referral_assessment(referral=referral)
            ),
        },
    )


@login_required
def referral_outcome(request, pk):
    """Record what was promised to a won referral's prospect and, once
    known, what was delivered: on their customer source, found or made
    (referrals.outcomes). A referral that is not won offers no form."""
    referral = referral_for_user(user=request.user, pk=pk)
    if referral.stage.kind != Stage.Kind.WON:
        messages.error(request, NOT_WON.format(stage=referral.stage.name))
        return redirect(referral)
    form = OutcomeForm(request.POST or None)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                outcome = referral_outcome_record(
                    referral=referral, user=request.user, **form.cleaned_data
                )
            except ValidationError as error:  # next to its field, the input kept
                form.add_error(None, error)
            else:
                messages.success(
                    request, OUTCOME_RECORDED.format(customer=outcome.partner.name)
                )
                return redirect(outcome.partner)
    context = {
        "referral": referral,
        "form": form,
        "customer": referral_customer(referral=referral, user=request.user),
    }
    return render(request, "referrals/referral_outcome.html", context, status=status)


@login_required
@require_POST
def referral_assess_view(request, pk):
    """Fill or revise a referral's answers. htmx gets the criteria card, the
    label and the timeline back in place; without JavaScript, the page."""
    referral = referral_for_user(user=request.user, pk=pk)
    form = AssessmentForm(request.POST, rows=referral_assessment(referral=referral))
    status = 400
    if form.is_valid():
        try:
            changed = referral_assess(
                referral=referral, user=request.user, answers=criteria_answers(form)
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            status = 200
            if not request.htmx:
                messages.success(
                    request,
                    ASSESSED.format(label=referral.get_label_display())
                    if changed
                    else NOT_CHANGED,
                )
                return redirect(referral)
            form = AssessmentForm(rows=referral_assessment(referral=referral))
    context = {
        "referral": referral,
        "assessment_form": form,
        "timeline": referral_timeline(referral=referral),
        "activity_form": ActivityForm(),
    }
    if request.htmx:
        return render(request, "referrals/_assessment_panel.html", context)
    return render(
        request,
        "referrals/referral_detail.html",
        {**context, "move_form": MoveForm(initial={"stage": referral.stage_id})},
        status=status,
    )


@login_required
def referral_edit(request, pk):
    referral = referral_for_user(user=request.user, pk=pk)
    form = ReferralForm(request.POST or None, instance=referral, user=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            referral_update(
                referral=referral, user=request.user, data=form.cleaned_data
            )
        except ValidationError as error:  # next to its field, the input kept
            add_service_errors(form, error, {name: name for name in form.fields})
        else:
            messages.success(request, SAVED)
            return redirect(referral)
    return render(
        request, "referrals/referral_edit.html", {"form": form, "referral": referral}
    )


@login_required
def referral_move_view(request, pk):
    """Move a card. GET: the form (on the card with htmx, else its page);
    POST: htmx gets the board (or the card asking for more) back."""
    referral = referral_for_user(user=request.user, pk=pk)
    if request.method != "POST":
        form = MoveForm(initial={"stage": _next_stage(referral)})
        status = 200
    else:
        form, status = MoveForm(request.POST), 400
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            moved = referral_move(
                referral=referral,
                to_stage=data["stage"],
                user=request.user,
                final_value=data["final_value"],
                lost_reason=data["lost_reason"],
            )
        except ValidationError as error:
            form.add_error(None, error)  # a dict of field errors lands by its fields
        else:
            if moved:
                messages.success(
                    request,
                    MOVED.format(prospect=referral.prospect_name, stage=referral.stage),
                )
            if request.htmx and request.POST.get("from") == "board":
                return render(request, "referrals/_board.html", _board_context(request))
            return redirect(safe_next(request, referral.get_absolute_url()))
    # Won needs a value, Lost a reason: ask, keeping what was chosen.
    from_board = request.GET.get("from") == "board"  # its page goes back there
    back = reverse("board") if from_board else referral.get_absolute_url()
    context = {
        "referral": referral,
        "move_form": form,
        "next": safe_next(request, back),
    }
    if request.htmx:
        response = render(request, "referrals/_move_form_card.html", context)
        return retarget(response, f"#move-{referral.pk}")
    return render(request, "referrals/referral_move.html", context, status=status)


def _next_stage(referral) -> int | None:
    """The stage a move most often goes to: the next one in use."""
    later = Stage.objects.filter(
        is_archived=False, position__gt=referral.stage.position
    ).order_by("position", "pk")
    return later.values_list("pk", flat=True).first()


@login_required
@require_POST
def activity_add_view(request, pk):
    referral = referral_for_user(user=request.user, pk=pk)
    form = ActivityForm(request.POST)
    if form.is_valid():
        try:
            activity_add(
                referral=referral,
                user=request.user,
                kind=form.cleaned_data["kind"],
                text=form.cleaned_data["text"],
            )
        except ValidationError as error:  # e.g. a stage reorder in progress
            form.add_error(None, error)
        else:
            if not request.htmx:
                messages.success(request, ACTIVITY_ADDED)
                return redirect(referral)
            form = ActivityForm()
    context = {
        "referral": referral,
        "activity_form": form,
        "timeline": referral_timeline(referral=referral),
    }
    if request.htmx:
        return render(request, "referrals/_activity_panel.html", context)
    return render(
        request,
        "referrals/referral_detail.html",
        {**context, "move_form": MoveForm(initial={"stage": referral.stage_id})},
        status=400,
    )


def _board_context(request) -> dict:
    """The board's columns, each card a plain dict; its links are the
    template's."""
    columns = board_columns(user=request.user)
    return {"columns": columns}


@login_required
def board(request):
    return render(request, "referrals/board.html", _board_context(request))


def _require_admin(user):
    if not user.is_admin:
        raise PermissionDenied("Only admins change the pipeline's stages.")


def _stage_page(request, *, add_form=None, edited=None, status=200):
    """The stages page; a form with errors is shown in place of its clean one."""
    # Meta.ordering does not apply to GROUP BY queries: order explicitly.
    stages = Stage.objects.annotate(referral_count=Count("referrals")).order_by(
        "position", "pk"
    )
    forms = [
        edited
        if edited is not None and edited.instance.pk == stage.pk
        else StageForm(instance=stage, prefix=f"stage-{stage.pk}")
        for stage in stages
    ]
    return render(
        request,
        "referrals/stage_list.html",
        {
            "rows": list(zip(stages, forms, strict=True)),
            "add_form": add_form or StageForm(prefix="new"),
        },
        status=status,
    )


@login_required
def stage_list(request):
    _require_admin(request.user)
    return _stage_page(request)


@login_required
@require_POST
def stage_add(request):
    _require_admin(request.user)
    form = StageForm(request.POST, prefix="new")
    if form.is_valid():
        stage_create(**form.cleaned_data)
        messages.success(request, STAGE_ADDED)
        return redirect("stage_list")
    return _stage_page(request, add_form=form, status=400)


@login_required
@require_POST
def stage_update(request, pk):
    _require_admin(request.user)
    stage = get_object_or_404(Stage, pk=pk)
    form = StageForm(request.POST, instance=stage, prefix=f"stage-{stage.pk}")
    if form.is_valid():
        stage_save(stage=stage, data=form.cleaned_data)
        messages.success(request, SAVED)
        return redirect("stage_list")
    return _stage_page(request, edited=form, status=400)


@login_required
@require_POST
def stage_reorder(request, pk):
    _require_admin(request.user)
    stage = get_object_or_404(Stage, pk=pk)
    stage_shift(stage=stage, up=request.POST.get("direction") == "up")
    return redirect("stage_list")


@login_required
@require_POST
def stage_delete(request, pk):
    _require_admin(request.user)
    stage = get_object_or_404(Stage, pk=pk)
    try:
        stage_remove(stage=stage)
    except ValidationError as error:
        messages.error(request, error.messages[0])
    else:
        messages.success(request, STAGE_DELETED.format(stage=stage.name))
    return redirect("stage_list")


# The referral criteria (/referrals/criteria/): admins keep the
# organisation's list and any team's, managers their teams'; a rep sees the
# list their team uses, read-only.


def _may_edit_criteria(user, team: Team | None) -> bool:
    if user.is_admin:
        return True
    return user.is_manager and team is not None and team.manager_id == user.pk


def _criteria_scope(request) -> Team | None:
    """The list a page or a change is about: ?team= (an id; empty: the
    organisation's). A manager's default is the team they manage."""
    raw = request.POST.get("team") if request.method == "POST" else None
    if raw is None:
        raw = request.GET.get("team")
    if raw is None and request.user.is_manager:
        return request.user.managed_teams.order_by("name").first()
    team_id = _id(raw)
    return get_object_or_404(Team, pk=team_id) if team_id else None


def _require_criteria_editor(request) -> Team | None:
    team = _criteria_scope(request)
    if not _may_edit_criteria(request.user, team):
        raise PermissionDenied("Only admins, and managers for their team, do that.")
    return team


def _criteria_redirect(team: Team | None):
    url = reverse("criteria")
    return redirect(f"{url}?team={team.pk}" if team else f"{url}?team=")


@login_required
def criteria(request, *, edited=None, status=200):
    """The criteria page: editable for who may, read-only for a rep."""
    user = request.user
    team = _criteria_scope(request)
    if not _may_edit_criteria(user, team):
        # A rep (or a manager looking at another list): what their team uses.
        return render(
            request,
            "referrals/criteria_read.html",
            {
                "criteria": criteria_in_use(team_id=user.team_id),
                "statements": value_statements(team_id=user.team_id),
                "thresholds": thresholds(team_id=user.team_id),
                "team": user.team,
            },
        )
    rows = list(Criterion.objects.filter(team=team).order_by("position", "pk"))
    edited = edited or {}
    criterion_forms = [
        (c, edited.get(("c", c.pk)) or CriterionForm(instance=c, prefix=f"c{c.pk}"))
        for c in rows
    ]
    statements = list(
        ValueStatement.objects.filter(team=team).order_by("position", "pk")
    )
    statement_forms = [
        (
            v,
            edited.get(("v", v.pk))
            or ValueStatementForm(instance=v, prefix=f"v{v.pk}"),
        )
        for v in statements
    ]
    settings = CriteriaSettings.objects.filter(team=team).first()
    teams = (
        list(Team.objects.order_by("name"))
        if user.is_admin
        else list(user.managed_teams.order_by("name"))
    )
    return render(
        request,
        "referrals/criteria.html",
        {
            "team": team,
            "teams": teams,
            "criterion_forms": criterion_forms,
            "statement_forms": statement_forms,
            "add_criterion": edited.get("add_c") or CriterionForm(prefix="new"),
            "add_statement": edited.get("add_v") or ValueStatementForm(prefix="newv"),
            "thresholds_form": edited.get("thresholds")
            or ThresholdsForm(
                instance=settings,
                initial=None if settings else thresholds(team_id=None),
            ),
            "uses_organisations": team is not None and not rows,
        },
        status=status,
    )


@login_required
@require_POST
def criterion_add(request):
    team = _require_criteria_editor(request)
    form = CriterionForm(request.POST, prefix="new")
    if form.is_valid():
        criterion_create(
            team=team,
            question=form.cleaned_data["question"],
            weight=form.cleaned_data["weight"],
        )
        messages.success(request, CRITERION_ADDED)
        return _criteria_redirect(team)
    return criteria(request, edited={"add_c": form}, status=400)


@login_required
@require_POST
def criterion_update(request, pk):
    team = _require_criteria_editor(request)
    criterion = get_object_or_404(Criterion, pk=pk, team=team)
    form = CriterionForm(request.POST, instance=criterion, prefix=f"c{pk}")
    if form.is_valid():
        criterion_save(criterion=criterion, data=form.cleaned_data)
        messages.success(request, SAVED)
        return _criteria_redirect(team)
    return criteria(request, edited={("c", pk): form}, status=400)


@login_required
@require_POST
def criterion_reorder(request, pk):
    team = _require_criteria_editor(request)
    criterion = get_object_or_404(Criterion, pk=pk, team=team)
    list_shift(row=criterion, up=request.POST.get("direction") == "up")
    return _criteria_redirect(team)


@login_required
@require_POST
def statement_add(request):
    team = _require_criteria_editor(request)
    form = ValueStatementForm(request.POST, prefix="newv")
    if form.is_valid():
        statement_create(team=team, text=form.cleaned_data["text"])
        messages.success(request, STATEMENT_ADDED)
        return _criteria_redirect(team)
    return criteria(request, edited={"add_v": form}, status=400)


@login_required
@require_POST
def statement_update(request, pk):
    team = _require_criteria_editor(request)
    statement = get_object_or_404(ValueStatement, pk=pk, team=team)
    if request.POST.get("delete"):
        statement.delete()
        messages.success(request, STATEMENT_DELETED)
        return _criteria_redirect(team)
    if request.POST.get("direction"):
        list_shift(row=statement, up=request.POST["direction"] == "up")
        return _criteria_redirect(team)
    form = ValueStatementForm(request.POST, instance=statement, prefix=f"v{pk}")
    if form.is_valid():
        statement_save(statement=statement, text=form.cleaned_data["text"])
        messages.success(request, SAVED)
        return _criteria_redirect(team)
    return criteria(request, edited={("v", pk): form}, status=400)


@login_required
@require_POST
def thresholds_update(request):
    team = _require_criteria_editor(request)
    form = ThresholdsForm(request.POST)
    if form.is_valid():
        thresholds_save(team=team, **form.cleaned_data)
        messages.success(request, SAVED)
        return _criteria_redirect(team)
    return criteria(request, edited={"thresholds": form}, status=400)


# "How to refer us" (/referrals/card/, and the public /refer/<token>/): the
# criteria and value statements in plain words for the people who refer us,
# and an introduction email for them to copy.

CARD_RENEWED = "A new public link is ready. The old one no longer works."
CARD_RENEW_DENIED = "Only admins, and managers for their team, make a new link."
CARD_NOT_FOUND = "This link is not valid, or it was replaced by a new one."


def _card(team: Team | None) -> dict:
    """What the card shows, for `team` (its manager loaded: the contact) or,
    None, for the organisation."""
    team_id = team.pk if team else None
    contact = team.manager if team else None
    return {
        "team": team,
        "contact": contact,
        "introduction": [
            plain_sentence(c.question) for c in criteria_in_use(team_id=team_id)
        ],
        "statements": value_statements(team_id=team_id),
        "email": introduction_email(
            team_name=team.name if team else "",
            contact_name=str(contact) if contact else "",
            contact_short=contact.get_short_name() if contact else "",
        ),
    }


def _card_choices(user) -> list[Team]:
    """The teams whose card `user` may pick (their managers loaded): every
    team for an admin, a manager's own and those they manage; a rep's own."""
    teams = Team.objects.select_related("manager").order_by("name")
    if user.is_admin:
        return list(teams)
    if user.is_manager:
        return list(teams.filter(Q(manager=user) | Q(pk=user.team_id)))
    return list(teams.filter(pk=user.team_id)) if user.team_id else []


def _card_team(request, choices: list[Team]) -> Team | None:
    """The team of the card page: ?team= (an id) among `choices`, for an
    admin or a manager (empty: the organisation's, for an admin); else the
    user's team (a manager's first managed team before it); None: the
    organisation's."""
    user = request.user
    raw = request.GET.get("team")
    if raw is not None and (user.is_admin or user.is_manager):
        if not raw and user.is_admin:
            return None
        picked = [team for team in choices if team.pk == _id(raw)]
        if not picked:
            raise Http404("No such team, or not one of yours.")
        return picked[0]
    managed = [team for team in choices if team.manager_id == user.pk]
    own = [team for team in choices if team.pk == user.team_id]
    return ((managed if user.is_manager else []) + own + [None])[0]


@login_required
def card(request):
    """The team's "How to refer us" card, with its public link to copy (and
    to renew, for who keeps the team's criteria)."""
    choices = _card_choices(request.user)
    team = _card_team(request, choices)
    context = _card(team)
    context.update(
        {
            "teams": choices if request.user.is_admin or len(choices) > 1 else [],
            "public_url": request.build_absolute_uri(team.card_path()) if team else "",
            # The people who keep a team's criteria keep its card's link too.
            "may_renew": team is not None and _may_edit_criteria(request.user, team),
        }
    )
    return render(request, "referrals/card.html", context)


@login_required
@require_POST
def card_renew(request):
    """Revoke the team's public link: a new token, the old URL a 404."""
    team = get_object_or_404(Team, pk=_id(request.POST.get("team")))
    if not _may_edit_criteria(request.user, team):
        # A team outside one's scope answers as a team that does not exist.
        raise Http404(CARD_RENEW_DENIED)
    team.card_token_renew()
    messages.success(request, CARD_RENEWED)
    return redirect(f"{reverse('card')}?team={team.pk}")


@never_cache  # a revoked link must stop showing the card at once
def card_public(request, token):
    """The card behind a team's public link: no login, and nothing else of
    the app (its own page, without the navigation)."""
    team = Team.objects.select_related("manager").filter(card_token=token).first()
    if team is None:
        raise Http404(CARD_NOT_FOUND)
    response = render(request, "referrals/card_public.html", _card(team))
    response.headers["X-Robots-Tag"] = "noindex"
    return response
