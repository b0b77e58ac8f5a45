from django.contrib import admin

from core.models import OutboxMessage


@admin.register(OutboxMessage)
class OutboxMessageAdmin(admin.ModelAdmin):
    list_display = ["subject", "to", "sent_at"]
    list_filter = ["sent_at"]
    search_fields = ["subject", "to", "body_text"]
    readonly_fields = [f.name for f in OutboxMessage._meta.fields]
