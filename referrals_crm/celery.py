import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "referrals_crm.settings")

app = Celery("referrals_crm")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

# The beat schedule lives here and only here; each entry says why it exists.
# Later work (the thank-you sweep, the daily digest) adds its entries here.
app.conf.beat_schedule = {}
