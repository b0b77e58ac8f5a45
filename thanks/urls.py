from django.urls import path

from thanks import views

urlpatterns = [
    path("thanks/<int:pk>/", views.thank_you_action, name="thank_you_action"),
    path("thanks/settings/", views.thank_you_settings, name="thank_you_settings"),
    path("thanks/settings/<str:moment>/", views.thank_you_edit, name="thank_you_edit"),
    path(
        "thanks/settings/<str:moment>/preview/",
        views.thank_you_preview,
        name="thank_you_preview",
    ),
    # One-click unsubscribe: the link in every thank-you (no login).
    path("u/<str:token>/", views.unsubscribe, name="unsubscribe"),
    path("outbox/", views.outbox, name="outbox"),
    path("outbox/test-email/", views.outbox_test_email, name="outbox_test_email"),
    path("outbox/<int:pk>/", views.outbox_message, name="outbox_message"),
]
