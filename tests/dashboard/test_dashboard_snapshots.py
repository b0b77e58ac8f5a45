"""Every team's dashboard is shown from a snapshot "as of" a time; a team's
or a rep's is counted live."""

import threading
from datetime import datetime, timedelta

import pytest
import time_machine
from django.contrib.messages import get_messages
from django.core.management import call_command
from django.utils import timezone

from dashboard import snapshots
from dashboard.models import DashboardSnapshot
from dashboard.queries import DashboardFilters
from dashboard.snapshots import snapshot_figures, snapshots_warm
from dashboard.tasks import dashboard_snapshots_warm_task
from dashboard.views import FIGURES_BEING_COUNTED, FIGURES_COUNTED
from tests.dashboard.helpers import NOW, log
from tests.factories import PartnerFactory
from tests.helpers import at_once, csv_rows, wait_for


def page(client, user, when=NOW, **params):
    client.force_login(user)
    with time_machine.travel(when, tick=False):
        return client.get("/dashboard/", params)


def received(response) -> str:
    """The "Referrals received" card, as the page shows it."""
    html = response.content.decode()
    card = html.split("Referrals received</div>", 1)[1]
    return card.split("</a>", 1)[0].rsplit(">", 1)[1]


def refresh(client, user, view, when):
    client.force_login(user)
    with time_machine.travel(when, tick=False):
        return client.post("/dashboard/refresh/", {"view": view})


@pytest.fixture
def logged(alice, dave):
    """Two referrals this month, one per team."""
    log(alice, PartnerFactory(owner=alice), "2026-11-02T09:00:00", 100, "North one")
    log(dave, PartnerFactory(owner=dave), "2026-11-03T09:00:00", 100, "South one")
    return alice


def log_another(alice):
    log(alice, PartnerFactory(owner=alice), "2026-11-20T11:00:00", 100, "Late one")


def test_every_teams_view_is_a_snapshot_marked_as_of(client, admin, logged):
    first = page(client, admin, period="this_month")
    assert received(first) == "2"
    log_another(logged)

    later = page(client, admin, NOW + timedelta(minutes=3), period="this_month")

    assert received(later) == "2"  # the snapshot, and the page says so:
    assert "Every team's figures as of 12:00" in later.content.decode()
    assert "Refresh now" in later.content.decode()


def test_a_visit_once_the_snapshot_is_old_counts_again(client, admin, logged, settings):
    settings.DASHBOARD_SNAPSHOT_SECONDS = 300
    page(client, admin, period="this_month")
    log_another(logged)

    later = page(client, admin, NOW + timedelta(minutes=6), period="this_month")

    assert received(later) == "3"
    assert "as of 12:06" in later.content.decode()


def test_refresh_counts_again_now(client, admin, logged):
    page(client, admin, period="this_month")
    log_another(logged)

    response = refresh(client, admin, "period=this_month", NOW + timedelta(minutes=1))

    assert response.status_code == 302
    assert response["Location"] == "/dashboard/?period=this_month"
    shown = page(client, admin, NOW + timedelta(minutes=2), period="this_month")
    assert received(shown) == "3"
    assert "as of 12:01" in shown.content.decode()
    assert FIGURES_COUNTED in shown.content.decode()


def test_a_teams_or_a_reps_view_is_always_live(client, admin, carol, north, logged):
    page(client, admin, period="this_month")  # every team's, as a snapshot
    assert received(page(client, carol, period="this_month")) == "1"
    team = {"period": "this_month", "team": north.pk}
    assert received(page(client, admin, **team)) == "1"
    log_another(logged)

    for user, params in [(carol, {"period": "this_month"}), (admin, team)]:
        response = page(client, user, NOW + timedelta(seconds=1), **params)
        assert received(response) == "2"
        assert "figures as of" not in response.content.decode()
    assert DashboardSnapshot.objects.count() == 1  # the admin's own


def test_exports_are_counted_live(client, admin, logged):
    page(client, admin, period="this_month")
    log_another(logged)

    export = page(client, admin, period="this_month", export="funnel")

    assert csv_rows(export)[1] == ["Received", "3", "–"]


def test_with_no_snapshot_age_every_view_is_live(client, admin, logged, settings):
    settings.DASHBOARD_SNAPSHOT_SECONDS = 0
    page(client, admin, period="this_month")
    log_another(logged)

    assert received(page(client, admin, period="this_month")) == "3"
    assert not DashboardSnapshot.objects.exists()


def test_each_view_day_and_time_zone_has_its_own_snapshot(client, admin, logged):
    page(client, admin, period="this_month")
    log_another(logged)

    # The same view, however its URL is spelled, is the same snapshot.
    same = page(client, admin, period="this_month", end="", rep="", utm="mail")
    assert received(same) == "2"
    assert received(page(client, admin, period="last_30")) == "3"
    next_day = page(client, admin, NOW + timedelta(days=1), period="this_month")
    assert received(next_day) == "3"
    admin.time_zone = "America/New_York"
    admin.save()
    in_new_york = page(client, admin, period="this_month")
    assert received(in_new_york) == "3"
    assert "as of 07:00" in in_new_york.content.decode()  # 12:00 UTC, their time
    assert DashboardSnapshot.objects.count() == 4


def test_a_snapshot_keeps_nothing_of_the_visit(client, admin, logged):
    page(client, admin, period="this_month")

    html = DashboardSnapshot.objects.get().html
    assert "csrfmiddlewaretoken" not in html
    assert admin.display_name not in html
    assert 'href="?period=this_month&amp;export=reps"' in html


def test_refresh_right_after_a_count_does_not_count_again(client, admin, logged):
    page(client, admin, period="this_month")
    log_another(logged)

    refresh(client, admin, "period=this_month", NOW + timedelta(seconds=5))

    shown = page(client, admin, NOW + timedelta(seconds=6), period="this_month")
    assert received(shown) == "2"
    assert FIGURES_BEING_COUNTED in shown.content.decode()


def test_refresh_while_another_visit_counts_again_waits_for_it(client, admin, logged):
    page(client, admin, period="this_month")
    DashboardSnapshot.objects.update(refreshing_since=NOW + timedelta(minutes=1))

    response = refresh(client, admin, "period=this_month", NOW + timedelta(minutes=2))

    messages = [str(m) for m in get_messages(response.wsgi_request)]
    assert messages == [FIGURES_BEING_COUNTED]
    assert DashboardSnapshot.objects.get().computed_at == NOW


def test_refresh_of_a_view_never_counted_counts_it(client, admin, logged):
    response = refresh(client, admin, "period=this_month&export=reps", NOW)

    assert response["Location"] == "/dashboard/?period=this_month"
    assert DashboardSnapshot.objects.get().view == "period=this_month"


def test_an_upgrade_forgets_the_snapshots(client, admin, logged):
    page(client, admin, period="this_month")

    call_command("migrate", verbosity=0)  # what every deploy runs

    assert not DashboardSnapshot.objects.exists()


def test_only_managers_and_admins_may_refresh(client, alice, carol):
    assert refresh(client, alice, "", NOW).status_code == 403
    # A manager's view is live: nothing to recount, back to the dashboard.
    response = refresh(client, carol, "period=last_30", NOW)
    assert response["Location"] == "/dashboard/?period=last_30"
    assert not DashboardSnapshot.objects.exists()


def test_refresh_needs_a_post(client, admin):
    client.force_login(admin)
    assert client.get("/dashboard/refresh/").status_code == 405


def test_a_snapshot_view_runs_few_queries(
    client, admin, logged, django_assert_num_queries
):
    page(client, admin, period="this_month")
    client.force_login(admin)
    # session, user with role; team and rep choices; the snapshot (it says
    # when a visit last looked: no "viewed" write within ten minutes).
    with (
        time_machine.travel(NOW, tick=False),
        django_assert_num_queries(5),
    ):
        response = client.get("/dashboard/", {"period": "this_month"})
    assert response.status_code == 200


# -- Counted ahead of visits by the worker -------------------------------------


def warm(when) -> int:
    with time_machine.travel(when, tick=False):
        return snapshots_warm()


def test_the_worker_counts_an_opened_view_before_a_visit_would(
    client, admin, logged, settings
):
    settings.DASHBOARD_SNAPSHOT_SECONDS = 300
    page(client, admin, period="this_month")
    log_another(logged)

    assert warm(NOW + timedelta(minutes=2)) == 0  # not yet half its age
    assert warm(NOW + timedelta(minutes=3)) == 1

    later = page(client, admin, NOW + timedelta(minutes=4), period="this_month")
    assert received(later) == "3"
    assert "as of 12:03" in later.content.decode()  # the worker's count


def test_the_worker_counts_a_new_days_figures_before_its_first_visit(
    client, admin, logged
):
    page(client, admin, period="this_month")
    page(client, admin, period="last_30")
    log_another(logged)
    next_day = NOW + timedelta(days=1)

    assert warm(next_day) == 2

    first_visit = page(client, admin, next_day + timedelta(minutes=1), period="last_30")
    assert received(first_visit) == "3"
    assert "as of 12:00" in first_visit.content.decode()  # not counted by the visit


def test_the_worker_counts_a_view_in_the_time_zone_it_was_opened_in(
    client, admin, logged
):
    admin.time_zone = "America/New_York"
    admin.save()
    page(client, admin, period="this_month")

    # 06:00 UTC on the 21st is 01:00 on the 21st in New York: counted for
    # New York's day and shown in its time.
    assert warm(datetime.fromisoformat("2026-11-21T06:00:00+00:00")) == 1
    snapshot = DashboardSnapshot.objects.latest("computed_at")
    assert snapshot.time_zone == "America/New_York"
    visit = page(
        client,
        admin,
        datetime.fromisoformat("2026-11-21T06:01:00+00:00"),
        period="this_month",
    )
    assert "as of 01:00" in visit.content.decode()


def test_views_nobody_opened_for_a_day_are_not_counted_ahead(client, admin, logged):
    page(client, admin, period="this_month")

    assert warm(NOW + timedelta(hours=25)) == 0
    assert DashboardSnapshot.objects.count() == 1


def test_a_view_out_of_use_is_counted_once_a_day_not_every_few_minutes(
    client, admin, logged
):
    page(client, admin, period="this_month")
    assert warm(NOW + timedelta(minutes=3)) == 1  # in use: kept fresh

    assert warm(NOW + timedelta(hours=2)) == 0  # nobody has looked for 2 hours
    assert warm(NOW + timedelta(hours=13)) == 1  # the 21st, once
    assert warm(NOW + timedelta(hours=14)) == 0
    # The worker's own counts do not keep a view alive.
    assert warm(NOW + timedelta(hours=37)) == 0


def test_the_worker_does_not_wait_for_a_visits_first_count(
    client, admin, logged, monkeypatch
):
    page(client, admin, period="this_month")
    page(client, admin, period="last_30")
    next_day = NOW + timedelta(days=1)
    with time_machine.travel(next_day, tick=False):  # a visit's first count, begun
        filters = DashboardFilters(
            user=admin, start=next_day.date().replace(day=1), end=next_day.date()
        )
        key = snapshots.snapshot_key(filters, "period=this_month")
        assert snapshots._first_claimed(key, "period=this_month", next_day)

    def no_waiting(seconds):
        pytest.fail("the worker waited for a visit's first count")

    monkeypatch.setattr(snapshots.time, "sleep", no_waiting)

    assert warm(next_day) == 1  # last_30 only


def test_a_view_no_visit_would_ask_for_any_more_is_not_counted(admin):
    # A period this version no longer has: the form would count last_90 instead.
    DashboardSnapshot.objects.create(
        key="old", view="period=last_7", html="figures", computed_at=NOW, viewed_at=NOW
    )

    assert warm(NOW + timedelta(days=1)) == 0
    assert DashboardSnapshot.objects.count() == 1


def test_one_view_that_fails_to_count_leaves_the_others_counted(
    client, admin, logged, monkeypatch, caplog
):
    page(client, admin, period="this_month")
    page(client, admin, period="last_30")

    def figures_html(filters, view):
        if view == "period=last_30":
            raise RuntimeError("boom")
        return "figures"

    monkeypatch.setattr(snapshots, "figures_html", figures_html)

    assert warm(NOW + timedelta(days=1)) == 1
    assert "Could not count the dashboard view 'period=last_30'" in caplog.text


def test_a_visit_records_that_it_looked_every_ten_minutes(client, admin, logged):
    page(client, admin, period="this_month")
    page(client, admin, NOW + timedelta(minutes=9), period="this_month")
    assert DashboardSnapshot.objects.get().viewed_at == NOW

    page(client, admin, NOW + timedelta(minutes=11), period="this_month")
    assert DashboardSnapshot.objects.get().viewed_at == NOW + timedelta(minutes=11)


def test_the_worker_counts_nothing_when_snapshots_are_off(
    client, admin, logged, settings
):
    page(client, admin, period="this_month")
    settings.DASHBOARD_SNAPSHOT_SECONDS = 0

    assert warm(NOW + timedelta(hours=1)) == 0
    assert DashboardSnapshot.objects.get().computed_at == NOW


def test_the_worker_counts_nothing_without_an_active_admin(client, admin, logged):
    page(client, admin, period="this_month")
    admin.is_active = False
    admin.save()

    assert warm(NOW + timedelta(hours=13)) == 0
    admin.is_active = True
    admin.save()
    assert warm(NOW + timedelta(hours=13)) == 1


# -- The snapshot's rules, through dashboard_figures ---------------------------------


def figures(admin, when, render, view="period=this_month", **kwargs):
    with time_machine.travel(when, tick=False):
        filters = DashboardFilters(
            user=admin, start=NOW.date().replace(day=1), end=NOW.date()
        )
        return snapshot_figures(filters=filters, view=view, render=render, **kwargs)


def test_a_stale_snapshot_another_visit_is_recounting_is_shown_as_it_is(admin):
    figures(admin, NOW, lambda: "first")
    DashboardSnapshot.objects.update(refreshing_since=NOW + timedelta(minutes=6))

    shown = figures(admin, NOW + timedelta(minutes=7), lambda: "second")

    assert (shown.html, shown.computed_at) == ("first", NOW)
    # A recount that never finished (its process died) is taken over.
    taken_over = figures(admin, NOW + timedelta(minutes=9), lambda: "second")
    assert taken_over.html == "second"


def test_a_recount_that_fails_lets_the_next_visit_try(admin):
    figures(admin, NOW, lambda: "first")

    def broken():
        raise RuntimeError("database went away")

    with pytest.raises(RuntimeError):
        figures(admin, NOW + timedelta(minutes=6), broken)

    assert figures(admin, NOW + timedelta(minutes=6), lambda: "again").html == "again"


def test_a_first_count_that_fails_leaves_nothing_to_wait_for(admin):
    def broken():
        raise RuntimeError("database went away")

    with pytest.raises(RuntimeError):
        figures(admin, NOW, broken)

    assert not DashboardSnapshot.objects.exists()
    assert figures(admin, NOW, lambda: "again").html == "again"


def test_older_figures_never_replace_newer_ones(admin):
    figures(admin, NOW + timedelta(minutes=1), lambda: "newer")

    figures(admin, NOW, lambda: "older", refresh=True)

    assert DashboardSnapshot.objects.get().html == "newer"


def test_old_snapshots_are_deleted(admin):
    figures(admin, NOW - timedelta(days=3), lambda: "days ago", view="period=last_30")
    figures(admin, NOW - timedelta(days=1), lambda: "yesterday", view="period=last_90")
    figures(admin, NOW, lambda: "today")

    kept = DashboardSnapshot.objects.order_by("computed_at").values_list("html")
    assert [html for (html,) in kept] == ["yesterday", "today"]


def visits_at_once(admin, recount, workers=4) -> list[str]:
    """What `workers` visits at once to one view are shown."""
    today = timezone.localdate()

    def visit():
        filters = DashboardFilters(user=admin, start=today, end=today)
        return snapshot_figures(filters=filters, view="v", render=recount).html

    return at_once(visit, workers=workers)


@pytest.mark.django_db(transaction=True)
def test_visits_at_once_to_a_stale_snapshot_count_it_once(admin):
    today = timezone.localdate()
    with time_machine.travel(timezone.now() - timedelta(minutes=10), tick=False):
        filters = DashboardFilters(user=admin, start=today, end=today)
        snapshot_figures(filters=filters, view="v", render=lambda: "stale")
    counted, others_shown = [], threading.Semaphore(0)

    def recount():
        counted.append(1)
        for _ in range(3):  # hold on until every other visit has been answered
            assert others_shown.acquire(timeout=10)
        return "fresh"

    def visit():
        today = timezone.localdate()
        filters = DashboardFilters(user=admin, start=today, end=today)
        html = snapshot_figures(filters=filters, view="v", render=recount).html
        if html == "stale":
            others_shown.release()
        return html

    shown = at_once(visit, workers=4)

    assert len(counted) == 1
    assert sorted(shown) == ["fresh", "stale", "stale", "stale"]


@pytest.mark.django_db(transaction=True)
def test_visits_at_once_to_a_view_never_counted_count_it_once(admin, monkeypatch):
    counted, arrived = [], threading.Semaphore(0)
    first_claimed = snapshots._first_claimed

    def claimed(*args):
        arrived.release()
        return first_claimed(*args)

    # Every visit passes here before queuing on the snapshot's lock.
    monkeypatch.setattr(snapshots, "_first_claimed", claimed)

    def first_count():
        counted.append(1)
        for _ in range(4):  # hold on until every visit (this one too) has come
            assert arrived.acquire(timeout=10)
        return "first"

    shown = visits_at_once(admin, first_count)

    assert len(counted) == 1
    assert shown == ["first"] * 4


def test_the_beat_schedule_names_the_counting_ahead_task():
    from referrals_crm.celery import app

    entry = app.conf.beat_schedule["dashboard-snapshots-warm"]
    assert entry["task"] == dashboard_snapshots_warm_task.name
    assert entry["schedule"] == 60.0


@pytest.mark.worker
def test_a_real_worker_counts_an_opened_view_ahead(
    client, admin, celery_worker_process
):
    client.force_login(admin)
    client.get("/dashboard/", {"period": "this_month"})
    old = timezone.now() - timedelta(minutes=10)
    DashboardSnapshot.objects.update(computed_at=old)  # as if counted long ago

    dashboard_snapshots_warm_task.delay()

    def counted_again():
        """the worker's count of the admin's view"""
        return DashboardSnapshot.objects.filter(computed_at__gt=old).first()

    snapshot = wait_for(counted_again, timeout=60)
    assert snapshot.view == "period=this_month"
    assert "Pipeline now" in snapshot.html
    assert celery_worker_process.poll() is None
