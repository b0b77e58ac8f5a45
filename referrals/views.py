import csv
from datetime import timedelta

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Count
from django.http import HttpResponse, QueryDict, StreamingHttpResponse
from django.middleware.csrf import get_token
from django.shortcuts import get_object_or_404, redirect, render
from django.template import TemplateSyntaxError
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.http import (
    content_disposition_header,
    url_has_allowed_host_and_scheme,
)
from django.views.decorators.http import require_POST
from django_htmx.http import retarget

from core.paginator import CountingPaginator
from core.urls_for_rows import url_maker
from partners.services import partner_create
from referrals.dashboard_display import DASHBOARD_TABLES
from referrals.forms import (
    ActivityForm,
    DashboardFilterForm,
    MoveForm,
    ReferralFilterForm,
    ReferralForm,
    ReferralLogForm,
    StageForm,
    ThankYouMomentForm,
    TouchpointActionForm,
    add_service_errors,
)
from referrals.models import (
    DashboardSnapshot,
    Stage,
    ThankYouMoment,
    validate_body_template,
    validate_subject_template,
)
from referrals.selectors import (
    LIST_ROW_FIELDS,
    board_columns,
    list_rows,
    referral_for_user,
    referral_timeline,
    referrals_for_preview,
    referrals_for_user,
    stale_filter,
    touchpoints_for_user,
    with_row_links,
)
from referrals.services import (
    activity_add,
    referral_log,
    referral_move,
    referral_update,
    stage_create,
    stage_remove,
    stage_save,
    stage_shift,
)
from referrals.snapshots import is_snapshot_view, snapshot_figures
from referrals.touchpoints import (
    render_thank_you,
    touchpoint_mark_done,
    touchpoint_send_now,
    touchpoint_skip,
)

FIGURES_COUNTED = "The figures of every team were counted again just now."
FIGURES_BEING_COUNTED = (
    "These figures were counted moments ago, or are being counted again by "
    "another visit: the time above says when."
)
LOGGED = "Referral logged. Thank {source} soon: they put their name on the line."
MOVED = "{prospect} moved to {stage}."
SAVED = "Changes saved."
ACTIVITY_ADDED = "Activity added."
STAGE_ADDED = "Stage added at the end of the pipeline. Move it where it belongs."
STAGE_DELETED = "Stage “{stage}” deleted."


def _filtered_referrals(request):
    form = ReferralFilterForm(request.GET or None, user=request.user)
    referrals = form.filter(referrals_for_user(user=request.user), stale_q=stale_filter)
    return form, referrals


@login_required
def referral_list(request):
    form, referrals = _filtered_referrals(request)
    # Counted on the referrals alone: the rows' values join the source and
    # owner, and counting those joins read every partner (5 of 6 ms).
    page = CountingPaginator(
        referrals.values(*LIST_ROW_FIELDS), 50, count=referrals.count
    ).get_page(request.GET.get("page"))
    page.object_list = list_rows(page.object_list)
    return render(request, "referrals/referral_list.html", {"form": form, "page": page})


FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def csv_safe(value) -> str:
    """Neutralise spreadsheet formulas: a cell starting with = + - @ is text."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_PREFIXES) else text


class _Echo:
    def write(self, value):
        return value


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
]


@login_required
def referral_export(request):
    """The filtered list as CSV, streamed so a large export never sits in memory."""
    _, referrals = _filtered_referrals(request)
    writer = csv.writer(_Echo())

    def rows():
        yield writer.writerow([name for name, _ in CSV_COLUMNS])
        for referral in referrals.iterator(chunk_size=2000):
            yield writer.writerow([csv_safe(get(referral)) for _, get in CSV_COLUMNS])

    filename = f"referrals-{timezone.localdate().isoformat()}.csv"
    return StreamingHttpResponse(
        rows(),
        content_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


@login_required
def referral_new(request):
    form = ReferralLogForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        fields = form.REFERRAL_FIELDS
        try:
            with transaction.atomic():
                source = data["source"]
                if form.creates_source:
                    fields = form.SOURCE_FIELDS
                    source = partner_create(
                        owner=data.get("owner") or request.user,
                        name=data["new_source_name"],
                        email=data["new_source_email"],
                        company=data["new_source_company"],
                        phone=data["new_source_phone"],
                        kind=data["new_source_kind"],
                    )
                fields = form.REFERRAL_FIELDS
                referral = referral_log(
                    user=request.user,
                    source=source,
                    owner=data.get("owner"),
                    prospect_name=data["prospect_name"],
                    prospect_email=data["prospect_email"],
                    prospect_phone=data["prospect_phone"],
                    prospect_company=data["prospect_company"],
                    prospect_title=data["prospect_title"],
                    estimated_value=data["estimated_value"],
                    received_on=data["received_on"],
                    note=data["note"],
                )
        except ValidationError as error:  # next to its field, the input kept
            add_service_errors(form, error, fields)
        else:
            messages.success(request, LOGGED.format(source=source.name))
            return redirect(referral)
    return render(request, "referrals/referral_new.html", {"form": form})


@login_required
def referral_detail(request, pk):
    referral = referral_for_user(user=request.user, pk=pk)
    return render(
        request,
        "referrals/referral_detail.html",
        {
            "referral": referral,
            "timeline": referral_timeline(referral=referral),
            "move_form": MoveForm(initial={"stage": referral.stage_id}),
            "activity_form": ActivityForm(),
        },
    )


@login_required
def referral_edit(request, pk):
    referral = referral_for_user(user=request.user, pk=pk)
    form = ReferralForm(request.POST or None, instance=referral, user=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            referral_update(form=form)
        except ValidationError as error:  # e.g. a stage reorder in progress
            form.add_error(None, error)
        else:
            messages.success(request, SAVED)
            return redirect(referral)
    return render(
        request, "referrals/referral_edit.html", {"form": form, "referral": referral}
    )


def _safe_next(request, default: str) -> str:
    target = request.POST.get("next", "")
    if url_has_allowed_host_and_scheme(
        target, {request.get_host()}, request.is_secure()
    ):
        return target
    return default


@login_required
@require_POST
def referral_move_view(request, pk):
    """Move a card: htmx gets the board (or the card asking for more) back."""
    referral = referral_for_user(user=request.user, pk=pk)
    form = MoveForm(request.POST)
    if form.is_valid():
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
            return redirect(_safe_next(request, referral.get_absolute_url()))
    # Won needs a value, Lost a reason: ask, keeping what was chosen.
    context = {
        "referral": referral,
        "move_form": form,
        "next": _safe_next(request, referral.get_absolute_url()),
    }
    if request.htmx:
        response = render(request, "referrals/_move_form_card.html", context)
        return retarget(response, f"#move-{referral.pk}")
    return render(request, "referrals/referral_move.html", context, status=400)


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
    """The board's columns (each card a plain dict), and the pieces every card
    shares, rendered once: with 100+ cards, per-card work is the page's cost."""
    columns = board_columns(user=request.user)
    # One move menu and one CSRF field for every card, rendered once.
    move_options = format_html(
        '<option value="" selected disabled>Move to</option>{}',
        format_html_join(
            "",
            '<option value="{}">{}</option>',
            (
                (column["stage"].pk, column["stage"].name)
                for column in columns
                if not column["stage"].is_archived
            ),
        ),
    )
    csrf_field = format_html(
        '<input type="hidden" name="csrfmiddlewaretoken" value="{}">',
        get_token(request),
    )
    detail_url, move_url = url_maker("referral_detail"), url_maker("referral_move")
    for column in columns:
        for card in column["cards"]:
            card["url"], card["move_url"] = detail_url(card["pk"]), move_url(card["pk"])
    return {
        "columns": columns,
        "move_options": move_options,
        "csrf_field": csrf_field,
    }


@login_required
def board(request):
    return render(request, "referrals/board.html", _board_context(request))


@login_required
def dashboard(request):
    """The manager dashboard; every view of it is a URL, every table a CSV."""
    _require_dashboard(request.user)
    form = DashboardFilterForm(request.GET or None, user=request.user)
    filters = form.filters()
    table = request.GET.get("export")
    if table in DASHBOARD_TABLES:  # exports are always counted live
        section, rows = DASHBOARD_TABLES[table]
        return _csv_response(filters.file_name(table), *rows(section(filters)))
    view = filters.as_view()
    figures = snapshot_figures(filters=filters, view=view)
    return render(
        request,
        "referrals/dashboard.html",
        {
            "form": form,
            "filters": filters,
            "figures": figures,
            "view": view,
            "snapshot_age": _duration(DashboardSnapshot.max_age()),
        },
    )


@login_required
@require_POST
def dashboard_refresh(request):
    """Count a snapshot view's figures again now, then show it."""
    _require_dashboard(request.user)
    query = QueryDict(request.POST.get("view", ""))
    filters = DashboardFilterForm(query or None, user=request.user).filters()
    view = filters.as_view()
    if is_snapshot_view(filters):
        figures = snapshot_figures(filters=filters, view=view, refresh=True)
        if figures.computed_at == filters.now:
            messages.success(request, FIGURES_COUNTED)
        else:
            messages.info(request, FIGURES_BEING_COUNTED)
    return redirect(f"{reverse('dashboard')}?{view}")


def _require_dashboard(user):
    if not (user.is_manager or user.is_admin):
        raise PermissionDenied("The dashboard is for managers and admins.")


def _duration(age: timedelta) -> str:
    seconds = round(age.total_seconds())
    if seconds < 120:
        return f"{seconds} seconds"
    return f"{round(seconds / 60)} minutes"


def _csv_response(name: str, header: list, rows) -> HttpResponse:
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    # As filename*= when the name is not ASCII (a team named in Greek).
    response["Content-Disposition"] = content_disposition_header(True, f"{name}.csv")
    writer = csv.writer(response)
    writer.writerow(header)
    for row in rows:
        writer.writerow([csv_safe(cell) for cell in row])
    return response


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
        stage_save(form=form)
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


TOUCHPOINT_DONE = {
    "send": "Sending the thank-you now.",
    "done": "Marked as thanked.",
    "skip": "Skipped.",
}


@login_required
@require_POST
def touchpoint_action(request, pk):
    """Send now, mark done (called, card sent) or skip (with a reason)."""
    touchpoint = get_object_or_404(
        touchpoints_for_user(user=request.user).select_related("referral", "source"),
        pk=pk,
    )
    form = TouchpointActionForm(request.POST)
    error = None
    if form.is_valid():
        action, note = form.cleaned_data["action"], form.cleaned_data["note"]
        try:
            if action == "send":
                touchpoint_send_now(touchpoint=touchpoint, user=request.user)
            elif action == "done":
                touchpoint_mark_done(
                    touchpoint=touchpoint, user=request.user, note=note
                )
            else:
                touchpoint_skip(touchpoint=touchpoint, user=request.user, reason=note)
        except ValidationError as problem:
            error = problem.messages[0]
    else:
        error = "Choose what to do with this thank-you."
    if request.htmx:
        touchpoint.refresh_from_db()
        context = {
            "t": with_row_links([touchpoint])[0],
            "error": error,
            "note": request.POST.get("note", ""),
            # The page the row is on, for the form shown again: not this URL.
            "next": _safe_next(request, reverse("today")),
            "done_message": None
            if error
            else TOUCHPOINT_DONE[form.cleaned_data["action"]],
        }
        return render(request, "core/_thanks_row.html", context)
    if error:
        messages.error(request, error)
    else:
        messages.success(request, TOUCHPOINT_DONE[form.cleaned_data["action"]])
    return redirect(_safe_next(request, reverse("today")))


@login_required
def thank_you_settings(request):
    _require_admin(request.user)
    return render(
        request,
        "referrals/thank_you_settings.html",
        {"moments": ThankYouMoment.objects.select_related("updated_by")},
    )


NO_PREVIEW = (
    "No referral you can see has reached “{moment}” with a source who takes "
    "email. Once one has, the preview shows the email as its source gets it."
)


def _preview_referral(request, config):
    """The admin's pick among the referrals that reached the moment (with a
    source who takes email), else the newest of them; None if there is none."""
    reached = referrals_for_preview(user=request.user, moment=config.moment)
    chosen = request.POST.get("preview_referral") or request.GET.get("preview_referral")
    if chosen and chosen.isdigit() and (picked := reached.filter(pk=chosen).first()):
        return picked
    return reached.first()


@login_required
def thank_you_edit(request, moment):
    _require_admin(request.user)
    config = get_object_or_404(ThankYouMoment, moment=moment)
    form = ThankYouMomentForm(request.POST or None, instance=config)
    if request.method == "POST" and "save" in request.POST and form.is_valid():
        config = form.save(commit=False)
        config.updated_by = request.user
        config.save()
        messages.success(request, SAVED)
        return redirect("thank_you_settings")
    return render(
        request,
        "referrals/thank_you_edit.html",
        {
            "form": form,
            "config": config,
            "preview": _preview(request, form, config),
            "preview_choices": referrals_for_preview(
                user=request.user, moment=config.moment
            )[:20],
        },
        status=400 if request.method == "POST" and "save" in request.POST else 200,
    )


def _preview(request, form, config) -> dict:
    """The email as a real referral's source would get it, from the form's text."""
    referral = _preview_referral(request, config)
    if referral is None:
        return {"error": NO_PREVIEW.format(moment=config.get_moment_display())}
    draft = ThankYouMoment(
        moment=config.moment,
        subject=form.data.get("subject", config.subject)
        if form.is_bound
        else config.subject,
        body=form.data.get("body", config.body) if form.is_bound else config.body,
    )
    try:
        # The checks a save makes, so the preview says what the save would.
        validate_subject_template(draft.subject)
        validate_body_template(draft.body)
        subject, body = render_thank_you(draft, referral)
    except ValidationError as error:
        return {"error": error.messages[0], "referral": referral}
    except TemplateSyntaxError as error:  # too long with this referral's names
        return {"error": f"This template does not work: {error}", "referral": referral}
    return {"subject": subject, "body": body, "referral": referral}


@login_required
@require_POST
def thank_you_preview(request, moment):
    """htmx: re-render the preview as the admin types."""
    _require_admin(request.user)
    config = get_object_or_404(ThankYouMoment, moment=moment)
    form = ThankYouMomentForm(request.POST, instance=config)
    return render(
        request,
        "referrals/_thank_you_preview.html",
        {"preview": _preview(request, form, config)},
    )
