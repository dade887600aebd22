"""Settings for the collection dashboard: one file, every knob from the environment.

Defaults are safe for production (DEBUG off, sandbox off, no upstream assumed). Development
switches on what it needs through `.env.development`, which `make run` generates and only
manage.py reads; the test suite through tests/environment.py. Which file fills in the environment
for which process is decided before this module runs (dashboard/configuration.py): this module
reads the environment alone. `.env.example` lists every variable.
"""

import hmac
import secrets
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

import django_stubs_ext
import environ
from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP
from django.utils.translation import gettext_lazy as _

from dashboard.logs import LOG_FORMATS, LOG_LEVELS, logging_config

django_stubs_ext.monkeypatch()  # lets admin and querysets take type parameters at runtime

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()  # the environment only: the entry points fill it in from a file first


def _required_in_production(name: str, development_default: str) -> str:
    """Read a variable that production must set explicitly; development gets a default."""
    value: str = env.str(name, default="")
    if value:
        return value
    if DEBUG:
        return development_default
    raise ImproperlyConfigured(
        f"{name} is not set. Set it in the environment or .env (see .env.example); "
        "for development, run `make dev-config` (`make run` does it)."
    )


DEBUG: bool = env.bool("DEBUG", default=False)
# Development's key comes from .env.development, generated per checkout. DEBUG without one (mypy,
# the benchmarks, a one-off `DEBUG=true` command) gets a random key that dies with the process:
# there is no key published in the code for anyone to sign sessions with.
SECRET_KEY = _required_in_production("SECRET_KEY", secrets.token_urlsafe(50))
ALLOWED_HOSTS: list[str] = env.list("ALLOWED_HOSTS", default=[]) or (
    ["127.0.0.1", "localhost", "[::1]", "testserver"]
    if DEBUG
    else _required_in_production("ALLOWED_HOSTS", "").split(",")
)
PORT: int = env.int("PORT", default=8000)
# The AutoCollect simulator under /sandbox/ (see "The sandbox" below). Off, it is not even
# installed: production gets none of its tables, admin pages or PostgreSQL extension.
SANDBOX_ENABLED: bool = env.bool("SANDBOX_ENABLED", default=DEBUG)

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "axes",
    "django_htmx",
    "django_tasks_db",
    "dashboard",
    "cases",
    "triage",
    *(["sandbox"] if SANDBOX_ENABLED else []),
]

MIDDLEWARE = [
    # First: it sets the request id every later line carries, and times the whole request.
    "dashboard.middleware.RequestLogMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "dashboard.security.PermissionsPolicyMiddleware",
    "dashboard.security.SecurityLogMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "dashboard.middleware.HtmxAwareLoginRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # Keeps, for the same user's next login, what an expired session held (dashboard/resume.py).
    "dashboard.resume.ResumeAfterExpiryMiddleware",
    # After messages (it leaves one) and before the views' login check (which then redirects).
    "dashboard.security.SessionExpiryMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "dashboard.middleware.OrganizationMiddleware",
    # After the organisation and messages: a page of another organisation gets a reload.
    "dashboard.organisation_stamp.OrganizationStampMiddleware",
    "dashboard.middleware.FriendlyNotFoundMiddleware",
    # Last, as django-axes asks: turns a throttled login into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "dashboard.urls"
WSGI_APPLICATION = "dashboard.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.template.context_processors.csp",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "dashboard.context_processors.organizations",
            ],
        },
    },
]

DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}")}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The web process and the task worker write at the same time. WAL lets readers go on beside
    # a writer; IMMEDIATE takes the write lock when a transaction starts, so a waiting writer
    # queues for the busy timeout instead of failing at once with "database is locked" when a
    # read transaction tries to become a write one (which no timeout can save).
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,  # seconds a writer waits for the lock
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        }
    )
# Each worker thread keeps its database connection between requests instead of opening one per
# request (about 5 ms on PostgreSQL, and 15 % of a cached list request's CPU on SQLite), and
# checks it before reuse, so a restarted database costs a reconnect, not an error. At most
# workers x threads connections per web process. 0: close after every request. (The
# development server closes them after each request anyway.)
DATABASES["default"]["CONN_MAX_AGE"] = env.int("DATABASE_CONN_MAX_AGE", default=600)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Sessions, tokens and caches live in the database or the cache, never in a process: many web
# processes on many machines can serve the same users. Local memory is for the demo and tests only.
CACHES = {
    "default": env.cache(
        "CACHE_URL", default=_required_in_production("CACHE_URL", "locmemcache://")
    )
}
# A user's memberships are kept this long in the shared cache (dashboard.middleware
# .user_memberships; changes forget them at once, in every process sharing the cache). 0 reads
# them on every request: the default with the local-memory cache, which other processes
# (manage.py add_member, the task worker) cannot reach to forget them.
MEMBERSHIP_CACHE_SECONDS: int = env.int(
    "MEMBERSHIP_CACHE_SECONDS",
    default=0 if CACHES["default"]["BACKEND"].endswith("LocMemCache") else 300,
)
# Sessions are read from the shared cache and written through to the database (no session query
# on most requests). Only with a cache every process shares: with local memory, a logout in one
# gunicorn worker would leave the session alive in another worker's copy.
SESSION_ENGINE = (
    "django.contrib.sessions.backends.db"
    if CACHES["default"]["BACKEND"].endswith("LocMemCache")
    else "django.contrib.sessions.backends.cached_db"
)

# Background work (the case index's sync, webhook follow-ups) runs on Django's tasks framework,
# stored in the database: `manage.py db_worker` runs it (make run starts one). Several workers on
# PostgreSQL share the queue (SELECT ... FOR UPDATE SKIP LOCKED). See docs/case-index.md.
TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "cases:list"
LOGOUT_REDIRECT_URL = "login"
# django-axes first: it refuses a throttled login before any password is checked.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]

LANGUAGE_CODE = "nb"  # the fallback when the browser asks for neither language
LANGUAGES = [("nb", _("Norwegian Bokmål")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
FORMAT_MODULE_PATH = ["dashboard.formats"]
TIME_ZONE = "Europe/Oslo"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = BASE_DIR / "staticfiles"
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

# Pages run without inline script or style, so the policy needs neither unsafe-inline nor eval.
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF],
    "style-src": [CSP.SELF],
    "img-src": [CSP.SELF, "data:"],
    "connect-src": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
    "form-action": [CSP.SELF],
    "base-uri": [CSP.NONE],
    "object-src": [CSP.NONE],
}
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=not DEBUG)
CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=not DEBUG)
CSRF_TRUSTED_ORIGINS: list[str] = env.list("CSRF_TRUSTED_ORIGINS", default=[])
# Behind a proxy that terminates TLS: it must set X-Forwarded-Proto and drop any a client sent
# (see README, Deployment). The host comes from X-Forwarded-Host only when asked for.
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
USE_X_FORWARDED_HOST: bool = env.bool("USE_X_FORWARDED_HOST", default=False)

# --- Security: HTTPS, sessions, login throttling, error pages (dashboard/security.py) ---
# HTTPS only, by default. Behind a proxy that redirects to HTTPS itself, SECURE_SSL_REDIRECT=false.
# Load balancers probe /healthz and /readyz over plain HTTP: those are never redirected.
SECURE_SSL_REDIRECT: bool = env.bool("SECURE_SSL_REDIRECT", default=not DEBUG)
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$"]
SECURE_HSTS_SECONDS: int = env.int("SECURE_HSTS_SECONDS", default=0 if DEBUG else 31_536_000)
SECURE_HSTS_INCLUDE_SUBDOMAINS: bool = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=True)
# Preloading commits the whole domain to HTTPS in browsers for months: the domain owner's call.
SECURE_HSTS_PRELOAD: bool = env.bool("SECURE_HSTS_PRELOAD", default=False)
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
# What an operator switched off deliberately is not a warning of `check --deploy`.
SILENCED_SYSTEM_CHECKS: list[str] = [
    *([] if SECURE_SSL_REDIRECT else ["security.W008"]),
    *([] if SECURE_HSTS_INCLUDE_SUBDOMAINS else ["security.W005"]),
    *([] if SECURE_HSTS_PRELOAD else ["security.W021"]),
]
# Sessions end after SESSION_IDLE_MINUTES without a request and SESSION_MAX_HOURS after login,
# whichever comes first (dashboard.security.SessionExpiryMiddleware). The cookie and the stored
# session outlive the idle time (up to the longest a session may last), so that the middleware,
# not the browser dropping a cookie, ends an idle session: the login page can then say why, and
# return to the same list (dashboard/resume.py). An idle session is refused all the same.
SESSION_IDLE_MINUTES: int = env.int("SESSION_IDLE_MINUTES", default=30)
SESSION_MAX_HOURS: int = env.int("SESSION_MAX_HOURS", default=12)
SESSION_COOKIE_AGE = SESSION_MAX_HOURS * 3600
# Login throttling (django-axes): after LOGIN_FAILURE_LIMIT failed logins for one user name, or
# LOGIN_FAILURE_LIMIT_PER_ADDRESS from one address (an office's NAT is one address), logins
# from there pause for LOGIN_COOLOFF_MINUTES after the last failure: a cool-off, never a
# permanent lock. Attempts live in the database, which every process shares (a cache could
# evict them under memory pressure and forget an attacker).
LOGIN_FAILURE_LIMIT: int = env.int("LOGIN_FAILURE_LIMIT", default=5)
LOGIN_FAILURE_LIMIT_PER_ADDRESS: int = env.int("LOGIN_FAILURE_LIMIT_PER_ADDRESS", default=20)
LOGIN_COOLOFF_MINUTES: int = env.int("LOGIN_COOLOFF_MINUTES", default=15)
# Proxies in front of the dashboard that append to X-Forwarded-For (0: the client connects
# directly, and the header, which anyone can send, is ignored).
TRUSTED_PROXY_COUNT: int = env.int("TRUSTED_PROXY_COUNT", default=0)
AXES_ENABLED = True
AXES_HANDLER = "dashboard.security.LoginAttemptHandler"
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]  # each on its own, not the pair
AXES_FAILURE_LIMIT = LOGIN_FAILURE_LIMIT
AXES_COOLOFF_TIME = timedelta(minutes=LOGIN_COOLOFF_MINUTES)
AXES_RESET_ON_SUCCESS = False  # a login of one's own must not clear failures on others' names
AXES_CLIENT_IP_CALLABLE = "dashboard.security.client_address"
AXES_LOCKOUT_CALLABLE = "dashboard.security.lockout_response"
AXES_DISABLE_ACCESS_LOG = True  # the security log records logins; no table of them
AXES_VERBOSE = False
# Technical 500 pages (DEBUG) and error reports never show personal values.
DEFAULT_EXCEPTION_REPORTER_FILTER = "dashboard.error_reports.PersonalDataReporterFilter"
DEFAULT_EXCEPTION_REPORTER = "dashboard.error_reports.PersonalDataExceptionReporter"

# --- The sandbox: a seeded AutoCollect simulator served under /sandbox/ (SANDBOX_ENABLED above) ---
SANDBOX_CLIENT_ID: str = env.str("SANDBOX_CLIENT_ID", default="sandbox")
SANDBOX_CLIENT_SECRET: str = env.str("SANDBOX_CLIENT_SECRET", default="sandbox")
SANDBOX_LATENCY_MS: int = env.int("SANDBOX_LATENCY_MS", default=0)
SANDBOX_FAULT: str = env.str("SANDBOX_FAULT", default="")
# The fraction of collection-API answers that fail with a fault drawn at random (bench/soak.py).
SANDBOX_FAULT_RATE: float = env.float("SANDBOX_FAULT_RATE", default=0.0)
if not 0.0 <= SANDBOX_FAULT_RATE <= 1.0:
    raise ImproperlyConfigured(
        f"SANDBOX_FAULT_RATE is {SANDBOX_FAULT_RATE}; it must be between 0 and 1 (0.1: one in ten)."
    )
SANDBOX_BATCH_DELAY_MS: int = env.int("SANDBOX_BATCH_DELAY_MS", default=0)
# Where the sandbox POSTs its webhooks (CASE, CASE_UPDATED, BATCH_COMPLETED), signed with the
# secret; nothing is sent unless both are set. The demo (DEBUG with the embedded sandbox) sends
# them to this dashboard with a secret derived from SECRET_KEY (see the upstream section).
SANDBOX_WEBHOOK_URL: str = env.str("SANDBOX_WEBHOOK_URL", default="")
SANDBOX_WEBHOOK_SECRET: str = env.str("SANDBOX_WEBHOOK_SECRET", default="")

# --- The upstream: Amili AutoCollect ---
# Without an explicit API URL (and with the sandbox on) the dashboard talks to its own sandbox over
# real HTTP, so the demo runs the production code path, timeouts included. Only then do the token
# URL and the credentials default to the sandbox's: anywhere else a forgotten token URL would post
# the real client secret to the sandbox's address, so each one is required, by name.
_sandbox_base = f"http://127.0.0.1:{PORT}/sandbox"
AUTOCOLLECT_USES_EMBEDDED_SANDBOX: bool = SANDBOX_ENABLED and not env.str("AUTOCOLLECT_API_URL", "")


def _upstream_setting(name: str, sandbox_default: str, what: str) -> str:
    """An upstream variable: the embedded sandbox's value when it is in use, else required."""
    value: str = env.str(name, default="")
    if value:
        return value
    if AUTOCOLLECT_USES_EMBEDDED_SANDBOX:
        return sandbox_default
    reason = "the sandbox is off" if not SANDBOX_ENABLED else "AUTOCOLLECT_API_URL is set"
    raise ImproperlyConfigured(
        f"{name} is not set and {reason}. Set it to {what} (see .env.example)."
    )


def _upstream_url(name: str, sandbox_default: str, example: str) -> str:
    """An upstream URL; outside DEBUG it must be HTTPS unless it names this machine.

    The token request carries the client secret and every answer carries personal data, so
    production refuses to send them in clear text over a network.
    """
    url = _upstream_setting(name, sandbox_default, f"the whole URL, e.g. {example}")
    parts = urlsplit(url)
    if (
        DEBUG
        or parts.scheme == "https"
        or (parts.scheme == "http" and parts.hostname in {"localhost", "127.0.0.1", "::1"})
    ):
        return url
    raise ImproperlyConfigured(
        f"{name} must be an https:// URL outside DEBUG (http only to localhost), got {url!r}."
    )


AUTOCOLLECT_API_URL: str = _upstream_url(
    "AUTOCOLLECT_API_URL",
    f"{_sandbox_base}/collection/v1",
    "https://api.staging.amili.no/collection/v1",
)
AUTOCOLLECT_TOKEN_URL: str = _upstream_url(
    "AUTOCOLLECT_TOKEN_URL", f"{_sandbox_base}/token", "https://auth.staging.amili.no/token"
)
AUTOCOLLECT_CLIENT_ID: str = _upstream_setting(
    "AUTOCOLLECT_CLIENT_ID", SANDBOX_CLIENT_ID, "the client id Amili issued"
)
AUTOCOLLECT_CLIENT_SECRET: str = _upstream_setting(
    "AUTOCOLLECT_CLIENT_SECRET", SANDBOX_CLIENT_SECRET, "the client secret Amili issued"
)
# The whole budget of one client call, in seconds: token, every attempt, waits and reading. Keep
# it under the web server's worker timeout, so a slow upstream is our 504, not a proxy's 502.
AUTOCOLLECT_TIMEOUT: float = env.float("AUTOCOLLECT_TIMEOUT", default=10.0)
# How the client spends that budget (plain settings; tests change them with `settings`).
AUTOCOLLECT_MAX_ATTEMPTS = 3  # tries of one request, when the failure is transient
AUTOCOLLECT_BACKOFF_BASE = 0.2  # seconds before the first retry (jittered, doubling)
AUTOCOLLECT_BACKOFF_MAX = 2.0  # seconds: the longest wait between two tries
AUTOCOLLECT_RETRY_AFTER_CAP = 2.0  # seconds: a longer Retry-After is reported, not waited for
AUTOCOLLECT_CONNECT_TIMEOUT = 5.0  # seconds to connect or get a pooled connection, at most
AUTOCOLLECT_MAX_BODY_BYTES = 10 * 1024 * 1024  # a larger answer is refused unread
AUTOCOLLECT_MAX_PAGES = 2000  # pages one walk (the export) reads before it stops
AUTOCOLLECT_TOKEN_REFRESH_MARGIN = 60  # seconds before expiry a token is replaced
AUTOCOLLECT_TOKEN_LOCK_WAIT = 3.0  # seconds to wait for another process's token fetch
# Seconds an idle connection to the upstream stays open for the next call (httpx's default, 5 s,
# would cost a TLS handshake on requests seconds apart). Keep it under the upstream's own idle
# timeout.
AUTOCOLLECT_KEEPALIVE_SECONDS: float = env.float("AUTOCOLLECT_KEEPALIVE_SECONDS", default=60.0)
# Seconds a page read (list, case, debtor) is kept in the shared cache, per organisation and
# query; 0 turns caching off. Every page says when its data was fetched and can refresh it.
AUTOCOLLECT_CACHE_SECONDS: int = env.int("AUTOCOLLECT_CACHE_SECONDS", default=20)
# How many upstream calls one organisation may have in flight; more are refused at once (503,
# Retry-After), so one slow organisation cannot take the others' connections and threads. Per
# process: 6 of the client's 20 pooled connections leaves 14 for everyone else, so two busy
# organisations still leave room. In the whole cluster (shared cache): two processes' worth;
# raise it with the number of processes if the upstream has room. 0 switches a bound off.
AUTOCOLLECT_MAX_IN_FLIGHT_PER_ORGANIZATION: int = env.int(
    "AUTOCOLLECT_MAX_IN_FLIGHT_PER_ORGANIZATION", default=6
)
AUTOCOLLECT_MAX_IN_FLIGHT_PER_ORGANIZATION_CLUSTER: int = env.int(
    "AUTOCOLLECT_MAX_IN_FLIGHT_PER_ORGANIZATION_CLUSTER", default=12
)

# --- Webhooks from the upstream and the local case index (triage/, docs/case-index.md) ---
# The shared secret the upstream signs webhooks with (HMAC-SHA256 of the body). Unset, the
# endpoint answers 503 and the index is kept fresh by the scheduled refresh alone.
AUTOCOLLECT_WEBHOOK_SECRET: str = env.str("AUTOCOLLECT_WEBHOOK_SECRET", default="")
if DEBUG and AUTOCOLLECT_USES_EMBEDDED_SANDBOX:
    # The demo's loop: the embedded sandbox posts its events to this dashboard, both sides
    # signing with one secret made from this checkout's SECRET_KEY (never a published one).
    _demo_webhook_secret = hmac.new(SECRET_KEY.encode(), b"sandbox-webhooks", "sha256").hexdigest()
    AUTOCOLLECT_WEBHOOK_SECRET = AUTOCOLLECT_WEBHOOK_SECRET or _demo_webhook_secret
    SANDBOX_WEBHOOK_SECRET = SANDBOX_WEBHOOK_SECRET or AUTOCOLLECT_WEBHOOK_SECRET
    SANDBOX_WEBHOOK_URL = SANDBOX_WEBHOOK_URL or f"http://127.0.0.1:{PORT}/webhooks/autocollect/"
AUTOCOLLECT_WEBHOOK_MAX_BYTES = 256 * 1024  # a larger body is refused unread (413)
AUTOCOLLECT_WEBHOOK_MAX_AGE = 24 * 3600  # seconds: an older event (by its timeStamp) is a replay
AUTOCOLLECT_WEBHOOK_MAX_SKEW = 300  # seconds an event's timeStamp may be ahead of our clock
AUTOCOLLECT_WEBHOOK_KEY_DAYS = 7  # idempotency keys are kept longer than MAX_AGE: no gap
# Rows of closed or withdrawn cases (and of cases the upstream stopped returning) leave the index
# this many days after they closed or vanished.
CASE_INDEX_RETENTION_DAYS: int = env.int("CASE_INDEX_RETENTION_DAYS", default=90)

# Logging (dashboard/logs.py): one line per record, JSON in production, escaped key=value text in
# development; a request id on every line; the app, security and audit streams apart. No line
# carries a query string or a path: requests are logged by route.
LOG_FORMAT: str = env.str("LOG_FORMAT", default="") or ("text" if DEBUG else "json")
LOG_LEVEL: str = (env.str("LOG_LEVEL", default="") or "INFO").upper()
if LOG_FORMAT not in LOG_FORMATS or LOG_LEVEL not in LOG_LEVELS:
    raise ImproperlyConfigured(
        f"LOG_FORMAT must be one of {', '.join(LOG_FORMATS)} and LOG_LEVEL one of "
        f"{', '.join(LOG_LEVELS)}; got {LOG_FORMAT!r} and {LOG_LEVEL!r}."
    )
LOGGING = logging_config(
    log_format=LOG_FORMAT,
    level=LOG_LEVEL,
    security_file=env.str("SECURITY_LOG_FILE", default=""),
    audit_file=env.str("AUDIT_LOG_FILE", default=""),
)
