import gc
import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "referrals_crm.settings")
application = get_wsgi_application()

# Load what every request uses now (the URLconf imports every view), then
# set it aside from the garbage collector: a process keeps these objects as
# long as it lives, and scanning them again in each full collection cost
# about 1 ms a request here (2-5% of the dashboard's and the board's time).
import referrals_crm.urls  # noqa: E402, F401 (it imports every view)

gc.collect()
gc.freeze()
