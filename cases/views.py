"""The product's pages. Placeholders until the dashboard issue lands."""

from django.http import Http404, HttpResponse

from dashboard.http import OrganizationRequest


def case_list(request: OrganizationRequest) -> HttpResponse:
    return HttpResponse(f"Cases of {request.organization.name}")


def case_export(request: OrganizationRequest) -> HttpResponse:
    raise Http404


def case_detail(request: OrganizationRequest, case_number: int) -> HttpResponse:
    raise Http404


def debtor_detail(request: OrganizationRequest, customer_number: str) -> HttpResponse:
    raise Http404
