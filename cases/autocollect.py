"""The AutoCollect client: the only module that speaks HTTP to the upstream.

Everything the rest of the project knows about Amili's collection API passes through here: paths,
query-parameter names, JSON field names, the token dance, retries and error translation. Callers
get frozen dataclasses and one small exception family; they never see httpx or raw JSON.

Choices the public documentation does not settle are marked [ours] and kept together in the
"Contract" section below, so that each can be corrected in one edit once the real contract is known.
"""

from __future__ import annotations

import hashlib
import json
import logging
import random
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from email.utils import parsedate_to_datetime
from enum import StrEnum
from types import MappingProxyType
from typing import Any, Final, NoReturn, cast
from urllib.parse import quote, urlsplit

import httpx
from django.conf import settings
from django.core.cache import cache
from django.core.signals import setting_changed
from django.dispatch import receiver

logger = logging.getLogger(__name__)

# --------------------------------------------------------------------------------------------
# Contract: paths, parameter names and the choices the docs leave open
# --------------------------------------------------------------------------------------------

CASES_PATH: Final = "/orgs/{organizationId}/cases"  # [doc]
CASE_ACTION_PATH: Final = "/orgs/{organizationId}/cases/{caseId}/{action}"  # [ours]
BATCH_PATH: Final = "/orgs/{organizationId}/batches/{batchId}"  # [doc]

# CaseFilters field -> query parameter [doc: names; ours: dates sent as ISO dates].
FILTER_PARAMETERS: Final[Mapping[str, str]] = MappingProxyType(
    {
        "status": "Status",
        "type": "Type",
        "case_number": "CaseNumber",
        "customer_number": "CustomerNumber",
        "unique_source_invoice_id": "UniqueSourceInvoiceId",
        "search_term": "SearchTerm",
        "created_from": "FromCreatedAt",
        "created_to": "ToCreatedAt",
    }
)
PAGE_TOKEN_PARAMETER: Final = "PageToken"  # noqa: S105 - a parameter name [doc]
PAGE_SIZE_PARAMETER: Final = "PageSize"  # [doc]
MAX_PAGE_SIZE: Final = 100  # [ours]
IDEMPOTENCY_HEADER: Final = "Idempotency-Key"  # [ours]
ACTION_REASON_FIELD: Final = "reason"  # [ours]
INVOICE_CURRENCY_CODE_FIELD: Final = "code"  # [ours] the invoice currency object's key
PROBLEM_ERRORS_FIELD: Final = "errors"  # [ours] problem+json: {field: [messages]}
# [ours] A batch lists what succeeded or failed as bare ids or as objects naming one of these.
BATCH_ENTRY_ID_FIELDS: Final = ("caseId", "id", "invoiceId")
TOKEN_REFUSAL_STATUSES: Final = frozenset({400, 401})  # [ours] /token on bad credentials
DEFAULT_TOKEN_LIFETIME: Final = 300  # [ours] seconds, when /token names no expiry at all

PAGE_SIZES: Final = (10, 25, 50, 100)
DEFAULT_PAGE_SIZE: Final = 25

# Known enumeration values ([doc] first, then the sandbox's [ours]). Upstream may send others;
# they are kept as they come, and these lists only feed filter choices.
CASE_STATUSES: Final = ("OPEN", "PAUSED", "CLOSED", "WITHDRAWN")
CASE_SUB_STATUSES: Final = (
    "DEBT_COLLECTION_LIST_MANUAL",
    "NONE",
    "EVICTION_REQUEST_MANUAL",
    "EVICTION_CONFIRMATION_MANUAL",
)
CASE_TYPES: Final = ("PAYMENT_REMINDER", "COLLECTION_NOTICE", "DEBT_COLLECTION", "LEGAL_COLLECTION")
DEBTOR_TYPES: Final = ("PRIVATE", "COMPANY")
CLAIM_TYPES: Final = ("PRINCIPAL", "INTEREST", "REMINDER_FEE", "COLLECTION_FEE", "LEGAL_COST")
ACCOUNT_TYPES: Final = ("UNKNOWN", "BBAN", "IBAN")


class CaseAction(StrEnum):
    """The nine case operations; each value is the path segment after the case id [ours]."""

    PAUSE = "pause"
    RESUME = "resume"
    WITHDRAW = "withdraw"
    ACCEPT_DEBT_COLLECTION_LIST = "debt-collection-list/accept"
    REJECT_DEBT_COLLECTION_LIST = "debt-collection-list/reject"
    ACCEPT_EVICTION_REQUEST = "eviction-request/accept"
    REJECT_EVICTION_REQUEST = "eviction-request/reject"
    ACCEPT_EVICTION_CONFIRMATION = "eviction-confirmation/accept"
    REJECT_EVICTION_CONFIRMATION = "eviction-confirmation/reject"


# --------------------------------------------------------------------------------------------
# Retry and token tuning: module-level so tests can make them instant
# --------------------------------------------------------------------------------------------

MAX_ATTEMPTS = 3
BACKOFF_BASE_SECONDS = 0.2
BACKOFF_MAX_SECONDS = 2.0
RETRY_AFTER_CAP_SECONDS = 2.0
RETRYABLE_STATUSES: Final = frozenset({429, 502, 503, 504})
TOKEN_REFRESH_MARGIN_SECONDS = 60
TOKEN_LOCK_WAIT_SECONDS = 3.0
TOKEN_LOCK_POLL_SECONDS = 0.05
CONNECT_TIMEOUT_CAP_SECONDS = 5.0
MAX_CONNECTIONS = 20
MAX_KEEPALIVE_CONNECTIONS = 10

_sleep: Callable[[float], None] = time.sleep  # backoff between attempts
_poll_sleep: Callable[[float], None] = time.sleep  # waiting for another caller's token
_now: Callable[[], float] = time.time  # wall clock, compared with the token's expires_on

# --------------------------------------------------------------------------------------------
# Exceptions
# --------------------------------------------------------------------------------------------


class AutoCollectError(Exception):
    """Base of every failure the client reports."""


class UpstreamUnavailable(AutoCollectError):
    """The upstream could not be reached, failed, or answered something unreadable."""

    def __init__(self, message: str, *, retry_after: int | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class UpstreamTimeout(AutoCollectError):
    """The upstream did not answer in time, even after retries."""


class RateLimited(AutoCollectError):
    """The upstream asked us to slow down; retry_after is in seconds when it said."""

    def __init__(self, message: str, *, retry_after: int | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class AccessDenied(AutoCollectError):
    """Our credentials may not read this organisation (upstream 403)."""


class NotFound(AutoCollectError):
    """The upstream has no such thing (404, or an empty lookup)."""


@dataclass(frozen=True, slots=True)
class Problem:
    status: int
    title: str
    detail: str
    errors: Mapping[str, tuple[str, ...]]
    trace_id: str


class Rejected(AutoCollectError):
    """The upstream refused the request (400, 409, 422, 423, ...) and said why."""

    def __init__(self, problem: Problem) -> None:
        # The message carries status and title only: details may echo what the user typed.
        super().__init__(f"AutoCollect rejected the request: {problem.status} {problem.title}")
        self.problem = problem


class InvalidPageToken(Rejected):
    """The page token was refused (expired, forged, or from other filters)."""


# --------------------------------------------------------------------------------------------
# Parsed types
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Invoice:
    invoice_id: str
    invoice_number: str
    case_id: str
    invoice_date: datetime | None
    due_date: datetime | None
    batch_id: str | None
    registered_at: datetime | None
    original_amount: Decimal
    remaining_amount: Decimal
    remaining_principal: Decimal
    unique_source_invoice_id: str
    paid_amount: Decimal
    credited_amount: Decimal
    currency: str


@dataclass(frozen=True, slots=True)
class Debtor:
    debtor_id: str
    type: str
    debtor_number: str
    customer_number: str
    first_name: str
    last_name: str
    full_name: str
    identification_number: str
    email: str
    phone: str

    @property
    def display_name(self) -> str:
        return self.full_name or " ".join(n for n in (self.first_name, self.last_name) if n)


@dataclass(frozen=True, slots=True)
class Claim:
    type: str
    original_amount: Decimal
    current_amount: Decimal
    remaining_amount: Decimal
    paid_amount: Decimal
    credited_amount: Decimal
    currency: str
    invoice_id: str | None


@dataclass(frozen=True, slots=True)
class BankAccount:
    account_type: str
    account_number: str


@dataclass(frozen=True, slots=True)
class AccountDetails:
    bank_account: BankAccount | None
    payment_reference: str


@dataclass(frozen=True, slots=True)
class Case:
    case_id: str
    case_number: int
    organization_id: str
    creditor_id: str
    creditor_number: str
    status: str
    sub_status: str
    type: str
    description: str
    registered_at: datetime | None
    closed_at: datetime | None
    invoices: tuple[Invoice, ...]
    debtors: tuple[Debtor, ...]
    remaining_amount: Decimal
    remaining_principal: Decimal
    claims: tuple[Claim, ...]
    account_details: AccountDetails | None


@dataclass(frozen=True, slots=True)
class SkipSummary:
    status: str
    total_count: int
    current_page: int
    page_size: int
    total_pages: int
    has_next_page: bool
    has_previous_page: bool


@dataclass(frozen=True, slots=True)
class CursorSummary:
    status: str
    next_page_token: str | None
    previous_page_token: str | None


@dataclass(frozen=True, slots=True)
class CasePage:
    cases: tuple[Case, ...]
    skip: SkipSummary
    cursor: CursorSummary


@dataclass(frozen=True, slots=True)
class CaseFilters:
    """What a case list is narrowed by; empty values are not sent."""

    status: str = ""
    type: str = ""
    case_number: int | None = None
    customer_number: str = ""
    unique_source_invoice_id: str = ""
    search_term: str = ""
    created_from: date | None = None
    created_to: date | None = None


@dataclass(frozen=True, slots=True)
class Batch:
    batch_id: str
    type: str
    status: str
    created_at: datetime | None
    finished_at: datetime | None
    organization_id: str
    created_by: str
    succeeded: tuple[str, ...]
    failed: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class ActionReceipt:
    batch_id: str
    batch_url: str


# --------------------------------------------------------------------------------------------
# Operations
# --------------------------------------------------------------------------------------------


def list_cases(
    *,
    organization_id: str | uuid.UUID,
    filters: CaseFilters = CaseFilters(),  # frozen, so one shared default is safe
    page_token: str | None = None,
    page_size: int = DEFAULT_PAGE_SIZE,
) -> CasePage:
    """One page of an organisation's cases, narrowed by filters (GetCasesByOrganization)."""
    if not 1 <= page_size <= MAX_PAGE_SIZE:
        raise ValueError(f"page_size must be between 1 and {MAX_PAGE_SIZE}")
    params = _filter_params(filters)
    if page_token:
        params[PAGE_TOKEN_PARAMETER] = page_token
    params[PAGE_SIZE_PARAMETER] = str(page_size)
    org = _organization(organization_id)
    response = _api_call(
        _Call(
            method="GET",
            template=CASES_PATH,
            path=CASES_PATH.format(organizationId=org),
            params=params,
        )
    )
    return _parse_case_page(_json_body(response))


def get_case(*, organization_id: str | uuid.UUID, case_number: int) -> Case:
    """The case with this case number, or NotFound."""
    page = list_cases(
        organization_id=organization_id,
        filters=CaseFilters(case_number=case_number),
        page_size=1,
    )
    # Checked, not assumed: an upstream that ignored the filter must not show the wrong case.
    for case in page.cases:
        if case.case_number == case_number:
            return case
    raise NotFound(f"No case number {case_number} in this organisation")


def list_debtor_cases(
    *, organization_id: str | uuid.UUID, customer_number: str, limit: int = 500
) -> tuple[Case, ...]:
    """Every case of one customer number, newest first, at most limit of them."""
    if not customer_number:
        raise ValueError("customer_number is required")
    cases: list[Case] = []
    if limit < 1:
        return ()
    for case in iter_cases(
        organization_id=organization_id,
        filters=CaseFilters(customer_number=customer_number),
        page_size=MAX_PAGE_SIZE,
    ):
        cases.append(case)
        if len(cases) >= limit:
            break  # before asking for a page we would not use
    return tuple(cases)


def iter_cases(
    *, organization_id: str | uuid.UUID, filters: CaseFilters, page_size: int = MAX_PAGE_SIZE
) -> Iterator[Case]:
    """Every case matching the filters, fetched page by page as the caller consumes them."""
    page_token: str | None = None
    seen_tokens: set[str] = set()
    while True:
        page = list_cases(
            organization_id=organization_id,
            filters=filters,
            page_token=page_token,
            page_size=page_size,
        )
        yield from page.cases
        page_token = page.cursor.next_page_token
        if not page_token or not page.cases:
            return
        if page_token in seen_tokens:
            raise UpstreamUnavailable("AutoCollect sent a malformed answer (page tokens loop)")
        seen_tokens.add(page_token)


def perform_case_action(
    *,
    organization_id: str | uuid.UUID,
    case_id: str,
    action: CaseAction,
    idempotency_key: str,
    reason: str = "",
) -> ActionReceipt:
    """Ask the upstream to apply one action to one case; it answers with a batch to follow."""
    if not idempotency_key:
        raise ValueError("idempotency_key is required: a repeated POST must not act twice")
    if not case_id:
        raise ValueError("case_id is required")
    org = _organization(organization_id)
    body: dict[str, object] = {ACTION_REASON_FIELD: reason} if reason else {}
    response = _api_call(
        _Call(
            method="POST",
            template=CASE_ACTION_PATH.replace("{action}", CaseAction(action).value),
            path=CASE_ACTION_PATH.format(
                organizationId=org, caseId=quote(case_id, safe=""), action=CaseAction(action).value
            ),
            json_body=body,
            headers={IDEMPOTENCY_HEADER: idempotency_key},
            idempotent=False,
        )
    )
    data = _envelope_data(_json_body(response))
    return ActionReceipt(
        batch_id=_required_text(data, "batchId"), batch_url=_text(data, "batchUrl")
    )


def get_batch(*, organization_id: str | uuid.UUID, batch_id: str) -> Batch:
    """One batch: how an asynchronous write is going."""
    if not batch_id:
        raise ValueError("batch_id is required")
    org = _organization(organization_id)
    response = _api_call(
        _Call(
            method="GET",
            template=BATCH_PATH,
            path=BATCH_PATH.format(organizationId=org, batchId=quote(batch_id, safe="")),
        )
    )
    return _parse_batch(_envelope_data(_json_body(response)))


# --------------------------------------------------------------------------------------------
# The per-process HTTP client
# --------------------------------------------------------------------------------------------

_client: httpx.Client | None = None
_transport: httpx.BaseTransport | None = None
_client_lock = threading.Lock()


def http_client() -> httpx.Client:
    """The one HTTP client of this process, created on first use."""
    global _client  # one pooled client per process, by design
    with _client_lock:
        if _client is None:
            _client = _build_client(_transport)
        return _client


def reset_http_client() -> None:
    """Close the process's HTTP client; the next call builds a new one from current settings."""
    global _client
    with _client_lock:
        client, _client = _client, None
    if client is not None:
        client.close()


def use_transport(transport: httpx.BaseTransport | None) -> None:
    """Route the process's client through this transport (tests); None restores the network."""
    global _transport
    _transport = transport
    reset_http_client()


def _build_client(transport: httpx.BaseTransport | None) -> httpx.Client:
    seconds = float(settings.AUTOCOLLECT_TIMEOUT)
    # Connecting and waiting for a pooled connection should fail fast; reading may take the
    # whole budget, since listing with a search term is the upstream's slowest answer.
    quick = min(seconds, CONNECT_TIMEOUT_CAP_SECONDS)
    return httpx.Client(
        timeout=httpx.Timeout(connect=quick, read=seconds, write=seconds, pool=quick),
        limits=httpx.Limits(
            max_connections=MAX_CONNECTIONS, max_keepalive_connections=MAX_KEEPALIVE_CONNECTIONS
        ),
        transport=transport,
        headers={"Accept": "application/json", "User-Agent": "collection-dashboard"},
        follow_redirects=False,
    )


@receiver(setting_changed)
def _forget_client_on_timeout_change(*, setting: str, **kwargs: object) -> None:
    if setting == "AUTOCOLLECT_TIMEOUT":
        reset_http_client()


# --------------------------------------------------------------------------------------------
# Requests: token, retries, error translation
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Call:
    method: str
    template: str  # the path with placeholders: what the log shows
    path: str
    params: Mapping[str, str] | None = None
    json_body: Mapping[str, object] | None = None
    headers: Mapping[str, str] = field(default_factory=dict)
    # GETs may be repeated freely; a POST only when it never left this machine.
    idempotent: bool = True


def _api_call(call: _Call) -> httpx.Response:
    """Send an API call with a bearer token; a 401 refreshes the token and retries once."""
    url = str(settings.AUTOCOLLECT_API_URL).rstrip("/") + call.path
    token = _access_token()
    response = _send_with_retries(call, lambda: _build(call, url, token))
    if response.status_code == 401:
        _forget_token(token)
        token = _access_token()
        response = _send_with_retries(call, lambda: _build(call, url, token))
        if response.status_code == 401:
            raise UpstreamUnavailable(
                "AutoCollect refused a freshly issued token (401): check that the credentials "
                "may use this API"
            )
    _raise_for_status(response)
    return response


def _build(call: _Call, url: str, token: str) -> httpx.Request:
    return http_client().build_request(
        call.method,
        url,
        params=dict(call.params) if call.params else None,
        json=dict(call.json_body) if call.json_body is not None else None,
        headers={**call.headers, "Authorization": f"Bearer {token}"},
    )


def _send_with_retries(call: _Call, build: Callable[[], httpx.Request]) -> httpx.Response:
    """Send, repeating on transient failures within the retry budget.

    Returns the last response, which may still be a failure for the caller to translate.
    """
    attempt = 1
    while True:
        started = time.monotonic()
        try:
            response = http_client().send(build())
        except httpx.TransportError as error:
            _log_failure(call, error, started, attempt)
            if attempt >= MAX_ATTEMPTS or not _may_repeat(call, error):
                _raise_transport_error(error)
            _sleep(_backoff_seconds(attempt))
            attempt += 1
            continue
        _log_exchange(call, response, started, attempt)
        if response.status_code not in RETRYABLE_STATUSES or not call.idempotent:
            return response
        if attempt >= MAX_ATTEMPTS:
            return response
        retry_after = _retry_after_seconds(response)
        if retry_after is not None and retry_after > RETRY_AFTER_CAP_SECONDS:
            return response  # the upstream wants longer than a page view may wait
        response.close()
        _sleep(retry_after if retry_after is not None else _backoff_seconds(attempt))
        attempt += 1


def _may_repeat(call: _Call, error: httpx.TransportError) -> bool:
    if call.idempotent:
        return isinstance(
            error, httpx.TimeoutException | httpx.NetworkError | httpx.RemoteProtocolError
        )
    # A POST may be repeated only when its request never reached the upstream.
    return isinstance(error, httpx.ConnectError | httpx.ConnectTimeout | httpx.PoolTimeout)


def _raise_transport_error(error: httpx.TransportError) -> NoReturn:
    kind = type(error).__name__
    if isinstance(error, httpx.TimeoutException):
        raise UpstreamTimeout(f"AutoCollect did not answer in time ({kind})") from error
    raise UpstreamUnavailable(f"AutoCollect could not be reached ({kind})") from error


def _backoff_seconds(attempt: int) -> float:
    ceiling = min(BACKOFF_MAX_SECONDS, BACKOFF_BASE_SECONDS * 2.0 ** (attempt - 1))
    return ceiling * random.uniform(0.5, 1.0)  # noqa: S311 - jitter, not cryptography


def _retry_after_seconds(response: httpx.Response) -> int | None:
    value = response.headers.get("Retry-After", "").strip()
    if not value:
        return None
    if value.isdigit():
        return int(value)
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return max(0, round(moment.timestamp() - _now()))


def _raise_for_status(response: httpx.Response) -> None:
    status = response.status_code
    if 200 <= status < 300:
        return
    retry_after = _retry_after_seconds(response)
    if status == 429:
        raise RateLimited("AutoCollect is rate limiting us", retry_after=retry_after)
    if status == 403:
        raise AccessDenied("Our AutoCollect credentials may not read this organisation")
    if status == 404:
        raise NotFound("AutoCollect has no such resource")
    if 400 <= status < 500:
        problem = _parse_problem(response)
        if status == 400 and _names_page_token(problem):
            raise InvalidPageToken(problem)
        raise Rejected(problem)
    raise UpstreamUnavailable(
        f"AutoCollect answered HTTP {status}",
        retry_after=retry_after if status == 503 else None,
    )


def _names_page_token(problem: Problem) -> bool:
    # Parameter names are case-insensitive upstream, and validators may prefix them ("$.pageToken").
    return any(PAGE_TOKEN_PARAMETER.lower() in name.lower() for name in problem.errors)


def _parse_problem(response: httpx.Response) -> Problem:
    fallback = Problem(
        status=response.status_code,
        title=response.reason_phrase,
        detail="",
        errors=MappingProxyType({}),
        trace_id="",
    )
    try:
        body = _json_body(response)
    except UpstreamUnavailable:
        return fallback
    if not isinstance(body, dict):
        return fallback
    data = cast(Mapping[str, object], body)
    errors: dict[str, tuple[str, ...]] = {}
    raw_errors = data.get(PROBLEM_ERRORS_FIELD)
    if isinstance(raw_errors, dict):
        for name, messages in raw_errors.items():
            if isinstance(messages, list):
                errors[str(name)] = tuple(str(m) for m in messages)
            elif messages is not None:
                errors[str(name)] = (str(messages),)
    status = data.get("status")
    if not isinstance(status, int) or isinstance(status, bool):
        status = fallback.status
    return Problem(
        status=status,
        title=_lenient_text(data.get("title")) or fallback.title,
        detail=_lenient_text(data.get("detail")),
        errors=MappingProxyType(errors),
        trace_id=_lenient_text(data.get("traceId")),
    )


def _lenient_text(value: object) -> str:
    return value if isinstance(value, str) else ""


def _log_exchange(call: _Call, response: httpx.Response, started: float, attempt: int) -> None:
    # Path templates only: query strings and ids in paths can name people or carry searches.
    logger.info(
        "autocollect %s %s -> %s in %d ms (attempt %d)",
        call.method,
        call.template,
        response.status_code,
        _elapsed_ms(started),
        attempt,
    )


def _log_failure(call: _Call, error: httpx.TransportError, started: float, attempt: int) -> None:
    logger.warning(
        "autocollect %s %s failed: %s after %d ms (attempt %d)",
        call.method,
        call.template,
        type(error).__name__,
        _elapsed_ms(started),
        attempt,
    )


def _elapsed_ms(started: float) -> int:
    return round((time.monotonic() - started) * 1000)


def _organization(organization_id: str | uuid.UUID) -> str:
    if isinstance(organization_id, uuid.UUID):
        return str(organization_id)
    return str(uuid.UUID(organization_id))


def _filter_params(filters: CaseFilters) -> dict[str, str]:
    params: dict[str, str] = {}
    for name, parameter in FILTER_PARAMETERS.items():
        value: object = getattr(filters, name)
        if value is None or value == "":
            continue
        params[parameter] = value.isoformat() if isinstance(value, date) else str(value)
    return params


# --------------------------------------------------------------------------------------------
# The token: client credentials, shared through the cache
# --------------------------------------------------------------------------------------------


def _token_cache_key() -> str:
    # Keyed by the credential, never by the secret: the secret stays out of cache keys.
    credential = f"{settings.AUTOCOLLECT_TOKEN_URL}\n{settings.AUTOCOLLECT_CLIENT_ID}"
    return "autocollect:token:" + hashlib.sha256(credential.encode()).hexdigest()


def _cached_token(key: str) -> str | None:
    entry = cache.get(key)
    if not isinstance(entry, dict):
        return None
    token, refresh_at = entry.get("access_token"), entry.get("refresh_at")
    if isinstance(token, str) and isinstance(refresh_at, int | float) and _now() < refresh_at:
        return token
    return None


def _access_token() -> str:
    """A valid bearer token: from the cache, or fetched once for every concurrent caller."""
    key = _token_cache_key()
    token = _cached_token(key)
    if token is not None:
        return token
    lock_key = key + ":lock"
    lock_seconds = int(float(settings.AUTOCOLLECT_TIMEOUT) * MAX_ATTEMPTS) + 5
    if cache.add(lock_key, "1", timeout=lock_seconds):
        try:
            # Another caller may have stored one between our look and our lock.
            return _cached_token(key) or _fetch_and_store_token(key)
        finally:
            cache.delete(lock_key)
    # Someone else is fetching: wait briefly for their token, then stop waiting and fetch.
    deadline = time.monotonic() + TOKEN_LOCK_WAIT_SECONDS
    while time.monotonic() < deadline:
        _poll_sleep(TOKEN_LOCK_POLL_SECONDS)
        token = _cached_token(key)
        if token is not None:
            return token
    return _fetch_and_store_token(key)


def _forget_token(token: str) -> None:
    key = _token_cache_key()
    # Only our own, refused token: a fresh one another worker just stored stays.
    entry = cache.get(key)
    if isinstance(entry, dict) and entry.get("access_token") == token:
        cache.delete(key)


def _fetch_and_store_token(key: str) -> str:
    token, expires_at = _fetch_token()
    now = _now()
    lifetime = expires_at - now
    margin = min(TOKEN_REFRESH_MARGIN_SECONDS, lifetime / 2)
    refresh_at = expires_at - margin
    if refresh_at > now:
        cache.set(
            key,
            {"access_token": token, "refresh_at": refresh_at},
            timeout=max(1, int(refresh_at - now)),
        )
    return token


def _fetch_token() -> tuple[str, float]:
    """POST the client credentials; returns the token and when it expires (unix seconds)."""
    token_url = str(settings.AUTOCOLLECT_TOKEN_URL)
    call = _Call(method="POST", template=urlsplit(token_url).path or "/", path="")
    form = {
        "grant_type": "client_credentials",
        "client_id": str(settings.AUTOCOLLECT_CLIENT_ID),
        "client_secret": str(settings.AUTOCOLLECT_CLIENT_SECRET),
    }

    def build() -> httpx.Request:
        return http_client().build_request("POST", token_url, data=form)

    # Fetching a token changes nothing upstream, so it may be repeated like a GET.
    response = _send_with_retries(call, build)
    if response.status_code in TOKEN_REFUSAL_STATUSES:
        raise UpstreamUnavailable(
            "The AutoCollect token endpoint refused our credentials "
            f"(HTTP {response.status_code}): check AUTOCOLLECT_CLIENT_ID, "
            "AUTOCOLLECT_CLIENT_SECRET and AUTOCOLLECT_TOKEN_URL"
        )
    if response.status_code == 429:
        raise RateLimited(
            "The AutoCollect token endpoint is rate limiting us",
            retry_after=_retry_after_seconds(response),
        )
    if not 200 <= response.status_code < 300:
        raise UpstreamUnavailable(
            f"The AutoCollect token endpoint answered HTTP {response.status_code}"
        )
    body = _mapping(_json_body(response), "token")
    token = _required_text(body, "access_token")
    return token, _token_expiry(body)


def _token_expiry(body: Mapping[str, object]) -> float:
    expires_on = _number_or_none(body.get("expires_on"))
    if expires_on is not None:
        return expires_on
    expires_in = _number_or_none(body.get("expires_in"))
    return _now() + (expires_in if expires_in is not None else DEFAULT_TOKEN_LIFETIME)


def _number_or_none(value: object) -> float | None:
    # Azure-style token endpoints send these as strings; others as numbers.
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | Decimal | float | str):
        try:
            return float(value)
        except ValueError:
            return None
    return None


# --------------------------------------------------------------------------------------------
# Parsing: upstream JSON -> dataclasses. Any shape we cannot read is UpstreamUnavailable.
# --------------------------------------------------------------------------------------------

_MALFORMED = "AutoCollect sent a malformed answer"


def _malformed(where: str) -> NoReturn:
    raise UpstreamUnavailable(f"{_MALFORMED} ({where})")


def _reject_constant(name: str) -> NoReturn:
    raise ValueError(f"non-finite number {name}")


def _json_body(response: httpx.Response) -> object:
    # parse_float=Decimal: amounts come from the text exactly, never through a binary float.
    try:
        return cast(
            object,
            json.loads(response.content, parse_float=Decimal, parse_constant=_reject_constant),
        )
    except (ValueError, RecursionError) as error:
        raise UpstreamUnavailable(f"{_MALFORMED} (not JSON)") from error


def _mapping(value: object, where: str) -> Mapping[str, object]:
    if not isinstance(value, dict):
        _malformed(f"{where} is not an object")
    return cast(Mapping[str, object], value)


def _optional_mapping(data: Mapping[str, object], key: str) -> Mapping[str, object] | None:
    value = data.get(key)
    return None if value is None else _mapping(value, key)


def _list(data: Mapping[str, object], key: str) -> list[object]:
    value = data.get(key)
    if value is None:
        return []
    if not isinstance(value, list):
        _malformed(f"{key} is not a list")
    return cast(list[object], value)


def _text(data: Mapping[str, object], key: str) -> str:
    value = data.get(key)
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, int | Decimal) and not isinstance(value, bool):
        return str(value)
    _malformed(f"{key} is not text")


def _optional_text(data: Mapping[str, object], key: str) -> str | None:
    return _text(data, key) or None


def _required_text(data: Mapping[str, object], key: str) -> str:
    value = _text(data, key)
    if not value:
        _malformed(f"{key} is missing")
    return value


def _int(data: Mapping[str, object], key: str, default: int = 0) -> int:
    value = data.get(key)
    if value is None:
        return default
    if isinstance(value, bool):
        _malformed(f"{key} is not a whole number")
    if isinstance(value, int):
        return value
    if isinstance(value, Decimal) and value == value.to_integral_value():
        return int(value)
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value)
    _malformed(f"{key} is not a whole number")


def _required_int(data: Mapping[str, object], key: str) -> int:
    if data.get(key) is None:
        _malformed(f"{key} is missing")
    return _int(data, key)


def _bool(data: Mapping[str, object], key: str) -> bool:
    value = data.get(key)
    if value is None:
        return False
    if not isinstance(value, bool):
        _malformed(f"{key} is not true or false")
    return value


def _amount(data: Mapping[str, object], key: str) -> Decimal:
    value = data.get(key)
    if value is None:
        return Decimal(0)
    if isinstance(value, bool):
        _malformed(f"{key} is not an amount")
    if isinstance(value, int | Decimal | str):
        try:
            amount = Decimal(value)
        except InvalidOperation:
            _malformed(f"{key} is not an amount")
        if amount.is_finite():
            return amount
    _malformed(f"{key} is not an amount")


def _datetime(data: Mapping[str, object], key: str) -> datetime | None:
    value = data.get(key)
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        _malformed(f"{key} is not a date")
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        _malformed(f"{key} is not a date")
    # A moment without an offset is taken as UTC, the upstream's own zone.
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _currency(value: object) -> str:
    """The invoice currency: an object {"code": "NOK"} [ours], a plain string, {} or null."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, dict):
        code = cast(Mapping[str, object], value).get(INVOICE_CURRENCY_CODE_FIELD)
        return code if isinstance(code, str) else ""
    _malformed("currency is neither text nor an object")


def _items(data: Mapping[str, object], key: str) -> list[Mapping[str, object]]:
    return [_mapping(item, key) for item in _list(data, key)]


def _parse_invoice(data: Mapping[str, object], case_id: str) -> Invoice:
    return Invoice(
        invoice_id=_text(data, "invoiceId"),
        invoice_number=_text(data, "invoiceNumber"),
        case_id=_text(data, "caseId") or case_id,
        invoice_date=_datetime(data, "invoiceDate"),
        due_date=_datetime(data, "dueDate"),
        batch_id=_optional_text(data, "batchId"),
        registered_at=_datetime(data, "registeredAt"),
        original_amount=_amount(data, "originalAmount"),
        remaining_amount=_amount(data, "remainingAmount"),
        remaining_principal=_amount(data, "remainingPrincipal"),
        unique_source_invoice_id=_text(data, "uniqueSourceInvoiceId"),
        paid_amount=_amount(data, "paidAmount"),
        credited_amount=_amount(data, "creditedAmount"),
        currency=_currency(data.get("currency")),
    )


def _parse_debtor(data: Mapping[str, object]) -> Debtor:
    return Debtor(
        debtor_id=_text(data, "debtorId"),
        type=_text(data, "type"),
        debtor_number=_text(data, "debtorNumber"),
        customer_number=_text(data, "customerNumber"),
        first_name=_text(data, "firstName"),
        last_name=_text(data, "lastName"),
        full_name=_text(data, "fullName"),
        identification_number=_text(data, "identificationNumber"),
        email=_text(data, "email"),
        phone=_text(data, "phone"),
    )


def _parse_claim(data: Mapping[str, object]) -> Claim:
    return Claim(
        type=_text(data, "type"),
        original_amount=_amount(data, "originalAmount"),
        current_amount=_amount(data, "currentAmount"),
        remaining_amount=_amount(data, "remainingAmount"),
        paid_amount=_amount(data, "paidAmount"),
        credited_amount=_amount(data, "creditedAmount"),
        currency=_currency(data.get("currency")),
        invoice_id=_optional_text(data, "invoiceId"),
    )


def _parse_account_details(data: Mapping[str, object] | None) -> AccountDetails | None:
    if data is None:
        return None
    bank = _optional_mapping(data, "bankAccountDetails")
    return AccountDetails(
        bank_account=None
        if bank is None
        else BankAccount(
            account_type=_text(bank, "accountType"), account_number=_text(bank, "accountNumber")
        ),
        payment_reference=_text(data, "paymentReference"),
    )


def _parse_case(data: Mapping[str, object]) -> Case:
    case_id = _required_text(data, "caseId")
    return Case(
        case_id=case_id,
        case_number=_required_int(data, "caseNumber"),
        organization_id=_text(data, "organizationId"),
        creditor_id=_text(data, "creditorId"),
        creditor_number=_text(data, "creditorNumber"),
        status=_text(data, "status"),
        sub_status=_text(data, "subStatus"),
        type=_text(data, "type"),
        description=_text(data, "description"),
        registered_at=_datetime(data, "registeredAt"),
        closed_at=_datetime(data, "closedAt"),
        invoices=tuple(_parse_invoice(item, case_id) for item in _items(data, "invoices")),
        debtors=tuple(_parse_debtor(item) for item in _items(data, "debtors")),
        remaining_amount=_amount(data, "remainingAmount"),
        remaining_principal=_amount(data, "remainingPrincipal"),
        claims=tuple(_parse_claim(item) for item in _items(data, "claims")),
        account_details=_parse_account_details(_optional_mapping(data, "caseAccountDetails")),
    )


def _parse_case_page(body: object) -> CasePage:
    data = _mapping(body, "body")
    if "data" not in data:
        _malformed("data is missing")
    skip = _optional_mapping(data, "skipSummary") or {}
    cursor = _optional_mapping(data, "cursorSummary") or {}
    return CasePage(
        cases=tuple(_parse_case(item) for item in _items(data, "data")),
        skip=SkipSummary(
            status=_text(skip, "status"),
            total_count=_int(skip, "totalCount"),
            current_page=_int(skip, "currentPage"),
            page_size=_int(skip, "pageSize"),
            total_pages=_int(skip, "totalPages"),
            has_next_page=_bool(skip, "hasNextPage"),
            has_previous_page=_bool(skip, "hasPreviousPage"),
        ),
        cursor=CursorSummary(
            status=_text(cursor, "status"),
            next_page_token=_optional_text(cursor, "nextPageToken"),
            previous_page_token=_optional_text(cursor, "previousPageToken"),
        ),
    )


def _envelope_data(body: object) -> Mapping[str, object]:
    """The `data` object of a {"summary": ..., "data": {...}} answer."""
    return _mapping(_mapping(body, "body").get("data"), "data")


def _batch_entry(value: object) -> str:
    # Entries name what succeeded or failed: a bare id, or an object carrying one [ours].
    if isinstance(value, str):
        return value
    if isinstance(value, dict):
        entry = cast(Mapping[str, Any], value)
        for key in BATCH_ENTRY_ID_FIELDS:
            if isinstance(entry.get(key), str):
                return cast(str, entry[key])
    _malformed("batch entry is neither an id nor an object with one")


def _parse_batch(data: Mapping[str, object]) -> Batch:
    return Batch(
        batch_id=_required_text(data, "batchId"),
        type=_text(data, "type"),
        status=_text(data, "status"),
        created_at=_datetime(data, "createdAt"),
        finished_at=_datetime(data, "finishedAt"),
        organization_id=_text(data, "organizationId"),
        created_by=_text(data, "createdBy"),
        succeeded=tuple(_batch_entry(item) for item in _list(data, "succeeded")),
        failed=tuple(_batch_entry(item) for item in _list(data, "failed")),
    )
