from django.contrib import admin
from django.db import transaction

from thanks.models import (
    AskEmail,
    AskTemplate,
    CommitmentReminder,
    ThankYou,
    ThankYouMoment,
)
from thanks.services import partners_last_thanked_rebuild


@admin.register(ThankYouMoment)
class ThankYouMomentAdmin(admin.ModelAdmin):
    # One row per moment, made by a migration; switch a moment off instead.
    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    list_display = [
        "moment",
        "enabled",
        "within_minutes",
        "email_delay_minutes",
        "subject",
    ]
    list_filter = ["enabled"]
    search_fields = ["subject", "body"]


@admin.register(ThankYou)
class ThankYouAdmin(admin.ModelAdmin):
    list_display = [
        "referral",
        "source",
        "moment",
        "channel",
        "status",
        "due_at",
        "sent_at",
        "attempts",
    ]
    list_filter = ["status", "moment", "channel", "due_at"]
    search_fields = [
        "source__name",
        "source__email",
        "referral__prospect_name",
        "last_error",
    ]
    list_select_related = ["referral", "source"]
    raw_id_fields = ["referral", "source", "completed_by"]
    # The owner is its referral's (who sees it on Today, whose compliance
    # it counts for): copied on save, never chosen here.
    readonly_fields = [
        "owner",
        "subject",
        "body_text",
        "body_html",
        "last_error",
        "claimed_at",
    ]

    # A thank-you marked sent or done here counts as the source's last thanks.
    def save_model(self, request, obj, form, change):
        with transaction.atomic():
            if obj.referral_id:
                obj.owner_id = obj.referral.owner_id
            super().save_model(request, obj, form, change)
            sources = {obj.source_id, form.initial.get("source")} - {None}
            partners_last_thanked_rebuild(partner_ids=sources)


@admin.register(AskTemplate)
class AskTemplateAdmin(admin.ModelAdmin):
    # One row, made on first read; edited here or at /thanks/settings/ask/.
    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    list_display = ["subject", "updated_at", "updated_by"]
    list_filter = ["updated_at"]
    search_fields = ["subject", "body"]
    readonly_fields = ["updated_by"]


@admin.register(AskEmail)
class AskEmailAdmin(admin.ModelAdmin):
    list_display = ["source", "status", "due_at", "sent_at", "attempts"]
    list_filter = ["status", "due_at"]
    search_fields = ["source__name", "source__email", "last_error"]
    list_select_related = ["source"]
    raw_id_fields = ["ask", "source"]
    readonly_fields = [
        "subject",
        "body_text",
        "body_html",
        "last_error",
        "claimed_at",
        "sent_at",
    ]


@admin.register(CommitmentReminder)
class CommitmentReminderAdmin(admin.ModelAdmin):
    list_display = ["commitment", "status", "due_at", "sent_at", "attempts"]
    list_filter = ["status", "due_at"]
    search_fields = ["commitment__what", "commitment__partner__name", "last_error"]
    list_select_related = ["commitment"]
    raw_id_fields = ["commitment"]
    readonly_fields = [
        "subject",
        "body_text",
        "body_html",
        "last_error",
        "claimed_at",
        "sent_at",
    ]
