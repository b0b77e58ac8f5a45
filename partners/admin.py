from django.contrib import admin

from partners.models import (
    Ask,
    Commitment,
    GivenReferral,
    Outcome,
    Partner,
    TeamFocus,
)
from partners.services import FOCUS_FIELDS, partner_fit, team_focus_save


@admin.register(Partner)
class PartnerAdmin(admin.ModelAdmin):
    list_display = ["name", "company", "kind", "owner", "email_consent", "created_at"]
    list_filter = ["kind", "email_consent", "do_not_ask", "industry", "owner"]
    readonly_fields = ["fit_score"]

    def save_model(self, request, obj, form, change):
        # Its fit measured again, as the partner form does (partner_update).
        obj.fit_score = partner_fit(partner=obj).score
        super().save_model(request, obj, form, change)

    search_fields = ["name", "company", "email"]
    list_select_related = ["owner"]
    raw_id_fields = ["owner"]


@admin.register(Outcome)
class OutcomeAdmin(admin.ModelAdmin):
    list_display = [
        "partner",
        "promised_by",
        "delivered_on",
        "in_full",
        "on_budget",
        "satisfaction",
    ]
    list_filter = ["in_full", "on_budget", "satisfaction", "delivered_on"]
    search_fields = ["partner__name", "promised", "delivered"]
    list_select_related = ["partner"]
    raw_id_fields = ["partner", "referral", "recorded_by"]


@admin.register(Ask)
class AskAdmin(admin.ModelAdmin):
    list_display = ["partner", "channel", "asked_by", "asked_at"]
    list_filter = ["channel", "asked_at"]
    search_fields = ["partner__name", "note"]
    list_select_related = ["partner", "asked_by"]
    raw_id_fields = ["partner", "asked_by"]


@admin.register(TeamFocus)
class TeamFocusAdmin(admin.ModelAdmin):
    list_display = ["team", "focus_roles", "focus_industries", "updated_at"]
    list_filter = ["team"]
    search_fields = ["team__name", "focus_roles", "focus_industries"]
    readonly_fields = ["updated_by", "updated_at"]

    def save_model(self, request, obj, form, change):
        # As the focus page saves it: every partner of the team measured again.
        saved = team_focus_save(
            team=obj.team,
            user=request.user,
            **{name: getattr(obj, name) for name in FOCUS_FIELDS},
        )
        obj.pk = saved.pk

    list_select_related = ["team"]
    raw_id_fields = ["updated_by"]


@admin.register(GivenReferral)
class GivenReferralAdmin(admin.ModelAdmin):
    list_display = ["introduced", "company", "partner", "given_on", "result"]
    list_filter = ["result", "given_on"]
    search_fields = ["introduced", "company", "partner__name", "note"]
    list_select_related = ["partner"]
    raw_id_fields = ["partner", "given_by"]


@admin.register(Commitment)
class CommitmentAdmin(admin.ModelAdmin):
    list_display = ["what", "partner", "owed_by", "owner", "due_on", "status"]
    list_filter = ["status", "owed_by", "due_on"]
    search_fields = ["what", "partner__name", "notes"]
    list_select_related = ["partner", "owner"]
    raw_id_fields = ["partner", "owner"]
