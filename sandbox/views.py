"""The sandbox's HTTP surface: the token endpoint and the collection API under /collection/v1/.

Every API view goes through `api_endpoint`, which does what the upstream's gateway would:
latency, injected faults, the bearer token, the organisation check (403), lazily finishing due
batches, and turning bad query parameters into a 400 problem.
"""

import base64
import binascii
import functools
import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.contrib.auth.decorators import login_not_required
from django.db import IntegrityError, transaction
from django.db.models import Prefetch, prefetch_related_objects
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import reverse
from django.views.decorators.csrf import csrf_exempt

from dashboard.middleware import organization_not_required
from sandbox import faults
from sandbox.actions import (
    ACTIONS,
    ActionRefused,
    IdempotencyMismatch,
    apply_due_batches,
    find_replay,
    queue_action,
    remember_answer,
    request_fingerprint,
)
from sandbox.listing import (
    CASE_KEYSET,
    INVOICE_KEYSET,
    InvalidQuery,
    QueryParams,
    filter_cases,
    filter_invoices,
    fingerprint,
    paginate,
    read_case_filters,
    read_invoice_filters,
    read_page_request,
)
from sandbox.models import Batch, Case, Debtor, Invoice, SandboxOrganization
from sandbox.problems import problem, validation_problem
from sandbox.representation import batch_json, cases_json, invoice_item_json
from sandbox.tokens import (
    RESOURCE,
    ExpiredToken,
    Grant,
    InvalidToken,
    credentials_are_valid,
    issue_token,
    verify_token,
)

MAX_REASON_LENGTH = 1000
MAX_IDEMPOTENCY_KEY_LENGTH = 255
SUCCESS_SUMMARY = {"status": "SUCCESS"}


def sandbox_view[V: Callable[..., HttpResponse]](view: V) -> V:
    """Reachable without a dashboard login or organisation, and without CSRF, like the upstream."""
    return login_not_required(organization_not_required(csrf_exempt(view)))


# --- Token ---------------------------------------------------------------------------------------


@sandbox_view
def token(request: HttpRequest) -> HttpResponse:
    """OAuth2 client credentials: form fields, or HTTP Basic for the id and secret."""
    faults.add_latency()
    try:
        fault = faults.fault_from_header(request)
    except faults.UnknownFault as error:
        return problem(400, str(error), errors={faults.FAULT_HEADER: [str(error)]})
    if fault and fault != "expired-token":  # an issuer has no token to find expired
        return faults.fault_response(fault)
    if request.method != "POST":
        return _token_error(400, "invalid_request", "Use POST.")
    client_id, client_secret = _client_credentials(request)
    if request.POST.get("grant_type") != "client_credentials":
        return _token_error(400, "invalid_request", "grant_type must be client_credentials.")
    if not client_id or not client_secret:
        return _token_error(400, "invalid_request", "client_id and client_secret are required.")
    if not credentials_are_valid(client_id, client_secret):
        return _token_error(401, "invalid_client", "Unknown client or wrong secret.")
    access_token, grant = issue_token(client_id)
    response = JsonResponse(
        {
            "access_token": access_token,
            "token_type": "Bearer",
            "not_before": grant.not_before,
            "expires_in": grant.expires_on - grant.not_before,
            "expires_on": grant.expires_on,
            "resource": RESOURCE,
        }
    )
    response["Cache-Control"] = "no-store"
    return response


def _client_credentials(request: HttpRequest) -> tuple[str, str]:
    scheme, _, encoded = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() == "basic" and encoded:
        try:
            client_id, _, client_secret = base64.b64decode(encoded).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            return "", ""
        return client_id, client_secret
    return request.POST.get("client_id", ""), request.POST.get("client_secret", "")


def _token_error(status: int, error: str, description: str) -> JsonResponse:
    response = JsonResponse({"error": error, "error_description": description}, status=status)
    response["Cache-Control"] = "no-store"
    return response


# --- The API's gateway ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Caller:
    """Who is calling about which organisation, once the gateway has let the request through."""

    organization: SandboxOrganization
    grant: Grant


ApiView = Callable[..., HttpResponse]


def api_endpoint(*methods: str) -> Callable[[ApiView], ApiView]:
    """Wrap an API view (taking `caller` first) with the upstream's gateway behaviour."""

    def decorate(view: ApiView) -> ApiView:
        @functools.wraps(view)
        def gateway(
            request: HttpRequest, organization_id: uuid.UUID, **kwargs: Any
        ) -> HttpResponse:
            faults.add_latency()
            try:
                fault = faults.fault_from_header(request)
            except faults.UnknownFault as error:
                return problem(400, str(error), errors={faults.FAULT_HEADER: [str(error)]})
            try:
                fault = fault or faults.fault_from_settings() or faults.fault_from_rate()
            except faults.UnknownFault as error:
                return problem(500, str(error))
            if fault:
                return faults.fault_response(fault)
            grant = _authenticate(request)
            if isinstance(grant, HttpResponse):
                return grant
            organization = SandboxOrganization.objects.filter(pk=organization_id).first()
            if organization is None:
                return problem(403, "This client may not read that organisation.")
            if organization.fault:
                return faults.fault_response(organization.fault)
            if request.method not in methods:
                return problem(
                    405, f"Use {' or '.join(methods)}.", headers={"Allow": ", ".join(methods)}
                )
            apply_due_batches(organization.id)
            try:
                return view(request, Caller(organization, grant), **kwargs)
            except InvalidQuery as error:
                return validation_problem(error.errors)

        return sandbox_view(gateway)

    return decorate


def _authenticate(request: HttpRequest) -> Grant | HttpResponse:
    scheme, _, bearer = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not bearer.strip():
        return problem(
            401, "A bearer token is required.", headers={"WWW-Authenticate": 'Bearer realm="api"'}
        )
    try:
        return verify_token(bearer.strip())
    except ExpiredToken:
        return faults.expired_token_response()
    except InvalidToken as error:
        return problem(
            401, str(error), headers={"WWW-Authenticate": 'Bearer error="invalid_token"'}
        )


# --- Cases ---------------------------------------------------------------------------------------


@api_endpoint("GET")
def cases(request: HttpRequest, caller: Caller) -> HttpResponse:
    """GetCasesByOrganization: filters, SearchTerm, date range, keyset pages, both summaries."""
    params = QueryParams(request.GET)
    filters = read_case_filters(params)
    page_request = read_page_request(params)
    params.raise_if_invalid()
    organization_id = caller.organization.id
    rows = filter_cases(organization_id, filters).defer("search_text")
    bound_to = fingerprint("cases", organization_id, filters, page_request.size)
    page = paginate(rows, CASE_KEYSET, page_request, bound_to)
    return JsonResponse({"data": cases_json(page.rows), **page.summaries()})


@api_endpoint("POST")
def case_action(
    request: HttpRequest, caller: Caller, case_id: uuid.UUID, action: str
) -> HttpResponse:
    """One of the nine case actions: 202 with the batch that will carry it out."""
    body = _json_body(request)
    if isinstance(body, HttpResponse):
        return body
    case = Case.objects.filter(organization=caller.organization, pk=case_id).first()
    if case is None:
        return problem(404, f"No case {case_id} in this organisation.")
    key = request.headers.get("Idempotency-Key", "").strip()
    if len(key) > MAX_IDEMPOTENCY_KEY_LENGTH:
        message = f"Idempotency-Key must be at most {MAX_IDEMPOTENCY_KEY_LENGTH} characters."
        return problem(400, message, errors={"Idempotency-Key": [message]})
    request_print = request_fingerprint(f"{case.id}/{action}", body)
    replay = _replay(caller.organization.id, key, request_print) if key else None
    if replay is not None:
        return replay
    try:
        with transaction.atomic():
            batch = queue_action(
                case=case,
                action=ACTIONS[action],
                reason=str(body.get("reason") or ""),
                created_by=caller.grant.client_id,
            )
            answer = {
                "summary": SUCCESS_SUMMARY,
                "data": {"batchId": str(batch.id), "batchUrl": _batch_url(request, batch)},
            }
            if key:
                remember_answer(caller.organization.id, key, request_print, 202, answer)
    except ActionRefused as refusal:
        return problem(409, str(refusal))
    except IntegrityError:  # a concurrent request with the same key won the race: answer as it did
        replay = _replay(caller.organization.id, key, request_print) if key else None
        if replay is None:
            raise
        return replay
    response = JsonResponse(answer, status=202)
    response["Location"] = answer["data"]["batchUrl"]
    return response


def _replay(organization_id: uuid.UUID, key: str, request_print: str) -> HttpResponse | None:
    """The first answer given under this Idempotency-Key, a 422 if it was another request."""
    try:
        record = find_replay(organization_id, key, request_print)
    except IdempotencyMismatch as mismatch:
        return problem(422, str(mismatch))
    return None if record is None else JsonResponse(record.body, status=record.status_code)


def _json_body(request: HttpRequest) -> dict[str, Any] | HttpResponse:
    """The optional JSON body {"reason": "..."}: {} when empty, a 400 problem when unusable."""
    if not request.body.strip():
        return {}
    try:
        body = json.loads(request.body)
    except (ValueError, UnicodeDecodeError):
        return problem(400, "The body is not valid JSON.", errors={"body": ["Not valid JSON."]})
    if not isinstance(body, dict):
        return problem(400, "The body must be a JSON object.", errors={"body": ["Not an object."]})
    reason = body.get("reason")
    if reason is not None and (not isinstance(reason, str) or len(reason) > MAX_REASON_LENGTH):
        message = f"reason must be a string of at most {MAX_REASON_LENGTH} characters."
        return problem(400, message, errors={"reason": [message]})
    return body


def _batch_url(request: HttpRequest, batch: Batch) -> str:
    path = reverse(
        "sandbox:batch", kwargs={"organization_id": batch.organization_id, "batch_id": batch.id}
    )
    return request.build_absolute_uri(path)


# --- Batches and invoices ------------------------------------------------------------------------


@api_endpoint("GET")
def batch(request: HttpRequest, caller: Caller, batch_id: uuid.UUID) -> HttpResponse:
    found = Batch.objects.filter(organization=caller.organization, pk=batch_id).first()
    if found is None:
        return problem(404, f"No batch {batch_id} in this organisation.")
    return JsonResponse({"summary": SUCCESS_SUMMARY, "data": batch_json(found)})


@api_endpoint("GET")
def invoices(request: HttpRequest, caller: Caller) -> HttpResponse:
    """GetInvoicesByOrganization, paged like the cases."""
    params = QueryParams(request.GET)
    filters = read_invoice_filters(params)
    page_request = read_page_request(params)
    params.raise_if_invalid()
    organization = caller.organization
    rows = filter_invoices(organization.id, filters)
    bound_to = fingerprint("invoices", organization.id, filters, page_request.size)
    page = paginate(rows, INVOICE_KEYSET, page_request, bound_to)
    _with_cases_and_debtors(page.rows)
    data = [invoice_item_json(invoice, organization) for invoice in page.rows]
    return JsonResponse({"data": data, **page.summaries()})


@api_endpoint("GET")
def invoice(request: HttpRequest, caller: Caller, invoice_id: uuid.UUID) -> HttpResponse:
    found = Invoice.objects.filter(organization=caller.organization, pk=invoice_id).first()
    if found is None:
        return problem(404, f"No invoice {invoice_id} in this organisation.")
    _with_cases_and_debtors([found])
    return JsonResponse(
        {"summary": SUCCESS_SUMMARY, "data": invoice_item_json(found, caller.organization)}
    )


def _with_cases_and_debtors(found: list[Invoice]) -> None:
    prefetch_related_objects(
        found,
        Prefetch("case", queryset=Case.objects.defer("search_text")),
        Prefetch("case__debtors", queryset=Debtor.objects.order_by("position")),
    )


@sandbox_view
def not_found(request: HttpRequest, path: str = "") -> HttpResponse:
    """Anything else under /collection/v1/ answers like the API, not with an HTML page."""
    return problem(404, "No such resource.")
