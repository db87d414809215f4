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


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    if value is None or not value.strip():
        return default
    try:
        return int(value)
    except ValueError as exc:
        raise ImproperlyConfigured(f"环境变量 {name} 须为整数") from exc


def env_list(name: str, default: list[str]) -> list[str]:
    value = os.environ.get(name)
    if value is None:
        return default
    return [item.strip() for item in value.split(",") if item.strip()]


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
    "ninja",
    "shanzhi.areas",
    "shanzhi.accounts",
    "shanzhi.workdays",
    "shanzhi.cases",
    "shanzhi.registry",
    "shanzhi.analytics",
    "shanzhi.reports",
    "shanzhi.api",
    "shanzhi.open311",
    "shanzhi.demo",
    "shanzhi.ops",
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
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
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

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.User"
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

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
