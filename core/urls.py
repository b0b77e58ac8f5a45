from django.urls import path

from core import health

urlpatterns = [
    path("healthz", health.healthz, name="healthz"),
]
