"""A page never mixes two organisations: every page names the organisation it was rendered for.

A user in several organisations may switch in one tab while another tab still shows the old
organisation. The session holds one organisation, so that tab's next request would be answered
for the new one: a partial of the new organisation's cases under the old one's header, or an
identification number revealed for a case number that meant another case. So every page is
stamped with the organisation it was rendered for:

- htmx requests carry it in the ``X-Dashboard-Organization`` header (``hx-headers`` on
  ``<main>`` in base.html: inside the body, so a history restore, which swaps the body's content,
  renews it too);
- forms that post carry it in a hidden ``page_organization`` field (the reveal forms). The case
  actions' forms carry the same in their own ``organization`` field, which their view checks.

A request whose stamp names another organisation than the session's is not answered with data:

- an htmx request (any method) gets ``HX-Refresh``: the tab reloads as a whole, showing the
  session's organisation, with a notice saying the organisation was switched in another tab;
- a plain POST is refused, nothing done: it is redirected to the page it came from, with the
  same notice. The case actions answer a stale form themselves, in their panel
  (cases/action_views.py), with the same meaning.

Plain GET navigations carry no stamp: they simply show the session's organisation, which is what
the header of that page then says. Organisation-neutral views (login, logout, switching,
language) are not checked.
"""

from collections.abc import Callable
from typing import Any, Final

from django.contrib import messages
from django.http import HttpRequest, HttpResponseBase, HttpResponseRedirect
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django_htmx.http import HttpResponseClientRefresh

from dashboard.middleware import ViewFunc

ORGANIZATION_HEADER: Final = "X-Dashboard-Organization"
# Its own name: "organization" in a form may mean something else (the organisation to switch to).
ORGANIZATION_FIELD: Final = "page_organization"
SAFE_METHODS: Final = frozenset({"GET", "HEAD", "OPTIONS"})


class OrganizationStampMiddleware:
    """Refuse to answer a page of one organisation with another's data (see the module's doc).

    Must come after OrganizationMiddleware (which resolves the session's organisation) and after
    MessageMiddleware (the notice is a message shown by the reloaded page).
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        return self.get_response(request)

    def process_view(
        self,
        request: HttpRequest,
        view_func: ViewFunc,
        view_args: tuple[Any, ...],
        view_kwargs: dict[str, Any],
    ) -> HttpResponseBase | None:
        organization = getattr(request, "organization", None)
        if organization is None or getattr(view_func, "organization_not_required", False):
            return None
        stamp = page_organization(request)
        if stamp is None or stamp == str(organization.pk):
            return None
        messages.warning(request, switched_notice(organization.name))
        if getattr(request, "htmx", False):
            # Whatever the method: the tab reloads and shows one organisation again.
            return HttpResponseClientRefresh()
        return HttpResponseRedirect(_page_it_came_from(request), status=303)


def page_organization(request: HttpRequest) -> str | None:
    """The organisation the requesting page was rendered for, if the request says."""
    header = request.headers.get(ORGANIZATION_HEADER)
    if header is not None:
        return header.strip()
    if request.method in SAFE_METHODS or getattr(request, "htmx", False):
        return None
    posted = request.POST.get(ORGANIZATION_FIELD)
    return posted.strip() if posted is not None else None


def switched_notice(organization_name: str) -> str:
    return _(
        "You switched to %(organization)s in another tab. This page now shows %(organization)s; "
        "nothing was done in the organisation it showed before."
    ) % {"organization": organization_name}


def _page_it_came_from(request: HttpRequest) -> str:
    """The page that posted (the browser's Referer), shown again; else the case list."""
    referer = request.headers.get("Referer", "")
    if url_has_allowed_host_and_scheme(
        referer, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return referer
    return reverse("cases:list")
