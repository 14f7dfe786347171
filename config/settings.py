"""Vínculo settings: 12-factor, everything that differs between installs comes from the environment.

See README.md ("Configuration") for the list of variables.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

import dj_database_url
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("VINCULO_VAR_DIR", BASE_DIR / "var"))


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


def _secret_key() -> str:
    """SECRET_KEY from the environment; for a local install, one generated once and kept in var/."""
    if key := os.environ.get("SECRET_KEY"):
        return key
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    path = VAR_DIR / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(50))
        path.chmod(0o600)
    return path.read_text().strip()


SECRET_KEY = _secret_key()
DEBUG = env_bool("DEBUG", False)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost,[::1],testserver")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django.forms",
    "django_countries",
    "django_htmx",
    "template_partials",
    "django_tasks",
    "django_tasks_db",
    "ninja",  # serves Swagger UI for /api/v1/docs from its own static files, not a CDN
    "csp",  # the Content-Security-Policy header (django-csp); its checks catch settings of old versions
    "vinculo.core",
    "vinculo.accounts",
    "vinculo.contacts",
    "vinculo.messaging",
    "vinculo.sales",
    "vinculo.touchpoints",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # pages and API answers compressed for clients that accept it (a board page: 138 KiB → about 11 KiB);
    # Django's GZip adds random bytes against BREACH-style length attacks, and CSRF tokens are masked
    "django.middleware.gzip.GZipMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "vinculo.core.middleware.BodySizeLimitMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "vinculo.accounts.middleware.UserPreferencesMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "vinculo.accounts.tenancy.TenancyMiddleware",
]

ROOT_URLCONF = "config.urls"
FORM_RENDERER = "vinculo.core.forms.BootstrapRenderer"
WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "vinculo" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "vinculo.core.context_processors.vinculo",
                "vinculo.accounts.context_processors.memberships",
                "vinculo.messaging.context_processors.notifications",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------------
# SQLite by default (WAL, IMMEDIATE transactions, a busy timeout); PostgreSQL via DATABASE_URL.
DATABASE_URL = os.environ.get("DATABASE_URL") or f"sqlite:///{VAR_DIR / 'vinculo.sqlite3'}"
DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=60, conn_health_checks=True)}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["CONN_MAX_AGE"] = 0 if "memory" in str(DATABASES["default"]["NAME"]) else 600
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": (
            "PRAGMA journal_mode=WAL;"
            "PRAGMA synchronous=NORMAL;"
            "PRAGMA busy_timeout=20000;"
            "PRAGMA foreign_keys=ON;"
            "PRAGMA cache_size=-65536;"
            "PRAGMA mmap_size=268435456;"
            "PRAGMA temp_store=MEMORY;"
        ),
    }
    DATABASES["default"].pop("CONN_HEALTH_CHECKS", None)
    Path(DATABASES["default"]["NAME"]).parent.mkdir(parents=True, exist_ok=True)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Auth ----------------------------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "accounts:login"
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
SESSION_COOKIE_AGE = 60 * 60 * 24 * 14
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_HTTPONLY = True

# Login throttling (accounts/throttle.py): progressive per account+IP, a ceiling per IP, and a
# per-account ceiling that never applies to an address the account already logged in from.
LOGIN_THROTTLE = {
    "WINDOW_SECONDS": int(os.environ.get("VINCULO_LOGIN_WINDOW", 900)),
    "FREE_FAILURES": 5,
    "MAX_DELAY_SECONDS": 900,
    "PER_IP_FAILURES": 50,
    "PER_ACCOUNT_FAILURES": 100,
}
# Reverse proxies in front of Vínculo that append to X-Forwarded-For (0: clients connect directly).
TRUSTED_PROXY_COUNT = int(os.environ.get("VINCULO_TRUSTED_PROXIES", 0))
# Connections the server opens to hosts users type (mailbox servers, later webhooks and lead-ad
# APIs) refuse loopback, private, link-local and other non-public addresses (vinculo/core/outbound.py).
# On: loopback, private and shared addresses are allowed (development, the test suite's servers);
# cloud metadata addresses stay refused.
VINCULO_ALLOW_PRIVATE_TARGETS = env_bool("VINCULO_ALLOW_PRIVATE_TARGETS", False)
# Where lead ads are read from when Facebook or LinkedIn announce a lead by id (the tests point them
# at a local server): the Graph API with its version, LinkedIn's versioned REST API and its version.
VINCULO_FACEBOOK_GRAPH_URL = os.environ.get("VINCULO_FACEBOOK_GRAPH_URL", "https://graph.facebook.com/v25.0").rstrip(
    "/"
)
VINCULO_LINKEDIN_API_URL = os.environ.get("VINCULO_LINKEDIN_API_URL", "https://api.linkedin.com/rest").rstrip("/")
VINCULO_LINKEDIN_VERSION = os.environ.get("VINCULO_LINKEDIN_VERSION", "202606").strip()

# --- HTTPS / production hardening (`manage.py check --deploy` passes with VINCULO_HTTPS=1) -----
if env_bool("VINCULO_HTTPS", False):
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", 31536000))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# Every response says where its page may load code from: scripts, styles, fonts and images only from
# Vínculo itself; no inline code, no eval, no plugins; never in a frame. Nothing inline needs a nonce:
# behaviour lives in the static scripts and looks in the static stylesheets (a test scans templates
# and scripts, and a browser test walks every page for violations). The hosted web-form page adds
# its thank-you address to form-action (vinculo/touchpoints/views/forms.py).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],  # Bootstrap draws its icons (select arrows, close buttons) as data: SVGs
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    },
}

# --- Request limits ------------------------------------------------------------------------
DATA_UPLOAD_MAX_MEMORY_SIZE = int(os.environ.get("VINCULO_MAX_BODY_BYTES", 1024 * 1024))
DATA_UPLOAD_MAX_NUMBER_FIELDS = 2000
# larger bodies where they are expected: a shop's order of 1,000 lines is over 1 MB, a batch of
# 1,000 orders several MB (path prefix → bytes; BodySizeLimitMiddleware)
VINCULO_WEBHOOK_MAX_BODY_BYTES = int(os.environ.get("VINCULO_WEBHOOK_MAX_BODY_BYTES", 4 * 1024 * 1024))
VINCULO_BATCH_MAX_BODY_BYTES = int(os.environ.get("VINCULO_BATCH_MAX_BODY_BYTES", 32 * 1024 * 1024))
VINCULO_BODY_LIMITS = {
    "/hooks/": VINCULO_WEBHOOK_MAX_BODY_BYTES,
    "/api/v1/orders/batch": VINCULO_BATCH_MAX_BODY_BYTES,
}

# --- I18n ----------------------------------------------------------------------------------
LANGUAGE_CODE = "en"
LANGUAGES = [("en", _("English")), ("es", _("Spanish"))]
LOCALE_PATHS = [BASE_DIR / "vinculo" / "locale"]
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# --- Static --------------------------------------------------------------------------------
STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
STATICFILES_DIRS = [BASE_DIR / "vinculo" / "static"]  # project-wide assets (vendor kit, vinculo.css)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if env_bool("VINCULO_MANIFEST_STATIC", not DEBUG)
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}
WHITENOISE_USE_FINDERS = True

# --- E-mail --------------------------------------------------------------------------------
# The install's relay counts as configured when EMAIL_HOST (or another EMAIL_BACKEND) is set; without
# it, mail of organisations with no SMTP server of their own is kept in their outbox instead of
# failing against a port nobody listens on (vinculo/messaging/transports.py, docs/deployment.md).
VINCULO_RELAY_CONFIGURED = bool(os.environ.get("EMAIL_HOST") or os.environ.get("EMAIL_BACKEND"))
EMAIL_BACKEND = os.environ.get("EMAIL_BACKEND", "django.core.mail.backends.smtp.EmailBackend")
EMAIL_HOST = os.environ.get("EMAIL_HOST", "localhost")
EMAIL_PORT = int(os.environ.get("EMAIL_PORT", 25))
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
EMAIL_USE_SSL = env_bool("EMAIL_USE_SSL", False)
EMAIL_TIMEOUT = int(os.environ.get("EMAIL_TIMEOUT", 10))
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "Vínculo <no-reply@localhost>")
SITE_URL = os.environ.get("VINCULO_SITE_URL", "http://127.0.0.1:8000").rstrip("/")
# Extra certificate authorities (a PEM file) trusted when connecting to mailbox servers (IMAP, SMTP),
# besides the system's: for a mail server whose certificate a private CA signed.
MAILBOX_CA_FILE = os.environ.get("VINCULO_MAILBOX_CA_FILE", "")

# --- Files kept by Vínculo (e-mail attachments) -----------------------------------------------
# Stored through Django's default storage under MEDIA_ROOT, one folder per organisation; never
# served as static files: every download goes through a view that checks who may see it.
MEDIA_ROOT = Path(os.environ.get("VINCULO_MEDIA_DIR", VAR_DIR / "media"))
# Attachments of received and sent e-mail: larger files, files past the total of one message, and
# executable types are not kept (the message is, with a note saying which file was left out).
EMAIL_ATTACHMENT_MAX_BYTES = int(os.environ.get("VINCULO_ATTACHMENT_MAX_BYTES", 10 * 1024 * 1024))
EMAIL_ATTACHMENTS_MAX_TOTAL_BYTES = int(os.environ.get("VINCULO_ATTACHMENTS_MAX_TOTAL_BYTES", 25 * 1024 * 1024))
EMAIL_ATTACHMENT_DENIED_EXTENSIONS = env_list(
    "VINCULO_ATTACHMENT_DENIED_EXTENSIONS",
    "exe,com,bat,cmd,scr,pif,cpl,msi,msp,msix,appx,dll,sys,jar,js,jse,vbs,vbe,wsf,wsh,ps1,psm1,hta,lnk,"
    "reg,scf,inf,sh,app,apk,deb,rpm,elf",
)
# empty: every type that is not denied; else only these (`application/pdf`, `image/*`, …)
EMAIL_ATTACHMENT_ALLOWED_TYPES = env_list("VINCULO_ATTACHMENT_ALLOWED_TYPES")

# --- Background work -----------------------------------------------------------------------
TASKS = {
    "default": {
        "BACKEND": os.environ.get("VINCULO_TASKS_BACKEND", "django_tasks_db.DatabaseBackend"),
        "QUEUES": ["default"],
    }
}

# --- Periodic jobs -------------------------------------------------------------------------
# `manage.py scheduler` (run exactly ONE per install) enqueues these tasks on their cron schedule
# (minute hour day month day-of-week, in UTC); the task workers (`manage.py worker`) run them.
PERIODIC_TASKS: dict[str, dict[str, object]] = {
    "prune-login-attempts": {"task": "vinculo.accounts.tasks.prune_login_attempts", "cron": "17 3 * * *"},
    "prune-task-results": {"task": "vinculo.core.tasks.prune_task_results", "cron": "27 3 * * *"},
    "analyze-database": {"task": "vinculo.core.tasks.analyze_database", "cron": "37 3 * * *"},
    # outgoing e-mail whose enqueue was lost, whose retry is due or whose worker died mid-send
    "send-due-messages": {"task": "vinculo.messaging.tasks.send_due_messages", "cron": "* * * * *"},
    "activity-reminders": {"task": "vinculo.sales.tasks.send_activity_reminders", "cron": "* * * * *"},
    "fetch-mailboxes": {"task": "vinculo.touchpoints.mail_tasks.fetch_mailboxes", "cron": "*/2 * * * *"},
    # tracker batches whose task was lost (a worker killed mid-task) are re-enqueued after 2 minutes
    "process-pending-batches": {"task": "vinculo.touchpoints.tasks.process_pending_batches", "cron": "* * * * *"},
    # webhook deliveries whose task was lost are processed again; old ones are forgotten
    "process-pending-deliveries": {
        "task": "vinculo.touchpoints.services.webhooks.process_pending_deliveries",
        "cron": "*/5 * * * *",
    },
    # leads announced by id whose retry is due, whose enqueue was lost or whose worker died
    "fetch-due-leads": {"task": "vinculo.touchpoints.services.lead_fetch.fetch_due_leads", "cron": "* * * * *"},
    "prune-webhook-deliveries": {
        "task": "vinculo.touchpoints.services.webhooks.prune_webhook_deliveries",
        "cron": "47 3 * * *",
    },
}

# --- Cache (sessions live in the DB; the cache holds nothing that must survive) ---------------
# VINCULO_CACHE_URL: `locmem` (the default: per process; it holds only short-lived copies such as a
# tracked site's settings), `db` (the table `vinculo_cache`, made by a migration) or
# `redis://host:6379/0` (Django's Redis backend; needs the `redis` package).
# VINCULO_RATE_LIMITS: where the public endpoints' rate limits count (core/rate_limit.py):
# `database` (the default: one upsert per hit, shared by every web process and machine) or `cache`
# (the cache above: only shared with Redis or Memcached).
RATE_LIMIT_STORE = os.environ.get("VINCULO_RATE_LIMITS", "database").strip() or "database"
if RATE_LIMIT_STORE not in ("database", "cache"):
    raise ImproperlyConfigured("VINCULO_RATE_LIMITS must be `database` or `cache`.")
CACHE_URL = os.environ.get("VINCULO_CACHE_URL", "locmem").strip()
CACHES: dict[str, dict[str, object]]
if CACHE_URL == "locmem":
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
elif CACHE_URL.startswith(("redis://", "rediss://")):
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": CACHE_URL}}
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.db.DatabaseCache",
            "LOCATION": "vinculo_cache",
            "OPTIONS": {"MAX_ENTRIES": 100_000},
        }
    }

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "WARNING")},
    "loggers": {"django.request": {"level": "ERROR"}, "vinculo": {"level": os.environ.get("LOG_LEVEL", "INFO")}},
}

NINJA_PAGINATION_MAX_LIMIT = 200
