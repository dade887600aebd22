"""The shell's own views: health, switching organisation, the front door."""

from typing import Final, cast

from django.contrib.auth.decorators import login_not_required
from django.contrib.auth.models import User
from django.db import connection
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from dashboard.middleware import SESSION_ORGANIZATION_KEY, organization_not_required
from dashboard.models import Membership

# Organisation ids are the database's 64-bit primary keys.
MIN_ORGANIZATION_ID: Final = 1
MAX_ORGANIZATION_ID: Final = 2**63 - 1


@login_not_required
@organization_not_required
@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """Liveness and database reachability for load balancers."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok"})


def home(request: HttpRequest) -> HttpResponseRedirect:
    return redirect("cases:list")


@organization_not_required
@require_POST
def switch_organization(request: HttpRequest) -> HttpResponse:
    """Choose another of the user's organisations; one without a membership is refused."""
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
    # Case and customer numbers belong to one organisation: land on the new one's case list
    # unless the page asked for somewhere safe and organisation-neutral.
    next_url = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(next_url, allowed_hosts={request.get_host()}):
        next_url = reverse("cases:list")
    return redirect(next_url)


def _organization_id(value: str) -> int | None:
    """The posted organisation id, if it can be one: the database refuses ids beyond 64 bits."""
    try:
        organization_id = int(value)
    except ValueError:
        return None
    return (
        organization_id if MIN_ORGANIZATION_ID <= organization_id <= MAX_ORGANIZATION_ID else None
    )
