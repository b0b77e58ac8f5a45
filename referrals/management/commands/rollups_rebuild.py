"""Recompute the summaries kept beside the data: referrals per owner and stage,
per owner and month received, per owner and month closed, and when each source
was last thanked.

The application keeps them current as it changes referrals and thank-yous;
run this after changing rows behind its back (a bulk import, SQL by hand).
"""

from django.core.management.base import BaseCommand
from django.db import transaction

from referrals.rollups import furthest_recompute, rollups_rebuild
from thanks.services import partners_last_thanked_rebuild


class Command(BaseCommand):
    help = "Recompute the dashboard summaries and sources' last-thanked dates."

    def add_arguments(self, parser):
        parser.add_argument(
            "--furthest",
            action="store_true",
            help="Also work out each referral's furthest stage reached again from "
            "its stage history (after stage positions were changed by hand).",
        )

    def handle(self, *args, furthest=False, **options):
        with transaction.atomic():
            rows = furthest_recompute() if furthest else rollups_rebuild()
            partners_last_thanked_rebuild()
        self.stdout.write(
            self.style.SUCCESS(f"Rebuilt {rows:,} summary rows and last-thanked dates.")
        )
