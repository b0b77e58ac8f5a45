import pytest
from django.apps import apps
from django.contrib import admin as django_admin
from django.db import connection
from django.utils import timezone

from referrals import admin as referrals_admin
from referrals.models import Referral, Stage
from referrals.search import TOO_SHORT
from referrals.services import FINAL_VALUE_REQUIRED, referral_log
from tests.factories import PartnerFactory, ReferralFactory

PROJECT_APPS = {"accounts", "partners", "referrals", "core", "thanks", "dashboard"}
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


def test_a_referrals_stage_is_shown_not_edited_in_the_admin(
    client, admin, alice_referral
):
    client.force_login(admin)
    url = f"/admin/referrals/referral/{alice_referral.pk}/change/"
    page = client.get(url).content.decode()
    assert 'name="prospect_name"' in page  # the rest is editable
    assert 'name="stage"' not in page
    assert "Received" in page  # the stage, as text
    assert client.get("/admin/referrals/referral/add/").status_code == 200


def test_a_stages_position_is_changed_on_the_stages_page_not_the_admin(client, admin):
    client.force_login(admin)
    stage = Stage.objects.get(name="Contacted")
    page = client.get(f"/admin/referrals/stage/{stage.pk}/change/").content.decode()
    assert 'name="position"' not in page
    assert 'name="name"' in page


def test_a_referral_added_in_the_admin_starts_its_history_in_its_stage(
    client, admin, alice, alice_partner
):
    client.force_login(admin)
    meeting = Stage.objects.get(name="Meeting held")
    response = client.post(
        "/admin/referrals/referral/add/",
        {
            "prospect_name": "Imported",
            "source": alice_partner.pk,
            "owner": alice.pk,
            "stage": meeting.pk,
            "stage_entered_at_0": "2026-11-02",
            "stage_entered_at_1": "10:00:00",
            "received_on": "2026-11-01",
            "estimated_value": "50",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    referral = Referral.objects.get(prospect_name="Imported")
    assert referral.furthest_position == meeting.position  # the funnel counts it
    assert [c.to_stage for c in referral.stage_changes.all()] == [meeting]


def test_a_referral_added_in_the_admin_starts_as_a_logged_one_would(
    client, admin, alice, alice_partner
):
    """Through referral_log: milestone dates set, and the thanks it owes
    (received, and the first meeting it starts after) scheduled."""
    client.force_login(admin)
    meeting = Stage.objects.get(name="Meeting held")
    response = client.post(
        "/admin/referrals/referral/add/",
        {
            "prospect_name": "Imported",
            "source": alice_partner.pk,
            "owner": alice.pk,
            "stage": meeting.pk,
            "stage_entered_at_0": "2026-11-02",
            "stage_entered_at_1": "10:00:00",
            "received_on": "2026-11-01",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    referral = Referral.objects.get(prospect_name="Imported")
    assert referral.first_contacted_at == referral.stage_entered_at
    assert referral.meeting_held_at == referral.stage_entered_at
    assert set(referral.thank_yous.values_list("moment", flat=True)) == {
        "received",
        "meeting",
    }
    assert all(t.owner_id == alice.pk for t in referral.thank_yous.all())


def test_a_referral_added_as_won_in_the_admin_needs_its_value(
    client, admin, alice, alice_partner
):
    client.force_login(admin)
    response = client.post(
        "/admin/referrals/referral/add/",
        {
            "prospect_name": "Imported",
            "source": alice_partner.pk,
            "owner": alice.pk,
            "stage": Stage.objects.get(name="Won").pk,
            "stage_entered_at_0": "2026-11-02",
            "stage_entered_at_1": "10:00:00",
            "received_on": "2026-11-01",
        },
    )
    assert response.status_code == 200
    assert FINAL_VALUE_REQUIRED in response.content.decode()
    assert not Referral.objects.filter(prospect_name="Imported").exists()


def test_a_thank_you_edited_in_the_admin_is_owned_by_its_referrals_owner(
    admin_client, alice, bob, alice_partner
):
    """Pointed at another rep's referral in the admin, a thank-you moves to
    that rep's Today (its owner is the referral's, never typed in)."""
    referral = referral_log(user=alice, source=alice_partner, prospect_name="P")
    thank_you = referral.thank_yous.get()
    bobs = referral_log(
        user=bob, source=PartnerFactory(owner=bob), prospect_name="Bobs"
    )
    bobs.thank_yous.all().delete()  # one thank-you per referral and moment
    url = f"/admin/thanks/thankyou/{thank_you.pk}/change/"
    form = admin_client.get(url).context["adminform"].form
    data = {
        name: value
        for name, value in form.initial.items()
        if name in form.fields and value is not None
    }
    data["referral"] = bobs.pk
    for name in ("due_at", "deadline_at", "created_at"):  # the admin's split fields
        moment = timezone.localtime(data.pop(name))
        data[f"{name}_0"] = moment.date().isoformat()
        data[f"{name}_1"] = moment.time().strftime("%H:%M:%S")
    response = admin_client.post(url, data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    thank_you.refresh_from_db()
    assert (thank_you.referral, thank_you.owner) == (bobs, bob)


# -- The referral list (issue 25) -----------------------------------------------


@pytest.mark.parametrize("rows", [3, 30])
@pytest.mark.parametrize("params", [{}, {"q": "prospect"}], ids=["all", "searched"])
def test_the_admins_referral_list_runs_a_constant_number_of_queries(
    client, admin, alice_partner, django_assert_num_queries, rows, params
):
    ReferralFactory.create_batch(rows, source=alice_partner)
    client.force_login(admin)
    # session, user; the filters' stages and teams (not every owner); one
    # count (no second one of the whole table, no date hierarchy's years);
    # the rows, their source, owner and stage joined in.
    with django_assert_num_queries(6):
        response = client.get("/admin/referrals/referral/", params)
    assert response.status_code == 200
    assert response.context["cl"].result_count == rows
    assert len(response.context["cl"].result_list) == rows


def test_the_admins_referral_list_reads_no_dates_to_offer_them():
    model_admin = django_admin.site._registry[Referral]
    assert model_admin.date_hierarchy is None
    assert model_admin.show_full_result_count is False
    assert "received_on" in model_admin.list_filter  # today, past 7 days, ...
    assert "owner" not in model_admin.list_filter  # every user, read and linked
    assert set(model_admin.list_select_related) >= {"source", "owner", "stage"}


def test_the_admins_referral_list_still_filters_by_one_owner(
    client, admin, alice, bob, alice_partner
):
    ReferralFactory(source=alice_partner, prospect_name="Alices")
    ReferralFactory(source=PartnerFactory(owner=bob), prospect_name="Bobs")
    client.force_login(admin)
    response = client.get("/admin/referrals/referral/", {"owner__id__exact": alice.pk})
    assert response.status_code == 200
    assert [r.prospect_name for r in response.context["cl"].result_list] == ["Alices"]


def test_the_admin_searches_referrals_by_the_lists_rule(client, admin, alice):
    ReferralFactory(
        source=PartnerFactory(owner=alice, name="Otto Source"),
        prospect_name="Ana Garcia",
        prospect_company="Sol",
    )
    ReferralFactory(
        source=PartnerFactory(owner=alice, name="Pia Source"),
        prospect_name="Ben Brown",
        prospect_company="Luna",
    )
    client.force_login(admin)

    def found(term):
        response = client.get("/admin/referrals/referral/", {"q": term})
        assert response.status_code == 200
        return [r.prospect_name for r in response.context["cl"].result_list]

    assert found("garc") == ["Ana Garcia"]
    assert found("otto") == ["Ana Garcia"]  # the source's name
    assert found("ot") == ["Ana Garcia"]  # two letters: a word's start
    assert sorted(found("  ")) == ["Ana Garcia", "Ben Brown"]  # no search


def test_a_term_too_short_in_the_admin_says_so(client, admin, alice_referral):
    client.force_login(admin)
    response = client.get("/admin/referrals/referral/", {"q": "a"}, follow=True)
    assert response.status_code == 200
    assert TOO_SHORT in response.content.decode()
    assert list(response.context["cl"].result_list) == []


def test_the_admin_counts_exactly_up_to_a_point(admin, alice_partner, monkeypatch):
    """Past EXACT_COUNT_UP_TO referrals, PostgreSQL's estimate (at least
    the rows found); SQLite counts."""
    monkeypatch.setattr(referrals_admin, "EXACT_COUNT_UP_TO", 3)
    ReferralFactory.create_batch(5, source=alice_partner)
    paginator = referrals_admin.EstimatedCountPaginator(Referral.objects.all(), 2)
    if connection.vendor == "postgresql":
        assert paginator.count >= 4  # the rows found, or the planner's guess
    else:
        assert paginator.count == 5
    few = referrals_admin.EstimatedCountPaginator(
        Referral.objects.filter(prospect_name="nobody"), 2
    )
    assert few.count == 0


def test_the_admins_referral_rows_keep_their_action_checkbox(
    client, admin, alice_referral
):
    """Written without a widget per row, the checkbox is Django's: the bulk
    actions still find the rows chosen."""
    client.force_login(admin)
    page = client.get("/admin/referrals/referral/").content.decode()
    assert (
        f'<input type="checkbox" name="_selected_action" value="{alice_referral.pk}"'
        ' class="action-select" aria-label="Select this object for an action - '
        'Paula Prospect (Globex)">'
    ) in page
    assert 'id="action-toggle"' in page
    response = client.post(
        "/admin/referrals/referral/",
        {"action": "delete_selected", "_selected_action": [alice_referral.pk]},
    )
    assert response.status_code == 200  # the confirmation page
    assert "Paula Prospect" in response.content.decode()


def test_the_admins_referral_pages_keep_their_order(client, admin, alice_partner):
    """A page's rows are picked, then joined (EstimatedCountPaginator.page):
    in the order chosen, page after page."""
    for n in range(55):
        ReferralFactory(source=alice_partner, prospect_name=f"P{n:02d}")
    client.force_login(admin)

    def names(**params):
        response = client.get("/admin/referrals/referral/", params)
        assert response.status_code == 200
        return [r.prospect_name for r in response.context["cl"].result_list]

    by_name = names(o="1") + names(o="1", p="2")  # prospect name, A to Z
    assert by_name == [f"P{n:02d}" for n in range(55)]
    newest = names() + names(p="2")  # received, newest first; then the id
    assert newest == [f"P{n:02d}" for n in reversed(range(55))]
