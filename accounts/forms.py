from django import forms
from django.contrib.auth.forms import AuthenticationForm

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
