import zoneinfo

from django import forms
from django.contrib.auth.forms import AuthenticationForm

from accounts.models import User

INVALID_LOGIN = (
    "That email and password don't match an account. Check both and try again."
)


class EmailAuthenticationForm(AuthenticationForm):
    """Django's login form, labelled for email and tolerant of case."""

    error_messages = {
        **AuthenticationForm.error_messages,
        "invalid_login": INVALID_LOGIN,
    }

    username = forms.EmailField(
        label="Email",
        widget=forms.EmailInput(attrs={"autofocus": True, "autocomplete": "email"}),
    )

    def clean_username(self):
        return self.cleaned_data["username"].strip().lower()


def axes_username(request, credentials) -> str:
    """One lockout counter per address, whatever the case it was typed in."""
    raw = (credentials or {}).get("username") or request.POST.get("username", "")
    return raw.strip().lower()


class ProfileForm(forms.ModelForm):
    time_zone = forms.ChoiceField(
        choices=[(name, name) for name in sorted(zoneinfo.available_timezones())],
        help_text="Dates show in this zone; your morning digest comes at 08:00 here.",
    )

    class Meta:
        model = User
        fields = ["display_name", "time_zone", "signature"]
        widgets = {"signature": forms.Textarea(attrs={"rows": 4})}
        help_texts = {
            "signature": "Ends the thank-you emails sent for you, e.g. your name, "
            "title and phone number."
        }
