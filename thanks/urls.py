from django.urls import path

from thanks import views

urlpatterns = [
    path("thanks/<int:pk>/", views.thank_you_action, name="thank_you_action"),
    path("thanks/settings/", views.thank_you_settings, name="thank_you_settings"),
    # The ask email's text: before the moments' <moment>, which would take "ask".
    path("thanks/settings/ask/", views.ask_settings, name="ask_settings"),
    path(
        "thanks/settings/ask/preview/",
        views.ask_settings_preview,
        name="ask_settings_preview",
    ),
    path("thanks/settings/<str:moment>/", views.thank_you_edit, name="thank_you_edit"),
    path(
        "thanks/settings/<str:moment>/preview/",
        views.thank_you_preview,
        name="thank_you_preview",
    ),
    # Asking a customer for referrals sits under the customer's page; the
    # view is thanks' (it sends email), so the path is here (partners.urls,
    # included first, has no such path).
    path("partners/<int:pk>/ask/", views.ask_new, name="ask_new"),
    # A partnership plan's commitments (their reminders are outbox rows).
    path(
        "partners/<int:pk>/commitments/new/",
        views.commitment_new,
        name="commitment_new",
    ),
    path(
        "partners/commitments/<int:pk>/",
        views.commitment_edit,
        name="commitment_edit",
    ),
    path(
        "thanks/asks/<int:pk>/retry/",
        views.ask_email_retry_view,
        name="ask_email_retry",
    ),
    # One-click unsubscribe: the link in every thank-you (no login).
    path("u/<str:token>/", views.unsubscribe, name="unsubscribe"),
    # ... and in every ask email: no more email, and no more asks.
    path("u/ask/<str:token>/", views.ask_unsubscribe, name="ask_unsubscribe"),
    path("outbox/", views.outbox, name="outbox"),
    path("outbox/test-email/", views.outbox_test_email, name="outbox_test_email"),
    path("outbox/<int:pk>/", views.outbox_message, name="outbox_message"),
]
