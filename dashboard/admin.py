from django.contrib import admin

from dashboard.models import DashboardSnapshot


@admin.register(DashboardSnapshot)
class DashboardSnapshotAdmin(admin.ModelAdmin):
    """Every team's dashboard figures as last counted: shown, never edited.
    Deleting one makes the next visit count that view again."""

    list_display = [
        "view",
        "time_zone",
        "computed_at",
        "took_ms",
        "refreshing_since",
        "viewed_at",
    ]
    list_filter = ["computed_at"]
    search_fields = ["view"]
    date_hierarchy = "computed_at"
    exclude = ["html"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
