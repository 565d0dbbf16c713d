"""Django settings for onlineocr. Every value comes from the environment.

Defaults are safe for a laptop: SQLite (WAL) and an embedded Celery broker
under ``var/``, DEBUG off, a secret key generated once and kept in
``var/secret_key``. Production sets ``DJANGO_SECRET_KEY``, ``DATABASE_URL``,
``CELERY_BROKER_URL`` and ``DJANGO_ALLOWED_HOSTS``. See README.md for the list.
"""

from __future__ import annotations

import contextlib
import os
import secrets
from datetime import timedelta
from pathlib import Path

import dj_database_url
from csp.constants import NONCE, NONE, SELF
from django.core.exceptions import ImproperlyConfigured

from onlineocr.env import env_bool, env_float, env_int, env_list, env_secret, env_str

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env_str("OCR_VAR_DIR", str(BASE_DIR / "var")))
VAR_DIR.mkdir(parents=True, exist_ok=True)


def _secret_key() -> str:
    key = env_secret("DJANGO_SECRET_KEY")
    if key:
        return key
    path = VAR_DIR / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(50))
        path.chmod(0o600)
    return path.read_text().strip()


SECRET_KEY = _secret_key()
DEBUG = env_bool("DJANGO_DEBUG", False)
ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework_simplejwt",
    "rest_framework_simplejwt.token_blacklist",
    # AbstractAPIKey for app.models.ApiKey (its own APIKey table stays unused).
    "rest_framework_api_key",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "app.apps.OcrAppConfig",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "django_permissions_policy.PermissionsPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "onlineocr.urls"
WSGI_APPLICATION = "onlineocr.wsgi.application"

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
            ],
        },
    },
]

# --- Database: SQLite (WAL) under var/ unless DATABASE_URL is set -------------
_sqlite_path = VAR_DIR / "db.sqlite3"
DATABASES = {
    "default": dj_database_url.parse(
        env_str("DATABASE_URL", f"sqlite:///{_sqlite_path}"), conn_max_age=0
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 30,
    }
    # Tests share the database with a real worker process, so it must be a file.
    # One file per test run (pid), so two runs side by side never share it.
    DATABASES["default"]["TEST"] = {
        "NAME": env_str("OCR_TEST_SQLITE", str(VAR_DIR / f"test-db-{os.getpid()}.sqlite3"))
    }
# Celery worker processes keep their database connection between jobs for this many
# seconds (0: a new connection for every job), checked before each job; applied by
# onlineocr/celery.py when a worker starts. Web processes connect per request.
OCR_WORKER_CONN_MAX_AGE = env_int("OCR_WORKER_CONN_MAX_AGE", 600)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = env_str("DJANGO_TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = Path(env_str("DJANGO_STATIC_ROOT", str(BASE_DIR / "staticfiles")))
# WhiteNoise indexes STATIC_ROOT at start-up and warns when it is missing (before
# the first collectstatic); an empty folder is the honest state.
# A read-only image: collectstatic made it at build time, or not at all.
with contextlib.suppress(OSError):
    STATIC_ROOT.mkdir(parents=True, exist_ok=True)
STATICFILES_DIRS = [BASE_DIR / "static"]
# WhiteNoise serves static files without DEBUG; straight from static/ and the apps
# when collectstatic has not been run (``make run``), from STATIC_ROOT when it has.
WHITENOISE_USE_FINDERS = env_bool("OCR_STATIC_USE_FINDERS", True)
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(env_str("OCR_MEDIA_ROOT", str(BASE_DIR / "media")))

LOGIN_URL = "/accounts/login/"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "/accounts/login/"

# --- E-mail (password reset): printed to the log unless EMAIL_HOST is set -------
# Django's own setting names. With EMAIL_HOST the SMTP backend sends; without it
# the console backend writes each message to the server's output (a laptop needs
# no mail server, and a reset link can be copied from there). EMAIL_BACKEND
# overrides both (e.g. django.core.mail.backends.filebased.EmailBackend).
EMAIL_HOST = env_str("EMAIL_HOST", "")
EMAIL_PORT = env_int("EMAIL_PORT", 587)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = env_secret("EMAIL_HOST_PASSWORD")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", EMAIL_PORT == 587)  # STARTTLS
EMAIL_USE_SSL = env_bool("EMAIL_USE_SSL", EMAIL_PORT == 465)  # implicit TLS
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 10)  # seconds
EMAIL_BACKEND = env_str(
    "EMAIL_BACKEND",
    "django.core.mail.backends.smtp.EmailBackend"
    if EMAIL_HOST
    else "django.core.mail.backends.console.EmailBackend",
)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "onlineocr <noreply@localhost>")
SERVER_EMAIL = env_str("SERVER_EMAIL", DEFAULT_FROM_EMAIL)
PASSWORD_RESET_TIMEOUT = env_int("OCR_PASSWORD_RESET_SECONDS", 3 * 3600)

# --- Security (production turns these on through the environment) ------------
SECURE_PROXY_SSL_HEADER = (
    ("HTTP_X_FORWARDED_PROTO", "https") if env_bool("DJANGO_BEHIND_TLS_PROXY") else None
)
SECURE_SSL_REDIRECT = env_bool("DJANGO_SECURE_SSL_REDIRECT", False)
SESSION_COOKIE_SECURE = env_bool("DJANGO_SECURE_COOKIES", False)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SECURE_HSTS_SECONDS = env_int("DJANGO_HSTS_SECONDS", 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("DJANGO_HSTS_INCLUDE_SUBDOMAINS", False)
SECURE_HSTS_PRELOAD = env_bool("DJANGO_HSTS_PRELOAD", False)
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"

# Content-Security-Policy (W3C CSP Level 3, django-csp): the pages load only this
# site's own scripts, styles, images and fonts; an inline <script>/<style> runs only
# with the per-response nonce ({{ request.csp_nonce }}), inline event handlers and
# style attributes never. The API docs relax style-src for their own UI libraries
# (onlineocr/urls.py). OCR_CSP_REPORT_ONLY=true sends the policy as
# Content-Security-Policy-Report-Only (to try a change), OCR_CSP_REPORT_URI
# names where browsers report violations.
_csp_report_uri = env_str("OCR_CSP_REPORT_URI", "")
_csp = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF, NONCE],
        "style-src": [SELF, NONCE],
        "img-src": [SELF, "data:"],
        "font-src": [SELF, "data:"],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [NONE],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
        **({"report-uri": [_csp_report_uri]} if _csp_report_uri else {}),
    }
}
if env_bool("OCR_CSP_REPORT_ONLY", False):
    CONTENT_SECURITY_POLICY_REPORT_ONLY = _csp
else:
    CONTENT_SECURITY_POLICY = _csp
# Permissions-Policy (W3C Permissions Policy, django-permissions-policy): browser
# features the service never uses are off for every page and frame; the job page's
# "Copy" button writes the clipboard (same origin only).
PERMISSIONS_POLICY: dict[str, list[str]] = {
    **{
        feature: []
        for feature in (
            "accelerometer",
            "autoplay",
            "camera",
            "clipboard-read",
            "display-capture",
            "geolocation",
            "gyroscope",
            "hid",
            "magnetometer",
            "microphone",
            "midi",
            "payment",
            "publickey-credentials-get",
            "serial",
            "usb",
        )
    },
    "clipboard-write": ["self"],
}

# --- Uploads and OCR limits ---------------------------------------------------
OCR_MAX_UPLOAD_BYTES = env_int("OCR_MAX_UPLOAD_BYTES", 20 * 1024 * 1024)
OCR_MAX_PIXELS = env_int("OCR_MAX_PIXELS", 60_000_000)
OCR_MAX_PAGES = env_int("OCR_MAX_PAGES", 500)
OCR_PDF_DPI = env_int("OCR_PDF_DPI", 300)
# Lowest useful DPI for a PDF page too big for OCR_MAX_PIXELS at OCR_PDF_DPI: it is
# rendered at the highest DPI that fits, down to this; a page that does not fit even
# here is refused at submission (413 too_many_pixels). 72 = one pixel per PDF point:
# below it even 24 pt text is under the ~20 px Tesseract needs (app/pipeline/pdf.py).
OCR_PDF_MIN_DPI = env_int("OCR_PDF_MIN_DPI", 72)
OCR_MAX_WAIT_SECONDS = env_int("OCR_MAX_WAIT_SECONDS", 30)
# Batches (POST /api/batches/): most documents and bytes in one, and how many of a
# batch's jobs are queued or running at a time (default: twice the page window).
OCR_MAX_BATCH_ITEMS = env_int("OCR_MAX_BATCH_ITEMS", 1000)
OCR_MAX_BATCH_BYTES = env_int("OCR_MAX_BATCH_BYTES", 200 * 1024 * 1024)
# A multipart batch sends one file per document (Django's default allows 100 files).
DATA_UPLOAD_MAX_NUMBER_FILES = OCR_MAX_BATCH_ITEMS
# Webhooks (docs/webhooks.md): the queue their deliveries go to (a worker must consume
# it: make run's does), seconds per attempt, the delays before each retry (seconds,
# about 28 h in all), and the address users reach the service at (the URLs in events).
OCR_WEBHOOK_QUEUE = env_str("OCR_WEBHOOK_QUEUE", "ocr-webhooks")
OCR_WEBHOOK_TIMEOUT = env_float("OCR_WEBHOOK_TIMEOUT", 5.0)
OCR_WEBHOOK_RETRY_SECONDS = env_str(
    "OCR_WEBHOOK_RETRY_SECONDS", "5,300,1800,7200,18000,36000,36000"
)
OCR_PUBLIC_URL = env_str("OCR_PUBLIC_URL", "http://127.0.0.1:8000")
# Idempotency-Key on POST /api/ocr/: how long a key answers its first job (seconds).
OCR_IDEMPOTENCY_SECONDS = env_int("OCR_IDEMPOTENCY_SECONDS", 86400)
# The defaults read each page with the engine and the language pack that suit it
# (docs/engines-auto.md, docs/languages-auto.md); "tesseract" and "eng" are the
# single-engine, single-language choices.
OCR_DEFAULT_LANGUAGES = env_str("OCR_DEFAULT_LANGUAGES", "auto")
OCR_DEFAULT_ENGINE = env_str("OCR_DEFAULT_ENGINE", "auto")
OCR_ALLOW_ANONYMOUS = env_bool("OCR_ALLOW_ANONYMOUS", False)
OCR_TESSDATA_DIR = env_str("OCR_TESSDATA_DIR", "")  # empty: find Debian's tessdata
OCR_TESSERACT_BACKEND = env_str("OCR_TESSERACT_BACKEND", "auto")  # auto|tesserocr|cli
# engine=ppocr (app/engines/ppocr.py): a page's longer side is scaled down to this many
# pixels before PP-OCR reads it (RapidOCR's Global.max_side_len; docs/engines-ppocr.md).
OCR_PPOCR_MAX_SIDE = env_int("OCR_PPOCR_MAX_SIDE", 2000)
OCR_TASK_SOFT_TIME_LIMIT = env_int("OCR_TASK_SOFT_TIME_LIMIT", 600)
OCR_TASK_TIME_LIMIT = env_int("OCR_TASK_TIME_LIMIT", OCR_TASK_SOFT_TIME_LIMIT + 30)
OCR_MAX_ATTEMPTS = env_int("OCR_MAX_ATTEMPTS", 3)
# Page fan-out (docs/architecture.md, "Page fan-out"): at most this many pages of one
# job are queued or running at a time, across all worker hosts; the next page goes to
# the back of the queue, so a small job waits behind at most this many pages of a big
# one. Set it to the number of worker processes of all hosts together.
OCR_PAGE_WINDOW = max(1, env_int("OCR_PAGE_WINDOW", os.cpu_count() or 2))
OCR_BATCH_WINDOW = max(1, env_int("OCR_BATCH_WINDOW", 2 * OCR_PAGE_WINDOW))
# Seconds a whole job may run (checked before each page starts; each page also has
# OCR_TASK_SOFT_TIME_LIMIT / OCR_TASK_TIME_LIMIT).
OCR_JOB_TIME_LIMIT = env_int("OCR_JOB_TIME_LIMIT", 3600)
OCR_URL_MAX_REDIRECTS = env_int("OCR_URL_MAX_REDIRECTS", 3)
OCR_URL_TIMEOUT = env_float("OCR_URL_TIMEOUT", 15.0)
OCR_URL_ALLOW_PRIVATE = env_bool("OCR_URL_ALLOW_PRIVATE", False)
# Extra engines, as dotted paths to ``build(config)`` factories (plug-ins).
OCR_EXTRA_ENGINES = env_list("OCR_EXTRA_ENGINES", [])
OCR_QUEUE = env_str("OCR_QUEUE", "ocr")
# Cloud provider jobs are I/O-bound: their own queue, for workers with more concurrency.
OCR_PROVIDER_QUEUE = env_str("OCR_PROVIDER_QUEUE", "ocr-provider")

# --- Cloud providers (no credentials: the engine is listed as unavailable) ----
OCR_PROVIDER_CONNECT_TIMEOUT = env_float("OCR_PROVIDER_CONNECT_TIMEOUT", 10.0)
OCR_PROVIDER_READ_TIMEOUT = env_float("OCR_PROVIDER_READ_TIMEOUT", 60.0)
OCR_PROVIDER_RETRIES = env_int("OCR_PROVIDER_RETRIES", 3)
OCR_PROVIDER_POLL_TIMEOUT = env_float("OCR_PROVIDER_POLL_TIMEOUT", 120.0)
OCR_PROVIDER_POLL_INTERVAL = env_float("OCR_PROVIDER_POLL_INTERVAL", 1.0)
OCR_PROVIDER_BACKOFF_FACTOR = env_float("OCR_PROVIDER_BACKOFF_FACTOR", 0.5)
OCR_PROVIDER_RETRY_AFTER_MAX = env_float("OCR_PROVIDER_RETRY_AFTER_MAX", 30.0)
OCR_CLOVA_INVOKE_URL = env_str("OCR_CLOVA_INVOKE_URL", "")
OCR_CLOVA_SECRET = env_secret("OCR_CLOVA_SECRET")
OCR_ULTRAOCR_BASE_URL = env_str("OCR_ULTRAOCR_BASE_URL", "https://ultraocr.apis.nuveo.ai/v2")
OCR_ULTRAOCR_AUTH_BASE_URL = env_str("OCR_ULTRAOCR_AUTH_BASE_URL", "https://auth.apis.nuveo.ai/v2")
OCR_ULTRAOCR_CLIENT_ID = env_secret("OCR_ULTRAOCR_CLIENT_ID")
OCR_ULTRAOCR_CLIENT_SECRET = env_secret("OCR_ULTRAOCR_CLIENT_SECRET")
OCR_ULTRAOCR_SERVICE = env_str("OCR_ULTRAOCR_SERVICE", "idtypification")
OCR_ULTRAOCR_TOKEN_MINUTES = env_int("OCR_ULTRAOCR_TOKEN_MINUTES", 60)
OCR_ULTRAOCR_SINGLE_STEP_MAX_BYTES = env_int("OCR_ULTRAOCR_SINGLE_STEP_MAX_BYTES", 6_000_000)
OCR_COMPUTERVISION_VN_BASE_URL = env_str(
    "OCR_COMPUTERVISION_VN_BASE_URL", "https://cloud.computervision.com.vn"
)
OCR_COMPUTERVISION_VN_API_KEY = env_secret("OCR_COMPUTERVISION_VN_API_KEY")
OCR_COMPUTERVISION_VN_API_SECRET = env_secret("OCR_COMPUTERVISION_VN_API_SECRET")
OCR_CHEKIN_BASE_URL = env_str("OCR_CHEKIN_BASE_URL", "https://api.chekin.io/api/v2")
OCR_CHEKIN_TOKEN = env_secret("OCR_CHEKIN_TOKEN")

# --- Celery: embedded filesystem broker under var/ unless CELERY_BROKER_URL ---
_broker_dir = VAR_DIR / "broker"
CELERY_BROKER_URL = env_str("CELERY_BROKER_URL", "filesystem://")
CELERY_BROKER_TRANSPORT_OPTIONS: dict[str, object] = {}
if CELERY_BROKER_URL.startswith("filesystem"):
    for sub in ("queue", "processed", "control"):
        (_broker_dir / sub).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker_dir / "queue"),
        "data_folder_out": str(_broker_dir / "queue"),
        "processed_folder": str(_broker_dir / "processed"),
        "control_folder": str(_broker_dir / "control"),
        "store_processed": False,
        # Messages are written atomically (onlineocr/broker.py), so polling often is safe.
        "polling_interval": env_float("OCR_BROKER_POLL_SECONDS", 0.01),
    }
elif CELERY_BROKER_URL.startswith(("redis", "rediss")):
    # Unacked messages come back after this many seconds if a worker host vanishes
    # (kill -9, power loss); it must exceed the longest task. Swept every 10 s.
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "visibility_timeout": env_int(
            "OCR_BROKER_VISIBILITY_TIMEOUT", OCR_TASK_TIME_LIMIT * OCR_MAX_ATTEMPTS + 600
        ),
        "unacked_restore_interval": 10,
        "unacked_restore_throttle": 1,
    }
CELERY_TASK_IGNORE_RESULT = True
CELERY_RESULT_BACKEND = None
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# Seconds the pool waits after a child process died before reporting the job lost
# (and requeueing it); Celery's default of 10 s only delays crash recovery.
CELERY_WORKER_LOST_WAIT = env_float("OCR_WORKER_LOST_WAIT", 2.0)
CELERY_TASK_SOFT_TIME_LIMIT = OCR_TASK_SOFT_TIME_LIMIT
CELERY_TASK_TIME_LIMIT = OCR_TASK_TIME_LIMIT
CELERY_TASK_DEFAULT_QUEUE = OCR_QUEUE
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Celery's Django fix-up closes every database connection around every task unless
# this is set (then only every N tasks): with OCR_WORKER_CONN_MAX_AGE, Django's
# CONN_MAX_AGE and health checks decide instead (onlineocr/celery.py).
CELERY_DB_REUSE_MAX = 1000 if OCR_WORKER_CONN_MAX_AGE > 0 else None
CELERY_TASK_ALWAYS_EAGER = env_bool("OCR_CELERY_EAGER", False)
CELERY_TASK_EAGER_PROPAGATES = False
# --- Worker memory ---------------------------------------------------------------
# Tesseract model sets (one per ordering of `languages` and per `oem`, 14-80+ MB each)
# a worker process keeps loaded, least recently used evicted (app/engines/tesseract.py).
OCR_TESSERACT_MAX_MODELS = max(1, env_int("OCR_TESSERACT_MAX_MODELS", 3))
# Safety net behind that bound: a pool child is replaced after a task during which its
# peak RSS (Linux getrusage ru_maxrss, what billiard checks) passed this many MB, or
# after this many tasks. Native OCR code and the allocator can keep memory that Python
# cannot release; a fresh child (forked from the worker, DB settings inherited) costs
# one model load (~0.2 s). The child exits after its task is acked: no job is lost or
# redelivered. The default memory bound sits above a large page's normal peak (bench/
# memory.py: < 600 MB); 0 disables either.
OCR_WORKER_MAX_MEMORY_MB = env_int("OCR_WORKER_MAX_MEMORY_MB", 1024)
OCR_WORKER_MAX_TASKS = env_int("OCR_WORKER_MAX_TASKS", 1000)
CELERY_WORKER_MAX_MEMORY_PER_CHILD = OCR_WORKER_MAX_MEMORY_MB * 1024 or None  # KiB
CELERY_WORKER_MAX_TASKS_PER_CHILD = OCR_WORKER_MAX_TASKS or None
# Hard cap on each pool child's address space (RLIMIT_AS, MB; 0: none), set when the
# child starts (onlineocr/celery.py). The last line of defence against memory that no
# check sees before it is spent (pdfium inflating a compressed inline image while it
# parses a page: 2.6 GB from 380 KB): an allocation over it fails, the child dies or the
# job fails, the worker replaces it, and redelivery stays bounded (OCR_MAX_ATTEMPTS,
# then engine_crash). Measured: a child's address space is ~0.7 GB with three model
# sets loaded and ~1.1 GB at its peak on a 60 MP page, so 4 GB leaves room for every
# page within OCR_MAX_PIXELS.
OCR_WORKER_MAX_VIRTUAL_MB = env_int("OCR_WORKER_MAX_VIRTUAL_MB", 4096)

# --- REST framework -----------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework_simplejwt.authentication.JWTAuthentication",
        "app.api.authentication.ApiKeyAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "app.api.pagination.PageNumberPagination",
    "PAGE_SIZE": 20,
    "DEFAULT_FILTER_BACKENDS": [
        "django_filters.rest_framework.DjangoFilterBackend",
        "rest_framework.filters.SearchFilter",
        "rest_framework.filters.OrderingFilter",
    ],
    # drf-spectacular plus the error responses DRF gives on any operation (app/api/openapi.py).
    "DEFAULT_SCHEMA_CLASS": "app.api.openapi.ApiAutoSchema",
    "EXCEPTION_HANDLER": "app.api.errors.exception_handler",
    # JSON with a body cap, a nesting limit and an object at the top (app/api/parsers.py).
    "DEFAULT_PARSER_CLASSES": [
        "app.api.parsers.JSONParser",
        "rest_framework.parsers.FormParser",
        "app.api.parsers.MultiPartParser",
    ],
    # `?format=` selects an export format (GET /api/ocr/{id}/export/), not a renderer.
    "URL_FORMAT_OVERRIDE": None,
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"]
    + (["rest_framework.renderers.BrowsableAPIRenderer"] if DEBUG else []),
}

SIMPLE_JWT = {
    "ACCESS_TOKEN_LIFETIME": timedelta(seconds=env_int("OCR_ACCESS_TOKEN_SECONDS", 300)),
    "REFRESH_TOKEN_LIFETIME": timedelta(seconds=env_int("OCR_REFRESH_TOKEN_SECONDS", 86400)),
    "ROTATE_REFRESH_TOKENS": True,
    "BLACKLIST_AFTER_ROTATION": True,
    "UPDATE_LAST_LOGIN": True,
    "SIGNING_KEY": SECRET_KEY,
}

SPECTACULAR_SETTINGS = {
    "TITLE": "onlineocr API",
    "DESCRIPTION": (
        "Self-hosted OCR: submit an image, get text with word boxes. "
        'Errors share one shape: `{"error": {"code", "message", "field"}}`.'
    ),
    "VERSION": "0.1.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    # OpenAPI links between the job operations (app/api/openapi.py), after the default hook.
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "app.api.openapi.add_links",
        # A human summary for every operation and described sections (app/api/schema_hooks.py).
        "app.api.schema_hooks.add_titles",
    ],
    "ENUM_NAME_OVERRIDES": {
        "JobStatusEnum": "app.models.JobStatus",
        "HealthStatusEnum": ["ok", "fail"],
    },
}

LOG_LEVEL = env_str("OCR_LOG_LEVEL", "INFO")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}

os.environ.setdefault("OMP_THREAD_LIMIT", "1")

# --- Files: Django's storage API; local media/ or an S3-compatible bucket -----
# Workers on other hosts need no shared disk with OCR_STORAGE=s3 (django-storages).
OCR_STORAGE = env_str("OCR_STORAGE", "local")  # local | s3


def s3_storage_options() -> dict[str, object]:
    """django-storages' S3Storage options from ``OCR_S3_*`` (credentials: ``AWS_*``)."""
    return {
        "bucket_name": env_str("OCR_S3_BUCKET", "onlineocr"),
        "endpoint_url": env_str("OCR_S3_ENDPOINT_URL", "") or None,
        "region_name": env_str("OCR_S3_REGION", "") or None,
        "location": env_str("OCR_S3_PREFIX", ""),
        "access_key": env_secret("AWS_ACCESS_KEY_ID") or None,
        "secret_key": env_secret("AWS_SECRET_ACCESS_KEY") or None,
        "addressing_style": env_str("OCR_S3_ADDRESSING_STYLE", "path"),
        "signature_version": "s3v4",
        "default_acl": None,
        "querystring_auth": True,
        "querystring_expire": env_int("OCR_S3_URL_SECONDS", 300),
        "file_overwrite": False,
    }


STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
if OCR_STORAGE == "s3":
    STORAGES["default"] = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": s3_storage_options(),
    }
elif OCR_STORAGE != "local":
    raise ImproperlyConfigured(f"OCR_STORAGE={OCR_STORAGE!r}: use 'local' or 's3'")
# Downloads of stored files (app.files.file_response): behind nginx, hand local
# files to nginx's internal /protected-media/ location; with S3, redirect to a
# short-lived presigned URL when clients can reach the bucket, else stream.
OCR_X_ACCEL_REDIRECT = env_bool("OCR_X_ACCEL_REDIRECT", False)
OCR_X_ACCEL_PREFIX = env_str("OCR_X_ACCEL_PREFIX", "/protected-media/")
OCR_S3_REDIRECT = env_bool("OCR_S3_REDIRECT", False)

# --- Cache (throttle counters): shared across processes/hosts with OCR_CACHE_URL
_cache_url = env_str("OCR_CACHE_URL", "")
CACHES = {
    "default": (
        {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": _cache_url}
        if _cache_url
        else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    )
}

# --- Throttling and quotas (429 quota_exceeded with Retry-After) ---------------
# Rates like "120/minute"; empty turns a throttle off. Anonymous callers are
# counted per IP: set OCR_NUM_PROXIES to the number of proxies in front (nginx: 1).
REST_FRAMEWORK["DEFAULT_THROTTLE_CLASSES"] = [
    "rest_framework.throttling.UserRateThrottle",
    "rest_framework.throttling.AnonRateThrottle",
]
REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"] = {
    "user": env_str("OCR_THROTTLE_USER", "") or None,
    "anon": env_str("OCR_THROTTLE_ANON", "") or None,
}
REST_FRAMEWORK["NUM_PROXIES"] = env_int("OCR_NUM_PROXIES", 0) or None
# Sign-in limits (app/throttles.py): *failed* attempts per user name and per client
# address, on the API token view, /accounts/login/ and /admin/login/; empty: off.
OCR_LOGIN_RATE_USER = env_str("OCR_LOGIN_RATE_USER", "5/minute")
OCR_LOGIN_RATE_IP = env_str("OCR_LOGIN_RATE_IP", "20/minute")
OCR_DAILY_PAGE_QUOTA = env_int("OCR_DAILY_PAGE_QUOTA", 0)  # pages per user per UTC day; 0: none

# --- Retention (Celery beat): 0 days keeps everything forever -----------------
OCR_RETENTION_DAYS = env_int("OCR_RETENTION_DAYS", 0)
OCR_RETENTION_ORPHAN_GRACE_SECONDS = env_int("OCR_RETENTION_ORPHAN_GRACE_SECONDS", 3600)
CELERY_BEAT_SCHEDULE = {
    "retention-sweep": {
        "task": "ocr.retention_sweep",
        "schedule": float(env_int("OCR_RETENTION_SWEEP_SECONDS", 3600)),
        "options": {"queue": OCR_QUEUE, "expires": 3000},
    }
}

# --- Observability ------------------------------------------------------------
# /metrics answers a bearer OCR_METRICS_TOKEN, or clients in OCR_METRICS_ALLOW
# (IPs or networks; the client IP honours OCR_NUM_PROXIES).
OCR_METRICS_TOKEN = env_secret("OCR_METRICS_TOKEN")
OCR_METRICS_ALLOW = env_list("OCR_METRICS_ALLOW", ["127.0.0.1/32", "::1/128"])
OCR_HEALTH_WORKER_TIMEOUT = env_float("OCR_HEALTH_WORKER_TIMEOUT", 1.0)
OCR_HEALTH_MIN_FREE_MB = env_int("OCR_HEALTH_MIN_FREE_MB", 200)
OCR_HEALTH_REQUIRE_WORKER = env_bool("OCR_HEALTH_REQUIRE_WORKER", True)
# Seconds a process keeps the public /api/health/ status (checks run at most once per
# window however many anonymous calls come); staff and the metrics token get fresh checks.
OCR_HEALTH_PUBLIC_CACHE_SECONDS = env_float("OCR_HEALTH_PUBLIC_CACHE_SECONDS", 5.0)
if env_str("OCR_LOG_FORMAT", "plain") == "json":
    LOGGING["formatters"]["json"] = {"()": "app.logjson.JsonFormatter"}
    LOGGING["handlers"]["console"]["formatter"] = "json"

# security.W021 (HSTS preload) is silenced unless DJANGO_HSTS_PRELOAD is on: joining
# the browsers' preload list binds every subdomain for months and cannot be undone
# quickly, an organisation's decision rather than a deployment default.
SILENCED_SYSTEM_CHECKS = [] if SECURE_HSTS_PRELOAD else ["security.W021"]
