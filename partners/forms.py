from django import forms
from django.db.models import Q

from accounts.models import User
from accounts.scoping import users_for_user
from core.forms import valid_data
from partners.models import (
    SATISFACTION_CHOICES,
    Commitment,
    GivenReferral,
    Outcome,
    Partner,
    TeamFocus,
)
from partners.services import COMMITMENT_FIELDS, GIVEN_FIELDS, OUTCOME_FIELDS


class PartnerForm(forms.ModelForm):
    class Meta:
        model = Partner
        fields = [
            "name",
            "company",
            "title",
            "email",
            "phone",
            "kind",
            "industry",
            "client_focus",
            "focus_roles",
            "focus_industries",
            "focus_size_min",
            "focus_size_max",
            "click",
            "trust",
            "email_consent",
            "do_not_ask",
            "owner",
            "notes",
        ]
        labels = {
            "client_focus": "Clients they serve",
            "focus_roles": "Buyers' roles they serve",
            "focus_industries": "Their clients' industries",
            "focus_size_min": "Their clients' size from",
            "focus_size_max": "to",
            "email_consent": "Email",
        }
        widgets = {
            "client_focus": forms.Textarea(attrs={"rows": 2}),
            "notes": forms.Textarea(attrs={"rows": 3}),
        }

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = users_for_user(user)
        self.fields["owner"].initial = user.pk
        if not (user.is_manager or user.is_admin):
            self.fields["owner"].disabled = True
        if (
            self.instance.email_consent == Partner.Consent.OPTED_OUT
            and not user.is_admin
        ):
            # They asked us to stop: only they (or an admin, on their word) undo it.
            self.fields["email_consent"].disabled = True
            self.fields[
                "email_consent"
            ].help_text = (
                "They opted out. Only an admin can opt them back in, on their request."
            )


# The partner list's fit filter (partners.selectors.FIT_FILTERS' ranges).
FIT_FILTERS = {
    "strong": "Strong fit",
    "some": "Some fit or better",
    "weak": "Weak or no overlap",
    "unknown": "Fit unknown",
}


class PartnerFilterForm(forms.Form):
    """The partner list's search, kind and sort, from the address.

    Through a form so that what the database cannot take (a NUL byte, a
    kind that does not exist) is said next to the field, not a server error.
    """

    q = forms.CharField(label="Search", required=False, max_length=200)
    kind = forms.ChoiceField(
        label="Kind", required=False, choices=[("", "All kinds"), *Partner.Kind.choices]
    )
    sort = forms.ChoiceField(
        label="Sort",
        required=False,
        choices=[
            ("name", "Name"),
            ("-referrals", "Most referrals"),
            ("-won_value", "Most won value"),
            ("-last", "Latest referral"),
            ("-qualified", "Most qualified first"),
            ("-fit", "Best fit first"),
            ("-balance", "They send more than we give"),
            ("balance", "We give more than they send"),
        ],
    )
    fit = forms.ChoiceField(
        label="Fit",
        required=False,
        choices=[("", "Any fit"), *FIT_FILTERS.items()],
    )
    ready = forms.BooleanField(label="Ready to ask only", required=False)
    dormant = forms.BooleanField(label="Dormant partners only", required=False)

    def values(self) -> dict:
        """The valid filters (an invalid one is left out, and said)."""
        data = valid_data(self)
        return {
            "query": data.get("q", "").strip(),
            "kind": data.get("kind", ""),
            "sort": data.get("sort") or "name",
            "ready": data.get("ready", False),
            "fit": data.get("fit", ""),
            "dormant": data.get("dormant", False),
        }


class SourceSearchForm(forms.Form):
    """What a rep types in Log referral's "Referred by", searched live."""

    source_query = forms.CharField(required=False, max_length=200)


class OutcomeForm(forms.ModelForm):
    """What was promised to a customer and, once known, what was delivered."""

    class Meta:
        model = Outcome
        fields = list(OUTCOME_FIELDS)  # what outcome_update() writes
        widgets = {
            "promised": forms.Textarea(attrs={"rows": 2}),
            "delivered": forms.Textarea(attrs={"rows": 2}),
            "promised_by": forms.DateInput(attrs={"type": "date"}),
            "delivered_on": forms.DateInput(attrs={"type": "date"}),
        }
        help_texts = {
            "promised": "In the customer's words if you can: what they bought us for.",
            "delivered": "Leave empty until it is delivered.",
            "in_full": "Did they get all that was promised?",
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["satisfaction"].choices = [("", "Not asked yet")] + list(
            SATISFACTION_CHOICES
        )


class TeamFocusForm(forms.ModelForm):
    """Whom the team sells to: its referral partners' fit is measured
    against it."""

    class Meta:
        model = TeamFocus
        fields = ["focus_roles", "focus_industries", "focus_size_min", "focus_size_max"]
        labels = {
            "focus_roles": "Buyers' roles we sell to",
            "focus_industries": "Industries we sell to",
            "focus_size_min": "Company size from",
            "focus_size_max": "to",
        }


class GivenReferralForm(forms.ModelForm):
    """A referral we gave a partner: whom, when, and how it turned out."""

    class Meta:
        model = GivenReferral
        fields = list(GIVEN_FIELDS)  # what given_referral_update() writes
        widgets = {
            "given_on": forms.DateInput(attrs={"type": "date"}),
            "note": forms.Textarea(attrs={"rows": 2}),
        }
        help_texts = {
            "introduced": "The person you introduced to them.",
            "result": "Fill it in when they tell you.",
        }


def commitment_owners(*, user, partner, current=None):
    """Who may own a commitment of `partner`'s plan: someone who sees the
    partner (its owner, or the manager of its owner's team), among those
    `user` may assign (users_for_user); and its owner now, on an edit."""
    team = partner.owner.team
    sees = Q(pk=partner.owner_id)
    if team is not None and team.manager_id is not None:
        sees |= Q(pk=team.manager_id)
    chosen = users_for_user(user).filter(sees)
    if current is not None:
        chosen = chosen | User.objects.filter(pk=current)
    return chosen.distinct()


class CommitmentForm(forms.ModelForm):
    """A commitment of a partnership plan: what, who owes it, the owner on
    our side (among those the user may assign), when, and how it stands."""

    class Meta:
        model = Commitment
        fields = list(COMMITMENT_FIELDS)  # what commitment_update() writes
        widgets = {
            "due_on": forms.DateInput(attrs={"type": "date"}),
            "done_on": forms.DateInput(attrs={"type": "date"}),
            "notes": forms.Textarea(attrs={"rows": 2}),
        }
        help_texts = {
            "what": "Concrete, with a number: “Introduce two HR directors”.",
            "owner": "Reminded by email on the due date, and on their Today.",
            "done_on": "Today, unless you say when.",
        }

    def __init__(self, *args, user, partner, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = commitment_owners(
            user=user, partner=partner, current=self.instance.owner_id
        )
        if not self.instance.pk:
            self.fields["owner"].initial = partner.owner_id
