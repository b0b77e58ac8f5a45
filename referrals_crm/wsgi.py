import gc
import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "referrals_crm.settings")
application = get_wsgi_application()

# Import every view now (the URLconf imports them), then set what the
# process has loaded aside from the garbage collector: it lives as long as
# the process, and scanning it again in each full collection cost a few percent of
# the dashboard's and the board's time (bench/RESULTS.md).
import referrals_crm.urls  # noqa: E402, F401 (it imports every view)

gc.collect()
gc.freeze()
