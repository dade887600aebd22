"""The case page and the debtor page.

Each page is one function view, one upstream call and one render from one context. Two things
swap in place, both as partials of the same template at the page's own URL:

- an identification number revealed on demand: a deliberate, CSRF-protected POST naming the
  debtor in its body (never in a URL), answered for HTMX with the `identification` partial and
  otherwise with the whole page showing that one number;
- a section an error partial replaced: its "Try again" button GETs the page with HX-Target naming
  the section, and gets that section back.
"""

import logging
from collections.abc import Mapping
from typing import Final

from django.core.exceptions import BadRequest, PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.utils.cache import patch_cache_control, patch_vary_headers
from django.views.decorators.http import require_http_methods

from cases import autocollect
from cases.breakdown import build_breakdown, case_currency, case_totals, invoice_totals
from cases.upstream_errors import upstream_error_response
from dashboard.http import OrganizationRequest

audit_log = logging.getLogger("cases.audit")

CASE_TEMPLATE: Final = "cases/case_detail.html"
DEBTOR_TEMPLATE: Final = "cases/debtor_detail.html"
# The identification cell, shared by both pages: the debtor page includes it from here.
IDENTIFICATION_PARTIAL: Final = "cases/case_detail.html#identification"

REVEAL_FIELD: Final = "debtor"  # the POST field naming the debtor whose number to show

# Element id -> partial name: where an upstream failure shows (the page's content for a page view,
# the debtors' section for a failed reveal, so the rest of the page stays usable) and which
# partial a retry aimed at that element gets.
CASE_PAGE_ID: Final = "case-page"
CASE_DEBTORS_ID: Final = "debtors"
CASE_PARTIALS: Final[Mapping[str, str]] = {CASE_PAGE_ID: "case_page", CASE_DEBTORS_ID: "debtors"}
DEBTOR_PAGE_ID: Final = "debtor-page"
DEBTOR_DETAILS_ID: Final = "debtor-details"
DEBTOR_PARTIALS: Final[Mapping[str, str]] = {
    DEBTOR_PAGE_ID: "debtor_page",
    DEBTOR_DETAILS_ID: "debtor_details",
}

MAX_CUSTOMER_NUMBER_LENGTH: Final = 100  # longer is no customer number: 404 without asking
DEBTOR_CASE_LIMIT: Final = 500  # the debtor page lists at most this many cases


@require_http_methods(["GET", "HEAD", "POST"])
def case_detail(request: OrganizationRequest, case_number: int) -> HttpResponse:
    """One case: header, invoices, debtors and the claim breakdown (POST reveals an id number)."""
    reveal_id = _reveal_request(request)
    try:
        case = autocollect.get_case(
            organization_id=request.organization.amili_id, case_number=case_number
        )
    except autocollect.NotFound:
        raise Http404("No such case in this organisation") from None
    except autocollect.AutoCollectError as error:
        target = CASE_PAGE_ID if reveal_id is None else CASE_DEBTORS_ID
        return _private(upstream_error_response(request, error, target_id=target))
    _check_organization(request, case)

    context = {
        "case": case,
        "currency": case_currency(case),
        "invoice_totals": invoice_totals(case),
        "breakdown": build_breakdown(case),
        "can_reveal": request.membership.can_act,
        "revealed_debtor_id": "",
    }
    if reveal_id is None:
        return _private(
            render(request, _page_template(request, CASE_TEMPLATE, CASE_PARTIALS), context)
        )

    position = _debtor_position(case.debtors, reveal_id)
    audit_log.info(
        "identification number revealed: user=%s organisation=%s case=%s",
        request.user.username,
        request.organization.pk,
        case.case_number,
    )
    return _revealed(request, CASE_TEMPLATE, context, case.debtors[position - 1], position)


@require_http_methods(["GET", "HEAD", "POST"])
def debtor_detail(request: OrganizationRequest, customer_number: str) -> HttpResponse:
    """Every case of one customer, the customer's details and totals (POST reveals the id)."""
    reveal_id = _reveal_request(request)
    if len(customer_number) > MAX_CUSTOMER_NUMBER_LENGTH:
        raise Http404("No such customer in this organisation")
    try:
        found = autocollect.list_debtor_cases(
            organization_id=request.organization.amili_id,
            customer_number=customer_number,
            limit=DEBTOR_CASE_LIMIT,
        )
    except autocollect.AutoCollectError as error:
        target = DEBTOR_PAGE_ID if reveal_id is None else DEBTOR_DETAILS_ID
        return _private(upstream_error_response(request, error, target_id=target))
    # Checked, not assumed: only cases where this customer really is a debtor count.
    cases = tuple(
        case
        for case in found
        if any(debtor.customer_number == customer_number for debtor in case.debtors)
    )
    if not cases:
        raise Http404("No such customer in this organisation")
    for case in cases:
        _check_organization(request, case)
    # Cases come newest first, so the details are the ones the upstream holds most recently.
    debtor = next(d for d in cases[0].debtors if d.customer_number == customer_number)

    context = {
        "customer_number": customer_number,
        "debtor": debtor,
        "position": 1,
        "cases": cases,
        "case_rows": [(case, case_currency(case)) for case in cases],
        "totals": case_totals(cases),
        "truncated": len(found) >= DEBTOR_CASE_LIMIT,
        "can_reveal": request.membership.can_act,
        "revealed_debtor_id": "",
    }
    if reveal_id is None:
        template = _page_template(request, DEBTOR_TEMPLATE, DEBTOR_PARTIALS)
        return _private(render(request, template, context))

    if reveal_id != debtor.debtor_id:
        raise Http404("No such debtor here")
    audit_log.info(
        "identification number revealed: user=%s organisation=%s customer=%s",
        request.user.username,
        request.organization.pk,
        customer_number,
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


def _page_template(request: OrganizationRequest, template: str, partials: Mapping[str, str]) -> str:
    """The whole page, or for an HTMX request aimed at one of its sections that section only."""
    htmx = request.htmx
    target = (htmx.target or "") if htmx and not htmx.history_restore_request else ""
    return f"{template}#{partials[target]}" if target in partials else template


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
    """The revealed cell for HTMX, else the whole page with that one number shown."""
    context = {**context, "revealed_debtor_id": debtor.debtor_id}
    if request.htmx and not request.htmx.history_restore_request:
        partial_context = {**context, "debtor": debtor, "position": position}
        return _private(render(request, IDENTIFICATION_PARTIAL, partial_context))
    return _private(render(request, template, context))


def _check_organization(request: OrganizationRequest, case: autocollect.Case) -> None:
    """A case that says it belongs to another organisation is not shown (defence in depth)."""
    organization_id = case.organization_id.strip().lower()
    if organization_id and organization_id != str(request.organization.amili_id).lower():
        raise Http404("No such case in this organisation")


def _private(response: HttpResponse) -> HttpResponse:
    """Personal data: no copy in any cache; the response differs for HTMX, so caches must know."""
    patch_cache_control(response, no_store=True)
    patch_vary_headers(response, ["HX-Request", "HX-Target"])
    return response
