"""The 500 handler: a database that does not answer is a 503, said plainly.

While PostgreSQL restarts or is unreachable, every page fails on its first
query. That is not a bug in the page: the visitor gets a 503 with
Retry-After and a short page saying nothing saved is lost, instead of
"Server Error (500)". Anything else is the product's 500 page.
"""

import logging
import sys

from django.db import InterfaceError, OperationalError
from django.http import HttpResponse
from django.template import loader
from django.views import defaults

log = logging.getLogger(__name__)

# Seconds a browser or a proxy should wait before trying again: about what a
# PostgreSQL restart or a failover takes.
RETRY_AFTER = 30
DATABASE_DOWN = (
    "The database is not answering. Nothing you saved is lost. Try again in a minute."
)


def server_error(request, template_name="500.html"):
    """handler500: Django calls it inside the `except` of the failed request,
    so the exception is the one in sys.exc_info()."""
    error = sys.exc_info()[1]
    if isinstance(error, OperationalError | InterfaceError):
        return database_unavailable()
    return defaults.server_error(request, template_name)


def database_unavailable() -> HttpResponse:
    # Rendered with no request: context processors would read the user,
    # from the database that is down.
    try:
        body = loader.get_template("503.html").render()
        content_type = "text/html; charset=utf-8"
    except Exception:  # the page itself failed (missing static files, ...)
        log.exception("The 503 page could not be rendered")
        body, content_type = DATABASE_DOWN, "text/plain; charset=utf-8"
    response = HttpResponse(body, status=503, content_type=content_type)
    response["Retry-After"] = str(RETRY_AFTER)
    return response
