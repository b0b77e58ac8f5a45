"""CSV exports: one writer for every download (the referral list, each
dashboard table)."""

import csv
from collections.abc import Iterable
from decimal import Decimal

from django.http import StreamingHttpResponse
from django.utils.http import content_disposition_header

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def csv_safe(value) -> str:
    """Neutralise spreadsheet formulas: a cell starting with = + - @ is text.
    A number is written as it is (a negative one is a number, not a
    formula: a balance of -2)."""
    if isinstance(value, int | float | Decimal) and not isinstance(value, bool):
        return str(value)
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_PREFIXES) else text


class _Echo:
    """A file whose write returns the line, so csv.writer yields lines."""

    def write(self, value):
        return value


def csv_response(
    name: str, header: list[str], rows: Iterable[Iterable]
) -> StreamingHttpResponse:
    """`rows` as a CSV download named `name`.csv, streamed line by line, so a
    large export never sits in memory (pass an iterator). Every cell goes
    through csv_safe; the file name is sent as filename*= when it is not
    ASCII (a team named in Greek)."""
    writer = csv.writer(_Echo())

    def lines():
        yield writer.writerow([csv_safe(cell) for cell in header])
        for row in rows:
            yield writer.writerow([csv_safe(cell) for cell in row])

    response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = content_disposition_header(True, f"{name}.csv")
    return response
