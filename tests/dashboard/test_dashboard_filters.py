"""The worker reads a dashboard view without the filter form
(dashboard.queries.filters_from_view): a test holds the two equal."""

import pytest
import time_machine
from django.http import QueryDict

from dashboard.forms import DashboardFilterForm
from dashboard.queries import filters_from_view
from tests.dashboard.helpers import NOW, log
from tests.factories import PartnerFactory

FIELDS = ("period", "start", "end", "team", "rep", "source_kind")


def read_both(view, user):
    with time_machine.travel(NOW, tick=False):
        by_form = DashboardFilterForm(QueryDict(view) or None, user=user).filters()
        by_worker = filters_from_view(view, user)
    return (
        [getattr(by_form, name) for name in FIELDS],
        [getattr(by_worker, name) for name in FIELDS],
    )


@pytest.mark.parametrize(
    "view",
    [
        "",
        "period=this_month",
        "period=last_7",  # a period no longer offered
        "period=custom&start=2026-01-05&end=2026-02-01",
        "period=custom&start=2026-02-05&end=2026-02-01",  # the wrong way round
        "period=custom&start=2026-02-05",  # one date
        "start=2026-01-05&end=2026-02-01",  # dates, no period
        "period=custom&start=9999-01-01&end=9999-02-01",  # out of range
        "period=custom&start=junk&end=2026-02-01",
        "period=this_year&source_kind=customer",
        "period=this_year&source_kind=nonsense",
        "period=this_year&team={north}",
        "period=this_year&team={north}&rep={alice}",
        "period=this_year&team={north}&rep={dave}",  # not on the team
        "period=this_year&rep={dave}",
        "period=this_year&rep=999999",
        "period=this_year&team=abc",
    ],
)
def test_the_worker_reads_a_view_as_the_form_does(view, admin, alice, dave, north):
    log(alice, PartnerFactory(owner=alice), "2026-11-02T09:00:00", 100, "North one")
    log(dave, PartnerFactory(owner=dave), "2026-11-03T09:00:00", 100, "South one")
    view = view.format(north=north.pk, alice=alice.pk, dave=dave.pk)

    by_form, by_worker = read_both(view, admin)

    assert by_worker == by_form


def test_a_manager_cannot_pick_a_team_or_another_teams_rep(carol, alice, dave, south):
    log(alice, PartnerFactory(owner=alice), "2026-11-02T09:00:00", 100, "North one")
    log(dave, PartnerFactory(owner=dave), "2026-11-03T09:00:00", 100, "South one")

    for view in (f"team={south.pk}", f"rep={dave.pk}", f"rep={alice.pk}"):
        by_form, by_worker = read_both(view, carol)
        assert by_worker == by_form
