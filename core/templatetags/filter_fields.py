"""`{{ form.field|filter_field }}`: one field of a GET filter bar, as
crispy-bootstrap5 would lay it out (label, Bootstrap classes, the error
under the field), without its template machinery.

The filter bars sit on the pages opened most (the referral list, the
dashboard): crispy's templates were a large share of the list's rendering
(bench/RESULTS.md).
Forms that create or change data keep crispy.
"""

from django import forms, template
from django.forms.utils import flatatt
from django.utils.html import format_html, format_html_join

register = template.Library()

WIDGET_CLASSES = {
    forms.CheckboxInput: "form-check-input",
    forms.Select: "form-select",
}


@register.filter
def filter_field(field):
    widget = field.field.widget
    if isinstance(widget, forms.HiddenInput):
        return field.as_widget()
    css = next(
        (c for kind, c in WIDGET_CLASSES.items() if isinstance(widget, kind)),
        "form-control",
    )
    attrs = {"class": " ".join(filter(None, [css, widget.attrs.get("class")]))}
    described_by = []
    notes = ""
    if field.help_text:
        described_by.append(f"{field.auto_id}_helptext")
        notes = format_html(
            '<div id="{}_helptext" class="form-text">{}</div>',
            field.auto_id,
            field.help_text,
        )
    if field.errors:
        attrs["class"] += " is-invalid"
        attrs["aria-invalid"] = "true"
        described_by.insert(0, f"{field.auto_id}_error")
        notes = format_html(
            "{}{}",
            format_html(
                '<div id="{}_error" class="invalid-feedback">{}</div>',
                field.auto_id,
                format_html_join(
                    "", "<p><strong>{}</strong></p>", ((e,) for e in field.errors)
                ),
            ),
            notes,
        )
    if described_by:
        attrs["aria-describedby"] = " ".join(described_by)
    control = _select(field, attrs) or field.as_widget(attrs=attrs)
    if isinstance(widget, forms.CheckboxInput):
        return format_html(
            '<div class="mb-3"><div id="div_id_{}" class="form-check">{}'
            '<label for="{}" class="form-check-label">{}</label>{}</div></div>',
            field.name,
            control,
            field.id_for_label,
            field.label,
            notes,
        )
    return format_html(
        '<div id="div_id_{}" class="mb-3"><label for="{}" class="form-label">{}</label>'
        "{}{}</div>",
        field.name,
        field.id_for_label,
        field.label,
        control,
        notes,
    )


def _select(field, attrs: dict) -> str:
    """A plain select as Django's widget templates draw it, without a
    template render per option (a rep or owner menu has dozens); "" for
    anything else (multiple, required, grouped choices): the widget draws it.
    """
    widget = field.field.widget
    if type(widget) is not forms.Select or field.field.required or field.field.disabled:
        return ""
    choices = _choices(field.field)
    if any(isinstance(label, (list, tuple)) for _, label in choices):
        return ""
    chosen = set(widget.format_value(field.value()))
    if "id" not in widget.attrs:  # as BoundField.as_widget: the widget's own wins
        attrs = {"id": field.auto_id, **attrs}
    attrs = widget.build_attrs(widget.attrs, attrs)
    options = [("" if value is None else str(value), label) for value, label in choices]
    return format_html(
        '<select name="{}"{}>{}</select>',
        field.html_name,
        flatatt(attrs),
        format_html_join(
            "",
            '<option value="{}"{}>{}</option>',
            ((v, " selected" if v in chosen else "", label) for v, label in options),
        ),
    )


def _choices(field) -> list[tuple]:
    """A field's choices; a model's read in one plain query (the choice
    iterator's iterator() opens a server-side cursor on PostgreSQL: three
    round trips for a dozen rows; bench/RESULTS.md)."""
    if not isinstance(field, forms.ModelChoiceField):
        return list(field.choices)
    empty = [] if field.empty_label is None else [("", field.empty_label)]
    return empty + [
        (field.prepare_value(obj), field.label_from_instance(obj))
        for obj in field.queryset
    ]
