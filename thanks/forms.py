from django import forms

from core.snippets import FILTERS as SNIPPET_FILTERS
from partners.models import ASK_NOTE_MAX, Ask
from thanks.models import AskTemplate, ThankYouMoment


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


class AskForm(forms.Form):
    channel = forms.ChoiceField(
        label="How you ask",
        choices=[
            (Ask.Channel.EMAIL, "Send the email below, as you"),
            (Ask.Channel.IN_PERSON, "I asked in person"),
            (Ask.Channel.PHONE, "I asked by phone"),
        ],
        widget=forms.RadioSelect,
        initial=Ask.Channel.EMAIL,
    )
    note = forms.CharField(
        label="Note (optional)",
        required=False,
        max_length=ASK_NOTE_MAX,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="What they said, whom they thought of.",
    )

    def __init__(self, *args, can_email: bool = True, **kwargs):
        super().__init__(*args, **kwargs)
        if not can_email:  # no address, or opted out: the rep asks themselves
            self.fields["channel"].choices = self.fields["channel"].choices[1:]
            self.fields["channel"].initial = Ask.Channel.IN_PERSON


class AskTemplateForm(forms.ModelForm):
    class Meta:
        model = AskTemplate
        fields = ["subject", "body"]
        widgets = {"body": forms.Textarea(attrs={"rows": 12})}
        help_texts = {
            "body": "Placeholders: {{ source_first_name }}, {{ source_name }}, "
            "{{ source_company }}, {{ rep_name }}, {{ rep_signature }}, "
            "{{ team_name }}; {% if source_company %}…{% endif %} and the "
            "filters " + ", ".join(SNIPPET_FILTERS) + ". The email adds your "
            "team's “How to refer us” link and an unsubscribe link after the "
            "text. Keep it short: one ask, no pressure.",
        }
