"""Each team's secret for its public "How to refer us" link (issue 26)."""

import pytest
from django.db import IntegrityError, connection
from django.db.migrations.executor import MigrationExecutor

from accounts.models import Team
from tests.factories import TeamFactory

BEFORE = [("accounts", "0004_display_name_one_line_signature_max")]
AFTER = [("accounts", "0005_team_card_token")]


def test_a_new_team_gets_a_token_of_its_own(db):
    tokens = {TeamFactory().card_token for _ in range(5)}
    assert len(tokens) == 5
    assert all(len(token) == 43 for token in tokens)


def test_renewing_replaces_the_token(north):
    old = north.card_token
    north.card_token_renew()
    north.refresh_from_db()
    assert north.card_token != old
    assert Team.objects.filter(card_token=old).count() == 0


def test_two_teams_cannot_share_a_token(north, south):
    south.card_token = north.card_token
    with pytest.raises(IntegrityError):
        south.save()


def test_the_migration_gives_each_existing_team_its_own_token(transactional_db):
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    try:
        old = executor.loader.project_state(BEFORE).apps.get_model("accounts", "Team")
        for name in ("North", "South", "East"):
            old.objects.create(name=name)
        executor = MigrationExecutor(connection)
        executor.migrate(AFTER)
    finally:
        MigrationExecutor(connection).migrate(
            MigrationExecutor(connection).loader.graph.leaf_nodes()
        )
    tokens = list(Team.objects.values_list("card_token", flat=True))
    assert len(tokens) == 3
    assert len(set(tokens)) == 3
    assert all(len(token) == 43 for token in tokens)
