"""Security plumbing: the security log, session lifetimes, login throttling, headers, error pages.

- The security log (logger ``dashboard.security``): logins, failed logins, lockouts, logouts and
  session expiry, refused requests (403) and identification-number reveals. One line per event,
  ``event=<name> key=value ...``, every value escaped so no input can forge a line. Never a
  password, a token or a revealed number; a user is named by id, and a user name typed at a
  failed login only by a keyed fingerprint (people type passwords and e-mail addresses into the
  user name field).
- Sessions end after a time without requests (SESSION_IDLE_MINUTES) and a time after login
  (SESSION_MAX_HOURS), whichever comes first: SessionExpiryMiddleware.
- Login throttling is django-axes; this module gives it the client address, the per-address limit
  beside the per-user-name one, and the lockout page.
- PermissionsPolicyMiddleware denies the browser features the dashboard never uses.
- Technical error pages and error reports keep personal values out: dashboard/error_reports.py
  (its own module: Django imports it while configuring logging, before any model may load).
"""

import hmac
import ipaddress
import json
import logging
import math
import re
import time
from collections.abc import Callable, Mapping
from datetime import timedelta
from typing import Any, Final

from axes.handlers.database import AxesDatabaseHandler
from axes.signals import user_locked_out
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.models import AbstractBaseUser, User
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.contrib.sessions.backends.base import SessionBase
from django.core.exceptions import PermissionDenied
from django.db.models import Sum
from django.db.models.signals import post_delete, post_save
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _

security_log = logging.getLogger("dashboard.security")

# --- The security log -------------------------------------------------------------------------

_PLAIN_VALUE: Final = re.compile(r"[A-Za-z0-9_.:/@+-]{1,200}")


def _log_value(value: object) -> str:
    """A value as it may stand in a log line: plain, or quoted with every control escaped."""
    text = "-" if value is None or value == "" else str(value)
    if _PLAIN_VALUE.fullmatch(text):
        return text
    return json.dumps(text[:200], ensure_ascii=True)  # \n, \r, \0, U+2028... become escapes


def log_security_event(
    event: str, fields: Mapping[str, object], *, level: int = logging.INFO
) -> None:
    """One line on the security log: the event's name, then its fields in the order given."""
    parts = [f"event={event}", *(f"{name}={_log_value(value)}" for name, value in fields.items())]
    security_log.log(level, "%s", " ".join(parts))


def client_address(request: HttpRequest) -> str | None:
    """The client's IP address: REMOTE_ADDR, or behind TRUSTED_PROXY_COUNT proxies the address
    the outermost of them saw.

    Each proxy appends the address it was connected from to X-Forwarded-For, so with N trusted
    proxies the client is the N-th entry from the right; anything further left was sent by the
    client and proves nothing. Without trusted proxies the header is ignored: anyone could
    write it to spread their failed logins over invented addresses.
    """
    remote: str = request.META.get("REMOTE_ADDR", "")
    proxies: int = settings.TRUSTED_PROXY_COUNT
    candidate = remote
    if proxies > 0:
        forwarded = [
            part.strip()
            for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")
            if part.strip()
        ]
        if len(forwarded) >= proxies:
            candidate = forwarded[-proxies]
    for address in (candidate, remote):
        try:
            return str(ipaddress.ip_address(address))
        except ValueError:
            continue
    return None


def user_name_fingerprint(user_name: object) -> str:
    """A short keyed digest of a typed user name: repeated attempts on one name can be matched
    in the log without the log holding what was typed."""
    digest = hmac.new(settings.SECRET_KEY.encode(), str(user_name).encode(), "sha256")
    return digest.hexdigest()[:16]


def _request_fields(request: HttpRequest | None) -> dict[str, object]:
    if request is None:
        return {}
    match = getattr(request, "resolver_match", None)
    return {"address": client_address(request), "route": match.view_name if match else None}


def _user_id(user: object) -> object:
    return getattr(user, "pk", None) if getattr(user, "is_authenticated", False) else None


# --- Sessions: idle and absolute expiry ---------------------------------------------------------

SESSION_LOGIN_AT: Final = "security.login_at"  # seconds since the epoch, set at login
SESSION_SEEN_AT: Final = "security.seen_at"  # the last recorded request, at most a minute old
# Recording every request would write the session on every request; once a minute is enough
# for an idle limit counted in minutes.
ACTIVITY_RECORD_INTERVAL: Final = 60
LOGOUT_REASON_ATTRIBUTE: Final = "_security_logout_reason"


def _now() -> float:
    return time.time()


def _record_login(
    sender: object, request: HttpRequest | None, user: AbstractBaseUser, **kwargs: object
) -> None:
    if request is not None and hasattr(request, "session"):
        now = int(_now())
        request.session[SESSION_LOGIN_AT] = now
        request.session[SESSION_SEEN_AT] = now
    log_security_event("login", {"user_id": user.pk, **_request_fields(request)})


def session_end_reason(session: SessionBase, now: float) -> str | None:
    """Why a logged-in session must end now ("idle", "max_age", "no_login_time"), or None."""
    login_at, seen_at = session.get(SESSION_LOGIN_AT), session.get(SESSION_SEEN_AT)
    if not isinstance(login_at, int) or not isinstance(seen_at, int):
        return "no_login_time"  # made before this check existed, or not by a login
    if now - login_at >= settings.SESSION_MAX_HOURS * 3600:
        return "max_age"
    if now - seen_at >= settings.SESSION_IDLE_MINUTES * 60:
        return "idle"
    return None


class SessionExpiryMiddleware:
    """Log out a session that has been idle too long or has lived too long since login.

    Runs before the views' login check, so an expired session meets it as a logged-out request:
    a page redirects to the login page, an htmx request gets HX-Redirect there, and the login
    page says why (a message). Must come after MessageMiddleware and AuthenticationMiddleware.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        if request.user.is_authenticated:
            now = _now()
            reason = session_end_reason(request.session, now)
            if reason is not None:
                _end_session(request, reason)
            elif now - request.session[SESSION_SEEN_AT] >= ACTIVITY_RECORD_INTERVAL:
                request.session[SESSION_SEEN_AT] = int(now)
        return self.get_response(request)


def _end_session(request: HttpRequest, reason: str) -> None:
    setattr(request, LOGOUT_REASON_ATTRIBUTE, reason)
    logout(request)  # flushes the session on the server; logs the logout with the reason
    if reason == "idle":
        text = _("You were logged out after %(minutes)d minutes without activity.") % {
            "minutes": settings.SESSION_IDLE_MINUTES
        }
    else:
        text = _("Your session has ended. Log in again to go on.")
    messages.info(request, text)


def _record_logout(
    sender: object, request: HttpRequest | None, user: AbstractBaseUser | None, **kwargs: object
) -> None:
    reason = getattr(request, LOGOUT_REASON_ATTRIBUTE, "user")
    event = "logout" if reason == "user" else "session_expired"
    fields = {"user_id": _user_id(user), "reason": reason, **_request_fields(request)}
    log_security_event(event, fields)


# --- Login failures and throttling (django-axes) ------------------------------------------------


def _record_login_failure(
    sender: object,
    credentials: dict[str, Any],
    request: HttpRequest | None = None,
    **kwargs: object,
) -> None:
    user_name = credentials.get("username")
    known = (
        User.objects.filter(username=user_name).values_list("pk", flat=True).first()
        if isinstance(user_name, str)
        else None
    )
    fields = {
        "user_id": known,
        "user_name_fingerprint": user_name_fingerprint(user_name) if known is None else None,
        **_request_fields(request),
    }
    log_security_event("login_failed", fields, level=logging.WARNING)


def _record_lockout(
    sender: object,
    request: HttpRequest | None,
    username: object = None,
    ip_address: object = None,
    **kwargs: object,
) -> None:
    fields = {
        "user_name_fingerprint": user_name_fingerprint(username),
        "cool_off_minutes": settings.LOGIN_COOLOFF_MINUTES,
        **_request_fields(request),
    }
    log_security_event("login_locked_out", fields, level=logging.WARNING)


class LoginAttemptHandler(AxesDatabaseHandler):  # type: ignore[misc]  # axes is untyped
    """django-axes' database handler with a limit per user name and a higher one per address.

    Axes compares one failure count with one limit. One address may be an office behind one
    NAT, where colleagues' typos add up, so the address gets its own, larger limit
    (LOGIN_FAILURE_LIMIT_PER_ADDRESS): the count reported for the address is scaled to the
    user name's limit. Requires AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"].
    """

    def get_failures(self, request: HttpRequest, credentials: dict[str, Any] | None = None) -> int:
        by_name, by_address = (
            attempts.aggregate(total=Sum("failures_since_start"))["total"] or 0
            for attempts in self.get_user_attempts(request, credentials)
        )
        failures: int = by_name
        if by_address >= settings.LOGIN_FAILURE_LIMIT_PER_ADDRESS:
            failures = max(failures, settings.AXES_FAILURE_LIMIT)
        return failures


def lockout_response(
    request: HttpRequest, original_response: object = None, credentials: object = None
) -> HttpResponse:
    """The page for a throttled login: when to try again, nothing about who (429)."""
    cool_off = timedelta(minutes=settings.LOGIN_COOLOFF_MINUTES)
    context = {
        "cool_off_minutes": settings.LOGIN_COOLOFF_MINUTES,
        "try_again_at": timezone.localtime(timezone.now() + cool_off),
    }
    response = render(request, "registration/locked_out.html", context, status=429)
    response["Retry-After"] = str(math.ceil(cool_off.total_seconds()))
    return response


# --- Refused requests ---------------------------------------------------------------------------

REFUSAL_ATTRIBUTE: Final = "_security_refusal"


# The pages where a POST that succeeds shows an identification number (cases.views: the reveal
# is the only POST these two views answer with 200).
REVEAL_ROUTES: Final = frozenset({"cases:detail", "cases:debtor"})


class SecurityLogMiddleware:
    """Log every refused request (403): a role without the right, a foreign organisation, a
    failed CSRF check; and every identification number shown. Names the route, never the path,
    which can hold customer numbers."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        response = self.get_response(request)
        if response.status_code == 403:
            organization = getattr(request, "organization", None)
            fields = {
                "user_id": _user_id(getattr(request, "user", None)),
                "organization_id": getattr(organization, "pk", None),
                "method": request.method,
                "reason": getattr(request, REFUSAL_ATTRIBUTE, "forbidden"),
                **_request_fields(request),
            }
            log_security_event("refused", fields, level=logging.WARNING)
        elif response.status_code == 200 and request.method == "POST":
            match = getattr(request, "resolver_match", None)
            if match is not None and match.view_name in REVEAL_ROUTES:
                log_identification_reveal(request, case_number=match.kwargs.get("case_number"))
        return response

    def process_exception(self, request: HttpRequest, exception: Exception) -> None:
        if isinstance(exception, PermissionDenied):
            setattr(request, REFUSAL_ATTRIBUTE, type(exception).__name__)


def log_identification_reveal(request: HttpRequest, *, case_number: object = None) -> None:
    """An identification number was shown: who, in which organisation, on which case. The
    number itself and the debtor's details never reach the log."""
    organization = getattr(request, "organization", None)
    fields = {
        "user_id": _user_id(getattr(request, "user", None)),
        "organization_id": getattr(organization, "pk", None),
        "case": case_number,
        **_request_fields(request),
    }
    log_security_event("identification_revealed", fields)


def connect_signals() -> None:
    """Called once from DashboardConfig.ready()."""
    user_logged_in.connect(_record_login, dispatch_uid="dashboard.security.login")
    user_logged_out.connect(_record_logout, dispatch_uid="dashboard.security.logout")
    user_login_failed.connect(_record_login_failure, dispatch_uid="dashboard.security.failed")
    user_locked_out.connect(_record_lockout, dispatch_uid="dashboard.security.locked_out")
    # A cached membership list (dashboard.middleware.user_memberships) is forgotten when it
    # changes, in every process that shares the cache: membership changes apply at once.
    from dashboard.middleware import membership_changed, organization_changed
    from dashboard.models import Membership, Organization

    post_save.connect(membership_changed, sender=Membership, dispatch_uid="membership.saved")
    post_delete.connect(membership_changed, sender=Membership, dispatch_uid="membership.deleted")
    post_save.connect(organization_changed, sender=Organization, dispatch_uid="organization.saved")


# --- Headers ------------------------------------------------------------------------------------

# Browser features no page of the dashboard uses; denied, so injected content cannot use them.
DENIED_BROWSER_FEATURES: Final = (
    "accelerometer",
    "autoplay",
    "camera",
    "display-capture",
    "encrypted-media",
    "fullscreen",
    "geolocation",
    "gyroscope",
    "hid",
    "idle-detection",
    "magnetometer",
    "microphone",
    "midi",
    "payment",
    "picture-in-picture",
    "publickey-credentials-get",
    "screen-wake-lock",
    "serial",
    "usb",
    "xr-spatial-tracking",
)
PERMISSIONS_POLICY: Final = ", ".join(f"{feature}=()" for feature in DENIED_BROWSER_FEATURES)


class PermissionsPolicyMiddleware:
    """Send Permissions-Policy on every response, static files included."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        response = self.get_response(request)
        response.headers.setdefault("Permissions-Policy", PERMISSIONS_POLICY)
        return response
