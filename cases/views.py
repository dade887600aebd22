"""The product's pages: case search and export, the case page and the debtor page."""

import itertools
import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from functools import partial
from http import HTTPStatus
from typing import Any, Final

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import BadRequest, PermissionDenied
from django.http import (
    Http404,
    HttpResponse,
    HttpResponseRedirect,
    QueryDict,
    StreamingHttpResponse,
)
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_safe
from django.views.decorators.vary import vary_on_headers
from django_htmx.http import push_url, replace_url, trigger_client_event

from cases import autocollect, links, private_search
from cases.actions import available_actions
from cases.audit import audited_export, record_reveal
from cases.autocollect.read_cache import rendering_lookup, rendering_store
from cases.breakdown import build_breakdown, case_totals, invoice_totals
from cases.export import csv_layout, csv_lines, export_filename
from cases.forms import URL_FILTER_NAMES, CaseFilterForm
from cases.list_totals import ListTotal, list_total, unanswerable
from cases.models import AuditEntry
from cases.upstream_errors import (
    UpstreamErrorInfo,
    describe_upstream_error,
    reveal_error_response,
    upstream_error_in_page,
    upstream_error_response,
    with_retry_after,
)
from dashboard.htmx import partial_target, render_page
from dashboard.http import OrganizationRequest
from dashboard.models import Membership
from triage import tasks

logger = logging.getLogger(__name__)


#: Refresh: every page says when its data was fetched and can ask the upstream again ---------
#
# Reads come from a short-lived cache (cases.autocollect.read_cache). A page's Refresh control
# (templates/cases/shared/fetched.html) requests the page's own URL with `refresh=1`, which reads
# the upstream whatever the cache holds. With htmx it swaps the page's content in place and the
# address does not change; without JavaScript the fresh read is stored and the answer is a
# redirect to the page's own address, which the cache then answers (with caching off, the
# redirect alone: that page reads afresh anyway). `refresh` never stays in an address or in a
# link the page generates.

REFRESH_PARAMETER: Final = "refresh"


def _refresh_requested(request: OrganizationRequest) -> bool:
    return REFRESH_PARAMETER in request.GET and request.method in {"GET", "HEAD"}


def _refresh_url(path: str, parameters: QueryDict | None = None) -> str:
    """The page's own URL asking for fresh data."""
    query = parameters.copy() if parameters is not None else QueryDict(mutable=True)
    query[REFRESH_PARAMETER] = "1"
    return f"{path}?{query.urlencode()}"


@dataclass(frozen=True)
class PageAddress:
    """A page's own URL and the partials an HTMX request to it may get."""

    url: str
    partials: Mapping[str, str]
    default: str | None = None


def _refreshed_redirect(
    request: OrganizationRequest, page: PageAddress, *, before_reading: bool = False
) -> HttpResponse | None:
    """A refresh that asks for the whole page: back to its own address, which the cache answers.

    None when the page should simply be rendered: no refresh, or a swap of one of its partials.
    `before_reading`: only when caching is off, since then that address reads afresh anyway.
    """
    if not _refresh_requested(request):
        return None
    if partial_target(request, page.partials, page.default) is not None:
        return None
    if before_reading and int(settings.AUTOCOLLECT_CACHE_SECONDS) > 0:
        return None
    return HttpResponseRedirect(page.url)


#: case_list: the case search ---------------------------------------------------------------

LIST_TEMPLATE: Final = "cases/case_list.html"
# The elements an HTMX request may target, each the root of the partial of the same page that
# renders it: the results alone (typing, filters, paging), or the form with its results
# (removing a filter chip, clearing filters, invalid input, whose errors sit beside the fields).
RESULTS_ID: Final = "results"
SEARCH_ID: Final = "case-search"
PARTIAL_FOR_TARGET: Final = {RESULTS_ID: "results", SEARCH_ID: "search"}


@dataclass(frozen=True)
class Pager:
    """The result count ("Showing 26 to 50 of 1 234") and the neighbouring pages' tokens."""

    first: int
    last: int
    total: int
    previous_token: str | None
    next_token: str | None


@require_safe
@never_cache
@vary_on_headers("HX-Request", "HX-Target")
def case_list(request: OrganizationRequest) -> HttpResponse:
    """The case search: filters in the URL, one upstream page, results swapped in place."""
    query = _without_refresh(private_search.resolve(request))
    if query.moved and partial_target(request, PARTIAL_FOR_TARGET, RESULTS_ID) is None:
        # A personal search term in the address bar: show the same list at an address without it.
        return HttpResponseRedirect(query.public_url(request.path))
    return _list_page(request, query)


def _list_page(
    request: OrganizationRequest, query: private_search.ListQuery, *, notice: str = ""
) -> HttpResponse:
    """Ask the upstream for the page the query names and render it.

    The refused-token restart comes back here with the first page's query and a notice.
    """
    form = _bound_filter_form(query)
    if not form.is_valid():
        # Nothing goes upstream; the form shows what was typed, with errors beside the fields.
        response = _render_list(request, _list_context(request, form, query), status=400)
        return _with_public_url(request, response, query)
    address = PageAddress(query.public_url(request.path), PARTIAL_FOR_TARGET, RESULTS_ID)
    if redirect := _refreshed_redirect(request, address, before_reading=True):
        return redirect
    kept = _KeptResults.for_request(request, form, query) if not notice else None
    if kept is not None and kept.rendered is not None and not _refresh_requested(request):
        return _with_public_url(request, HttpResponse(kept.rendered), query)
    asked_at = timezone.now()  # a page fetched before it was asked for came from the cache
    try:
        page = autocollect.list_cases(
            organization_id=request.organization.amili_id,
            filters=form.to_filters(),
            page_token=form.page_token(),
            page_size=form.page_size(),
            fresh=_refresh_requested(request),
        )
    except autocollect.InvalidPageToken as error:
        if form.page_token():
            return _restart_at_first_page(request, query)
        # A refused token when none was sent: starting over would ask the same again, forever.
        response = _list_error_response(request, form, query, error)
    except autocollect.AutoCollectError as error:
        response = _list_error_response(request, form, query, error)
    else:
        if redirect := _refreshed_redirect(request, address):
            return redirect
        # The case index learns what this page shows, on a worker (triage.tasks).
        tasks.enqueue_page_refresh(
            request.organization, page.cases, fetched_at=page.fetched_at, asked_at=asked_at
        )
        context = _list_context(request, form, query, page=page, notice=notice)
        response = _render_list(request, context)
        if kept is not None:
            kept.store(response, page.fetched_at)
    return _with_public_url(request, response, query)


@dataclass(frozen=True)
class _KeptResults:
    """The list's results partial as rendered for an earlier identical request, if still valid.

    Why: the typing, paging and back-and-forth the list gets ask for the same results again
    within seconds, and rendering them (every cell formatted, the total looked up) cost more CPU
    than everything else in such a request. The rendering is kept beside the reads it was made
    from (read_cache.rendering_lookup/rendering_store): under the organisation's generation, so
    an action or webhook that forgets the reads forgets it too, and no longer than the reads it
    shows would have been kept. Only the #results partial aimed at #results is kept: it holds no
    CSRF token, no messages and nothing of the user but the role (in the key). The Refresh
    control renders afresh and keeps the new rendering.
    """

    organization_id: str
    query: str
    generation: str
    rendered: bytes | None

    @classmethod
    def for_request(
        cls, request: OrganizationRequest, form: CaseFilterForm, query: private_search.ListQuery
    ) -> "_KeptResults | None":
        aimed_at_results = request.htmx and request.htmx.target == RESULTS_ID
        if not aimed_at_results or partial_target(request, PARTIAL_FOR_TARGET) != RESULTS_ID:
            return None
        # Everything the partial depends on; HMAC'd into the key (search terms never in clear).
        material = "\n".join(
            (
                "case_list_results",
                repr(form.to_filters()),
                repr(form.page_token()),
                str(form.page_size()),
                repr(sorted(query.public.lists())),
                request.path,
                translation.get_language() or "",
                timezone.get_current_timezone_name(),
                timezone.localdate().isoformat(),
                str(request.membership.role),
            )
        )
        organization_id = str(request.organization.amili_id)
        generation, rendered = rendering_lookup(organization_id, material)
        return cls(organization_id, material, generation, rendered)

    def store(self, response: HttpResponse, fetched_at: datetime | None) -> None:
        if fetched_at is None:
            return  # no way to tell how long the reads it shows may be kept
        if response.status_code == HTTPStatus.OK and not response.has_header("HX-Retarget"):
            rendering_store(
                self.organization_id, self.query, self.generation, response.content, fetched_at
            )


def _without_refresh(query: private_search.ListQuery) -> private_search.ListQuery:
    """The query without the refresh request, so that no generated link repeats it."""
    if REFRESH_PARAMETER not in query.public and REFRESH_PARAMETER not in query.form_data:
        return query
    public, form_data = query.public.copy(), query.form_data.copy()
    public.pop(REFRESH_PARAMETER, None)
    form_data.pop(REFRESH_PARAMETER, None)
    return replace(query, public=public, form_data=form_data)


def _bound_filter_form(query: private_search.ListQuery) -> CaseFilterForm:
    """The filter form for the request; a search reference the session lost is an error."""
    form = CaseFilterForm(query.form_data)
    if query.expired and form.is_valid():
        for name in query.expired_parameters or (private_search.SEARCH_PARAMETER,):
            form.add_error(name, _("This search has expired. Type it again."))
    return form


def _with_public_url(
    request: OrganizationRequest, response: HttpResponse, query: private_search.ListQuery
) -> HttpResponse:
    """An HTMX request that showed a personal search term: the browser records another URL."""
    if query.moved:
        typing = request.htmx.trigger_name in private_search.PRIVATE_PARAMETERS
        record = replace_url if typing else push_url
        record(response, query.public_url(request.path))
    return response


def _render_list(
    request: OrganizationRequest, context: dict[str, Any], *, status: int = 200
) -> HttpResponse:
    """The page or one of its partials, from the same context; only the template name differs."""
    form: CaseFilterForm = context["form"]
    if form.errors:
        # The errors belong beside the fields, whatever the request aimed at.
        return render_page(
            request,
            LIST_TEMPLATE,
            context,
            partials={SEARCH_ID: PARTIAL_FOR_TARGET[SEARCH_ID]},
            default=SEARCH_ID,
            status=status,
        )
    return render_page(
        request,
        LIST_TEMPLATE,
        context,
        partials=PARTIAL_FOR_TARGET,
        default=RESULTS_ID,
        status=status,
    )


def _list_context(
    request: OrganizationRequest,
    form: CaseFilterForm,
    query: private_search.ListQuery,
    *,
    page: autocollect.CasePage | None = None,
    upstream_error: UpstreamErrorInfo | None = None,
    notice: str = "",
) -> dict[str, Any]:
    cases = page.cases if page else ()
    return {
        "form": form,
        # The parameters every generated link starts from: never a personal search term.
        "list_query": query.public,
        "list_url": query.public_url(request.path),
        "rows": cases,
        "pager": _pager(page, len(cases), form) if page else None,
        "fetched_at": page.fetched_at if page else None,
        "refresh_url": _refresh_url(request.path, query.public),
        "refresh_target": RESULTS_ID,
        "active_filters": form.active_filters(),
        # {% querystring %} arguments: clearing keeps the page size, exporting drops paging.
        "clear_filters": dict.fromkeys(
            (*URL_FILTER_NAMES, *private_search.REFERENCE_PARAMETERS, "page")
        ),
        "export_query": {"page": None, "size": None},
        # From the local case index (the upstream gives no sums); only beside a listed page.
        **_list_total_context(request, form, query, listed=page is not None),
        "upstream_error": upstream_error,
        "notice": notice,
    }


def _list_total_context(
    request: OrganizationRequest,
    form: CaseFilterForm,
    query: private_search.ListQuery,
    *,
    listed: bool,
) -> dict[str, ListTotal | str | None]:
    """The list's total now, or the address the page asks it from once the results are shown.

    Why later: at 200,000 indexed cases the aggregate costs tens of milliseconds, which the
    list's own answer must not wait for (its speed has to stay flat with the index's size).
    Answered now: a filter the index cannot total (no query needed to say so), and a Refresh,
    which must recompute it past the cache.
    """
    if not listed:
        return {"list_total": None, "list_total_url": None}
    filters = form.to_filters()
    refresh = _refresh_requested(request)
    if refresh or unanswerable(filters) is not None:
        total = list_total(request.organization, filters, fresh=refresh)
        return {"list_total": total, "list_total_url": None}
    return {"list_total": None, "list_total_url": query.public_url(reverse("cases:list_total"))}


def _page_read_failed(
    request: OrganizationRequest,
    error: autocollect.AutoCollectError,
    *,
    reveal_id: str | None,
    page_url: str,
    template: str,
    page_id: str,
    partial: str,
    context: dict[str, Any],
) -> HttpResponse:
    """The case or debtor page could not be read: a reveal's error beside its number, else the
    error inside the page's frame (heading and breadcrumb kept), retried as it was asked."""
    if reveal_id is not None and (position := _reveal_cell_position(request)) is not None:
        return reveal_error_response(
            request, error, page_url=page_url, debtor_id=reveal_id, position=position
        )
    return upstream_error_in_page(
        request,
        error,
        template=template,
        page_id=page_id,
        partial=partial,
        context={**context, "page_url": page_url},
        # A failed refresh is retried as a refresh.
        retry_url=_refresh_url(page_url) if _refresh_requested(request) else page_url,
    )


@require_safe
@never_cache
@vary_on_headers("HX-Request", "HX-Target")
def case_list_total(request: OrganizationRequest) -> HttpResponse:
    """The total remaining amount of the list's filters, from the local case index.

    The list's placeholder asks for it as soon as its results are shown (htmx, the partial);
    without JavaScript its link opens this as a small page. Same parameters as the list.
    """
    query = private_search.resolve(request)
    form = _bound_filter_form(query)
    valid = form.is_valid()
    context = {
        "list_total": list_total(request.organization, form.to_filters()) if valid else None,
        "list_url": query.public_url(reverse("cases:list")),
        "invalid_filters": not valid,
    }
    return render_page(
        request,
        "cases/list_total.html",
        context,
        partials={"list-total": "list_total"},
        status=200 if valid else 400,
    )


def _pager(page: autocollect.CasePage, shown: int, form: CaseFilterForm) -> Pager:
    page_size = page.skip.page_size or form.page_size()
    first = (max(page.skip.current_page, 1) - 1) * page_size + 1 if shown else 0
    return Pager(
        first=first,
        last=first + shown - 1 if shown else 0,
        total=max(page.skip.total_count, shown),
        previous_token=page.cursor.previous_page_token if page.skip.has_previous_page else None,
        next_token=page.cursor.next_page_token if page.skip.has_next_page else None,
    )


def _list_error_response(
    request: OrganizationRequest,
    form: CaseFilterForm,
    query: private_search.ListQuery,
    error: autocollect.AutoCollectError,
) -> HttpResponse:
    """The upstream failed: the page keeps its filters, and the results area says what happened.

    Same statuses and messages as upstream_error_response (describe_upstream_error), rendered in
    this page's own layout so the form stays usable; an HTMX request gets the partial in place.
    """
    info = describe_upstream_error(error)
    # Class name and path only: the query string carries what the user searched for.
    logger.warning("case list: upstream %s answered as %s", type(error).__name__, info.status)
    context = _list_context(request, form, query, upstream_error=info)
    return with_retry_after(_render_list(request, context, status=info.status), info)


def _restart_at_first_page(
    request: OrganizationRequest, query: private_search.ListQuery
) -> HttpResponse:
    """The upstream refused the page token (expired, or from other filters): start over.

    The URL must say what is shown, so the restarted list lives at the URL without `page`: a
    full request is redirected there (the notice travels as a message), an HTMX request gets the
    first page at once and pushes that URL instead of the one it asked for.
    """
    notice = _(
        "That page of results is no longer available, so the list starts again at the first page."
    )
    first_page = private_search.ListQuery(
        form_data=_without_page(query.form_data),
        public=_without_page(query.public),
        expired=False,
        moved=False,
    )
    first_page_url = first_page.public_url(request.path)
    if partial_target(request, PARTIAL_FOR_TARGET, RESULTS_ID) is None:
        messages.info(request, notice)
        return HttpResponseRedirect(first_page_url)
    return push_url(_list_page(request, first_page, notice=notice), first_page_url)


def _without_page(parameters: QueryDict) -> QueryDict:
    copy = parameters.copy()
    copy.pop("page", None)
    return copy


#: case_export: the same search as CSV -------------------------------------------------------


@require_safe
@never_cache
def case_export(request: OrganizationRequest) -> HttpResponse | StreamingHttpResponse:
    """Every case matching the list's filters as CSV, streamed while the upstream is walked."""
    form = _bound_filter_form(private_search.resolve(request))
    if not form.is_valid():
        return HttpResponse(
            _plain_form_errors(form), status=400, content_type="text/plain; charset=utf-8"
        )
    filters = form.to_filters()
    cases = autocollect.iter_cases(organization_id=request.organization.amili_id, filters=filters)
    try:
        # The first page is fetched before answering, so a failure there gets a proper status
        # instead of a 200 with a broken file; later pages are fetched while the file streams.
        first = next(cases, None)
    except autocollect.AutoCollectError as error:
        return upstream_error_response(request, error, target_id=RESULTS_ID)
    rows = cases if first is None else itertools.chain((first,), cases)
    # Laid out for the language of the page it was asked from (English, or Norwegian for Excel),
    # settled now: the file streams after this view has returned.
    layout = csv_layout(get_language())
    # Recorded in the audit trail (who, which filters, how many rows) as the file streams.
    lines = audited_export(request, filters, rows, partial(csv_lines, layout=layout))
    response = StreamingHttpResponse(lines, content_type="text/csv; charset=utf-8")
    filename = export_filename(layout, request.organization.name)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def _plain_form_errors(form: CaseFilterForm) -> str:
    lines = [_("The export was not started: the filters are not valid.")]
    for name, errors in form.errors.items():
        label = form.fields[name].label if name in form.fields else ""
        lines.extend(f"{label or name}: {error}" for error in errors)
    return "\n".join(lines) + "\n"


#: case_detail and debtor_detail: the case page and the debtor page ------------------------
#
# The case page and the debtor page.
#
# Each page is one function view, one upstream call and one render from one context. Two things
# swap in place, both as partials of the same template at the page's own URL:
#
# - an identification number revealed on demand: a deliberate, CSRF-protected POST naming the
#   debtor in its body (never in a URL), answered for HTMX with the `identification` partial of
#   the debtor facts both pages share, and otherwise with the whole page showing that one number;
# - a page whose upstream call failed: the page keeps its breadcrumb and heading and shows the
#   error where its content would be (cases.upstream_errors.upstream_error_in_page); its "Try
#   again" button GETs the page's content partial again. A failed reveal shows its error beside
#   the number, in the cell the reveal aimed at, with a button that asks again.

audit_log = logging.getLogger("cases.audit")

CASE_TEMPLATE: Final = "cases/case_detail.html"
DEBTOR_TEMPLATE: Final = "cases/debtor_detail.html"
# The identification cell, in the debtor facts both pages include.
IDENTIFICATION_PARTIAL: Final = "cases/shared/debtor_facts.html#identification"
IDENTIFICATION_CELL: Final = re.compile(r"identification-([1-9][0-9]{0,3})")

REVEAL_FIELD: Final = "debtor"  # the POST field naming the debtor whose number to show

# Element id -> partial name: the partial a request aimed at that element gets (the page's
# content after a failure's retry, a section after a refresh).
CASE_PAGE_ID: Final = "case-page"
CASE_DEBTORS_ID: Final = "debtors"
# The action bar and the audit timeline refresh themselves after an action (cases.action_views).
CASE_ACTIONS_ID: Final = "case-actions"
CASE_TIMELINE_ID: Final = "case-timeline"
CASE_PARTIALS: Final[Mapping[str, str]] = {
    CASE_PAGE_ID: "case_page",
    CASE_DEBTORS_ID: "debtors",
    CASE_ACTIONS_ID: "case_actions",
    CASE_TIMELINE_ID: "case_timeline",
}
TIMELINE_LENGTH: Final = 50
AUDIT_RECORDED_EVENT: Final = "auditRecorded"
DEBTOR_PAGE_ID: Final = "debtor-page"
DEBTOR_DETAILS_ID: Final = "debtor-details"
DEBTOR_PARTIALS: Final[Mapping[str, str]] = {
    DEBTOR_PAGE_ID: "debtor_page",
    DEBTOR_DETAILS_ID: "debtor_details",
}

MAX_CUSTOMER_NUMBER_LENGTH: Final = 100  # longer is no customer number: 404 without asking


@require_http_methods(["GET", "HEAD", "POST"])
@never_cache
@vary_on_headers("HX-Request", "HX-Target")
def case_detail(request: OrganizationRequest, case_number: int) -> HttpResponse:
    """One case: header, invoices, debtors and the claim breakdown (POST reveals an id number)."""
    reveal_id = _reveal_request(request)
    page_url = links.case_url(case_number)
    address = PageAddress(page_url, CASE_PARTIALS)
    if redirect := _refreshed_redirect(request, address, before_reading=True):
        return redirect
    asked_at = timezone.now()  # a case fetched before it was asked for came from the cache
    try:
        case = autocollect.get_case(
            organization_id=request.organization.amili_id,
            case_number=case_number,
            fresh=_refresh_requested(request),
        )
    except autocollect.NotFound:
        return _case_not_here(request, case_number)
    except autocollect.AutoCollectError as error:
        return _page_read_failed(
            request,
            error,
            reveal_id=reveal_id,
            page_url=page_url,
            template=CASE_TEMPLATE,
            page_id=CASE_PAGE_ID,
            partial=CASE_PARTIALS[CASE_PAGE_ID],
            context={"case_number": case_number},
        )

    if redirect := _refreshed_redirect(request, address):
        return redirect
    tasks.enqueue_page_refresh(
        request.organization, [case], fetched_at=case.fetched_at, asked_at=asked_at
    )
    context: dict[str, object] = {
        "page_url": page_url,
        "fetched_at": case.fetched_at,
        "refresh_url": _refresh_url(page_url),
        "refresh_target": CASE_PAGE_ID,
        "case_number": case.case_number,
        "case": case,
        "invoice_totals": invoice_totals(case),
        "breakdown": build_breakdown(case),
        "can_reveal": request.membership.can_act,
        "revealed_debtor_id": "",
        # Viewers see no actions; everyone in the organisation sees its history of the case.
        "actions": available_actions(case) if request.membership.can_act else (),
        "timeline": _case_timeline(request, case),
        # The breadcrumb goes back to the list the case was opened from, filters and page kept.
        "list_url": private_search.list_to_return_to(
            request, reverse("cases:list"), request.organization.pk
        ),
    }
    if reveal_id is None:
        return render_page(request, CASE_TEMPLATE, context, partials=CASE_PARTIALS)

    position = _debtor_position(case.debtors, reveal_id)
    debtor = case.debtors[position - 1]
    audit_log.info(
        "identification number revealed: user=%s organisation=%s case=%s debtor=%s",
        request.user.username,
        request.organization.pk,
        case.case_number,
        position,
    )
    record_reveal(request, case=case, debtor=debtor, position=position)
    # The case page's timeline refreshes itself on this event and shows the new entry.
    response = _revealed(request, CASE_TEMPLATE, context, debtor, position)
    return trigger_client_event(response, AUDIT_RECORDED_EVENT, {"caseNumber": case.case_number})


def _case_not_here(request: OrganizationRequest, case_number: int) -> HttpResponse:
    """404: no such case in this organisation. When the user is a member of another
    organisation that has the case (a link a colleague sent, a tab of the other organisation),
    the page offers to switch there; it names only the user's own organisations, so nobody
    learns anything of an organisation they are not in."""
    holders = _other_organisations_with_case(request, case_number)
    if not holders:
        raise Http404("No such case in this organisation")
    context = {"switch_offers": holders, "switch_next": links.case_url(case_number)}
    return render(request, "404.html", context, status=404)


def _other_organisations_with_case(
    request: OrganizationRequest, case_number: int
) -> list[Membership]:
    """The user's other organisations whose AutoCollect has the case; a failing one is left out."""
    holders = []
    for membership in request.memberships:
        if membership.organization_id == request.organization.pk:
            continue
        try:
            autocollect.get_case(
                organization_id=membership.organization.amili_id, case_number=case_number
            )
        except autocollect.AutoCollectError:  # NotFound included: not there, or not now
            continue
        holders.append(membership)
    return holders


def _case_timeline(request: OrganizationRequest, case: autocollect.Case) -> list[AuditEntry]:
    """The organisation's audit entries about this case, newest first."""
    return list(
        AuditEntry.objects.filter(organization=request.organization, case_id=case.case_id)
        .select_related("user")
        .order_by("-created_at", "-pk")[:TIMELINE_LENGTH]
    )


@require_http_methods(["GET", "HEAD", "POST"])
@never_cache
@vary_on_headers("HX-Request", "HX-Target")
def debtor_detail(request: OrganizationRequest, customer_number: str) -> HttpResponse:
    """Every case of one customer, the customer's details and totals (POST reveals the id)."""
    reveal_id = _reveal_request(request)
    if len(customer_number) > MAX_CUSTOMER_NUMBER_LENGTH or "\x00" in customer_number:
        # Too long, or a NUL no text column upstream can hold: no such customer, nothing asked.
        raise Http404("No such customer in this organisation")
    page_url = links.debtor_url(customer_number)  # the decoded request.path may not say it
    address = PageAddress(page_url, DEBTOR_PARTIALS)
    if redirect := _refreshed_redirect(request, address, before_reading=True):
        return redirect
    try:
        found = autocollect.get_debtor_cases(
            organization_id=request.organization.amili_id,
            customer_number=customer_number,
            fresh=_refresh_requested(request),
        )
    except autocollect.NotFound:
        raise Http404("No such customer in this organisation") from None
    except autocollect.AutoCollectError as error:
        return _page_read_failed(
            request,
            error,
            reveal_id=reveal_id,
            page_url=page_url,
            template=DEBTOR_TEMPLATE,
            page_id=DEBTOR_PAGE_ID,
            partial=DEBTOR_PARTIALS[DEBTOR_PAGE_ID],
            context={"customer_number": customer_number},
        )
    if redirect := _refreshed_redirect(request, address):
        return redirect
    debtor = found.debtor

    context = {
        "page_url": page_url,
        "fetched_at": found.fetched_at,
        "refresh_url": _refresh_url(page_url),
        "refresh_target": DEBTOR_PAGE_ID,
        "customer_number": customer_number,
        "debtor": debtor,
        "position": 1,
        "cases": found.cases,
        "totals": case_totals(found.cases),
        "truncated": found.truncated,
        "can_reveal": request.membership.can_act,
        "revealed_debtor_id": "",
    }
    if reveal_id is None:
        return render_page(request, DEBTOR_TEMPLATE, context, partials=DEBTOR_PARTIALS)

    if reveal_id != debtor.debtor_id:
        raise Http404("No such debtor here")
    audit_log.info(
        "identification number revealed: user=%s organisation=%s customer=%s",
        request.user.username,
        request.organization.pk,
        customer_number,
    )
    # The details shown are the debtor's on the newest case: that case is the one recorded.
    record_reveal(
        request, case=found.cases[0], debtor=debtor, position=1, customer_number=customer_number
    )
    return _revealed(request, DEBTOR_TEMPLATE, context, debtor, 1)


def _reveal_request(request: OrganizationRequest) -> str | None:
    """The debtor id a POST asks to reveal; None for a GET. Checked before any upstream call."""
    if request.method != "POST":
        return None
    if not request.membership.can_act:
        raise PermissionDenied("Only agents and administrators may reveal identification numbers")
    debtor_id = request.POST.get(REVEAL_FIELD, "").strip()
    if not debtor_id:
        raise BadRequest("A reveal names the debtor")
    return debtor_id


def _reveal_cell_position(request: OrganizationRequest) -> int | None:
    """The identification cell an HTMX reveal aimed at (its position); None for a plain POST."""
    if not request.htmx or request.htmx.history_restore_request:
        return None
    match = IDENTIFICATION_CELL.fullmatch(request.htmx.target or "")
    return int(match.group(1)) if match else None


def _debtor_position(debtors: tuple[autocollect.Debtor, ...], debtor_id: str) -> int:
    """The 1-based position of the debtor on the page, which names its identification cell."""
    for position, debtor in enumerate(debtors, start=1):
        if debtor.debtor_id == debtor_id:
            return position
    raise Http404("No such debtor on this case")


def _revealed(
    request: OrganizationRequest,
    template: str,
    context: dict[str, object],
    debtor: autocollect.Debtor,
    position: int,
) -> HttpResponse:
    """The revealed cell for HTMX (whatever it aimed at), else the whole page with it shown."""
    cell_id = f"identification-{position}"
    context = {
        **context,
        "revealed_debtor_id": debtor.debtor_id,
        "debtor": debtor,
        "position": position,
    }
    return render_page(
        request, template, context, partials={cell_id: IDENTIFICATION_PARTIAL}, default=cell_id
    )
