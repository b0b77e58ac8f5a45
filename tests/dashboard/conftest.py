"""The dashboard tests' small known data set."""

from datetime import timedelta
from decimal import Decimal

import pytest

from tests.dashboard.helpers import finish, log, move, thanks
from tests.factories import PartnerFactory
from thanks.models import ThankYou


@pytest.fixture
def data(alice, bob, carol, dave):
    sam = PartnerFactory(owner=alice, name="Sam Source", kind="customer")
    tia = PartnerFactory(owner=alice, name="Tia Source", kind="partner")
    uma = PartnerFactory(owner=bob, name="Uma Source", kind="customer")
    r1 = log(alice, sam, "2026-11-01T09:00:00", 800, "R1")
    move(r1, alice, "2026-11-01T12:00:00", "Contacted")
    move(r1, alice, "2026-11-03T10:00:00", "Meeting held")
    move(r1, alice, "2026-11-10T09:00:00", "Won", final_value=Decimal(1000))
    r2 = log(alice, sam, "2026-11-05T09:00:00", 300, "R2")
    move(r2, alice, "2026-11-05T10:00:00", "Contacted")
    move(r2, alice, "2026-11-06T10:00:00", "Lost", lost_reason="Budget")
    r3 = log(alice, tia, "2026-11-10T09:00:00", 2000, "R3")
    r4 = log(bob, uma, "2026-11-15T08:00:00", 500, "R4")
    move(r4, bob, "2026-11-15T13:00:00", "Contacted")
    r5 = log(
        dave, PartnerFactory(owner=dave), "2026-11-12T09:00:00", 99999, "R5"
    )  # South
    finish(thanks(r1, "received"), "sent", -timedelta(hours=1))
    finish(thanks(r1, "meeting"), "sent", timedelta(hours=1))  # late
    finish(thanks(r1, "won"), "sent", -timedelta(minutes=10))
    finish(thanks(r2, "received"), "done", -timedelta(minutes=30))
    ThankYou.objects.filter(pk=thanks(r4, "received").pk).update(status="skipped")
    return {"sam": sam, "tia": tia, "uma": uma, "r3": r3, "r5": r5}
