"""Each dashboard table is defined once (dashboard.tables): the page's table
and its CSV have the same columns, in the same order."""

import re

import pytest

from tests.dashboard.helpers import get
from tests.helpers import csv_rows


@pytest.mark.usefixtures("data")
@pytest.mark.parametrize(
    ("table", "heading", "csv_only"),
    [
        ("pipeline", "pipeline-h", []),
        ("labels", "labels-h", ["Closed"]),
        ("sources", "sources-h", ["Company", "Kind", "Assessed"]),
        ("qualified-sources", "by-share-h", ["Company", "Kind"]),
        ("reps", "reps-h", []),
        ("compliance", "thanks-h", ["Skipped"]),
    ],
)
def test_the_page_and_the_csv_have_the_same_columns(
    client, carol, table, heading, csv_only
):
    page = get(client, carol).content.decode()
    section = page[page.index(f'id="{heading}"') :]
    section = section[: section.index("</thead>")]
    on_page = re.findall(r'<th scope="col"[^>]*>([^<]*)</th>', section)
    header = csv_rows(get(client, carol, export=table))[0]

    assert on_page == [name for name in header if name not in csv_only]
