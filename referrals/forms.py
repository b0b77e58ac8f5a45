from collections.abc import Callable
from datetime import datetime, time

from django import forms
from django.core.exceptions import ValidationError
from django.db.models import Case, F, Q, When
from django.urls import reverse
from django.utils import timezone

from accounts.models import Team
from accounts.scoping import users_for_user
from core.forms import valid_data
from core.validators import ACTIVITY_MAX
from partners.models import Partner
from partners.selectors import partners_for_user, partners_matching
from referrals.models import (
    Activity,
    CriteriaSettings,
    Criterion,
    Label,
    Referral,
    Stage,
    ValueStatement,
)
from referrals.search import referral_search, search_term, search_term_error
from referrals.selectors import criteria_in_use, open_duplicates, reached_filter

SOURCE_REQUIRED = "Choose who referred this prospect, or add them as a new source."
SOURCE_AMBIGUOUS = "Several sources match. Pick one below."
SOURCE_NOT_FOUND = (
    "No source of yours matches “%(query)s”. Check the spelling or add a new source."
)
SOURCE_TWICE = "Pick an existing source or add a new one, not both."
DUPLICATE_WARNING = (
    "This prospect may already be in your pipeline. Check the referrals below; "
    "to log it anyway, tick “Log it anyway” and save again."
)
FUTURE_DATE = "A referral cannot be received in the future."
# Log referral's answers, posted for a list other than the owner's (the owner
# changed without JavaScript, or the list changed since the form was shown).
CRITERIA_OF_ANOTHER_LIST = (
    "Your answers were to criteria {owner}'s referrals are not asked. Below are "
    "the ones they are: answer them, or leave them for the referral's page."
)
CRITERIA_NONE_FOR_OWNER = (
    "Your answers were to criteria {owner}'s referrals are not asked, and they "
    "are asked none: the answers are left out. Save again to log it without them."
)
DATE_RANGE = "The start date must be before the end date."

DATE_INPUT = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


def column(model, name: str, **kwargs) -> forms.Field:
    """A form field with its column's length and rules: a longer value is
    said next to the field, never a database error."""
    return model._meta.get_field(name).formfield(**kwargs)


def not_in_future(received_on):
    """A referral's received date, on the form that logs it and the one that
    edits it."""
    if received_on > timezone.localdate():
        raise ValidationError(FUTURE_DATE)


def add_service_errors(form, error: ValidationError, fields: dict[str, str]):
    """Show a service's ValidationError next to the form's fields.

    `fields` maps the model's field names to the form's; an error on any
    other field is said at the top of the form.
    """
    if not hasattr(error, "error_dict"):
        form.add_error(None, error)
        return
    for name, errors in error.error_dict.items():
        target = fields.get(name)
        form.add_error(target if target in form.fields else None, errors)


ANSWER_CHOICES = [("yes", "Yes"), ("no", "No")]


def add_criteria_fields(form, rows: list[dict]) -> None:
    """A Yes/No choice per criterion (`rows`: criterion and answer), named
    criterion_<id>; none is required (unanswered is not asked)."""
    form.criteria_fields = []
    for row in rows:
        criterion, answer = row["criterion"], row["answer"]
        name = f"criterion_{criterion.pk}"
        form.fields[name] = forms.ChoiceField(
            label=criterion.question,
            choices=ANSWER_CHOICES,
            required=False,
            widget=forms.RadioSelect,
            initial=None if answer is None else ("yes" if answer else "no"),
        )
        form.criteria_fields.append(
            {
                "criterion": criterion,
                "answer": answer,
                "name": name,
                "value": form[name].value(),
            }
        )


def criteria_answers(form) -> dict[int, bool]:
    """The criteria answered on the form: criterion id to answered yes."""
    return {
        row["criterion"].pk: form.cleaned_data[row["name"]] == "yes"
        for row in form.criteria_fields
        if form.cleaned_data.get(row["name"])
    }


class AssessmentForm(forms.Form):
    """A referral's answers to the referral criteria (its page)."""

    def __init__(self, *args, rows: list[dict], **kwargs):
        super().__init__(*args, **kwargs)
        add_criteria_fields(self, rows)


class CriterionForm(forms.ModelForm):
    class Meta:
        model = Criterion
        fields = ["question", "weight", "is_archived"]
        labels = {"is_archived": "Archived"}
        widgets = {"weight": forms.NumberInput(attrs={"min": 1, "max": 5})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            field.help_text = ""  # said once above the list


class ValueStatementForm(forms.ModelForm):
    class Meta:
        model = ValueStatement
        fields = ["text"]
        labels = {"text": "Why they value us"}


class ThresholdsForm(forms.ModelForm):
    class Meta:
        model = CriteriaSettings
        fields = ["qualified_from", "lukewarm_from"]
        labels = {
            "qualified_from": "Qualified from (%)",
            "lukewarm_from": "Lukewarm from (%)",
        }
        help_texts = {"qualified_from": "", "lukewarm_from": ""}  # said below


class CriteriaAnswersWidget(forms.Widget):
    """The checklist's radios (criterion_<id>: yes or no) read as one value:
    criterion id to answered yes. Drawn by _log_checklist.html, not here."""

    def value_from_datadict(self, data, files, name) -> dict[int, bool]:
        return {
            int(key.removeprefix("criterion_")): value == "yes"
            for key, value in data.items()
            if key.startswith("criterion_")
            and key.removeprefix("criterion_").isdigit()
            and value in ("yes", "no")
        }

    def value_omitted_from_data(self, data, files, name) -> bool:
        return False


class SourceQueryField(forms.CharField):
    """Who referred: required, and marked so, but answered by a source picked
    from the results or a new source as well as by the text typed here, so
    ReferralLogForm.clean() checks it, not the field."""

    def validate(self, value):
        pass


class ReferralLogForm(forms.Form):
    """The one-minute form: who referred whom, and a first note."""

    # Model field name -> this form's field, for errors the services raise.
    SOURCE_FIELDS = {
        name: f"new_source_{name}"
        for name in ("name", "email", "company", "phone", "kind")
    }
    REFERRAL_FIELDS = {
        name: name
        for name in (
            "prospect_name",
            "prospect_company",
            "prospect_email",
            "prospect_phone",
            "prospect_title",
            "estimated_value",
            "received_on",
        )
    }
    # referral_log's errors: the new source's fields and the referral's
    # never share a name.
    SERVICE_FIELDS = {**SOURCE_FIELDS, **REFERRAL_FIELDS}

    source = forms.ModelChoiceField(
        queryset=Partner.objects.none(), required=False, widget=forms.RadioSelect
    )
    source_query = SourceQueryField(
        label="Referred by",
        max_length=200,
        help_text="Type a name, company or email, or add a new source below.",
    )
    new_source_name = column(Partner, "name", label="Name", required=False)
    new_source_email = column(Partner, "email", label="Email", required=False)
    new_source_company = column(Partner, "company", label="Company", required=False)
    new_source_phone = column(Partner, "phone", label="Phone", required=False)
    new_source_kind = forms.ChoiceField(
        label="Kind", choices=Partner.Kind.choices, initial=Partner.Kind.CUSTOMER
    )
    prospect_name = column(Referral, "prospect_name", label="Prospect name")
    prospect_company = column(Referral, "prospect_company", label="Company")
    prospect_email = column(Referral, "prospect_email", label="Email")
    prospect_phone = column(Referral, "prospect_phone", label="Phone")
    prospect_title = column(Referral, "prospect_title", label="Title")
    estimated_value = forms.DecimalField(
        label="Estimated value",
        required=False,
        min_value=0,
        max_digits=12,
        decimal_places=2,
    )
    received_on = forms.DateField(
        label="Received", widget=DATE_INPUT, validators=[not_in_future]
    )
    owner = forms.ModelChoiceField(queryset=None, required=False, empty_label=None)
    # The criteria checklist's answers, checked against the owner's list
    # (cleaned after the owner: fields are cleaned in this order).
    criteria = forms.Field(required=False, widget=CriteriaAnswersWidget)
    note = forms.CharField(
        label="First note",
        required=False,
        max_length=ACTIVITY_MAX,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="What the source told you: the need, the timing, the person.",
    )
    confirm_duplicate = forms.BooleanField(label="Log it anyway", required=False)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        self.duplicates = []
        self.source_matches = []
        self.fields["source"].queryset = partners_for_user(user=user)
        # Live search with htmx; without JavaScript, clean() resolves the text.
        self.fields["source_query"].widget.attrs.update(
            {
                "hx-get": reverse("partner_search"),
                "hx-trigger": "input changed delay:200ms, search",
                "hx-target": "#source-results",
                "autocomplete": "off",
                "type": "search",
                "autofocus": True,
            }
        )
        self.fields["received_on"].initial = timezone.localdate
        self._asked = None  # (team id, its criteria), read once
        if user.is_manager or user.is_admin:
            # The team read with the owner: whose list the checklist is.
            self.fields["owner"].queryset = users_for_user(user).select_related("team")
            self.fields["owner"].initial = user.pk
            # Another owner, another team's criteria: htmx swaps the
            # checklist (the answers still asked kept); without JavaScript,
            # clean_criteria says so beside it.
            self.fields["owner"].widget.attrs.update(
                {
                    "hx-get": reverse("referral_new_checklist"),
                    "hx-target": "#log-checklist",
                    "hx-swap": "outerHTML",
                    "hx-include": "#log-checklist",
                }
            )
        else:
            del self.fields["owner"]

    @property
    def criteria_owner(self):
        """Whose referral it is, so whose team's criteria the checklist
        asks: the owner chosen (a valid choice; `initial` for the checklist
        alone), else the user."""
        if "owner" not in self.fields:
            return self.user
        if self.is_bound:
            return getattr(self, "cleaned_data", {}).get("owner") or self.user
        return self.initial.get("owner") or self.user

    def criteria_asked(self) -> list[Criterion]:
        """The criteria the owner's referrals are asked (their team's, else
        the organisation's), read once. A referral logged without answers
        reads none: referral_log checks the answers again anyway."""
        team_id = self.criteria_owner.team_id
        if self._asked is None or self._asked[0] != team_id:
            self._asked = (team_id, criteria_in_use(team_id=team_id))
        return self._asked[1]

    @property
    def criteria_fields(self) -> list[dict]:
        """The checklist: each criterion asked with what was answered."""
        answered = self.data if self.is_bound else self.initial
        return [
            {
                "criterion": criterion,
                "name": f"criterion_{criterion.pk}",
                "value": answered.get(f"criterion_{criterion.pk}"),
            }
            for criterion in self.criteria_asked()
        ]

    @property
    def criteria_of_the_owners_team(self) -> bool:
        """Whether the checklist is the owner's team's own list (else the
        organisation's)."""
        return any(criterion.team_id for criterion in self.criteria_asked())

    @property
    def criteria_for_someone_else(self) -> bool:
        return self.criteria_owner.pk != self.user.pk

    @property
    def answers(self) -> dict[int, bool]:
        """The criteria answered, by id (a valid form's)."""
        return self.cleaned_data.get("criteria") or {}

    def clean_criteria(self) -> dict[int, bool]:
        answers = self.cleaned_data["criteria"]
        if not answers or ("owner" in self.fields and "owner" in self.errors):
            return answers  # nothing to check, or the owner's error says it
        asked = self.criteria_asked()
        if set(answers) - {criterion.pk for criterion in asked}:
            message = CRITERIA_OF_ANOTHER_LIST if asked else CRITERIA_NONE_FOR_OWNER
            raise ValidationError(message.format(owner=self.criteria_owner))
        return answers

    @property
    def creates_source(self) -> bool:
        return bool(self.cleaned_data.get("new_source_name", "").strip())

    @property
    def new_source(self) -> dict | None:
        """The source to create, as referral_log takes it (None: one was picked)."""
        if not self.creates_source:
            return None
        return {
            name: self.cleaned_data[field] for name, field in self.SOURCE_FIELDS.items()
        }

    def clean(self):
        data = super().clean()
        self._clean_source(data)
        if not self.errors and not data.get("confirm_duplicate"):
            self.duplicates = open_duplicates(
                user=self.user,
                email=data.get("prospect_email", ""),
                company=data.get("prospect_company", ""),
            )
            if self.duplicates:
                raise forms.ValidationError(DUPLICATE_WARNING, code="duplicate")
        return data

    def _clean_source(self, data):
        source, query = data.get("source"), data.get("source_query", "").strip()
        if source and self.creates_source:
            self.add_error("new_source_name", SOURCE_TWICE)
        elif source or self.creates_source:
            return
        elif query:
            # Without JavaScript there is no live search: resolve the typed text.
            self.source_matches = list(
                partners_matching(user=self.user, query=query)[:8]
            )
            if len(self.source_matches) == 1:
                data["source"] = self.source_matches[0]
            elif self.source_matches:
                self.add_error("source_query", SOURCE_AMBIGUOUS)
            else:
                self.add_error("source_query", SOURCE_NOT_FOUND % {"query": query})
        else:
            self.add_error("source_query", SOURCE_REQUIRED)


class ReferralForm(forms.ModelForm):
    """Edit a referral's details (its stage moves through the move form)."""

    class Meta:
        model = Referral
        fields = [
            "prospect_name",
            "prospect_company",
            "prospect_email",
            "prospect_phone",
            "prospect_title",
            "source",
            "owner",
            "estimated_value",
            "received_on",
            "notes",
        ]
        widgets = {
            "received_on": DATE_INPUT,
            "notes": forms.Textarea(attrs={"rows": 4}),
        }

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        # The current source stays a choice even if someone else looks after it
        # (a manager logged the referral for this rep with their own source).
        current = Partner.objects.filter(pk=self.instance.source_id)
        self.fields["source"].queryset = partners_for_user(user=user) | current
        self.fields["owner"].queryset = users_for_user(user)
        if not (user.is_manager or user.is_admin):
            self.fields["owner"].disabled = True
        self.fields["received_on"].validators.append(not_in_future)


class MoveForm(forms.Form):
    stage = forms.ModelChoiceField(
        queryset=Stage.objects.filter(is_archived=False),
        empty_label=None,
        label="Move to",
        error_messages={"required": "Choose the stage to move it to."},
    )
    final_value = forms.DecimalField(
        label="Final value",
        required=False,
        min_value=0,
        max_digits=12,
        decimal_places=2,
    )
    lost_reason = forms.CharField(
        label="Why was it lost?", required=False, max_length=200
    )


class ActivityForm(forms.ModelForm):
    class Meta:
        model = Activity
        fields = ["kind", "text"]
        widgets = {
            "text": forms.Textarea(
                attrs={
                    "rows": 2,
                    "placeholder": "Called, left a voicemail; will try Friday.",
                }
            )
        }
        labels = {"kind": "Type", "text": "What happened"}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # An assessment is written by answering the criteria, not typed.
        self.fields["kind"].choices = [
            choice
            for choice in self.fields["kind"].choices
            if choice[0] != Activity.Kind.ASSESSMENT
        ]


SORTS = {
    "received": ("received_on", "pk"),
    "-received": ("-received_on", "-pk"),
    # Referrals with no value go last either way (PostgreSQL puts NULL first).
    "value": (F("estimated_value").asc(nulls_last=True), "pk"),
    "-value": (F("estimated_value").desc(nulls_last=True), "-pk"),
    "prospect": ("prospect_name", "pk"),
    "stage": ("stage__position", "pk"),
    "in_stage": ("stage_entered_at", "pk"),  # longest in stage first
    # Best label first (then the highest score), not assessed last.
    "label": (
        Case(
            When(label=Label.QUALIFIED, then=0),
            When(label=Label.LUKEWARM, then=1),
            When(label=Label.COLD, then=2),
            default=3,
        ),
        F("score").desc(nulls_last=True),
        "-pk",
    ),
}


class ReferralFilterForm(forms.Form):
    q = forms.CharField(
        label="Search",
        required=False,
        max_length=200,
        widget=forms.TextInput(
            attrs={"placeholder": "Name, company, email or source", "type": "search"}
        ),
    )
    stage = forms.ModelChoiceField(
        queryset=Stage.objects.all(), required=False, empty_label="All stages"
    )
    source = forms.ModelChoiceField(
        queryset=Partner.objects.none(), required=False, widget=forms.HiddenInput
    )
    owner = forms.ModelChoiceField(
        queryset=None, required=False, empty_label="All owners"
    )
    received_from = forms.DateField(
        label="Received from", required=False, widget=DATE_INPUT
    )
    received_to = forms.DateField(label="to", required=False, widget=DATE_INPUT)
    stale = forms.BooleanField(label="Stale only", required=False)
    # Set by the dashboard's drill-down links.
    reached = forms.ModelChoiceField(
        queryset=Stage.objects.all(), required=False, widget=forms.HiddenInput
    )
    team = forms.ModelChoiceField(
        queryset=Team.objects.all(), required=False, widget=forms.HiddenInput
    )
    source_kind = forms.ChoiceField(
        choices=[("", ""), *Partner.Kind.choices],
        required=False,
        widget=forms.HiddenInput,
    )
    # Open, won or lost referrals (the dashboard's open pipeline and won counts).
    stage_kind = forms.ChoiceField(
        choices=[("", ""), *Stage.Kind.choices],
        required=False,
        widget=forms.HiddenInput,
    )
    lost_reason = forms.CharField(
        required=False, max_length=200, widget=forms.HiddenInput
    )
    # Open and never contacted (Today's "New, not yet contacted").
    not_contacted = forms.BooleanField(required=False, widget=forms.HiddenInput)
    # Closed in these days (the dashboard's won value per rep and per week).
    closed_from = forms.DateField(required=False, widget=forms.HiddenInput)
    closed_to = forms.DateField(required=False, widget=forms.HiddenInput)
    sort = forms.ChoiceField(
        required=False,
        choices=[
            ("-received", "Newest first"),
            ("received", "Oldest first"),
            ("-value", "Highest value"),
            ("value", "Lowest value"),
            ("prospect", "Prospect A–Z"),
            ("stage", "Stage"),
            ("in_stage", "Longest in stage"),
            ("label", "Best label first"),
        ],
    )
    label = forms.ChoiceField(
        choices=[("", "All labels"), *Label.choices], required=False
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["source"].queryset = partners_for_user(user=user)
        if user.is_manager or user.is_admin:
            self.fields["owner"].queryset = users_for_user(user)
        else:
            del self.fields["owner"]

    @property
    def searched(self) -> bool:
        """Whether a valid search term narrows the list."""
        return bool(valid_data(self).get("q"))

    def clean_q(self):
        term = search_term(self.cleaned_data["q"])
        if term and (error := search_term_error(term)):
            raise ValidationError(error)  # said next to the box, not ignored
        return term

    def clean(self):
        data = super().clean()
        start, end = data.get("received_from"), data.get("received_to")
        if start and end and start > end:
            self.add_error("received_to", DATE_RANGE)
        start, end = data.get("closed_from"), data.get("closed_to")
        if start and end and start > end:
            self.add_error("closed_to", DATE_RANGE)
        return data

    def filter(self, queryset, *, stale_q: Callable[[], Q]):
        """Apply the valid filters; an invalid one is ignored and shown as an error."""
        data = valid_data(self)  # unbound: no filters
        if data.get("q"):
            queryset = referral_search(queryset, data["q"])
        for field in ("stage", "source", "owner", "label"):
            if data.get(field):
                queryset = queryset.filter(**{field: data[field]})
        if data.get("received_from"):
            queryset = queryset.filter(received_on__gte=data["received_from"])
        if data.get("received_to"):
            queryset = queryset.filter(received_on__lte=data["received_to"])
        if data.get("stale"):
            queryset = queryset.filter(stale_q())
        if data.get("reached"):
            queryset = queryset.filter(reached_filter(data["reached"]))
        if data.get("team"):
            queryset = queryset.filter(owner__team=data["team"])
        if data.get("source_kind"):
            queryset = queryset.filter(source__kind=data["source_kind"])
        if data.get("stage_kind"):
            queryset = queryset.filter(stage__kind=data["stage_kind"])
        if data.get("lost_reason"):
            queryset = queryset.filter(lost_reason=data["lost_reason"])
        if data.get("not_contacted"):
            queryset = queryset.filter(
                stage__kind=Stage.Kind.OPEN, first_contacted_at__isnull=True
            )
        if data.get("closed_from"):  # whole days in the viewer's time zone
            start = datetime.combine(data["closed_from"], time.min)
            queryset = queryset.filter(closed_at__gte=timezone.make_aware(start))
        if data.get("closed_to"):
            end = datetime.combine(data["closed_to"], time.max)
            queryset = queryset.filter(closed_at__lte=timezone.make_aware(end))
        return queryset.order_by(*SORTS[data.get("sort") or "-received"])


class StageForm(forms.ModelForm):
    class Meta:
        model = Stage
        fields = ["name", "kind", "probability", "sla_days", "milestone", "is_archived"]
        labels = {
            "sla_days": "SLA (days)",
            "probability": "Win %",
            "is_archived": "Archived",
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            field.help_text = ""  # explained once above the table, not on every row
