from django.contrib import admin

from partners.models import Partner


@admin.register(Partner)
class PartnerAdmin(admin.ModelAdmin):
    list_display = ["name", "company", "kind", "owner", "email_consent", "created_at"]
    list_filter = ["kind", "email_consent", "industry", "owner"]
    search_fields = ["name", "company", "email"]
    list_select_related = ["owner"]
    raw_id_fields = ["owner"]
