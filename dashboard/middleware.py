"""Request plumbing: quiet request logs, login for every page, the organisation of a request."""

import logging
import time
from collections.abc import Callable
from typing import Any, cast
from urllib.parse import quote

from django.contrib.auth.middleware import LoginRequiredMiddleware
from django.contrib.auth.models import User
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import render
from django.urls import reverse
from django_htmx.http import HttpResponseClientRedirect

from dashboard.models import Membership

request_log = logging.getLogger("dashboard.requests")

SESSION_ORGANIZATION_KEY = "organization_id"

ViewFunc = Callable[..., HttpResponseBase]


def organization_not_required[V: ViewFunc](view: V) -> V:
    """Mark a view that works without an organisation (login, logout, health, the sandbox)."""
    view.organization_not_required = True  # type: ignore[attr-defined]
    return view


class QuietRequestLogMiddleware:
    """Log method, path, status and time; never query values, which can carry personal data."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        started = time.perf_counter()
        response = self.get_response(request)
        elapsed_ms = (time.perf_counter() - started) * 1000
        request_log.info(
            "%s %s %s %.1fms", request.method, request.path, response.status_code, elapsed_ms
        )
        return response


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
    """All the logged-in user's memberships, with their organisations: one query a request."""
    user_id = cast(User, request.user).pk  # authenticated: a real User
    return list(Membership.objects.filter(user_id=user_id).select_related("organization"))


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
