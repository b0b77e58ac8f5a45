"""Every page but login, password reset and /healthz needs a signed-in user."""

import pytest
from django.urls import URLPattern, URLResolver, get_resolver

PUBLIC = {
    "login",
    "password_reset",
    "password_reset_done",
    "password_reset_confirm",
    "password_reset_complete",
    "healthz",
}
# Public, but only with a valid token (tests/partners/test_unsubscribe.py,
# tests/thanks/test_asks.py, tests/referrals/test_card.py).
PUBLIC_WITH_TOKEN = {"unsubscribe", "ask_unsubscribe", "card_public"}
SAMPLE_KWARGS = {"pk": 1, "uidb64": "MQ", "token": "set-password"}


def named_urls(resolver=None, prefix=""):
    """(name, path) for every named, non-admin URL, with sample arguments."""
    for entry in (resolver or get_resolver()).url_patterns:
        if isinstance(entry, URLResolver):
            if entry.app_name == "admin":
                continue
            yield from named_urls(entry, prefix + str(entry.pattern))
        elif isinstance(entry, URLPattern) and entry.name:
            route = prefix + str(entry.pattern)
            for key, value in SAMPLE_KWARGS.items():
                for converter in ("int:", "str:", ""):
                    route = route.replace(f"<{converter}{key}>", str(value))
            yield entry.name, "/" + route


PAGES = sorted(set(named_urls()))


def test_the_url_list_covers_the_app():
    names = {name for name, _ in PAGES}
    assert {"today", "referral_list", "partner_detail", "dashboard", "outbox"} <= names


@pytest.mark.parametrize(
    ("name", "path"), [p for p in PAGES if p[0] not in PUBLIC | PUBLIC_WITH_TOKEN]
)
def test_page_requires_login(client, db, name, path):
    response = client.get(path)
    assert response.status_code in (302, 405), name
    if response.status_code == 302:
        assert response["Location"].startswith("/accounts/login/?next="), name


@pytest.mark.parametrize(("name", "path"), [p for p in PAGES if p[0] in PUBLIC])
def test_public_pages_open_without_login(client, db, name, path):
    response = client.get(path, follow=True)
    # /healthz answers 503 here: no worker or beat runs in this test.
    assert response.status_code in ((200, 503) if name == "healthz" else (200,)), name
    assert not response.redirect_chain, name
