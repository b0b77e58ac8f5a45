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
