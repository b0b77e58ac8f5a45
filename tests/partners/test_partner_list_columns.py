"""The partner list's columns: whose source it is only for those who see
other people's sources."""

import pytest

OWNER_HEADER = '<th scope="col" class="d-none d-md-table-cell">Owner</th>'


def test_a_rep_is_not_told_on_every_row_that_the_source_is_hers(
    client, alice, alice_partner
):
    client.force_login(alice)
    html = client.get("/partners/").content.decode()

    assert "Priya Source" in html
    assert OWNER_HEADER not in html
    table = html[html.index("<table") :]
    assert "Alice Rep" not in table


@pytest.mark.parametrize("who", ["carol", "admin"])
def test_a_manager_and_an_admin_see_whose_source_it_is(
    client, request, alice_partner, who
):
    client.force_login(request.getfixturevalue(who))
    html = client.get("/partners/").content.decode()

    assert OWNER_HEADER in html
    assert '<td class="small d-none d-md-table-cell">Alice Rep</td>' in html
    # On a phone the owner goes under the name, after the kind.
    assert f"{alice_partner.get_kind_display()} · Alice Rep" in html
