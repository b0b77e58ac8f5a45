"""Small helpers shared by the apps' forms."""

from collections.abc import Callable

from django import forms
from django.core.exceptions import ValidationError


def valid_data(form: forms.Form) -> dict:
    """The values of the form's valid fields; an invalid one is left out (its
    error stays on the form, to be shown). An unbound form gives {}."""
    form.is_valid()  # cleaned_data keeps every field that is valid
    cleaned = getattr(form, "cleaned_data", {})
    return {name: value for name, value in cleaned.items() if name not in form.errors}


def saved(form: forms.Form, save: Callable[[dict], object]) -> bool:
    """Whether the bound `form` is valid and `save(form.cleaned_data)` (a
    service) went through. A service's refusal (ValidationError) goes next
    to its field, or above the form, and the input stays as typed."""
    if not form.is_valid():
        return False
    try:
        save(form.cleaned_data)
    except ValidationError as error:
        form.add_error(None, error)
        return False
    return True
