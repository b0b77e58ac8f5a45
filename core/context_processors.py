from django.conf import settings


def navigation(request):
    """What the navigation bar needs, computed once per request."""
    user = getattr(request, "user", None)
    signed_in = bool(user and user.is_authenticated)
    return {
        "nav_show_dashboard": signed_in and (user.is_manager or user.is_admin),
        "nav_show_outbox": signed_in
        and settings.EMAIL_BACKEND == settings.OUTBOX_BACKEND,
        "currency": settings.CURRENCY,
    }
