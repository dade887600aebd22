"""The shell's own views: health and readiness, switching organisation, the front door."""

import logging
import secrets
from collections.abc import Callable, Mapping
from typing import Final, cast
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required
from django.contrib.auth.forms import AuthenticationForm
from django.contrib.auth.models import User
from django.core.cache import cache
from django.db import connection
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import Resolver404, resolve, reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

# The package exports no way to ask for a token alone; readiness needs just that, with its own
# short deadline, so it uses the client's token function and deadline directly.
from cases.autocollect.auth import access_token
from cases.autocollect.clock import clock
from cases.autocollect.transport import Deadline
from dashboard.middleware import SESSION_ORGANIZATION_KEY, organization_not_required
from dashboard.models import Membership
from dashboard.resume import restore_after_login

logger = logging.getLogger(__name__)

# Organisation ids are the database's 64-bit primary keys.
MIN_ORGANIZATION_ID: Final = 1
MAX_ORGANIZATION_ID: Final = 2**63 - 1

OK: Final = "ok"
ERROR: Final = "error"
# A readiness probe must answer well within a load balancer's own timeout, even when the token
# has to be fetched from a slow upstream.
READINESS_UPSTREAM_SECONDS: Final = 2.0
READINESS_CACHE_SECONDS: Final = 10


@login_not_required
@organization_not_required
@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """Liveness: the process answers. Touches nothing else, so it stays fast and cheap."""
    return JsonResponse({"status": "ok"})


@login_not_required
@organization_not_required
@never_cache
@require_GET
def readyz(request: HttpRequest) -> JsonResponse:
    """Readiness: the database, the shared cache and an upstream token, each with its status.

    200 when all three are "ok", else 503. Only "ok" or "error" is said to whoever asks (it
    needs no login); what failed and why goes to the log, by exception class.
    """
    checks = {
        "database": _check(_database_answers, "database"),
        "cache": _check(_cache_keeps_a_value, "cache"),
        "upstream": _check(_upstream_token_is_at_hand, "upstream"),
    }
    ready = all(status == OK for status in checks.values())
    return JsonResponse(
        {"status": OK if ready else ERROR, "checks": checks}, status=200 if ready else 503
    )


def _check(probe: Callable[[], None], name: str) -> str:
    try:
        probe()
    except Exception as error:  # noqa: BLE001 - a probe reports any failure; it never raises
        logger.warning(
            "readiness: %s failed (%s)", name, type(error).__name__, extra={"check": name}
        )
        return ERROR
    return OK


def _database_answers() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")


def _cache_keeps_a_value() -> None:
    """A write and a read of the shared cache: a key of this probe's own, so concurrent probes
    cannot spoil each other's answer."""
    key, value = f"readyz:{secrets.token_hex(8)}", secrets.token_hex(8)
    cache.set(key, value, timeout=READINESS_CACHE_SECONDS)
    try:
        if cache.get(key) != value:
            raise CacheNotKeepingValues
    finally:
        cache.delete(key)


class CacheNotKeepingValues(Exception):
    """The cache accepted a value and did not give it back."""


def _upstream_token_is_at_hand() -> None:
    """The AutoCollect token, from this process, the shared cache or the token endpoint.

    Fetched the way every page fetches it (one fetch for all concurrent callers, shared through
    the cache), with a short deadline of its own. A valid cached token is enough: readiness asks
    whether this process can reach the upstream, not whether the upstream is well.
    """
    seconds = min(READINESS_UPSTREAM_SECONDS, float(settings.AUTOCOLLECT_TIMEOUT))
    access_token(Deadline(ends_at=clock().monotonic() + seconds, budget=seconds))


class LoginView(auth_views.LoginView):
    """Django's login; after an expired session, the same user finds their place again."""

    redirect_authenticated_user = True

    def form_valid(self, form: AuthenticationForm) -> HttpResponse:
        response = super().form_valid(form)
        restore_after_login(self.request.session, form.get_user())
        return response


def home(request: HttpRequest) -> HttpResponseRedirect:
    return redirect("cases:list")


@organization_not_required
@require_POST
def switch_organization(request: HttpRequest) -> HttpResponse:
    """Choose another of the user's organisations; one without a membership is refused.

    Lands on the page the switch was made from, with the filters that mean the same in every
    organisation (see `same_list_elsewhere`), or on an organisation-neutral address the form
    names (`next`: the 404 page's offer to open the case in the organisation that has it).
    """
    organization_id = _organization_id(request.POST.get("organization", ""))
    user_id = cast(User, request.user).pk  # authenticated: a real User
    membership = (
        Membership.objects.filter(user_id=user_id, organization_id=organization_id).first()
        if organization_id is not None
        else None
    )
    if membership is None:
        return render(request, "no_organization.html", {"refused_switch": True}, status=403)
    request.session[SESSION_ORGANIZATION_KEY] = membership.organization_id
    next_url = request.POST.get("next", "")
    if url_has_allowed_host_and_scheme(next_url, allowed_hosts={request.get_host()}):
        return redirect(next_url)
    landing, dropped = same_list_elsewhere(request.headers.get("Referer", ""), request)
    if dropped:
        messages.info(
            request,
            _(
                "Your search terms, customer numbers and invoice ids were not kept: they "
                "belong to the other organisation's debtors. The other filters still apply."
            ),
        )
    return redirect(landing)


# The list pages' filters that mean the same in every organisation. The others name one
# organisation's debtors (search terms, customer numbers, invoice ids, and the session
# references that stand for them) or one organisation's pages (page tokens, page numbers, a
# selected case), and are dropped.
KEPT_WHEN_SWITCHING: Final[Mapping[str, frozenset[str]]] = {
    "cases:list": frozenset({"status", "type", "from", "to", "size"}),
    "triage:queue": frozenset({"queue", "type", "sort", "size"}),
}
# Dropped filters the user typed, and is told about; page tokens and selections go silently.
TYPED_FILTERS: Final = frozenset({"q", "qref", "customer", "customerref", "invoice", "invoiceref"})


def same_list_elsewhere(referer: str, request: HttpRequest) -> tuple[str, bool]:
    """Where a switch made from `referer` lands: the same list with the filters that still make
    sense, or the case list (a case or customer number belongs to one organisation). Also says
    whether filters the user typed were dropped."""
    fallback = reverse("cases:list")
    if not url_has_allowed_host_and_scheme(referer, allowed_hosts={request.get_host()}):
        return fallback, False
    address = urlsplit(referer)
    try:
        view_name = resolve(address.path).view_name
    except Resolver404:
        return fallback, False
    kept_names = KEPT_WHEN_SWITCHING.get(view_name)
    if kept_names is None:
        return fallback, False
    parameters = QueryDict(address.query)
    kept = QueryDict(mutable=True)
    for name in kept_names:
        if value := parameters.get(name):
            kept[name] = value
    dropped = any(parameters.get(name) for name in TYPED_FILTERS)
    path = reverse(view_name)
    return (f"{path}?{kept.urlencode()}" if kept else path), dropped


def _organization_id(value: str) -> int | None:
    """The posted organisation id, if it can be one: the database refuses ids beyond 64 bits."""
    try:
        organization_id = int(value)
    except ValueError:
        return None
    return (
        organization_id if MIN_ORGANIZATION_ID <= organization_id <= MAX_ORGANIZATION_ID else None
    )
