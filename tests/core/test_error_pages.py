"""Error pages in the product's look, never Django's bare "Server Error (500)".

Django renders 500.html with no request and no context processors (and 400
after a request it could not read): the page must not need them.
"""

import pytest
from django.template.loader import render_to_string
from django.urls import path

from referrals_crm.urls import urlpatterns as app_urlpatterns

STYLESHEET = '<link rel="stylesheet" href="/static/css/app.css">'


def broken(request):
    raise RuntimeError("a bug")


urlpatterns = [path("broken/", broken), *app_urlpatterns]


def test_500_renders_with_no_context_at_all():
    html = render_to_string("500.html")

    assert "Something went wrong on our side" in html
    assert STYLESHEET in html
    assert 'class="h3 page-title brand-title mb-4">Referral CRM</div>' in html
    assert '<nav class="navbar' not in html  # no user to show it for


@pytest.mark.urls(__name__)
def test_a_server_error_shows_the_500_page(client, alice):
    client.raise_request_exception = False
    client.force_login(alice)
    response = client.get("/broken/")

    assert response.status_code == 500
    html = response.content.decode()
    assert "Server Error (500)" not in html
    assert "Something went wrong on our side" in html
    assert STYLESHEET in html
    assert 'href="/">Back to Today</a>' in html


def test_a_missing_page_is_said_in_the_products_look(client, alice):
    client.force_login(alice)
    response = client.get("/no-such-page/")

    assert response.status_code == 404
    html = response.content.decode()
    assert '<h1 class="h4 mb-3">Not found</h1>' in html
    assert '<nav class="navbar' in html  # signed in: the navigation is there
    assert "brand-title" not in html  # the navigation names the product


def test_a_role_refused_page_says_why(client, alice):
    client.force_login(alice)
    response = client.get("/dashboard/")

    assert response.status_code == 403
    assert "The dashboard is for managers and admins." in response.content.decode()


def test_an_expired_form_says_what_to_do(client, alice):
    client.force_login(alice)
    client.handler.enforce_csrf_checks = True
    response = client.post("/referrals/new/", {"prospect_name": "Paula"})

    assert response.status_code == 403
    html = response.content.decode()
    assert "This form has expired" in html
    assert "CSRF verification failed" not in html
    assert STYLESHEET in html


def test_a_request_that_cannot_be_read_gets_the_400_page(client, settings):
    settings.ALLOWED_HOSTS = ["testserver"]
    response = client.get("/", headers={"host": "evil.example"})

    assert response.status_code == 400
    html = response.content.decode()
    assert "The request could not be read" in html
    assert STYLESHEET in html
