"""The filter bars' fields: a label, Bootstrap's classes, and a bad value
marked next to the field, with what the user typed kept."""

from django import forms
from django.template import Context, Template

from referrals.forms import ReferralFilterForm


def rendered(form, name: str) -> str:
    template = Template("{% load filter_fields %}{{ field|filter_field }}")
    return template.render(Context({"field": form[name]}))


def test_a_bad_date_is_marked_next_to_the_field_and_kept(alice):
    form = ReferralFilterForm(data={"received_from": "31/02/2026"}, user=alice)
    assert not form.is_valid()
    html = rendered(form, "received_from")
    assert 'class="form-control is-invalid"' in html
    assert 'aria-invalid="true"' in html
    assert 'aria-describedby="id_received_from_error"' in html
    assert '<div id="id_received_from_error" class="invalid-feedback">' in html
    assert "Enter a valid date." in html
    assert 'value="31/02/2026"' in html  # what the user typed is still there


def test_a_select_and_a_checkbox_get_their_own_classes(alice):
    form = ReferralFilterForm(data={}, user=alice)
    assert 'class="form-select"' in rendered(form, "stage")
    checkbox = rendered(form, "stale")
    assert 'class="form-check-input"' in checkbox
    assert '<label for="id_stale" class="form-check-label">Stale only</label>' in (
        checkbox
    )


class HelpedForm(forms.Form):
    name = forms.CharField(help_text="As on the business card.")


def test_help_text_is_shown_and_read_with_the_error():
    html = rendered(HelpedForm(data={}), "name")
    assert '<div id="id_name_helptext" class="form-text">As on the business card.' in (
        html
    )
    assert 'aria-describedby="id_name_error id_name_helptext"' in html
    assert "This field is required." in html
    quiet = rendered(HelpedForm(), "name")
    assert 'aria-describedby="id_name_helptext"' in quiet
    assert "is-invalid" not in quiet


def test_a_select_is_drawn_as_djangos_widget_draws_it(alice, bob, carol):
    from django.test.html import parse_html

    form = ReferralFilterForm(data={"owner": str(bob.pk)}, user=carol)
    assert form.is_valid(), form.errors
    field = form["owner"]
    ours = rendered(form, "owner")
    control = ours[ours.index("<select") : ours.index("</select>") + 9]
    django_s = field.as_widget(attrs={"class": "form-select"})
    assert parse_html(control) == parse_html(django_s)
    assert f'<option value="{bob.pk}" selected>' in control
    assert f">{alice}</option>" in control


class Menus(forms.Form):
    plain = forms.ChoiceField(choices=[(None, "Any"), ("a", "A")], required=False)
    fixed = forms.ChoiceField(choices=[("a", "A")], required=False, disabled=True)
    named = forms.ChoiceField(
        choices=[("a", "A")],
        required=False,
        widget=forms.Select(attrs={"id": "pick"}),
    )


def test_a_select_keeps_what_djangos_widget_would_draw():
    form = Menus(data={})
    plain = rendered(form, "plain")
    assert '<option value="" selected>Any</option>' in plain  # None is ""
    assert "disabled" in rendered(form, "fixed")
    named = rendered(form, "named")
    assert '<label for="pick"' in named and 'id="pick"><option' in named
