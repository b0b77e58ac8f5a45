from django import forms

from accounts.scoping import users_for_user
from partners.models import Partner


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
            "client_focus_industry",
            "email_consent",
            "owner",
            "notes",
        ]
        labels = {
            "client_focus": "Clients they serve",
            "client_focus_industry": "Their clients' industry",
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
