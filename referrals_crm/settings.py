"""Settings for the referral CRM, read from the environment (django-environ).

With no variable set the project runs on an embedded default: SQLite and a
filesystem Celery broker under ``var/``, and an email backend that keeps every
message for the in-app Outbox page. See ``.env.example`` for every variable.
"""

import logging
import secrets
from datetime import timedelta
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured
from xstatic.pkg import bootstrap as xstatic_bootstrap

BASE_DIR = Path(__file__).resolve().parent.parent
env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

VAR_DIR = Path(env.str("VAR_DIR", default=str(BASE_DIR / "var")))
VAR_DIR.mkdir(parents=True, exist_ok=True)

DEBUG = env.bool("DEBUG", default=True)

MISSING_SECRET_KEY = (
    "SECRET_KEY is not set. With DEBUG off the app refuses to start without one: "
    "set SECRET_KEY to a long random string (for example the output of "
    "`python -c 'import secrets; print(secrets.token_urlsafe(50))'`)."
)


def _development_secret_key() -> str:
    """Generate a key once and keep it under var/, so sessions survive restarts."""
    path = VAR_DIR / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(50))
        path.chmod(0o600)
    return path.read_text().strip()


SECRET_KEY = env.str("SECRET_KEY", default="")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(MISSING_SECRET_KEY)
    SECRET_KEY = _development_secret_key()

ALLOWED_HOSTS = env.list(
    "ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]"] if DEBUG else []
)
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
# Where `make run` serves (scripts/dev.sh reads them here, so .env counts).
RUNSERVER_HOST = env.str("HOST", default="127.0.0.1")
RUNSERVER_PORT = env.str("PORT", default="8000")
# The address links in emails start with (unsubscribe links, digests). In
# development it follows the address `make run` serves: the web server, the
# worker and beat all build links, and dev.sh gives all three HOST and PORT.
SITE_URL = env.str(
    "SITE_URL",
    default=f"http://{RUNSERVER_HOST}:{RUNSERVER_PORT}"
    if DEBUG
    else "http://127.0.0.1:8000",
).rstrip("/")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "crispy_forms",
    "crispy_bootstrap5",
    "django_htmx",
    "axes",
    # The project's apps, lowest layer first (docs/architecture.md).
    "core",
    "accounts",
    "partners",
    "thanks",
    "referrals",
    "dashboard",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "core.middleware.SecurityHeadersMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "core.middleware.UserTimeZoneMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # Last, as django-axes asks: it turns a locked-out login into a 429 page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "referrals_crm.urls"
WSGI_APPLICATION = "referrals_crm.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "core.context_processors.navigation",
            ],
        },
    },
]

# Database: SQLite under var/ unless DATABASE_URL says otherwise.
DATABASES = {
    "default": env.db_url("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'db.sqlite3'}")
}
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # A file, not memory, for the test database, so a real Celery worker
    # started by the tests reads the same rows; a busy timeout because the web
    # server and the worker write to it at once, and transactions that take
    # the write lock when they begin: one that took it only at its first
    # write could find it held and fail at once ("database is locked").
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / "test.sqlite3")}
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        timeout=20, transaction_mode="IMMEDIATE"
    )
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # PostgreSQL plans parallel workers for a query costing as little as a
    # team's dashboard: starting them cost more than they saved, and under
    # load they only compete for the same cores (more team
    # dashboards per second without them: bench/RESULTS.md). Big queries (all teams) still get
    # them. And no JIT compiling: a page's statement whose estimate passes
    # jit_above_cost (Today's Ready to ask, with an estimate of a million)
    # spent 1.5 s compiling what ran in 10 ms; no query of this app runs long
    # enough to win it back (docs/operations.md, "PostgreSQL settings").
    # `?options=...` in DATABASE_URL replaces this.
    DATABASES["default"].setdefault("OPTIONS", {}).setdefault(
        "options", "-c parallel_setup_cost=10000 -c jit=off"
    )

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
# Covering indexes (INCLUDE) speed up the dashboard on PostgreSQL; SQLite, the
# development default, builds them without the extra columns, which is fine.
SILENCED_SYSTEM_CHECKS = ["models.W040"]

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    # django-axes first: it refuses a locked-out username+IP before any check.
    "axes.backends.AxesStandaloneBackend",
    # ModelBackend, loading each request's user with their team and role.
    "accounts.backends.UserBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {
        "NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"
    },
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "today"
LOGOUT_REDIRECT_URL = "login"

# Login throttling: 5 wrong passwords lock that username from that IP for 15
# minutes (answered with 429), then the lock lifts by itself. Never permanent.
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("AXES_COOLOFF_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_USERNAME_CALLABLE = "accounts.forms.axes_username"
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_RESET_ON_SUCCESS = True
# Tries during the pause do not extend it: 15 minutes after the lock, it lifts.
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
AXES_HTTP_RESPONSE_CODE = 429
AXES_VERBOSE = False
# Behind a proxy, say how many hops to trust so the client IP is the real one.
AXES_IPWARE_PROXY_COUNT = env.int("AXES_PROXY_COUNT", default=0) or None
AXES_IPWARE_META_PRECEDENCE_ORDER = (
    ["HTTP_X_FORWARDED_FOR", "REMOTE_ADDR"]
    if AXES_IPWARE_PROXY_COUNT
    else ["REMOTE_ADDR"]
)

LANGUAGE_CODE = "en-us"
TIME_ZONE = env.str("TIME_ZONE", default="UTC")
USE_I18N = True
USE_TZ = True
CURRENCY = env.str("CURRENCY", default="USD")

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
STATIC_ROOT.mkdir(exist_ok=True)
# Bootstrap comes from the xstatic-bootstrap package: `pip install` brings it.
STATICFILES_DIRS = [
    BASE_DIR / "static",
    ("bootstrap", xstatic_bootstrap.BASE_DIR),
]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"

CACHES = {"default": env.cache_url("CACHE_URL", default="locmemcache://")}

# Email. EMAIL_URL (smtp://user:pass@host:587/?tls=True) wins; else
# EMAIL_BACKEND; else, in development, the Outbox backend that keeps every
# message for the /outbox/ page, and SMTP on localhost in production.
OUTBOX_BACKEND = "core.mail.OutboxBackend"
if "EMAIL_URL" in env:
    globals().update(env.email_url("EMAIL_URL"))
else:
    EMAIL_BACKEND = env.str(
        "EMAIL_BACKEND",
        default=OUTBOX_BACKEND
        if DEBUG
        else "django.core.mail.backends.smtp.EmailBackend",
    )
    EMAIL_HOST = env.str("EMAIL_HOST", default="localhost")
    EMAIL_PORT = env.int("EMAIL_PORT", default=25)
# An SMTP server that hangs must not hang a web or worker process.
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=20)
DEFAULT_FROM_EMAIL = env.str(
    "DEFAULT_FROM_EMAIL", default="Referral CRM <crm@example.com>"
)
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# Celery. The embedded default is kombu's filesystem transport under var/,
# which needs no server; production sets CELERY_BROKER_URL=redis://...
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="filesystem://")
REDIS_TRANSPORT_OPTIONS = {"socket_timeout": 2, "socket_connect_timeout": 2}


def filesystem_broker(default: Path) -> tuple[Path, dict]:
    """The filesystem broker's folder (CELERY_BROKER_DIR, else `default`),
    created, and the transport options that point kombu at it."""
    folder = Path(env.str("CELERY_BROKER_DIR", default=str(default))).resolve()
    for sub in ("queue", "processed", "control"):
        (folder / sub).mkdir(parents=True, exist_ok=True)
    # One folder in and out, so every process sees every message.
    return folder, {
        "data_folder_in": str(folder / "queue"),
        "data_folder_out": str(folder / "queue"),
        "processed_folder": str(folder / "processed"),
        "control_folder": str(folder / "control"),
        "store_processed": False,
    }


if CELERY_BROKER_URL.startswith("filesystem://"):
    BROKER_DIR, CELERY_BROKER_TRANSPORT_OPTIONS = filesystem_broker(VAR_DIR / "broker")
else:
    # A broker that accepts connections but never answers must not hang a web
    # request that queues a thank-you: give up after a couple of seconds (the
    # row is saved; the sweep sends it later).
    CELERY_BROKER_TRANSPORT_OPTIONS = REDIS_TRANSPORT_OPTIONS
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SOFT_TIME_LIMIT = 60
CELERY_TASK_TIME_LIMIT = 90
CELERY_TIMEZONE = "UTC"
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
# Publishing a task must not hang a web request while the broker is down: two
# quick retries, then give up; the sweep sends what was not queued.
CELERY_TASK_PUBLISH_RETRY_POLICY = {
    "max_retries": 1,
    "interval_start": 0,
    "interval_step": 0.2,
    "interval_max": 0.5,
}
# Thank-you dispatch: when a send claimed by a worker that died is tried again
# (well above a dispatch's 20 s plus EMAIL_TIMEOUT, so a slow batch is not
# mistaken for a dead one).
# The sweep's period: celery.py reads the same variable for the beat
# schedule (settings are not loaded there yet); Today reads it here to tell
# an email the worker is behind on (ThankYou.is_waiting).
TOUCHPOINT_SWEEP_SECONDS = env.float("TOUCHPOINT_SWEEP_SECONDS", default=60)
TOUCHPOINT_STUCK_SECONDS = env.int("TOUCHPOINT_STUCK_SECONDS", default=300)
# A dispatch stops taking new emails after this long; the one in hand may
# then still wait EMAIL_TIMEOUT for the mail server.
TOUCHPOINT_DRAIN_SECONDS = 20
STUCK_TOO_SHORT = (
    "TOUCHPOINT_STUCK_SECONDS is {stuck}, but a send can take "
    "{drain} s of dispatch plus EMAIL_TIMEOUT ({timeout} s): a send still "
    "under way would be taken for a dead one and sent twice. Set it above "
    "{minimum}."
)
if TOUCHPOINT_STUCK_SECONDS <= TOUCHPOINT_DRAIN_SECONDS + EMAIL_TIMEOUT:
    raise ImproperlyConfigured(
        STUCK_TOO_SHORT.format(
            stuck=TOUCHPOINT_STUCK_SECONDS,
            drain=TOUCHPOINT_DRAIN_SECONDS,
            timeout=EMAIL_TIMEOUT,
            minimum=TOUCHPOINT_DRAIN_SECONDS + EMAIL_TIMEOUT,
        )
    )
# How long logging, moving or editing a referral waits for a stage reorder
# in progress before it is refused with a message (well under the web
# server's 30 s timeout).
REORDER_WAIT_SECONDS = env.float("REORDER_WAIT_SECONDS", default=10)
# How old the all-teams dashboard's figures may be before a visit recounts
# them (they show "as of" and have a Refresh button). 0: always count live.
DASHBOARD_SNAPSHOT_SECONDS = env.int("DASHBOARD_SNAPSHOT_SECONDS", default=300)
# A referral partner with no referral either way (received or given) for
# this many days is dormant (partners.selectors.dormant_filter).
PARTNER_DORMANT_DAYS = env.int("PARTNER_DORMANT_DAYS", default=90)
if PARTNER_DORMANT_DAYS < 1:
    raise ImproperlyConfigured("PARTNER_DORMANT_DAYS must be 1 or more.")
if DASHBOARD_SNAPSHOT_SECONDS < 0:
    raise ImproperlyConfigured("DASHBOARD_SNAPSHOT_SECONDS must be 0 or more.")

# Production hardening: on whenever DEBUG is off, each switchable by env.
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=not DEBUG)
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool(
    "SECURE_HSTS_INCLUDE_SUBDOMAINS", default=not DEBUG
)
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=not DEBUG)
SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=not DEBUG)
CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=not DEBUG)
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
if env.bool("USE_X_FORWARDED_PROTO", default=False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SESSION_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
# Content-Security-Policy, set by core.middleware.SecurityHeadersMiddleware
# (Django 5.2 has none): scripts, styles, fonts and images from this site
# only (Bootstrap and htmx are served from here), no inline script or style
# (a style="" attribute included), no plugins, never framed, forms posted
# here only. Empty: no header.
CONTENT_SECURITY_POLICY = env.str(
    "CONTENT_SECURITY_POLICY",
    default="; ".join(
        [
            "default-src 'self'",
            "script-src 'self'",
            "style-src 'self'",
            "img-src 'self' data:",  # Bootstrap's icons are data: URLs in its CSS
            "font-src 'self'",
            "connect-src 'self'",
            "object-src 'none'",
            "base-uri 'self'",
            "form-action 'self'",
            "frame-ancestors 'none'",
        ]
    ),
)
# In development the browser only reports (in its console) what the policy
# would block: Django's yellow error pages are made of inline script and
# style, and blocking them would hide the error being debugged.
CONTENT_SECURITY_POLICY_REPORT_ONLY = env.bool(
    "CONTENT_SECURITY_POLICY_REPORT_ONLY", default=DEBUG
)
# Browser features no page here uses, refused to the page and to anything it
# might embed. Empty: no header.
PERMISSIONS_POLICY = env.str(
    "PERMISSIONS_POLICY",
    default=", ".join(
        f"{feature}=()"
        for feature in [
            "accelerometer",
            "camera",
            "display-capture",
            "geolocation",
            "gyroscope",
            "magnetometer",
            "microphone",
            "midi",
            "payment",
            "usb",
        ]
    ),
)


def _client_errors_in_one_line(record: logging.LogRecord) -> bool:
    """A 4xx (a rep opening the dashboard, a page that is not theirs, a stale
    CSRF token) is answered as meant: one line says so. A traceback is for a
    500, or for an error outside a request (no status code)."""
    if getattr(record, "status_code", 500) < 500:
        record.exc_info = record.exc_text = None
    return True


LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        "client_errors_in_one_line": {"()": lambda: _client_errors_in_one_line}
    },
    "formatters": {
        "django.server": {
            "()": "django.utils.log.ServerFormatter",
            "format": "[{server_time}] {message}",
            "style": "{",
        }
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "filters": ["client_errors_in_one_line"],
        },
        "django.server": {
            "class": "logging.StreamHandler",
            "formatter": "django.server",
        },
    },
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {
        # Django's own handler on "django" printed each of its records a
        # second time in development, after the root's console. Naming
        # "django" here resets its children, so runserver's request lines
        # ("django.server") are set up again as Django sets them up.
        "django": {"handlers": [], "level": "INFO"},
        "django.server": {
            "handlers": ["django.server"],
            "level": "INFO",
            "propagate": False,
        },
        "axes": {"level": "WARNING"},
    },
}
