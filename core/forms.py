"""Small helpers shared by the apps' forms."""

from django import forms


def valid_data(form: forms.Form) -> dict:
    """The values of the form's valid fields; an invalid one is left out (its
    error stays on the form, to be shown). An unbound form gives {}."""
    form.is_valid()  # cleaned_data keeps every field that is valid
    cleaned = getattr(form, "cleaned_data", {})
    return {name: value for name, value in cleaned.items() if name not in form.errors}
