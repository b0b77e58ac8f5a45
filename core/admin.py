from django.contrib import admin

from core.models import Heartbeat, OutboxMessage


@admin.register(OutboxMessage)
class OutboxMessageAdmin(admin.ModelAdmin):
    list_display = ["subject", "to", "sent_at"]
    list_filter = ["sent_at"]
    search_fields = ["subject", "to", "body_text"]
    readonly_fields = [f.name for f in OutboxMessage._meta.fields]


@admin.register(Heartbeat)
class HeartbeatAdmin(admin.ModelAdmin):
    """What /healthz reads: the sweep's and each worker's last report."""

    list_display = ["name", "at"]
    list_filter = ["at"]
    search_fields = ["name"]
    readonly_fields = ["name", "at"]
