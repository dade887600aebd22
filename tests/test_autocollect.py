"""The upstream client against a faked AutoCollect (respx at the transport).

No real sleeps: the backoff sleep is replaced by a recorder, and token expiry runs on a fake clock.
"""

import itertools
import json
import logging
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import httpx
import pytest
import respx
from django.core.cache import cache
from django.test import override_settings

from cases import autocollect
from cases.autocollect import (
    AccessDenied,
    CaseAction,
    CaseFilters,
    InvalidPageToken,
    NotFound,
    RateLimited,
    Rejected,
    UpstreamTimeout,
    UpstreamUnavailable,
)

HOST = "https://amili.test"
API_URL = f"{HOST}/collection/v1"
TOKEN_URL = f"{HOST}/token"
CLIENT_SECRET = "s3cret-never-logged"
ORG = "7bc05553-4b68-44e8-b7bc-37be63c6d9e9"
CASES_PATH = f"/collection/v1/orgs/{ORG}/cases"
CASE_ID = "af51d69f-996a-4891-a745-aadfcdec225a"
ACTION_PATH = f"{CASES_PATH}/{CASE_ID}/pause"
BATCH_ID = "5579c111-9c50-47e2-af92-f16d52e63189"

# Personal data the fake upstream returns; none of it may reach a log line.
NATIONAL_ID = "01017012345"
EMAIL = "kari.nordmann@example.no"
PHONE = "+4791234567"


class FakeClock:
    """Wall-clock seconds the client compares token expiry against."""

    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture(autouse=True)
def upstream_settings() -> Iterator[None]:
    with override_settings(
        AUTOCOLLECT_API_URL=API_URL,
        AUTOCOLLECT_TOKEN_URL=TOKEN_URL,
        AUTOCOLLECT_CLIENT_ID="dashboard",
        AUTOCOLLECT_CLIENT_SECRET=CLIENT_SECRET,
    ):
        yield


@pytest.fixture(autouse=True)
def sleeps(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """Backoff sleeps, recorded instead of slept."""
    recorded: list[float] = []
    monkeypatch.setattr(autocollect, "_sleep", recorded.append)
    return recorded


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> FakeClock:
    fake = FakeClock()
    monkeypatch.setattr(autocollect, "_now", fake)
    return fake


def token_issuer(
    clock: Callable[[], float] = time.time, lifetime: int = 3600, delay: float = 0.0
) -> Callable[[httpx.Request], httpx.Response]:
    """A token endpoint that hands out token-1, token-2, ... valid for `lifetime` seconds."""
    numbers = itertools.count(1)

    def issue(request: httpx.Request) -> httpx.Response:
        if delay:
            time.sleep(delay)
        return httpx.Response(
            200,
            json={
                "access_token": f"token-{next(numbers)}",
                "token_type": "Bearer",
                "not_before": int(clock()),
                "expires_in": lifetime,
                "expires_on": int(clock()) + lifetime,
                "resource": "collection",
            },
        )

    return issue


@pytest.fixture
def upstream() -> Iterator[respx.MockRouter]:
    with respx.mock(base_url=HOST, assert_all_called=False) as router:
        router.post("/token", name="token").mock(side_effect=token_issuer())
        yield router


def answer(status: int, body: object = None, **headers: str) -> Callable[..., httpx.Response]:
    """A route side effect that builds a fresh response on every call."""

    def respond(request: httpx.Request) -> httpx.Response:
        if body is None:
            return httpx.Response(status, headers=headers)
        return httpx.Response(status, json=body, headers=headers)

    return respond


def raw(status: int, content: bytes, content_type: str = "application/json") -> httpx.Response:
    return httpx.Response(status, content=content, headers={"Content-Type": content_type})


def case_json(**overrides: Any) -> dict[str, Any]:
    """A case shaped like the seed's example, with realistic values."""
    case: dict[str, Any] = {
        "caseId": CASE_ID,
        "caseNumber": 100234,
        "organizationId": ORG,
        "creditorId": "ddc16491-2bd6-4cc3-b855-e93eb9eb99c2",
        "creditorNumber": "CR-1",
        "status": "OPEN",
        "subStatus": "DEBT_COLLECTION_LIST_MANUAL",
        "type": "PAYMENT_REMINDER",
        "description": "Husleie mars",
        "registeredAt": "2026-03-01T08:15:22.123Z",
        "closedAt": None,
        "invoices": [
            {
                "invoiceId": "4f163819-178d-470c-a246-d6768476a6ec",
                "invoiceNumber": "F-2026-001",
                "caseId": CASE_ID,
                "invoiceDate": "2026-01-15T00:00:00Z",
                "dueDate": "2026-02-01T00:00:00Z",
                "batchId": BATCH_ID,
                "registeredAt": "2026-03-01T08:15:22.123Z",
                "originalAmount": 1000.5,
                "remainingAmount": 800.25,
                "remainingPrincipal": 750,
                "uniqueSourceInvoiceId": "SRC-77",
                "paidAmount": 200.25,
                "creditedAmount": 0,
                "currency": {"code": "NOK"},
            }
        ],
        "debtors": [
            {
                "debtorId": "0e24973d-821c-4f49-b6cd-c5f93b86e51d",
                "type": "PRIVATE",
                "debtorNumber": "D-9",
                "customerNumber": "CUST-42",
                "firstName": "Kari",
                "lastName": "Nordmann",
                "fullName": "Kari Nordmann",
                "identificationNumber": NATIONAL_ID,
                "email": EMAIL,
                "phone": PHONE,
            }
        ],
        "remainingAmount": 850.25,
        "remainingPrincipal": 750,
        "claims": [
            {
                "type": "PRINCIPAL",
                "originalAmount": 1000.5,
                "currentAmount": 800.25,
                "remainingAmount": 800.25,
                "paidAmount": 200.25,
                "creditedAmount": 0,
                "currency": "NOK",
                "invoiceId": "4f163819-178d-470c-a246-d6768476a6ec",
            }
        ],
        "caseAccountDetails": {
            "bankAccountDetails": {"accountType": "BBAN", "accountNumber": "12345678903"},
            "paymentReference": "1234567890128",
        },
    }
    case.update(overrides)
    return case


def page_json(
    cases: list[dict[str, Any]] | None = None,
    next_token: str | None = None,
    total: int | None = None,
) -> dict[str, Any]:
    cases = [case_json()] if cases is None else cases
    return {
        "data": cases,
        "skipSummary": {
            "status": "SUCCESS",
            "totalCount": len(cases) if total is None else total,
            "currentPage": 1,
            "pageSize": 25,
            "totalPages": 1,
            "hasNextPage": next_token is not None,
            "hasPreviousPage": False,
        },
        "cursorSummary": {
            "status": "SUCCESS",
            "nextPageToken": next_token,
            "previousPageToken": None,
        },
    }


def list_one_page() -> autocollect.CasePage:
    return autocollect.list_cases(organization_id=ORG)


# --- Token -------------------------------------------------------------------------------


def test_two_calls_fetch_one_token(upstream: respx.MockRouter) -> None:
    cases = upstream.get(CASES_PATH).mock(side_effect=answer(200, page_json()))

    list_one_page()
    list_one_page()

    assert upstream.routes["token"].call_count == 1
    assert [call.request.headers["Authorization"] for call in cases.calls] == ["Bearer token-1"] * 2


def test_token_request_sends_client_credentials_form_encoded(upstream: respx.MockRouter) -> None:
    upstream.get(CASES_PATH).mock(side_effect=answer(200, page_json()))

    list_one_page()

    request = upstream.routes["token"].calls.last.request
    assert request.headers["Content-Type"] == "application/x-www-form-urlencoded"
    form = dict(httpx.QueryParams(request.content.decode()))
    assert form == {
        "grant_type": "client_credentials",
        "client_id": "dashboard",
        "client_secret": CLIENT_SECRET,
    }


def test_token_lives_in_the_shared_cache_keyed_without_the_secret(
    upstream: respx.MockRouter,
) -> None:
    upstream.get(CASES_PATH).mock(side_effect=answer(200, page_json()))
    list_one_page()

    key = autocollect._token_cache_key()
    assert CLIENT_SECRET not in key
    assert cache.get(key)["access_token"] == "token-1"

    # Another worker's client (a fresh httpx client, same cache) reuses it...
    autocollect.reset_http_client()
    list_one_page()
    assert upstream.routes["token"].call_count == 1

    # ...and without the cache entry, a token is fetched again: nothing is kept in the process.
    cache.clear()
    list_one_page()
    assert upstream.routes["token"].call_count == 2


def test_token_is_refreshed_about_a_minute_before_it_expires(
    upstream: respx.MockRouter, clock: FakeClock
) -> None:
    upstream.routes["token"].side_effect = token_issuer(clock, lifetime=3600)
    cases = upstream.get(CASES_PATH).mock(side_effect=answer(200, page_json()))

    list_one_page()
    clock.now += 3600 - 70  # 70 s left: still good
    list_one_page()
    clock.now += 15  # 55 s left: time for a new one
    list_one_page()

    assert upstream.routes["token"].call_count == 2
    assert cases.calls.last.request.headers["Authorization"] == "Bearer token-2"


def test_expires_in_is_used_when_expires_on_is_missing(
    upstream: respx.MockRouter, clock: FakeClock
) -> None:
    upstream.routes["token"].side_effect = answer(
        200, {"access_token": "short", "token_type": "Bearer", "expires_in": "600"}
    )
    upstream.get(CASES_PATH).mock(side_effect=answer(200, page_json()))

    list_one_page()
    clock.now += 530
    list_one_page()
    assert upstream.routes["token"].call_count == 1
    clock.now += 20  # 50 s left
    list_one_page()
    assert upstream.routes["token"].call_count == 2


def test_a_401_refreshes_the_token_and_retries_once(upstream: respx.MockRouter) -> None:
    cases = upstream.get(CASES_PATH).mock(
        side_effect=[httpx.Response(401), httpx.Response(200, json=page_json())]
    )

    page = list_one_page()

    assert len(page.cases) == 1
    assert upstream.routes["token"].call_count == 2
    assert [c.request.headers["Authorization"] for c in cases.calls] == [
        "Bearer token-1",
        "Bearer token-2",
    ]
    assert cache.get(autocollect._token_cache_key())["access_token"] == "token-2"


def test_a_second_401_is_an_error_not_a_loop(upstream: respx.MockRouter) -> None:
    cases = upstream.get(CASES_PATH).mock(side_effect=answer(401))

    with pytest.raises(UpstreamUnavailable, match="401"):
        list_one_page()

    assert cases.call_count == 2
    assert upstream.routes["token"].call_count == 2


def test_concurrent_callers_fetch_the_token_once(upstream: respx.MockRouter) -> None:
    upstream.routes["token"].side_effect = token_issuer(delay=0.3)
    cases = upstream.get(CASES_PATH).mock(side_effect=answer(200, page_json()))
    callers = 6
    start = threading.Barrier(callers)

    def call() -> autocollect.CasePage:
        start.wait(timeout=5)
        return list_one_page()

    with ThreadPoolExecutor(max_workers=callers) as pool:
        pages = [
            future.result(timeout=10) for future in [pool.submit(call) for _ in range(callers)]
        ]

    assert all(len(page.cases) == 1 for page in pages)
    assert upstream.routes["token"].call_count == 1
    assert cases.call_count == callers
    assert {c.request.headers["Authorization"] for c in cases.calls} == {"Bearer token-1"}


@pytest.mark.parametrize(
    ("status", "body"),
    [(401, {"error": "invalid_client"}), (400, {"error": "invalid_request"})],
)
def test_token_endpoint_refusing_credentials_says_to_check_them(
    upstream: respx.MockRouter, status: int, body: object
) -> None:
    upstream.routes["token"].side_effect = answer(status, body)
    cases = upstream.get(CASES_PATH).mock(side_effect=answer(200, page_json()))

    with pytest.raises(UpstreamUnavailable, match="AUTOCOLLECT_CLIENT_ID") as raised:
        list_one_page()

    assert CLIENT_SECRET not in str(raised.value)
    assert upstream.routes["token"].call_count == 1  # credentials do not improve by retrying
    assert cases.call_count == 0


def test_token_answer_without_a_token_is_malformed(upstream: respx.MockRouter) -> None:
    upstream.routes["token"].side_effect = answer(200, {"token_type": "Bearer"})

    with pytest.raises(UpstreamUnavailable, match="malformed"):
        list_one_page()


# --- Retries -------------------------------------------------------------------------------


@pytest.mark.parametrize("status", [502, 503, 504])
def test_gateway_failures_are_retried_until_an_answer(
    upstream: respx.MockRouter, sleeps: list[float], status: int
) -> None:
    cases = upstream.get(CASES_PATH).mock(
        side_effect=[
            httpx.Response(status),
            httpx.Response(status),
            httpx.Response(200, json=page_json()),
        ]
    )

    assert len(list_one_page().cases) == 1
    assert cases.call_count == 3
    # Jittered exponential backoff: the second wait draws from a range twice as high.
    assert len(sleeps) == 2
    base = autocollect.BACKOFF_BASE_SECONDS
    assert base * 0.5 <= sleeps[0] <= base
    assert base <= sleeps[1] <= base * 2


@pytest.mark.parametrize("status", [502, 503, 504])
def test_gateway_failures_give_up_after_the_last_attempt(
    upstream: respx.MockRouter, sleeps: list[float], status: int
) -> None:
    cases = upstream.get(CASES_PATH).mock(side_effect=answer(status))

    with pytest.raises(UpstreamUnavailable, match=str(status)):
        list_one_page()

    assert cases.call_count == autocollect.MAX_ATTEMPTS == 3
    assert len(sleeps) == 2


def test_a_500_is_not_retried(upstream: respx.MockRouter, sleeps: list[float]) -> None:
    cases = upstream.get(CASES_PATH).mock(side_effect=answer(500))

    with pytest.raises(UpstreamUnavailable):
        list_one_page()

    assert cases.call_count == 1
    assert sleeps == []


def test_connect_errors_are_retried(upstream: respx.MockRouter) -> None:
    cases = upstream.get(CASES_PATH).mock(
        side_effect=[httpx.ConnectError("refused"), httpx.Response(200, json=page_json())]
    )

    assert len(list_one_page().cases) == 1
    assert cases.call_count == 2


def test_persistent_connect_errors_are_unavailable(upstream: respx.MockRouter) -> None:
    cases = upstream.get(CASES_PATH).mock(side_effect=httpx.ConnectError("refused"))

    with pytest.raises(UpstreamUnavailable, match="ConnectError"):
        list_one_page()

    assert cases.call_count == 3


@pytest.mark.parametrize("error", [httpx.ReadTimeout, httpx.ConnectTimeout, httpx.PoolTimeout])
def test_timeouts_are_retried_then_reported_as_timeouts(
    upstream: respx.MockRouter, error: type[httpx.TimeoutException]
) -> None:
    cases = upstream.get(CASES_PATH).mock(side_effect=error("slow"))

    with pytest.raises(UpstreamTimeout):
        list_one_page()

    assert cases.call_count == 3


def test_one_timeout_then_an_answer_succeeds(upstream: respx.MockRouter) -> None:
    cases = upstream.get(CASES_PATH).mock(
        side_effect=[httpx.ReadTimeout("slow"), httpx.Response(200, json=page_json())]
    )

    assert len(list_one_page().cases) == 1
    assert cases.call_count == 2


def test_retry_after_is_honoured_when_short(
    upstream: respx.MockRouter, sleeps: list[float]
) -> None:
    upstream.get(CASES_PATH).mock(
        side_effect=[
            httpx.Response(503, headers={"Retry-After": "1"}),
            httpx.Response(429, headers={"Retry-After": "2"}),
            httpx.Response(200, json=page_json()),
        ]
    )

    list_one_page()

    assert sleeps == [1, 2]


def test_a_long_retry_after_stops_retrying_and_reports_it(
    upstream: respx.MockRouter, sleeps: list[float]
) -> None:
    cases = upstream.get(CASES_PATH).mock(side_effect=answer(429, None, **{"Retry-After": "30"}))

    with pytest.raises(RateLimited) as raised:
        list_one_page()

    assert raised.value.retry_after == 30
    assert cases.call_count == 1
    assert sleeps == []


def test_persistent_429_is_rate_limited_with_retry_after(
    upstream: respx.MockRouter, sleeps: list[float]
) -> None:
    cases = upstream.get(CASES_PATH).mock(side_effect=answer(429, None, **{"Retry-After": "1"}))

    with pytest.raises(RateLimited) as raised:
        list_one_page()

    assert raised.value.retry_after == 1
    assert cases.call_count == 3
    assert sleeps == [1, 1]


def test_429_without_retry_after_backs_off_and_reports_none(
    upstream: respx.MockRouter, sleeps: list[float]
) -> None:
    upstream.get(CASES_PATH).mock(side_effect=answer(429))

    with pytest.raises(RateLimited) as raised:
        list_one_page()

    assert raised.value.retry_after is None
    assert len(sleeps) == 2
    assert all(0 < s <= autocollect.BACKOFF_MAX_SECONDS for s in sleeps)


def test_a_long_retry_after_on_503_is_passed_on(upstream: respx.MockRouter) -> None:
    upstream.get(CASES_PATH).mock(side_effect=answer(503, None, **{"Retry-After": "120"}))

    with pytest.raises(UpstreamUnavailable) as raised:
        list_one_page()

    assert raised.value.retry_after == 120


# --- Actions (POST) ------------------------------------------------------------------------

RECEIPT = {
    "summary": {"status": "SUCCESS"},
    "data": {"batchId": BATCH_ID, "batchUrl": f"/orgs/{ORG}/batches/{BATCH_ID}"},
}


def pause(reason: str = "") -> autocollect.ActionReceipt:
    return autocollect.perform_case_action(
        organization_id=ORG,
        case_id=CASE_ID,
        action=CaseAction.PAUSE,
        idempotency_key="key-123",
        reason=reason,
    )


def test_an_action_posts_its_reason_with_an_idempotency_key(upstream: respx.MockRouter) -> None:
    action = upstream.post(ACTION_PATH).mock(side_effect=answer(202, RECEIPT))

    receipt = pause(reason="Betalingsavtale")

    assert receipt == autocollect.ActionReceipt(
        batch_id=BATCH_ID, batch_url=f"/orgs/{ORG}/batches/{BATCH_ID}"
    )
    request = action.calls.last.request
    assert request.headers["Idempotency-Key"] == "key-123"
    assert request.headers["Authorization"] == "Bearer token-1"
    assert json.loads(request.content) == {"reason": "Betalingsavtale"}


@pytest.mark.parametrize(
    ("action", "path"),
    [
        (CaseAction.ACCEPT_DEBT_COLLECTION_LIST, "debt-collection-list/accept"),
        (CaseAction.REJECT_EVICTION_CONFIRMATION, "eviction-confirmation/reject"),
        (CaseAction.WITHDRAW, "withdraw"),
    ],
)
def test_each_action_has_its_own_path(
    upstream: respx.MockRouter, action: CaseAction, path: str
) -> None:
    route = upstream.post(f"{CASES_PATH}/{CASE_ID}/{path}").mock(side_effect=answer(202, RECEIPT))

    autocollect.perform_case_action(
        organization_id=ORG, case_id=CASE_ID, action=action, idempotency_key="k"
    )

    assert route.call_count == 1


def test_a_post_is_not_repeated_after_it_was_sent(
    upstream: respx.MockRouter, sleeps: list[float]
) -> None:
    action = upstream.post(ACTION_PATH).mock(side_effect=answer(503, None, **{"Retry-After": "1"}))

    with pytest.raises(UpstreamUnavailable):
        pause()

    assert action.call_count == 1
    assert sleeps == []


def test_a_post_that_timed_out_reading_is_not_repeated(upstream: respx.MockRouter) -> None:
    action = upstream.post(ACTION_PATH).mock(side_effect=httpx.ReadTimeout("slow"))

    with pytest.raises(UpstreamTimeout):
        pause()

    assert action.call_count == 1


def test_a_post_that_never_connected_is_repeated_with_the_same_key(
    upstream: respx.MockRouter,
) -> None:
    action = upstream.post(ACTION_PATH).mock(
        side_effect=[httpx.ConnectError("refused"), httpx.Response(202, json=RECEIPT)]
    )

    assert pause().batch_id == BATCH_ID
    assert [c.request.headers["Idempotency-Key"] for c in action.calls] == ["key-123"] * 2


def test_a_refused_transition_is_rejected_with_the_upstreams_reason(
    upstream: respx.MockRouter,
) -> None:
    upstream.post(ACTION_PATH).mock(
        return_value=raw(
            409,
            json.dumps(
                {
                    "type": "about:blank",
                    "title": "Conflict",
                    "status": 409,
                    "detail": "Only an OPEN case can be paused; this one is CLOSED.",
                    "traceId": "00-abc-01",
                }
            ).encode(),
            "application/problem+json",
        )
    )

    with pytest.raises(Rejected) as raised:
        pause()

    assert raised.value.problem.status == 409
    assert raised.value.problem.detail == "Only an OPEN case can be paused; this one is CLOSED."
    assert raised.value.problem.trace_id == "00-abc-01"
    assert not isinstance(raised.value, InvalidPageToken)


def test_get_batch_parses_its_outcome(upstream: respx.MockRouter) -> None:
    upstream.get(f"/collection/v1/orgs/{ORG}/batches/{BATCH_ID}").mock(
        side_effect=answer(
            200,
            {
                "summary": {"status": "SUCCESS"},
                "data": {
                    "batchId": BATCH_ID,
                    "type": "CASE_ACTION",
                    "status": "SUCCESS",
                    "createdAt": "2026-03-01T08:15:22Z",
                    "finishedAt": "2026-03-01T08:15:23.5Z",
                    "organizationId": ORG,
                    "createdBy": "dashboard",
                    "succeeded": [CASE_ID],
                    "failed": [{"caseId": "other-case", "caseNumber": 7, "error": "Closed."}],
                },
            },
        )
    )

    batch = autocollect.get_batch(organization_id=ORG, batch_id=BATCH_ID)

    assert batch.status == "SUCCESS"
    assert batch.succeeded == (CASE_ID,)
    assert batch.failed == ("other-case",)  # entries may be bare ids or objects naming one
    assert batch.finished_at == datetime(2026, 3, 1, 8, 15, 23, 500000, tzinfo=UTC)


# --- Parsing -------------------------------------------------------------------------------


def list_with(body: object) -> autocollect.CasePage:
    with respx.mock(base_url=HOST) as router:
        router.post("/token").mock(side_effect=token_issuer())
        router.get(CASES_PATH).mock(side_effect=answer(200, body))
        return list_one_page()


def test_a_case_is_parsed_into_typed_fields() -> None:
    page = list_with(page_json(next_token="tok-2", total=40))

    case = page.cases[0]
    assert case.case_number == 100234
    assert case.registered_at == datetime(2026, 3, 1, 8, 15, 22, 123000, tzinfo=UTC)
    assert case.closed_at is None
    assert case.invoices[0].currency == "NOK"
    assert case.invoices[0].original_amount == Decimal("1000.5")
    assert case.invoices[0].remaining_principal == Decimal(750)
    assert case.debtors[0].display_name == "Kari Nordmann"
    assert case.claims[0].currency == "NOK"
    assert case.account_details == autocollect.AccountDetails(
        bank_account=autocollect.BankAccount(account_type="BBAN", account_number="12345678903"),
        payment_reference="1234567890128",
    )
    assert page.skip.total_count == 40
    assert page.skip.has_next_page is True
    assert page.cursor.next_page_token == "tok-2"
    assert page.cursor.previous_page_token is None


def test_amounts_are_exact_decimals(upstream: respx.MockRouter) -> None:
    # Written as JSON text: a Python float here would lose the digits before the client saw them.
    content = (
        '{"data": [{"caseId": "c", "caseNumber": 1, "remainingAmount": 0.1,'
        ' "remainingPrincipal": 0.2, "invoices": [{"originalAmount": 12345678901234567.89}]}]}'
    )
    upstream.get(CASES_PATH).mock(return_value=raw(200, content.encode()))

    parsed = list_one_page().cases[0]

    assert parsed.remaining_amount + parsed.remaining_principal == Decimal("0.3")
    assert parsed.invoices[0].original_amount == Decimal("12345678901234567.89")


def test_unknown_enum_values_are_kept() -> None:
    case = case_json(status="ON_HOLD", subStatus="COURT_REVIEW", type="SETTLEMENT")
    case["debtors"][0]["type"] = "ESTATE"
    case["claims"][0]["type"] = "VAT"
    case["caseAccountDetails"]["bankAccountDetails"]["accountType"] = "SWIFT"

    parsed = list_with(page_json([case])).cases[0]

    assert (parsed.status, parsed.sub_status, parsed.type) == (
        "ON_HOLD",
        "COURT_REVIEW",
        "SETTLEMENT",
    )
    assert parsed.debtors[0].type == "ESTATE"
    assert parsed.claims[0].type == "VAT"
    assert parsed.account_details is not None
    assert parsed.account_details.bank_account is not None
    assert parsed.account_details.bank_account.account_type == "SWIFT"


def test_a_case_with_only_its_identity_is_tolerated() -> None:
    page = list_with({"data": [{"caseId": CASE_ID, "caseNumber": 7}]})

    case = page.cases[0]
    assert case.case_number == 7
    assert (case.status, case.description, case.registered_at) == ("", "", None)
    assert (case.invoices, case.debtors, case.claims) == ((), (), ())
    assert case.remaining_amount == Decimal(0)
    assert case.account_details is None
    assert page.skip.total_count == 0
    assert page.cursor.next_page_token is None


def test_nulls_are_tolerated_everywhere_optional() -> None:
    invoice = dict.fromkeys(case_json()["invoices"][0])
    debtor = dict.fromkeys(case_json()["debtors"][0])
    claim = dict.fromkeys(case_json()["claims"][0])
    body = {
        "data": [
            case_json(
                closedAt=None,
                description=None,
                invoices=[invoice],
                debtors=[debtor],
                claims=[claim],
                caseAccountDetails={"bankAccountDetails": None, "paymentReference": None},
            )
        ],
        "skipSummary": None,
        "cursorSummary": {"status": None, "nextPageToken": None, "previousPageToken": None},
    }

    case = list_with(body).cases[0]

    assert case.invoices[0].invoice_date is None
    assert case.invoices[0].case_id == CASE_ID  # the enclosing case's, when the invoice omits it
    assert case.invoices[0].currency == ""
    assert case.invoices[0].batch_id is None
    assert case.debtors[0].display_name == ""
    assert case.claims[0].invoice_id is None
    assert case.claims[0].paid_amount == Decimal(0)
    assert case.account_details == autocollect.AccountDetails(
        bank_account=None, payment_reference=""
    )


def test_a_debtor_without_a_full_name_is_shown_by_first_and_last_name() -> None:
    case = case_json()
    case["debtors"][0]["fullName"] = ""

    assert list_with(page_json([case])).cases[0].debtors[0].display_name == "Kari Nordmann"


@pytest.mark.parametrize(
    ("currency", "expected"),
    [({"code": "NOK"}, "NOK"), ("SEK", "SEK"), ({}, ""), (None, "")],
)
def test_invoice_currency_is_read_from_an_object_a_string_or_nothing(
    currency: object, expected: str
) -> None:
    case = case_json()
    case["invoices"][0]["currency"] = currency

    assert list_with(page_json([case])).cases[0].invoices[0].currency == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-03-01T08:15:22Z", datetime(2026, 3, 1, 8, 15, 22, tzinfo=UTC)),
        (
            "2026-03-01T09:15:22+01:00",
            datetime(2026, 3, 1, 9, 15, 22, tzinfo=timezone(timedelta(hours=1))),
        ),
        ("2026-03-01T08:15:22.1234567Z", datetime(2026, 3, 1, 8, 15, 22, 123456, tzinfo=UTC)),
        ("2026-03-01T08:15:22", datetime(2026, 3, 1, 8, 15, 22, tzinfo=UTC)),
    ],
)
def test_moments_are_timezone_aware(text: str, expected: datetime) -> None:
    moment = list_with(page_json([case_json(registeredAt=text)])).cases[0].registered_at

    assert moment == expected
    assert moment is not None
    assert moment.utcoffset() is not None


@pytest.mark.parametrize(
    "content",
    [
        b"<html>Bad gateway</html>",
        b'{"data": [',
        b"[]",
        b'{"skipSummary": {}}',
        b'{"data": {"caseId": "x"}}',
        b'{"data": ["a case"]}',
        b'{"data": [{"caseNumber": 1}]}',
        b'{"data": [{"caseId": "x"}]}',
        b'{"data": [{"caseId": "x", "caseNumber": "one"}]}',
        b'{"data": [{"caseId": "x", "caseNumber": 1, "invoices": {}}]}',
        b'{"data": [{"caseId": "x", "caseNumber": 1, "remainingAmount": "lots"}]}',
        b'{"data": [{"caseId": "x", "caseNumber": 1, "remainingAmount": NaN}]}',
        b'{"data": [{"caseId": "x", "caseNumber": 1, "registeredAt": "yesterday"}]}',
        b'{"data": [{"caseId": "x", "caseNumber": 1, "debtors": [{"email": ["a"]}]}]}',
        b'{"data": [], "skipSummary": "none"}',
        b'{"data": [], "skipSummary": {"hasNextPage": "maybe"}}',
    ],
)
def test_malformed_answers_are_unavailable_not_crashes(
    upstream: respx.MockRouter, content: bytes
) -> None:
    upstream.get(CASES_PATH).mock(return_value=raw(200, content))

    with pytest.raises(UpstreamUnavailable, match="malformed"):
        list_one_page()


def test_a_malformed_action_receipt_is_unavailable(upstream: respx.MockRouter) -> None:
    upstream.post(ACTION_PATH).mock(side_effect=answer(202, {"summary": {}, "data": None}))

    with pytest.raises(UpstreamUnavailable, match="malformed"):
        pause()


# --- Errors --------------------------------------------------------------------------------


def problem(status: int, errors: dict[str, list[str]]) -> httpx.Response:
    body = {
        "type": "https://tools.ietf.org/html/rfc9110#section-15.5.1",
        "title": "One or more validation errors occurred.",
        "status": status,
        "detail": "See errors.",
        "traceId": "00-trace-01",
        "errors": errors,
    }
    return raw(status, json.dumps(body).encode(), "application/problem+json")


@pytest.mark.parametrize("field", ["PageToken", "pageToken", "PAGETOKEN"])
def test_a_refused_page_token_is_recognised(upstream: respx.MockRouter, field: str) -> None:
    upstream.get(CASES_PATH).mock(
        return_value=problem(400, {field: ["The page token does not match the filters."]})
    )

    with pytest.raises(InvalidPageToken) as raised:
        autocollect.list_cases(organization_id=ORG, page_token="forged")

    assert raised.value.problem.errors == {field: ("The page token does not match the filters.",)}


def test_another_400_is_rejected_with_its_errors(upstream: respx.MockRouter) -> None:
    upstream.get(CASES_PATH).mock(return_value=problem(400, {"Status": ["Unknown status NOPE."]}))

    with pytest.raises(Rejected) as raised:
        autocollect.list_cases(organization_id=ORG, filters=CaseFilters(status="NOPE"))

    assert not isinstance(raised.value, InvalidPageToken)
    assert raised.value.problem.status == 400
    assert raised.value.problem.title == "One or more validation errors occurred."
    assert raised.value.problem.errors["Status"] == ("Unknown status NOPE.",)


def test_a_problem_without_a_json_body_still_has_a_status(upstream: respx.MockRouter) -> None:
    upstream.get(CASES_PATH).mock(return_value=raw(423, b"Locked", "text/plain"))

    with pytest.raises(Rejected) as raised:
        list_one_page()

    assert raised.value.problem.status == 423
    assert raised.value.problem.title == "Locked"
    assert raised.value.problem.errors == {}


def test_a_403_is_access_denied(upstream: respx.MockRouter) -> None:
    upstream.get(CASES_PATH).mock(side_effect=answer(403, {"title": "Forbidden"}))

    with pytest.raises(AccessDenied):
        list_one_page()


def test_a_404_is_not_found(upstream: respx.MockRouter) -> None:
    upstream.get(f"/collection/v1/orgs/{ORG}/batches/{BATCH_ID}").mock(side_effect=answer(404))

    with pytest.raises(NotFound):
        autocollect.get_batch(organization_id=ORG, batch_id=BATCH_ID)


# --- Operations and their parameters -------------------------------------------------------


def test_every_filter_is_sent_as_its_parameter(upstream: respx.MockRouter) -> None:
    cases = upstream.get(CASES_PATH).mock(side_effect=answer(200, page_json()))

    autocollect.list_cases(
        organization_id=ORG,
        filters=CaseFilters(
            status="PAUSED",
            type="DEBT_COLLECTION",
            case_number=100234,
            customer_number="CUST-42",
            unique_source_invoice_id="SRC-77",
            search_term="Nordmann",
            created_from=date(2026, 1, 1),
            created_to=date(2026, 3, 31),
        ),
        page_token="tok-2",
        page_size=50,
    )

    assert dict(cases.calls.last.request.url.params) == {
        "Status": "PAUSED",
        "Type": "DEBT_COLLECTION",
        "CaseNumber": "100234",
        "CustomerNumber": "CUST-42",
        "UniqueSourceInvoiceId": "SRC-77",
        "SearchTerm": "Nordmann",
        "FromCreatedAt": "2026-01-01",
        "ToCreatedAt": "2026-03-31",
        "PageToken": "tok-2",
        "PageSize": "50",
    }


def test_empty_filters_are_not_sent(upstream: respx.MockRouter) -> None:
    cases = upstream.get(CASES_PATH).mock(side_effect=answer(200, page_json()))

    autocollect.list_cases(organization_id=ORG, filters=CaseFilters(), page_token="")

    assert dict(cases.calls.last.request.url.params) == {"PageSize": "25"}


def test_a_page_size_outside_the_upstreams_range_is_refused_before_sending() -> None:
    with pytest.raises(ValueError, match="page_size"):
        autocollect.list_cases(organization_id=ORG, page_size=101)


def test_get_case_asks_for_one_case_by_number(upstream: respx.MockRouter) -> None:
    cases = upstream.get(CASES_PATH).mock(side_effect=answer(200, page_json()))

    case = autocollect.get_case(organization_id=ORG, case_number=100234)

    assert case.case_id == CASE_ID
    assert dict(cases.calls.last.request.url.params) == {"CaseNumber": "100234", "PageSize": "1"}


def test_get_case_of_an_unknown_number_is_not_found(upstream: respx.MockRouter) -> None:
    upstream.get(CASES_PATH).mock(side_effect=answer(200, page_json([])))

    with pytest.raises(NotFound):
        autocollect.get_case(organization_id=ORG, case_number=5)


def test_get_case_never_returns_another_number(upstream: respx.MockRouter) -> None:
    upstream.get(CASES_PATH).mock(side_effect=answer(200, page_json([case_json(caseNumber=9)])))

    with pytest.raises(NotFound):
        autocollect.get_case(organization_id=ORG, case_number=5)


def numbered_pages(pages: int, per_page: int) -> Callable[[httpx.Request], httpx.Response]:
    """An upstream whose cases are numbered 1.. and paged by tokens p1, p2, ..."""

    def respond(request: httpx.Request) -> httpx.Response:
        token = request.url.params.get("PageToken", "p0")
        index = int(token.removeprefix("p"))
        first = index * per_page + 1
        cases = [
            case_json(caseId=f"case-{n}", caseNumber=n) for n in range(first, first + per_page)
        ]
        next_token = f"p{index + 1}" if index + 1 < pages else None
        return httpx.Response(200, json=page_json(cases, next_token=next_token))

    return respond


def test_list_debtor_cases_walks_pages_of_a_hundred(upstream: respx.MockRouter) -> None:
    cases = upstream.get(CASES_PATH).mock(side_effect=numbered_pages(pages=3, per_page=4))

    found = autocollect.list_debtor_cases(organization_id=ORG, customer_number="CUST-42")

    assert [c.case_number for c in found] == list(range(1, 13))
    assert cases.call_count == 3
    params = [dict(c.request.url.params) for c in cases.calls]
    assert params[0] == {"CustomerNumber": "CUST-42", "PageSize": "100"}
    assert params[2] == {"CustomerNumber": "CUST-42", "PageToken": "p2", "PageSize": "100"}


def test_list_debtor_cases_stops_at_the_limit(upstream: respx.MockRouter) -> None:
    cases = upstream.get(CASES_PATH).mock(side_effect=numbered_pages(pages=5, per_page=4))

    found = autocollect.list_debtor_cases(organization_id=ORG, customer_number="C", limit=8)

    assert [c.case_number for c in found] == list(range(1, 9))
    assert cases.call_count == 2  # the third page is never asked for


def test_iter_cases_fetches_pages_only_as_they_are_consumed(upstream: respx.MockRouter) -> None:
    cases = upstream.get(CASES_PATH).mock(side_effect=numbered_pages(pages=3, per_page=2))

    walk = autocollect.iter_cases(organization_id=ORG, filters=CaseFilters(status="OPEN"))
    assert cases.call_count == 0
    assert next(walk).case_number == 1
    assert next(walk).case_number == 2
    assert cases.call_count == 1
    assert [c.case_number for c in walk] == [3, 4, 5, 6]
    assert cases.call_count == 3
    assert all(c.request.url.params["Status"] == "OPEN" for c in cases.calls)


def test_iter_cases_refuses_a_page_token_loop(upstream: respx.MockRouter) -> None:
    upstream.get(CASES_PATH).mock(side_effect=answer(200, page_json(next_token="same")))

    with pytest.raises(UpstreamUnavailable, match="malformed"):
        list(autocollect.iter_cases(organization_id=ORG, filters=CaseFilters()))


# --- The HTTP client and logging -----------------------------------------------------------


def test_the_client_has_explicit_timeouts_from_settings() -> None:
    autocollect.http_client()  # built with the default; a settings change must rebuild it
    with override_settings(AUTOCOLLECT_TIMEOUT=7.5):
        timeout = autocollect.http_client().timeout

    assert (timeout.read, timeout.write) == (7.5, 7.5)
    assert timeout.connect is not None
    assert 0 < timeout.connect <= 7.5
    assert timeout.pool is not None
    assert autocollect.http_client() is autocollect.http_client()


def test_use_transport_routes_the_client_and_none_restores_it() -> None:
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.url.path)
        if request.url.path == "/token":
            return httpx.Response(200, json={"access_token": "t", "expires_in": 3600})
        return httpx.Response(200, json=page_json())

    autocollect.use_transport(httpx.MockTransport(handler))
    try:
        list_one_page()
    finally:
        autocollect.use_transport(None)

    assert seen == ["/token", CASES_PATH]
    assert autocollect._transport is None


@pytest.fixture
def client_log(caplog: pytest.LogCaptureFixture) -> Iterator[pytest.LogCaptureFixture]:
    # The "cases" logger does not propagate to the root, so capture at the client's own logger.
    log = logging.getLogger("cases.autocollect")
    log.addHandler(caplog.handler)
    caplog.set_level(logging.DEBUG, logger="cases.autocollect")
    yield caplog
    log.removeHandler(caplog.handler)


def test_logs_name_method_path_template_and_status_but_no_values(
    upstream: respx.MockRouter, client_log: pytest.LogCaptureFixture
) -> None:
    upstream.get(CASES_PATH).mock(
        side_effect=[httpx.ConnectError("refused"), httpx.Response(200, json=page_json())]
    )

    autocollect.list_cases(
        organization_id=ORG,
        filters=CaseFilters(search_term="Nordmann", customer_number="CUST-42"),
        page_token="tok-secret-page",
    )

    messages = [record.getMessage() for record in client_log.records]
    assert any("GET /orgs/{organizationId}/cases -> 200" in m and " ms" in m for m in messages)
    assert any("ConnectError" in m for m in messages)
    assert any("POST /token -> 200" in m for m in messages)
    logged = "\n".join(messages)
    for secret in (
        "Nordmann",
        "CUST-42",
        "tok-secret-page",
        ORG,
        "token-1",
        CLIENT_SECRET,
        NATIONAL_ID,
        EMAIL,
        PHONE,
    ):
        assert secret not in logged
