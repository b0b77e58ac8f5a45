from django import forms

from core.snippets import FILTERS as SNIPPET_FILTERS
from thanks.models import ThankYouMoment


class ThankYouActionForm(forms.Form):
    action = forms.ChoiceField(
        choices=[("send", "Send now"), ("done", "Done"), ("skip", "Skip")]
    )
    note = forms.CharField(required=False, max_length=500, label="Note")


class ThankYouMomentForm(forms.ModelForm):
    class Meta:
        model = ThankYouMoment
        fields = ["enabled", "within_minutes", "email_delay_minutes", "subject", "body"]
        widgets = {"body": forms.Textarea(attrs={"rows": 12})}
        help_texts = {
            "body": "Placeholders: {{ source_first_name }}, {{ source_name }}, "
            "{{ prospect_name }}, {{ prospect_company }}, {{ stage }}, "
            "{{ rep_name }}, {{ rep_signature }}; {% if prospect_company %}…"
            "{% endif %} and the filters " + ", ".join(SNIPPET_FILTERS) + ". "
            "Say where the referral stands: that update is what the source is owed.",
        }

    # The templates are checked by the model's validators (an admin who edits
    # them in the Django admin gets the same checks).
