import json

from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db import transaction
from django.utils.functional import cached_property
from django.utils.html import format_html
from django.utils.translation import gettext

from core.sql import is_postgres
from referrals import rollups
from referrals.models import (
    Activity,
    ClosedTotal,
    CriteriaSettings,
    Criterion,
    PipelineTotal,
    ReceivedTotal,
    Referral,
    ReferralAnswer,
    Stage,
    StageChange,
    ValueStatement,
)
from referrals.search import referral_search, search_term_error
from referrals.services import (
    next_stage_position,
    referral_log,
    referral_update,
    stage_entry_check,
    stage_save,
)


@admin.register(Stage)
class StageAdmin(admin.ModelAdmin):
    list_display = [
        "name",
        "position",
        "kind",
        "probability",
        "sla_days",
        "is_archived",
    ]
    list_filter = ["kind", "is_archived"]
    search_fields = ["name"]
    # The order is changed on the Stages page, which keeps each referral's
    # furthest stage reached (the funnel) true; a number typed here would not.
    readonly_fields = ["position"]

    def save_model(self, request, obj, form, change):
        if change:
            # A change of kind to or from Lost recounts.
            stage_save(stage=obj, data=form.cleaned_data)
        else:
            obj.position = next_stage_position()
            super().save_model(request, obj, form, change)


def _check_new_referral(form):
    """What the stage a new referral starts in asks for (a final value for
    Won, a reason for Lost), said next to the admin's fields."""
    data = super(type(form), form).clean()
    if data.get("stage"):
        try:
            stage_entry_check(
                data["stage"],
                final_value=data.get("estimated_value"),
                lost_reason=data.get("lost_reason", ""),
            )
        except ValidationError as error:
            for name, errors in error.error_dict.items():
                field = "estimated_value" if name == "final_value" else name
                form.add_error(field if field in form.fields else None, errors)
    return data


# The admin's lists of referrals are counted exactly up to this many rows;
# beyond, PostgreSQL's estimate is shown.
EXACT_COUNT_UP_TO = 1_000


class EstimatedCountPaginator(Paginator):
    """The admin's pages of referrals, counted once and cheaply.

    Up to EXACT_COUNT_UP_TO rows the count is exact. Beyond, on PostgreSQL,
    it is the planner's estimate of the rows (for the whole table, its
    statistics: what pg_class.reltuples says), at least the rows found: a
    million referrals counted exactly took most of the page's time, and a
    search's tens of thousands of matches as long (docs/operations.md). The
    last page may then hold fewer rows than the count says. SQLite counts.
    """

    @cached_property
    def count(self) -> int:
        if not is_postgres():
            return super().count
        found = self.object_list.order_by()[: EXACT_COUNT_UP_TO + 1].count()
        if found <= EXACT_COUNT_UP_TO:
            return found
        plan = json.loads(self.object_list.order_by().explain(format="json"))
        return max(found, int(plan[0]["Plan"]["Plan Rows"]))

    def page(self, number):
        """The page's rows picked from the referrals alone, then joined to
        their source, owner and stage (as the referral list's,
        referrals.views.PickedThenJoined): joined first, a search's rows were
        joined to every source before being sorted."""
        page = super().page(number)
        if not self.count:
            return page
        listed = self.object_list
        picked = listed.values("pk")[page.start_index() - 1 : page.end_index()]
        rows = listed.model.objects.filter(pk__in=picked)
        rows.query.select_related = listed.query.select_related  # as listed
        page.object_list = rows.order_by(*listed.query.order_by)
        return page


@admin.register(Referral)
class ReferralAdmin(admin.ModelAdmin):
    list_display = [
        "prospect_name",
        "prospect_company",
        "source",
        "owner",
        "stage",
        "estimated_value",
        "received_on",
    ]
    # The received date by fixed ranges (today, past 7 days, this month, this
    # year), which read no rows to be offered: no date_hierarchy, whose
    # years and months are looked up in every referral.
    # By team, not by owner: two hundred owners listed in the sidebar were a
    # third of the list's time, and too many links to pick from
    # (?owner__id__exact=<id> in the address still filters by one).
    list_filter = ["stage", "label", "owner__team", "received_on"]
    # What the search looks in (the box shows because these are set); the
    # search itself is referral_search(), the list's: get_search_results().
    search_fields = [
        "prospect_name",
        "prospect_company",
        "prospect_email",
        "source__name",
    ]
    search_help_text = (
        "Prospect name, company, email or source name. Two letters find the "
        "words that start with them."
    )
    list_select_related = ["source", "owner", "stage"]
    raw_id_fields = ["source", "owner"]
    # One count a page: no second count of the whole table for "N total",
    # and past 1,000 rows an estimate (EstimatedCountPaginator).
    show_full_result_count = False
    paginator = EstimatedCountPaginator
    list_per_page = 50  # as the referral list; each row is rendered in Python

    # Where a referral is in the pipeline changes only by a move (the board,
    # its page): a move records the history, the dates and furthest stage
    # the dashboard counts, and schedules the thanks. Shown, not edited, here.
    PIPELINE_FIELDS = [
        "stage",
        "stage_entered_at",
        "furthest_position",
        "first_contacted_at",
        "meeting_held_at",
        "closed_at",
        "last_activity_at",
    ]

    # The label follows the answers (referral_assess), not a hand edit.
    ASSESSMENT_FIELDS = ["label", "score"]

    def get_readonly_fields(self, request, obj=None):
        if obj:
            return self.PIPELINE_FIELDS + self.ASSESSMENT_FIELDS
        return ["furthest_position", *self.ASSESSMENT_FIELDS]

    def action_checkbox(self, obj):
        """The row's checkbox for the bulk actions, as Django writes it,
        without a form widget rendered through a template for each row: that
        was a quarter of the list's time."""
        return format_html(
            '<input type="checkbox" name="{}" value="{}" class="action-select"'
            ' aria-label="{}">',
            helpers.ACTION_CHECKBOX_NAME,
            obj.pk,
            format_html(gettext("Select this object for an action - {}"), str(obj)),
        )

    def get_search_results(self, request, queryset, search_term):
        """The referral list's search (referrals.search), with its index and
        accents ignored, instead of an icontains on each of search_fields;
        it joins nothing, so no duplicates."""
        if not search_term.strip():
            return queryset, False
        if error := search_term_error(search_term):
            self.message_user(request, error, messages.WARNING)
        return referral_search(queryset, search_term), False

    # An edit goes through the same service as the edit page (summaries,
    # thanks following a new owner or source); a new referral through the
    # one that logs them (its history, milestone dates, summaries and the
    # thanks it owes), starting in the stage it was given.
    def save_model(self, request, obj, form, change):
        if change:
            referral_update(referral=obj, user=request.user, data=form.cleaned_data)
            return
        data = form.cleaned_data
        referral = referral_log(
            user=request.user,
            source=data["source"],
            owner=data["owner"],
            prospect_name=data["prospect_name"],
            prospect_email=data.get("prospect_email", ""),
            prospect_phone=data.get("prospect_phone", ""),
            prospect_company=data.get("prospect_company", ""),
            prospect_title=data.get("prospect_title", ""),
            estimated_value=data.get("estimated_value"),
            received_on=data.get("received_on"),
            stage=data["stage"],
            stage_entered_at=data.get("stage_entered_at"),
            lost_reason=data.get("lost_reason", ""),
        )
        if data.get("notes"):
            Referral.objects.filter(pk=referral.pk).update(notes=data["notes"])
        obj.pk = referral.pk
        obj.refresh_from_db()

    def get_form(self, request, obj=None, **kwargs):
        form = super().get_form(request, obj, **kwargs)
        if obj is None:
            form = type("ReferralAddForm", (form,), {"clean": _check_new_referral})
        return form

    def delete_model(self, request, obj):
        with transaction.atomic():
            before = rollups.snapshot(obj)
            super().delete_model(request, obj)
            rollups.referral_counted(before=before, after=None)

    def delete_queryset(self, request, queryset):
        with transaction.atomic():
            owners = set(queryset.values_list("owner", flat=True))
            super().delete_queryset(request, queryset)
            rollups.rollups_rebuild(owner_ids=owners)


@admin.register(StageChange)
class StageChangeAdmin(admin.ModelAdmin):
    list_display = ["referral", "from_stage", "to_stage", "at", "by"]
    list_filter = ["to_stage", "at"]
    search_fields = ["referral__prospect_name", "referral__prospect_company"]
    list_select_related = ["referral", "from_stage", "to_stage", "by"]
    raw_id_fields = ["referral"]


@admin.register(Activity)
class ActivityAdmin(admin.ModelAdmin):
    list_display = ["referral", "kind", "at", "author"]
    list_filter = ["kind", "at"]
    search_fields = ["text", "referral__prospect_name"]
    list_select_related = ["referral", "author"]
    raw_id_fields = ["referral"]


class SummaryAdmin(admin.ModelAdmin):
    """A summary the application keeps (see rollups_rebuild): shown, never edited."""

    list_filter = ["stage", "owner__team"]
    search_fields = ["owner__email", "owner__display_name"]
    list_select_related = ["owner", "stage"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(PipelineTotal)
class PipelineTotalAdmin(SummaryAdmin):
    list_display = ["owner", "stage", "label", "count", "value"]


@admin.register(ReceivedTotal)
class ReceivedTotalAdmin(SummaryAdmin):
    list_display = [
        "owner",
        "month",
        "stage",
        "furthest_position",
        "lost_reason",
        "label",
        "count",
        "value",
    ]
    date_hierarchy = "month"


@admin.register(ClosedTotal)
class ClosedTotalAdmin(SummaryAdmin):
    list_display = ["owner", "month", "stage", "label", "count", "value"]
    date_hierarchy = "month"


# The referral criteria are kept on /referrals/criteria/; here for looking.
@admin.register(Criterion)
class CriterionAdmin(admin.ModelAdmin):
    list_display = ["question", "team", "weight", "position", "is_archived"]
    list_filter = ["team", "is_archived"]
    search_fields = ["question"]
    list_select_related = ["team"]


@admin.register(ValueStatement)
class ValueStatementAdmin(admin.ModelAdmin):
    list_display = ["text", "team", "position"]
    list_filter = ["team"]
    search_fields = ["text"]
    list_select_related = ["team"]


@admin.register(CriteriaSettings)
class CriteriaSettingsAdmin(admin.ModelAdmin):
    list_display = ["team", "qualified_from", "lukewarm_from"]
    list_filter = ["team"]
    search_fields = ["team__name"]
    list_select_related = ["team"]


@admin.register(ReferralAnswer)
class ReferralAnswerAdmin(admin.ModelAdmin):
    """A referral's answers: shown, changed on its page (referral_assess)."""

    list_display = ["referral", "criterion", "yes"]
    list_filter = ["yes", "criterion"]
    search_fields = ["referral__prospect_name", "criterion__question"]
    list_select_related = ["referral", "criterion"]
    raw_id_fields = ["referral"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
