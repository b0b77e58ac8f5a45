from datetime import date

from django import forms
from django.db.models import Exists, OuterRef
from django.utils import timezone

from accounts.models import Team, User
from accounts.scoping import scope_for_user
from dashboard.queries import DEFAULT_PERIOD, PERIODS, DashboardFilters, period_bounds
from partners.models import Partner
from referrals.forms import DATE_INPUT, DATE_RANGE
from referrals.models import Referral

# What a dashboard period may span: the dates beyond would overflow the
# month and week arithmetic (a typed year 9999 was a server error).
EARLIEST_DAY, LATEST_DAY = date(1900, 1, 1), date(2199, 12, 31)
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
            # No period in the address (a shared link with only a rep, say):
            # the box shows the period the figures are for, not the first one.
            # A period not offered is shown as the default it is replaced by.
            # A link with dates and no period means those dates.
            data = data.copy()
            dated = "period" not in data and (data.get("start") or data.get("end"))
            data["period"] = "custom" if dated else DEFAULT_PERIOD
        super().__init__(data, *args, **kwargs)
        self.user = user
        # Reps who own a referral: a semi-join that stops at each rep's first
        # one (a join with DISTINCT read every referral of the scope). Those
        # who left too: their referrals still count, and wait to be handed on.
        owners = scope_for_user(User.objects.all(), user, owner_field="pk")
        self.fields["rep"].queryset = owners.filter(
            Exists(Referral.objects.filter(owner=OuterRef("pk")))
        )
        self.fields["rep"].label_from_instance = rep_label
        if not user.is_admin:
            del self.fields["team"]

    def clean(self):
        data = super().clean()
        for name in ("start", "end"):
            day = data.get(name)
            if day and not EARLIEST_DAY <= day <= LATEST_DAY:
                self.add_error(name, DATE_OUT_OF_RANGE)
        team, rep = data.get("team"), data.get("rep")
        if team and rep and rep.team_id != team.pk:
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
        self.is_valid()
        cleaned = getattr(self, "cleaned_data", {})
        data = {k: v for k, v in cleaned.items() if k not in self.errors}
        period = data.get("period") or DEFAULT_PERIOD
        if period == "custom" and not (data.get("start") and data.get("end")):
            period = DEFAULT_PERIOD
        start, end = period_bounds(
            period, timezone.localdate(), data.get("start"), data.get("end")
        )
        return DashboardFilters(
            user=self.user,
            period=period,
            start=start,
            end=end,
            team=data.get("team"),
            rep=data.get("rep"),
            source_kind=data.get("source_kind", ""),
        )
