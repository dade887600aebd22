"""Request plumbing: the request log, login for every page, the organisation of a request."""

import logging
import secrets
import time
from collections.abc import Callable, Iterable, Iterator
from typing import Any, Final, cast
from urllib.parse import quote

from django.conf import settings
from django.contrib.auth.middleware import LoginRequiredMiddleware
from django.contrib.auth.models import User
from django.core.cache import cache
from django.db import transaction
from django.http import (
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseBase,
    StreamingHttpResponse,
)
from django.shortcuts import render
from django.urls import reverse
from django.utils.functional import LazyObject, empty
from django_htmx.http import HttpResponseClientRedirect

from dashboard.logs import (
    RequestContext,
    new_request_id,
    request_context,
    request_id_from_header,
    route_of,
)
from dashboard.models import Membership, Organization

request_log = logging.getLogger("dashboard.requests")

REQUEST_ID_HEADER: Final = "X-Request-ID"
STATIC_ROUTE: Final = "<static>"  # WhiteNoise answers these before any URL pattern is tried
PROBE_ROUTES: Final = frozenset({"healthz", "readyz"})  # logged at DEBUG while they succeed

SESSION_ORGANIZATION_KEY = "organization_id"
# Generations outlive the membership entries (settings.MEMBERSHIP_CACHE_SECONDS) by far.
MEMBERSHIP_GENERATION_SECONDS: Final = 24 * 3600

ViewFunc = Callable[..., HttpResponseBase]


def organization_not_required[V: ViewFunc](view: V) -> V:
    """Mark a view that works without an organisation (login, logout, health, the sandbox)."""
    view.organization_not_required = True  # type: ignore[attr-defined]
    return view


class RequestLogMiddleware:
    """One log line per request; its request id on every line it causes and on the response.

    The line names the route (the URL pattern, e.g. `cases/<int:case_number>/`), never the path
    or the query string: both can hold personal data. It carries the status, the duration, the
    upstream calls and their time, and the organisation and user ids. The request id is the
    client's or proxy's X-Request-ID when that is a plain short token, else a new one; it goes
    back in the response's X-Request-ID. First in MIDDLEWARE, so it times and tags everything,
    redirects and static files included. A streamed answer (the export) is logged when its last
    chunk is sent, with the upstream calls made while streaming.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        started = time.perf_counter()
        incoming = request_id_from_header(request.headers.get(REQUEST_ID_HEADER))
        context = RequestContext(request_id=incoming or new_request_id())
        request.request_id = context.request_id  # type: ignore[attr-defined]  # for late lines
        with request_context(context):
            response = self.get_response(request)
        response[REQUEST_ID_HEADER] = context.request_id
        finish = _RequestLogLine(request, response, context, started)
        if isinstance(response, StreamingHttpResponse) and not response.is_async:
            chunks = cast(Iterator[bytes], response.streaming_content)  # not is_async: sync
            response.streaming_content = _StreamInContext(chunks, finish)
        else:
            finish()
        return response


class _RequestLogLine:
    """Write a request's line, once, in its context."""

    def __init__(
        self,
        request: HttpRequest,
        response: HttpResponseBase,
        context: RequestContext,
        started: float,
    ) -> None:
        self.request, self.response, self.context, self.started = (
            request,
            response,
            context,
            started,
        )
        self.written = False

    def __call__(self) -> None:
        if self.written:
            return
        self.written = True
        fields = self._fields()
        # A load balancer asks every few seconds: its answers only matter when they fail.
        quiet = fields["route"] in PROBE_ROUTES and self.response.status_code < 400
        with request_context(self.context):
            request_log.log(logging.DEBUG if quiet else logging.INFO, "request", extra=fields)

    def _fields(self) -> dict[str, object]:
        request, context = self.request, self.context
        organization = getattr(request, "organization", None)
        return {
            "method": request.method,
            "route": _route(request),
            "status": self.response.status_code,
            "duration_ms": round((time.perf_counter() - self.started) * 1000, 1),
            "upstream_calls": context.upstream_calls,
            "upstream_ms": round(context.upstream_ms, 1),
            "organization_id": organization.pk if organization is not None else None,
            "user_id": _known_user_id(request),
        }


class _StreamInContext:
    """A streamed body whose chunks are made in the request's context; logged when closed.

    The WSGI server closes the response after the last chunk (or when the client goes away), and
    Django's response closes its content then: that is when the request is over.
    """

    def __init__(self, chunks: Iterable[bytes], finish: _RequestLogLine) -> None:
        self.chunks, self.finish = chunks, finish

    def __iter__(self) -> Iterator[bytes]:
        iterator = iter(self.chunks)
        while True:
            with request_context(self.finish.context):
                chunk = next(iterator, None)
            if chunk is None:
                return
            yield chunk

    def close(self) -> None:
        self.finish()


def _route(request: HttpRequest) -> str:
    if request.resolver_match is None and request.path_info.startswith(settings.STATIC_URL):
        return STATIC_ROUTE
    return route_of(request)


def _known_user_id(request: HttpRequest) -> int | None:
    """The user's id if the request already looked the user up; logging never costs a query."""
    user = getattr(request, "user", None)
    if user is None or (isinstance(user, LazyObject) and user._wrapped is empty):
        return None
    return cast(int | None, user.pk) if user.is_authenticated else None


class HtmxAwareLoginRequiredMiddleware(LoginRequiredMiddleware):
    """An expired session on an HTMX request sends the whole page to login, not into a table."""

    def handle_no_permission(  # type: ignore[override]  # a client redirect is no HTTP redirect
        self, request: HttpRequest, view_func: ViewFunc
    ) -> HttpResponse:
        if getattr(request, "htmx", False):
            current = request.htmx.current_url_abs_path or "/"  # type: ignore[attr-defined]
            login_url = f"{reverse('login')}?{self.get_redirect_field_name(view_func)}="
            return HttpResponseClientRedirect(login_url + quote(current, safe="/"))
        return super().handle_no_permission(request, view_func)


class OrganizationMiddleware:
    """Put the user's chosen organisation on the request, checked against their memberships.

    The session remembers which organisation a user chose; the choice is re-checked against the
    memberships on every request, so a removed membership takes effect at once. Nothing in the
    request (parameter, header, form field) can name the organisation.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        request.organization = None  # type: ignore[attr-defined]
        request.membership = None  # type: ignore[attr-defined]
        request.memberships = []  # type: ignore[attr-defined]  # the header's switcher reads it
        if request.user.is_authenticated:
            request.memberships = user_memberships(request)  # type: ignore[attr-defined]
            membership = chosen_membership(request, request.memberships)  # type: ignore[attr-defined]
            if membership is not None:
                request.membership = membership  # type: ignore[attr-defined]
                request.organization = membership.organization  # type: ignore[attr-defined]
        return self.get_response(request)

    def process_view(
        self,
        request: HttpRequest,
        view_func: ViewFunc,
        view_args: tuple[Any, ...],
        view_kwargs: dict[str, Any],
    ) -> HttpResponseBase | None:
        match = request.resolver_match
        needs_organization = (
            getattr(view_func, "login_required", True)
            and not getattr(view_func, "organization_not_required", False)
            and not (match and match.namespace == "admin")  # staff tooling has its own checks
        )
        if needs_organization and request.user.is_authenticated and not request.organization:  # type: ignore[attr-defined]
            return render(request, "no_organization.html", status=403)
        return None


def user_memberships(request: HttpRequest) -> list[Membership]:
    """All the logged-in user's memberships, with their organisations.

    From the shared cache when it holds them for the user's current generation, else one query
    (whose result is kept). Why: reading them was one of the two queries every page made, about
    a fifth of a cached list request's CPU, and a round trip to PostgreSQL. A change still takes
    effect on the next request: saving or deleting a membership or an organisation gives every
    user it concerns a new generation (forget_memberships, connected in
    dashboard.security.connect_signals), so no process uses the old list again; an entry stores
    the generation read before its query, so a list read while a change was being made is not
    used either.
    """
    user_id = cast(User, request.user).pk  # authenticated: a real User
    seconds = int(settings.MEMBERSHIP_CACHE_SECONDS)
    if seconds <= 0:
        return _read_memberships(user_id)
    generation_key, entry_key = _membership_keys(user_id)
    found = cache.get_many([generation_key, entry_key])
    generation = found.get(generation_key)
    if not isinstance(generation, str):
        cache.add(generation_key, secrets.token_hex(8), timeout=MEMBERSHIP_GENERATION_SECONDS)
        generation = cache.get(generation_key)
    entry = found.get(entry_key)
    if isinstance(entry, tuple) and len(entry) == 2 and entry[0] == generation:
        return list(entry[1])
    memberships = _read_memberships(user_id)
    if isinstance(generation, str):
        cache.set(entry_key, (generation, memberships), timeout=seconds)
    return memberships


def _read_memberships(user_id: int) -> list[Membership]:
    return list(Membership.objects.filter(user_id=user_id).select_related("organization"))


def forget_memberships(user_ids: Iterable[int]) -> None:
    """Make these users' next requests read their memberships from the database.

    Now, and again when the change's transaction commits: a request that read the generation
    renewed now, and the database before the commit, stored the old list under it.
    """
    users = list(user_ids)

    def forget() -> None:
        cache.set_many(
            {_membership_keys(user_id)[0]: secrets.token_hex(8) for user_id in users},
            timeout=MEMBERSHIP_GENERATION_SECONDS,
        )

    forget()
    transaction.on_commit(forget)


def _membership_keys(user_id: int) -> tuple[str, str]:
    return f"dashboard:memberships:{user_id}:generation", f"dashboard:memberships:{user_id}"


def membership_changed(sender: object, instance: Membership, **kwargs: object) -> None:
    """post_save/post_delete of a Membership: its user's list is read again."""
    forget_memberships([instance.user_id])


def organization_changed(sender: object, instance: Organization, **kwargs: object) -> None:
    """post_save of an Organization (its name is in the lists): its members' lists are read
    again. A deleted organisation's memberships are deleted first, each forgetting its user."""
    forget_memberships(
        Membership.objects.filter(organization=instance).values_list("user_id", flat=True)
    )


def chosen_membership(request: HttpRequest, memberships: list[Membership]) -> Membership | None:
    """The membership for the session's chosen organisation, else the user's first one."""
    chosen = request.session.get(SESSION_ORGANIZATION_KEY)
    for membership in memberships:
        if membership.organization_id == chosen:
            return membership
    return memberships[0] if memberships else None


class FriendlyNotFoundMiddleware:
    """A view's "no such case" shows the product's 404 page, in development too.

    With DEBUG on, Django would answer a view's Http404 with its technical page; the demo runs
    with DEBUG on, and a missing or foreign case is a state users meet, not a developer's error.
    URLs that match no route still get the technical page in development.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if isinstance(exception, Http404):
            return render(request, "404.html", status=404)
        return None
