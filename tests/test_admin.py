import pytest
from django.apps import apps
from django.contrib import admin as django_admin

PROJECT_APPS = {"accounts", "partners", "referrals", "core"}
PROJECT_MODELS = [m for m in apps.get_models() if m._meta.app_label in PROJECT_APPS]


@pytest.mark.parametrize("model", PROJECT_MODELS, ids=lambda m: m._meta.label)
def test_every_model_is_in_the_admin_with_filters_and_search(model):
    model_admin = django_admin.site._registry[model]
    assert model_admin.list_filter
    assert model_admin.search_fields


@pytest.mark.parametrize("model", PROJECT_MODELS, ids=lambda m: m._meta.label)
def test_admin_changelists_load_and_search(client, admin, alice_referral, model):
    client.force_login(admin)
    meta = model._meta
    response = client.get(f"/admin/{meta.app_label}/{meta.model_name}/?q=a")
    assert response.status_code == 200


def test_reps_cannot_open_the_admin(client, alice):
    client.force_login(alice)
    response = client.get("/admin/")
    assert response.status_code == 302
