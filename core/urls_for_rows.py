"""URLs of many rows at once, for pages that link to a hundred rows or more."""

from django.urls import reverse

_SENTINEL = 9_876_543_210_123


def url_maker(name: str):
    """reverse() once; then the URL of any pk is a string join.

    Today and the list link each of their rows to a referral and a source: a
    reverse() per link was a large share of such a page's time
    (bench/RESULTS.md). The URL is the one reverse() would give: the pk
    replaces a sentinel that reverse() itself placed.
    """
    prefix, suffix = reverse(name, args=[_SENTINEL]).split(str(_SENTINEL))
    return lambda pk: f"{prefix}{pk}{suffix}"
