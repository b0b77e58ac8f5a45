"""The manager dashboard: every view of it is a URL, every table a CSV."""

from datetime import timedelta

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from core.csv import csv_response
from dashboard.forms import DashboardFilterForm
from dashboard.models import DashboardSnapshot
from dashboard.snapshots import is_snapshot_view, snapshot_figures
from dashboard.tables import DASHBOARD_TABLES

FIGURES_COUNTED = "The figures of every team were counted again just now."
FIGURES_BEING_COUNTED = (
    "These figures were counted moments ago, or are being counted again by "
    "another visit: the time above says when."
)


@login_required
def dashboard(request):
    """The manager dashboard; every view of it is a URL, every table a CSV."""
    _require_dashboard(request.user)
    form = DashboardFilterForm(request.GET or None, user=request.user)
    filters = form.filters()
    table = request.GET.get("export")
    if table in DASHBOARD_TABLES:  # exports are always counted live
        export = DASHBOARD_TABLES[table]
        section = export.section(filters)
        return csv_response(filters.file_name(table), *export.csv(section))
    view = filters.as_view()
    figures = snapshot_figures(filters=filters, view=view)
    return render(
        request,
        "dashboard/dashboard.html",
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
