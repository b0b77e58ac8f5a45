"""Content-Security-Policy and Permissions-Policy (core.middleware): on every
response, enforced in production, and pages that need nothing they forbid."""

import re

import pytest
from django.conf import settings as project_settings
from django.urls import reverse

from tests.helpers import PRODUCTION_ENV, run_manage

CSP = "Content-Security-Policy"
CSP_REPORT_ONLY = "Content-Security-Policy-Report-Only"


def directives(policy: str) -> dict[str, str]:
    pairs = (part.strip().split(" ", 1) for part in policy.split(";"))
    return {name: value for name, value in pairs}


def test_every_response_carries_both_policies(client, settings):
    settings.CONTENT_SECURITY_POLICY_REPORT_ONLY = False
    response = client.get(reverse("login"))
    assert response.headers[CSP] == settings.CONTENT_SECURITY_POLICY
    assert CSP_REPORT_ONLY not in response.headers
    assert response.headers["Permissions-Policy"] == settings.PERMISSIONS_POLICY


def test_report_only_sends_the_policy_under_the_report_only_header(client, settings):
    settings.CONTENT_SECURITY_POLICY_REPORT_ONLY = True
    response = client.get(reverse("login"))
    assert response.headers[CSP_REPORT_ONLY] == settings.CONTENT_SECURITY_POLICY
    assert CSP not in response.headers


def test_an_empty_setting_sends_no_header(client, settings):
    settings.CONTENT_SECURITY_POLICY = ""
    settings.PERMISSIONS_POLICY = ""
    response = client.get(reverse("login"))
    assert CSP not in response.headers and CSP_REPORT_ONLY not in response.headers
    assert "Permissions-Policy" not in response.headers


def test_the_policy_allows_nothing_inline_and_nothing_from_elsewhere():
    assert directives(project_settings.CONTENT_SECURITY_POLICY) == {
        "default-src": "'self'",
        "script-src": "'self'",
        "style-src": "'self'",
        "img-src": "'self' data:",
        "font-src": "'self'",
        "connect-src": "'self'",
        "object-src": "'none'",
        "base-uri": "'self'",
        "form-action": "'self'",
        "frame-ancestors": "'none'",
    }
    for feature in ["camera", "microphone", "geolocation", "payment", "usb"]:
        assert f"{feature}=()" in project_settings.PERMISSIONS_POLICY


@pytest.mark.parametrize(
    "env, report_only",
    [(PRODUCTION_ENV, "False"), ({"DEBUG": "true"}, "True")],
    ids=["production-enforces", "development-reports"],
)
def test_production_enforces_the_policy_and_development_reports_it(
    env, report_only, tmp_path
):
    show = [
        "shell",
        "-c",
        "from django.conf import settings as s; "
        "print(s.CONTENT_SECURITY_POLICY_REPORT_ONLY)",
    ]
    result = run_manage(*show, env_overrides=env, tmp_path=tmp_path)
    assert result.stdout.split()[-1] == report_only, result.stderr


INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)(?![^>]*application/json)[^>]*>")
EVENT_HANDLER = re.compile(r"<[^>]+\son[a-z]+\s*=", re.IGNORECASE)


def test_pages_have_no_inline_script(client, alice, admin, alice_referral):
    """script-src 'self' blocks inline scripts and on...="" handlers."""
    pages = [
        (None, reverse("login")),
        (alice, reverse("today")),
        (alice, reverse("referral_list")),
        (alice, reverse("board")),
        (alice, reverse("referral_new")),
        (alice, alice_referral.get_absolute_url()),
        (alice, reverse("partner_detail", args=[alice_referral.source_id])),
        (admin, reverse("dashboard")),
        (admin, reverse("thank_you_settings")),
        (admin, reverse("admin:index")),
    ]
    for user, url in pages:
        client.logout()
        if user:
            client.force_login(user)
        response = client.get(url)
        assert response.status_code == 200, url
        html = response.content.decode()
        assert not INLINE_SCRIPT.findall(html), url
        assert not EVENT_HANDLER.findall(html), url


def test_no_new_inline_style_in_page_templates():
    """Emails keep theirs: mail clients need them, and no page shows them."""
    templates = project_settings.BASE_DIR / "templates"
    found = {
        (str(path.relative_to(templates)), style)
        for path in templates.rglob("*.html")
        if path.relative_to(templates).parts[0] != "emails"
        for style in re.findall(r'style="([^"]*)"', path.read_text())
    }
    # The policy blocks them (style-src 'self'): a class in app.css instead.
    assert not found, found
