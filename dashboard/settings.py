"""Settings for the collection dashboard: one file, every knob from the environment.

Defaults are safe for production (DEBUG off, sandbox off). `make run` and the test suite switch on
what development needs through environment variables; `.env.example` lists them all.
"""

from pathlib import Path

import django_stubs_ext
import environ
from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP
from django.utils.translation import gettext_lazy as _

django_stubs_ext.monkeypatch()  # lets admin and querysets take type parameters at runtime

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
if (BASE_DIR / ".env").is_file():
    env.read_env(BASE_DIR / ".env")


def _required_in_production(name: str, development_default: str) -> str:
    """Read a variable that production must set explicitly; development gets a default."""
    value: str = env.str(name, default="")
    if value:
        return value
    if DEBUG:
        return development_default
    raise ImproperlyConfigured(
        f"{name} is not set. Set it in the environment (see .env.example), "
        "or set DEBUG=true for local development."
    )


DEBUG: bool = env.bool("DEBUG", default=False)
SECRET_KEY = _required_in_production("SECRET_KEY", "django-insecure-development-only-key")
ALLOWED_HOSTS: list[str] = env.list("ALLOWED_HOSTS", default=[]) or (
    ["127.0.0.1", "localhost", "[::1]", "testserver"]
    if DEBUG
    else _required_in_production("ALLOWED_HOSTS", "").split(",")
)
PORT: int = env.int("PORT", default=8000)

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_htmx",
    "dashboard",
    "cases",
    "sandbox",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "dashboard.middleware.QuietRequestLogMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "dashboard.middleware.HtmxAwareLoginRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "dashboard.middleware.OrganizationMiddleware",
    "dashboard.middleware.FriendlyNotFoundMiddleware",
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
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Sessions, tokens and caches live in the database or the cache, never in a process: many web
# processes on many machines can serve the same users. Local memory is for the demo and tests only.
CACHES = {
    "default": env.cache(
        "CACHE_URL", default=_required_in_production("CACHE_URL", "locmemcache://")
    )
}
SESSION_ENGINE = "django.contrib.sessions.backends.db"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "cases:list"
LOGOUT_REDIRECT_URL = "login"

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
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# --- The sandbox: a seeded AutoCollect simulator served under /sandbox/ ---
SANDBOX_ENABLED: bool = env.bool("SANDBOX_ENABLED", default=DEBUG)
SANDBOX_CLIENT_ID: str = env.str("SANDBOX_CLIENT_ID", default="sandbox")
SANDBOX_CLIENT_SECRET: str = env.str("SANDBOX_CLIENT_SECRET", default="sandbox")
SANDBOX_LATENCY_MS: int = env.int("SANDBOX_LATENCY_MS", default=0)
SANDBOX_FAULT: str = env.str("SANDBOX_FAULT", default="")
SANDBOX_BATCH_DELAY_MS: int = env.int("SANDBOX_BATCH_DELAY_MS", default=0)

# --- The upstream: Amili AutoCollect ---
# Without an explicit API URL the dashboard talks to its own sandbox over real HTTP, so the demo
# runs the production code path, timeouts included.
_sandbox_base = f"http://127.0.0.1:{PORT}/sandbox"
AUTOCOLLECT_USES_EMBEDDED_SANDBOX: bool = SANDBOX_ENABLED and not env.str("AUTOCOLLECT_API_URL", "")
AUTOCOLLECT_API_URL: str = env.str("AUTOCOLLECT_API_URL", default="") or (
    f"{_sandbox_base}/collection/v1" if SANDBOX_ENABLED else ""
)
if not AUTOCOLLECT_API_URL:
    raise ImproperlyConfigured(
        "AUTOCOLLECT_API_URL is not set and the sandbox is off. Set it to the AutoCollect base, "
        "e.g. https://api.staging.amili.no/collection/v1 (see .env.example)."
    )
AUTOCOLLECT_TOKEN_URL: str = env.str("AUTOCOLLECT_TOKEN_URL", default=f"{_sandbox_base}/token")
AUTOCOLLECT_CLIENT_ID: str = env.str("AUTOCOLLECT_CLIENT_ID", default=SANDBOX_CLIENT_ID)
AUTOCOLLECT_CLIENT_SECRET: str = env.str("AUTOCOLLECT_CLIENT_SECRET", default=SANDBOX_CLIENT_SECRET)
AUTOCOLLECT_TIMEOUT: float = env.float("AUTOCOLLECT_TIMEOUT", default=10.0)

# Request logs name the path only: query strings can carry search terms about people.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "loggers": {
        "django.server": {"handlers": [], "propagate": False},
        "django.request": {"handlers": ["console"], "level": "ERROR", "propagate": False},
        "dashboard.requests": {"handlers": ["console"], "level": "INFO", "propagate": False},
        "cases": {"handlers": ["console"], "level": "INFO", "propagate": False},
    },
}
