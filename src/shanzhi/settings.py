"""Settings, read from the environment with safe defaults for the embedded SQLite run."""

import os
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

PACKAGE_DIR = Path(__file__).resolve().parent


def env_str(name: str, default: str) -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: list[str]) -> list[str]:
    value = os.environ.get(name)
    if value is None:
        return default
    return [item.strip() for item in value.split(",") if item.strip()]


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    if value is None or not value.strip():
        return default
    try:
        return int(value)
    except ValueError as exc:
        raise ImproperlyConfigured(f"环境变量 {name} 须为整数,而不是“{value}”") from exc


# The embedded run keeps its database and uploads under ./var of the directory it starts in.
DATA_DIR = Path(env_str("SHANZHI_DATA_DIR", str(Path.cwd() / "var")))

DEBUG = env_bool("DEBUG", False)
_DEV_SECRET = "shanzhi-insecure-development-key-set-SECRET_KEY-in-production"  # noqa: S105
SECRET_KEY = env_str("SECRET_KEY", _DEV_SECRET)
if SECRET_KEY == _DEV_SECRET and not DEBUG and env_bool("SHANZHI_REQUIRE_SECRET", False):
    raise ImproperlyConfigured("生产环境必须设置 SECRET_KEY 环境变量")
# Seals ID numbers and phones at rest (base64 of 32 bytes). Unset, the embedded run keeps a key in
# DATA_DIR/data.key; SHANZHI_REQUIRE_SECRET makes production refuse to start without one.
DATA_KEY = env_str("SHANZHI_DATA_KEY", "")
REQUIRE_DATA_KEY = env_bool("SHANZHI_REQUIRE_SECRET", False)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django_htmx",
    "django_otp",
    "ninja",
    "shanzhi.areas",
    "shanzhi.accounts",
    "shanzhi.workdays",
    "shanzhi.cases",
    "shanzhi.registry",
    "shanzhi.analytics",
    "shanzhi.routing",
    "shanzhi.reports",
    "shanzhi.api",
    "shanzhi.open311",
    "shanzhi.demo",
    "shanzhi.ops",
    "shanzhi.jobs",
    "shanzhi.participation",
    "shanzhi.streets",
    "shanzhi.web",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "shanzhi.headers.ContentSecurityPolicyMiddleware",
    "shanzhi.accounts.middleware.SignInGuardMiddleware",
]

ROOT_URLCONF = "shanzhi.urls"
WSGI_APPLICATION = "shanzhi.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "shanzhi.web.context_processors.navigation",
                "shanzhi.web.context_processors.demo_progress",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.parse(
        env_str("DATABASE_URL", f"sqlite:///{DATA_DIR / 'shanzhi.sqlite3'}"),
        conn_max_age=int(env_str("DATABASE_CONN_MAX_AGE", "60")),
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets the pages read while a writer holds the database; the timeout waits out short locks.
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
    }
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    if DATABASES["default"]["NAME"] != ":memory:":
        Path(DATABASES["default"]["NAME"]).parent.mkdir(parents=True, exist_ok=True)
elif DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # The figures' aggregates carry hundreds of filtered sums; PostgreSQL's JIT spends longer
    # compiling them than running them (measured by benchmarks/figures.py).
    DATABASES["default"].setdefault("OPTIONS", {})["options"] = "-c jit=off"

REDIS_URL = os.environ.get("REDIS_URL", "")
if REDIS_URL:
    CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# Long jobs (shanzhi.celery, shanzhi.jobs): Celery with Redis as broker. Unset, every task runs
# at once in the process that asks for it (the embedded run needs no worker).
CELERY_BROKER_URL = env_str("CELERY_BROKER_URL", "")
CELERY_TASK_ALWAYS_EAGER = not CELERY_BROKER_URL
CELERY_TASK_IGNORE_RESULT = True
# A job is taken off the queue only when it has finished: a worker that dies mid-way leaves it
# to another, and the job's own row keeps it from being applied twice.
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TIMEZONE = "Asia/Shanghai"
# celery beat runs the deadline sweep this often (cron with `shanzhi sweep` does the same).
SHANZHI_SWEEP_SECONDS = env_int("SHANZHI_SWEEP_SECONDS", 60)
CELERY_BEAT_SCHEDULE = {
    "sweep": {"task": "shanzhi.jobs.tasks.sweep", "schedule": SHANZHI_SWEEP_SECONDS},
}

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.User"
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"
# Django's own page for a failed CSRF check is in English.
CSRF_FAILURE_VIEW = "shanzhi.web.views_errors.csrf_failure"

# Accounts to 等保 level 3 (GB/T 22239-2019 identity and access controls). Each number is
# read from the environment so that a deployment can follow its own security policy.
AUTH_PASSWORD_VALIDATORS = [
    {
        "NAME": "shanzhi.accounts.passwords.LengthValidator",
        "OPTIONS": {"min_length": env_int("SHANZHI_PASSWORD_MIN_LENGTH", 10)},
    },
    {
        "NAME": "shanzhi.accounts.passwords.CharacterClassValidator",
        "OPTIONS": {"min_classes": env_int("SHANZHI_PASSWORD_MIN_CLASSES", 3)},
    },
    {"NAME": "shanzhi.accounts.passwords.NotTheUserValidator"},
    {"NAME": "shanzhi.accounts.passwords.CommonPasswordValidator"},
]
# A password older than this must be changed at the next sign-in; 0 turns expiry off.
SHANZHI_PASSWORD_MAX_AGE_DAYS = env_int("SHANZHI_PASSWORD_MAX_AGE_DAYS", 90)
# Failed sign-ins: an account is locked after this many within the window, a client address
# after its own (larger) number; each further lock of the same account or address lasts twice
# as long as the one before, up to a day.
SHANZHI_SIGNIN_MAX_FAILURES = env_int("SHANZHI_SIGNIN_MAX_FAILURES", 5)
SHANZHI_SIGNIN_ADDRESS_MAX_FAILURES = env_int("SHANZHI_SIGNIN_ADDRESS_MAX_FAILURES", 20)
SHANZHI_SIGNIN_WINDOW_MINUTES = env_int("SHANZHI_SIGNIN_WINDOW_MINUTES", 15)
SHANZHI_SIGNIN_LOCK_MINUTES = env_int("SHANZHI_SIGNIN_LOCK_MINUTES", 15)
# A signed-in session ends after this long without a request, and in any case after
# SESSION_COOKIE_AGE, or when the browser closes.
SHANZHI_SESSION_IDLE_MINUTES = env_int("SHANZHI_SESSION_IDLE_MINUTES", 30)
SESSION_COOKIE_AGE = env_int("SHANZHI_SESSION_MAX_HOURS", 12) * 3600
SESSION_EXPIRE_AT_BROWSER_CLOSE = env_bool("SHANZHI_SESSION_EXPIRE_AT_BROWSER_CLOSE", True)
# Holders of these roles (and platform superusers, when administrators are listed) must sign in
# with a second factor (TOTP); everyone else may enrol one and is then asked for it too.
SHANZHI_OTP_REQUIRED_ROLES = env_list("SHANZHI_OTP_REQUIRED_ROLES", ["administrator"])
OTP_TOTP_ISSUER = "善治"
# API keys expire: this is the default lifetime, and no key is issued for longer than a year.
SHANZHI_API_TOKEN_DAYS = env_int("SHANZHI_API_TOKEN_DAYS", 90)

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文")]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = DATA_DIR / "static"
MEDIA_URL = "/media/"
MEDIA_ROOT = DATA_DIR / "media"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "shanzhi.ops.storage.ManifestStaticStorage"
        )
    },
}
# Tests and the development server read static files from the apps directly.
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", False)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
X_FRAME_OPTIONS = "DENY"

# Transport. The embedded run speaks plain HTTP on 127.0.0.1; production sets these (README).
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", False)
# Load balancers probe the health check over plain HTTP inside the network.
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", False)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", False)
# The header a TLS-terminating proxy sets to "https", e.g. X-Forwarded-Proto. Trust it only when
# every request reaches the application through that proxy.
_PROXY_SSL_HEADER = env_str("SECURE_PROXY_SSL_HEADER", "").strip()
SECURE_PROXY_SSL_HEADER = (
    ("HTTP_" + _PROXY_SSL_HEADER.upper().replace("-", "_"), "https") if _PROXY_SSL_HEADER else None
)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
# Every page's scripts, styles and images come from the application itself (htmx and ECharts
# are served as static files); see shanzhi.headers for the policy and why each source is there.
SHANZHI_CSP_REPORT_ONLY = env_bool("SHANZHI_CSP_REPORT_ONLY", False)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "WARNING")},
}

# The client address behind reverse proxies (shanzhi.client_ip): the header the proxies set and
# how many of them stand in front; unset, REMOTE_ADDR alone counts.
SHANZHI_PROXY_IP_HEADER = env_str("SHANZHI_PROXY_IP_HEADER", "")
SHANZHI_TRUSTED_PROXIES = env_int("SHANZHI_TRUSTED_PROXIES", 1 if SHANZHI_PROXY_IP_HEADER else 0)
SHANZHI_RATELIMIT_PREFIX = env_str("SHANZHI_RATELIMIT_PREFIX", "shanzhi:ratelimit:")

# Uploaded photos (shanzhi.uploads): decoded only under this many pixels, then re-encoded;
# the location a camera wrote into them is dropped unless SHANZHI_UPLOAD_KEEP_LOCATION is set.
SHANZHI_UPLOAD_MAX_PIXELS = env_int("SHANZHI_UPLOAD_MAX_PIXELS", 50_000_000)
SHANZHI_UPLOAD_STRIP_LOCATION = not env_bool("SHANZHI_UPLOAD_KEEP_LOCATION", False)
FILE_UPLOAD_HANDLERS = [
    "shanzhi.uploads.RepairingUploadHandler",
    "django.core.files.uploadhandler.MemoryFileUploadHandler",
    "django.core.files.uploadhandler.TemporaryFileUploadHandler",
]

# A spreadsheet imported through the page must finish within the request; bigger files go
# through `shanzhi import`, which has no such limit.
SHANZHI_WEB_IMPORT_MAX_ROWS = env_int("SHANZHI_WEB_IMPORT_MAX_ROWS", 10_000)
SHANZHI_WEB_IMPORT_MAX_BYTES = env_int("SHANZHI_WEB_IMPORT_MAX_BYTES", 5 * 1024 * 1024)
