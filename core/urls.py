from django.urls import path

from core import health, views
from referrals import views as referral_views

urlpatterns = [
    path("", views.today, name="today"),
    path("dashboard/", referral_views.dashboard, name="dashboard"),
    path(
        "dashboard/refresh/",
        referral_views.dashboard_refresh,
        name="dashboard_refresh",
    ),
    path("outbox/", views.outbox, name="outbox"),
    path("outbox/test-email/", views.outbox_test_email, name="outbox_test_email"),
    path("outbox/<int:pk>/", views.outbox_message, name="outbox_message"),
    path("healthz", health.healthz, name="healthz"),
]
