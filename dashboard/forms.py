from django import forms

from accounts.models import Team
from core.forms import valid_data
from dashboard.queries import (
    DEFAULT_PERIOD,
    PERIODS,
    DashboardFilters,
    dashboard_filters,
    dashboard_reps,
    day_in_range,
    rep_on_team,
    view_period,
)
from partners.models import Partner
from referrals.forms import DATE_INPUT, DATE_RANGE

# The period's bounds: dashboard.queries.EARLIEST_DAY, LATEST_DAY.
DATE_OUT_OF_RANGE = "Pick a date between 1900 and 2199."


def rep_label(user) -> str:
    """A rep as the dashboard names them: one who left is marked so."""
    return str(user) if user.is_active else f"{user} (inactive)"


class DashboardFilterForm(forms.Form):
    period = forms.ChoiceField(
        choices=list(PERIODS.items()), required=False, initial=DEFAULT_PERIOD
    )
    start = forms.DateField(label="From", required=False, widget=DATE_INPUT)
    end = forms.DateField(label="To", required=False, widget=DATE_INPUT)
    team = forms.ModelChoiceField(
        queryset=Team.objects.all(), required=False, empty_label="All teams"
    )
    rep = forms.ModelChoiceField(queryset=None, required=False, empty_label="All reps")
    source_kind = forms.ChoiceField(
        label="Source kind",
        choices=[("", "All kinds"), *Partner.Kind.choices],
        required=False,
    )

    def __init__(self, data=None, *args, user, **kwargs):
        if data is not None and data.get("period", "") not in PERIODS:
            # The box shows the period the figures are for, not the first one.
            data = data.copy()
            data["period"] = view_period(data)
        super().__init__(data, *args, **kwargs)
        self.user = user
        self.fields["rep"].queryset = dashboard_reps(user)
        self.fields["rep"].label_from_instance = rep_label
        if not user.is_admin:
            del self.fields["team"]

    def clean(self):
        data = super().clean()
        for name in ("start", "end"):
            day = data.get(name)
            if day and not day_in_range(day):
                self.add_error(name, DATE_OUT_OF_RANGE)
        team, rep = data.get("team"), data.get("rep")
        if not rep_on_team(rep, team):
            # Nobody's figures would be left; say so rather than show zeros.
            self.add_error("rep", f"{rep_label(rep)} is not on team {team}.")
        if self.has_error("start") or self.has_error("end"):
            return data  # unreadable or out of range: said next to the field
        if data.get("period") == "custom":
            start, end = data.get("start"), data.get("end")
            if not start or not end:
                self.add_error("start", "A custom period needs both dates.")
            elif start > end:
                self.add_error("end", DATE_RANGE)
        return data

    def filters(self) -> DashboardFilters:
        """The filters of the choices the form accepts (a refused one is left
        out), through the same function the worker reads a view with."""
        data = valid_data(self)
        return dashboard_filters(
            user=self.user,
            period=data.get("period") or DEFAULT_PERIOD,
            start=data.get("start"),
            end=data.get("end"),
            team=data.get("team"),
            rep=data.get("rep"),
            source_kind=data.get("source_kind", ""),
        )
