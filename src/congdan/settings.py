"""Django settings for congdan.

Every setting an operator changes comes from a ``CONGDAN_*`` environment variable. The
defaults run the embedded demo (SQLite under ``var/``). With DEBUG off, a missing or
placeholder secret key stops start-up with a clear message (DESIGN rule 6).
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path
from typing import Any

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent
PROJECT_DIR = Path(os.environ.get("CONGDAN_HOME", BASE_DIR.parent.parent)).resolve()
VAR_DIR = Path(os.environ.get("CONGDAN_VAR_DIR", PROJECT_DIR / "var")).resolve()


def env_bool(name: str, *, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    value = raw.strip().lower()
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name} must be a boolean (1/0, true/false), got {raw!r}")


def env_list(name: str, default: str) -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DEBUG = env_bool("CONGDAN_DEBUG", default=False)

# Secrets that must never be used outside DEBUG.
PLACEHOLDER_SECRETS = frozenset({"", "change-me", "changeme", "secret", "insecure", "dev"})
DEV_SECRET_KEY = "congdan-dev-only-insecure-key-do-not-use-in-production"  # noqa: S105 -- refused when DEBUG is off
SECRET_KEY = os.environ.get("CONGDAN_SECRET_KEY", "")
if not DEBUG and (
    SECRET_KEY.strip().lower() in PLACEHOLDER_SECRETS
    or SECRET_KEY == DEV_SECRET_KEY
    or len(SECRET_KEY) < 32
):
    raise ImproperlyConfigured(
        "CONGDAN_SECRET_KEY is missing, too short (< 32 characters) or a placeholder, and "
        "CONGDAN_DEBUG is off. Generate one with: "
        "python -c 'import secrets; print(secrets.token_urlsafe(50))'"
    )
if not SECRET_KEY:
    SECRET_KEY = DEV_SECRET_KEY

ALLOWED_HOSTS = env_list("CONGDAN_ALLOWED_HOSTS", "127.0.0.1,localhost,[::1]")
CSRF_TRUSTED_ORIGINS = env_list("CONGDAN_CSRF_TRUSTED_ORIGINS", "")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "ninja",  # serves the API docs' assets locally (no CDN)
    "oauth2_provider",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "axes",
    "congdan.core",
    "congdan.audit",
    "congdan.geo",
    "congdan.registry",
    "congdan.identity",
    "congdan.payments",
    "congdan.wallet",
    "congdan.exchange",
    "congdan.monitoring",
    "congdan.procedures",
    "congdan.portal",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "congdan.core.middleware.RequestIdMiddleware",
    "congdan.core.middleware.ApiMethodNotAllowedMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "congdan.identity.middleware.SessionTrackingMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last, as django-axes asks: turns its lockout signal into our lockout response.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "congdan.urls"
WSGI_APPLICATION = "congdan.wsgi.application"
ASGI_APPLICATION = "congdan.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "congdan.portal.context_processors.site",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------
DEFAULT_SQLITE_PATH = VAR_DIR / "congdan.sqlite3"
DATABASE_URL = os.environ.get("CONGDAN_DATABASE_URL", "").strip()
if DATABASE_URL:
    try:
        _db = dj_database_url.parse(DATABASE_URL, conn_max_age=60, conn_health_checks=True)
    except (ValueError, KeyError) as exc:  # unknown scheme or malformed URL
        raise ImproperlyConfigured(f"CONGDAN_DATABASE_URL is not a valid URL: {exc}") from exc
else:
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    _db = {"ENGINE": "django.db.backends.sqlite3", "NAME": str(DEFAULT_SQLITE_PATH)}

if _db["ENGINE"] == "django.db.backends.sqlite3":
    _db.setdefault("OPTIONS", {}).update(
        {
            # WAL lets readers run while one writer writes; IMMEDIATE takes the write lock
            # at BEGIN so concurrent writers queue (busy timeout) instead of failing.
            "init_command": (
                "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; "
                "PRAGMA foreign_keys=ON; PRAGMA cache_size=-64000;"
            ),
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
        }
    )
    _db["CONN_MAX_AGE"] = 0
    _db.pop("CONN_HEALTH_CHECKS", None)
    _db["CONN_HEALTH_CHECKS"] = False
elif _db["ENGINE"] == "django.db.backends.postgresql":
    _db["ENGINE"] = "django.db.backends.postgresql"
else:
    raise ImproperlyConfigured(
        f"Unsupported database engine {_db['ENGINE']!r}: use sqlite:/// or postgresql://"
    )
_db["ATOMIC_REQUESTS"] = False
_db.setdefault("TEST", {})
DATABASES = {"default": _db}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache: per-process memory by default; CONGDAN_CACHE_URL=redis://… shares it -------
# (login throttling counts per IP in the cache: docs/decisions/0007).
CACHE_URL = os.environ.get("CONGDAN_CACHE_URL", "").strip()
if CACHE_URL and not CACHE_URL.startswith(("redis://", "rediss://", "unix://")):
    raise ImproperlyConfigured("CONGDAN_CACHE_URL must be a redis:// URL")
CACHES = {
    "default": (
        {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": CACHE_URL}
        if CACHE_URL
        else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    )
}

# --- Auth -----------------------------------------------------------------------------
AUTH_USER_MODEL = "core.User"
AUTHENTICATION_BACKENDS = [
    # django-axes first: it refuses an attempt while the account or the IP is locked out.
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
LOGIN_URL = "portal:login"
# The home page sends each account to the first page its role allows (portal.views.home):
# officers to the person search, leaders to the dashboard, the DPO to supervision.
LOGIN_REDIRECT_URL = "portal:home"
LOGOUT_REDIRECT_URL = "portal:login"
PASSWORD_HASHERS = [
    "congdan.core.hashers.Argon2idHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    # OAuth client secrets only (OAUTH2_PROVIDER["CLIENT_SECRET_HASHER"]); see its docstring.
    "congdan.core.hashers.ClientSecretHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 10},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# --- i18n -----------------------------------------------------------------------------
LANGUAGE_CODE = "vi"
LANGUAGES = [("vi", _("Tiếng Việt")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Ho_Chi_Minh"
USE_I18N = True
USE_TZ = True

# --- Static files ---------------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "static"
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # whitenoise expects it to exist
WHITENOISE_USE_FINDERS = DEBUG
STORAGES: dict[str, dict[str, Any]] = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}
MEDIA_ROOT = VAR_DIR / "media"
# Uploaded files (dossier attachments, portraits) go to the filesystem under MEDIA_ROOT by
# default; CONGDAN_S3_BUCKET puts them in an S3-compatible object store instead (MinIO,
# Ceph, AWS) through django-storages: `pip install 'congdan[s3]'` (docs/operations.md).
CONGDAN_S3_BUCKET = os.environ.get("CONGDAN_S3_BUCKET", "")
if CONGDAN_S3_BUCKET:
    STORAGES["default"] = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": CONGDAN_S3_BUCKET,
            "endpoint_url": os.environ.get("CONGDAN_S3_ENDPOINT_URL") or None,
            "region_name": os.environ.get("CONGDAN_S3_REGION") or None,
            "access_key": os.environ.get("CONGDAN_S3_ACCESS_KEY") or None,
            "secret_key": os.environ.get("CONGDAN_S3_SECRET_KEY") or None,
            # Files are personal data: private objects, served only through our views.
            "default_acl": "private",
            "querystring_auth": True,
            "file_overwrite": False,
        },
    }

# --- Security -------------------------------------------------------------------------
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_AGE = 8 * 3600
SESSION_COOKIE_SECURE = env_bool("CONGDAN_SECURE_COOKIES", default=False)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
SECURE_REFERRER_POLICY = "same-origin"

# --- Logging: secrets never logged, personal data masked (core.logging) ---------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"mask": {"()": "congdan.core.logging.MaskPersonalDataFilter"}},
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "plain", "filters": ["mask"]}
    },
    "root": {"handlers": ["console"], "level": os.environ.get("CONGDAN_LOG_LEVEL", "INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        "axes": {"level": "WARNING"},  # one INFO line per login otherwise
    },
}

# --- Login throttling (django-axes; docs/identity.md) ----------------------------------
# A username (ID number) is locked out after AXES_FAILURE_LIMIT failures, an IP address
# after CONGDAN_AXES_IP_FAILURE_LIMIT (identity.lockout), for AXES_COOLOFF_TIME.
AXES_ENABLED = env_bool("CONGDAN_AXES_ENABLED", default=True)
AXES_FAILURE_LIMIT = int(os.environ.get("CONGDAN_LOGIN_FAILURE_LIMIT", "5"))
CONGDAN_AXES_IP_FAILURE_LIMIT = int(os.environ.get("CONGDAN_LOGIN_IP_FAILURE_LIMIT", "30"))
AXES_LOCKOUT_PARAMETERS = ["username"]
AXES_COOLOFF_TIME = float(os.environ.get("CONGDAN_LOGIN_COOLOFF_HOURS", "0.25"))
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "congdan.identity.lockout.lockout_response"
AXES_USERNAME_FORM_FIELD = "username"
AXES_IPWARE_META_PRECEDENCE_ORDER = ["REMOTE_ADDR"]
AXES_ENABLE_ACCESS_FAILURE_LOG = False
AXES_DISABLE_ACCESS_LOG = True  # login history is identity.LoginEvent
AXES_VERBOSE = False
# axes.W006 asks for per-IP lockout in axes itself; the IP has its own larger limit in
# identity.lockout (a per-IP limit of 5 would lock out carrier-grade NATs).
SILENCED_SYSTEM_CHECKS = ["axes.W006"]

# --- OpenID Connect provider (django-oauth-toolkit; docs/identity.md) ----------------
CONGDAN_PUBLIC_URL = os.environ.get("CONGDAN_PUBLIC_URL", "http://127.0.0.1:8000").rstrip("/")
OAUTH2_PROVIDER_APPLICATION_MODEL = "oauth2_provider.Application"
OAUTH2_PROVIDER = {
    "OIDC_ENABLED": True,
    "CLIENT_SECRET_HASHER": "secret_sha256",  # core.hashers.ClientSecretHasher
    # The issuer is read at request time from CONGDAN_PUBLIC_URL by the validator
    # (congdan.identity.oidc); this value is only DOT's fallback.
    "OIDC_ISS_ENDPOINT": CONGDAN_PUBLIC_URL,
    # ID-token keys live in the database (identity.SigningKey, decision 0005) and are
    # used by the validator and our JWKS view. DOT only checks that this is set before it
    # lets an RS256 application be saved; it is never parsed (its views that would are
    # replaced in identity/urls_oidc.py).
    "OIDC_RSA_PRIVATE_KEY": "congdan:identity.SigningKey",
    "OAUTH2_VALIDATOR_CLASS": "congdan.identity.oidc.CongdanOAuth2Validator",
    # Public clients must use PKCE (the validator decides per client); "plain" is refused.
    "PKCE_REQUIRED": True,
    "COMPLIANT_BCP_RFC9700_PKCE_METHOD": True,
    "COMPLIANT_BCP_RFC9700_IMPLICIT_GRANT": True,
    "COMPLIANT_BCP_RFC9700_PASSWORD_GRANT": True,
    "COMPLIANT_BCP_RFC9700_ACCESS_TOKEN_TRANSPORT": True,
    "OIDC_RESPONSE_TYPES_SUPPORTED": ["code"],
    "OIDC_SUBJECT_TYPES_SUPPORTED": ["pairwise", "public"],
    "ACCESS_TOKEN_EXPIRE_SECONDS": 600,
    "ID_TOKEN_EXPIRE_SECONDS": 600,
    "REFRESH_TOKEN_EXPIRE_SECONDS": 30 * 24 * 3600,
    "ROTATE_REFRESH_TOKEN": True,
    "REFRESH_TOKEN_REUSE_PROTECTION": True,
    "AUTHORIZATION_CODE_EXPIRE_SECONDS": 60,
    "OIDC_JWKS_MAX_AGE_SECONDS": 3600,
    "OIDC_RP_INITIATED_LOGOUT_ENABLED": True,
    "OIDC_RP_INITIATED_LOGOUT_ALWAYS_PROMPT": False,
    "OIDC_RP_INITIATED_LOGOUT_STRICT_REDIRECT_URIS": False,
    "SCOPES": {
        "openid": "OpenID Connect",
        "profile": "Họ tên, ngày sinh, giới tính",
        "id_number": "Số định danh cá nhân",
        "address": "Nơi thường trú",
        "phone": "Số điện thoại",
        "household": "Thông tin hộ gia đình",
        "card": "Thẻ căn cước",
        "access_log": "Xem nhật ký ai đã truy cập dữ liệu của bạn",
        "registry:read": "Tra cứu dữ liệu dân cư (hệ thống thành viên)",
        "wallet:issue": "Cấp, thu hồi giấy tờ vào kho dữ liệu của công dân (cơ quan cấp)",
        "wallet:read": "Lấy giấy tờ từ kho dữ liệu của công dân khi được đồng ý",
        "exchange:query": "Khai thác dữ liệu dân cư theo quyền được cấp (tổ chức thành viên)",
    },
    "DEFAULT_SCOPES": ["openid"],
}

# --- Notifications (core.notify) -----------------------------------------------------
# The local outbox keeps messages in the database and shows them at /dev/outbox. It is
# allowed only with DEBUG or CONGDAN_DEMO on; production sets a real gateway backend.
CONGDAN_DEMO = env_bool("CONGDAN_DEMO", default=False)
CONGDAN_NOTIFY_BACKEND = os.environ.get(
    "CONGDAN_NOTIFY_BACKEND", "congdan.core.notify.OutboxBackend"
)
if CONGDAN_NOTIFY_BACKEND == "congdan.core.notify.OutboxBackend" and not (DEBUG or CONGDAN_DEMO):
    raise ImproperlyConfigured(
        "CONGDAN_NOTIFY_BACKEND is the local outbox, which stores one-time codes for display "
        "and is allowed only with CONGDAN_DEBUG=1 or CONGDAN_DEMO=1. Set it to your SMS "
        "gateway backend (docs/identity.md)."
    )
CONGDAN_OUTBOX_VISIBLE = DEBUG or CONGDAN_DEMO

# --- Procedures (procedures app) -----------------------------------------------------
# Directory of the procedure specs, one YAML file per procedure (procedures/*.yaml).
CONGDAN_PROCEDURES_DIR = Path(
    os.environ.get("CONGDAN_PROCEDURES_DIR", PROJECT_DIR / "procedures")
).resolve()
# Days off a province declares beyond the national calendar (ISO dates, comma-separated).
CONGDAN_EXTRA_HOLIDAYS = tuple(
    dt.date.fromisoformat(day) for day in env_list("CONGDAN_EXTRA_HOLIDAYS", "")
)

# --- congdan --------------------------------------------------------------------------
CONGDAN_SITE_NAME = os.environ.get("CONGDAN_SITE_NAME", "Cổng dân cư")
# Searches return at most this many rows per page.
CONGDAN_PAGE_SIZE = 25
# The bare primary-key view used as the benchmark baseline (bench/). Off unless asked for.
CONGDAN_BENCH_ENDPOINTS = env_bool("CONGDAN_BENCH_ENDPOINTS", default=False)

# --- Payments (payments app) -----------------------------------------------------------
# The gateway in use: a dotted path to a class implementing
# congdan.payments.gateways.base.PaymentGateway (docs/payments.md). The built-in sandbox
# moves no money and is allowed only with DEBUG or CONGDAN_DEMO on.
CONGDAN_PAYMENT_SANDBOX = "congdan.payments.gateways.sandbox.SandboxGateway"
CONGDAN_PAYMENT_GATEWAY = os.environ.get("CONGDAN_PAYMENT_GATEWAY", CONGDAN_PAYMENT_SANDBOX)
if CONGDAN_PAYMENT_GATEWAY == CONGDAN_PAYMENT_SANDBOX and not (DEBUG or CONGDAN_DEMO):
    raise ImproperlyConfigured(
        "CONGDAN_PAYMENT_GATEWAY is the sandbox gateway, which moves no money and is allowed "
        "only with CONGDAN_DEBUG=1 or CONGDAN_DEMO=1. Set it to your payment gateway class "
        "(docs/payments.md)."
    )
# HMAC-SHA256 key of the sandbox's signed callbacks; empty: derived from SECRET_KEY with
# the label "congdan.payments.sandbox" (gateways.sandbox).
CONGDAN_PAYMENT_SANDBOX_KEY = os.environ.get("CONGDAN_PAYMENT_SANDBOX_KEY", "")
# The sandbox notifies us server to server (IPN) after the payer acts, as a bank does.
CONGDAN_PAYMENT_SANDBOX_IPN = env_bool("CONGDAN_PAYMENT_SANDBOX_IPN", default=True)
# Minutes a payment (and its gateway transaction) stays payable.
try:
    CONGDAN_PAYMENT_TTL_MINUTES = int(os.environ.get("CONGDAN_PAYMENT_TTL_MINUTES", "15"))
except ValueError as _exc:
    raise ImproperlyConfigured("CONGDAN_PAYMENT_TTL_MINUTES must be a whole number") from _exc
if not 1 <= CONGDAN_PAYMENT_TTL_MINUTES <= 24 * 60:
    raise ImproperlyConfigured("CONGDAN_PAYMENT_TTL_MINUTES must be between 1 and 1440")

# --- Wallet (docs/wallet.md) ---------------------------------------------------------
# Secret from which each citizen's custodial holder key is derived. Empty: derived from
# SECRET_KEY (the demo). Production must set it (at least 32 characters) and keep it:
# changing it breaks the holder binding of every issued document.
WALLET_HOLDER_KEY_SECRET = os.environ.get("CONGDAN_WALLET_HOLDER_KEY_SECRET", "")
if not (DEBUG or CONGDAN_DEMO) and len(WALLET_HOLDER_KEY_SECRET) < 32:
    raise ImproperlyConfigured(
        "CONGDAN_WALLET_HOLDER_KEY_SECRET is missing or shorter than 32 characters. Set a "
        "random secret and keep it: citizens' wallet holder keys are derived from it "
        "(docs/wallet.md)."
    )
# Longest time a share link / QR stays valid, in days.
WALLET_SHARE_MAX_DAYS = 30
# Verifications (verifier page, share links, verify API) per client IP per minute; the
# count lives in the cache (shared across processes with CONGDAN_CACHE_URL).
try:
    WALLET_VERIFY_RATE = int(os.environ.get("CONGDAN_WALLET_VERIFY_RATE", "60"))
except ValueError as _exc:
    raise ImproperlyConfigured("CONGDAN_WALLET_VERIFY_RATE must be a whole number") from _exc
if WALLET_VERIFY_RATE < 1:
    raise ImproperlyConfigured("CONGDAN_WALLET_VERIFY_RATE must be at least 1")
# Largest uploaded scan, in bytes.
WALLET_UPLOAD_MAX_BYTES = int(
    os.environ.get("CONGDAN_WALLET_UPLOAD_MAX_BYTES", str(5 * 1024 * 1024))
)

# --- Data exchange and the access log (docs/exchange.md, docs/access-log.md) ----------


def _int_env(name: str, default: int, low: int, high: int) -> int:
    try:
        value = int(os.environ.get(name, str(default)))
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name} must be a whole number") from exc
    if not low <= value <= high:
        raise ImproperlyConfigured(f"{name} must be between {low} and {high}")
    return value


# X-Road instance of member identifiers (``VN/COM/VCB/ekyc``).
EXCHANGE_INSTANCE = os.environ.get("CONGDAN_EXCHANGE_INSTANCE", "VN")
# Requests per minute per member and service when no RateLimit row says otherwise.
EXCHANGE_DEFAULT_RATE = _int_env("CONGDAN_EXCHANGE_DEFAULT_RATE", 6000, 1, 10_000_000)
# Largest batch verification upload: rows and bytes.
EXCHANGE_BATCH_MAX_ROWS = 100_000
EXCHANGE_BATCH_MAX_BYTES = _int_env(
    "CONGDAN_EXCHANGE_BATCH_MAX_BYTES", 20 * 1024 * 1024, 1024, 1024**3
)
# Webhook deliveries: attempts before giving up, first retry delay (doubling each time).
EXCHANGE_WEBHOOK_ATTEMPTS = _int_env("CONGDAN_EXCHANGE_WEBHOOK_ATTEMPTS", 8, 1, 30)
EXCHANGE_WEBHOOK_BACKOFF_SECONDS = _int_env("CONGDAN_EXCHANGE_WEBHOOK_BACKOFF", 30, 1, 3600)
# Secret the access log's seals are signed with (an Ed25519 key derived from it). Empty:
# derived from SECRET_KEY (development and the demo only).
ACCESS_LOG_SEAL_SECRET = os.environ.get("CONGDAN_ACCESS_LOG_SEAL_SECRET", "")
if not (DEBUG or CONGDAN_DEMO) and len(ACCESS_LOG_SEAL_SECRET) < 32:
    raise ImproperlyConfigured(
        "CONGDAN_ACCESS_LOG_SEAL_SECRET is missing or shorter than 32 characters. Set a "
        "random secret and keep it: the access log's seals are signed with a key derived "
        "from it (docs/access-log.md)."
    )
# Entries are sealed once older than this (seconds): a transaction still open when a
# segment is sealed would otherwise add a row inside a sealed range.
ACCESS_LOG_SEAL_DELAY = _int_env("CONGDAN_ACCESS_LOG_SEAL_DELAY", 120, 0, 86_400)
# Access-log entries are kept this many months (0: for ever).
ACCESS_LOG_RETENTION_MONTHS = _int_env("CONGDAN_ACCESS_LOG_RETENTION_MONTHS", 60, 0, 1200)
# Webhook deliveries to loopback, private or link-local addresses (an internal network):
# refused unless allowed; allowed by default only in debug and demo (local receivers).
EXCHANGE_WEBHOOK_ALLOW_PRIVATE = env_bool(
    "CONGDAN_EXCHANGE_WEBHOOK_ALLOW_PRIVATE", default=DEBUG or CONGDAN_DEMO
)
