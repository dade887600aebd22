"""A faked AutoCollect for the client's own tests: answers, cases shaped like the seed, a clock.

HTTP is faked at the transport (respx); time by FakeClock, installed with autocollect.use_clock,
so deadlines, backoff and token expiry run without real waiting.
"""

import itertools
import time
from collections.abc import Callable, Generator, Iterator
from typing import Any

import httpx
import respx
from django.test import override_settings

from cases import autocollect

HOST = "https://amili.test"
API_URL = f"{HOST}/collection/v1"
TOKEN_URL = f"{HOST}/token"
CLIENT_SECRET = "s3cret-never-logged"
ORG = "7bc05553-4b68-44e8-b7bc-37be63c6d9e9"
OTHER_ORG = "7bc05553-4b68-44e8-b7bc-0000000000b2"
CASES_PATH = f"/collection/v1/orgs/{ORG}/cases"
CASE_ID = "af51d69f-996a-4891-a745-aadfcdec225a"
ACTION_PATH = f"{CASES_PATH}/{CASE_ID}/pause"
BATCH_ID = "5579c111-9c50-47e2-af92-f16d52e63189"

# Personal data the fake upstream returns; none of it may reach a log line.
NATIONAL_ID = "01017012345"
EMAIL = "kari.nordmann@example.no"
PHONE = "+4791234567"


class FakeClock:
    """Both clocks the client reads; sleeping is recorded and moves time on at once."""

    def __init__(self) -> None:
        self.now = 1_800_000_000.0  # wall clock: token expiry
        self.ticks = 1_000.0  # monotonic: deadlines
        self.sleeps: list[float] = []

    def monotonic(self) -> float:
        return self.ticks

    def time(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.advance(seconds)

    def advance(self, seconds: float) -> None:
        self.ticks += seconds
        self.now += seconds


def upstream_settings() -> override_settings:
    """Settings naming the fake upstream, with the production tuning the tests assert on.

    The read cache is off: these tests count what goes on the wire for each call. The cache's
    own tests (tests/test_autocollect_cache.py) turn it on.
    """
    return override_settings(
        AUTOCOLLECT_CACHE_SECONDS=0,
        AUTOCOLLECT_API_URL=API_URL,
        AUTOCOLLECT_TOKEN_URL=TOKEN_URL,
        AUTOCOLLECT_CLIENT_ID="dashboard",
        AUTOCOLLECT_CLIENT_SECRET=CLIENT_SECRET,
        AUTOCOLLECT_TIMEOUT=10.0,
        AUTOCOLLECT_MAX_ATTEMPTS=3,
        AUTOCOLLECT_BACKOFF_BASE=0.2,
        AUTOCOLLECT_BACKOFF_MAX=2.0,
        AUTOCOLLECT_RETRY_AFTER_CAP=2.0,
    )


def installed_clock() -> Generator[FakeClock]:
    """A FakeClock the client reads until the generator is closed (for fixtures)."""
    fake = FakeClock()
    autocollect.use_clock(fake)
    try:
        yield fake
    finally:
        autocollect.use_clock(None)


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


def router_at_test_host() -> Iterator[respx.MockRouter]:
    """A respx router for HOST with a token endpoint (for `fake_upstream` fixtures); tests add
    the API's routes."""
    with respx.mock(base_url=HOST, assert_all_called=False) as router:
        router.post("/token", name="token").mock(side_effect=token_issuer())
        yield router


def answer(
    status: int, body: object = None, headers: dict[str, str] | None = None
) -> Callable[[httpx.Request], httpx.Response]:
    """A route side effect that builds a fresh response on every call: `body` as JSON, or as
    it is when it is bytes."""

    def respond(request: httpx.Request) -> httpx.Response:
        if body is None:
            return httpx.Response(status, headers=headers)
        if isinstance(body, bytes):
            return httpx.Response(status, content=body, headers=headers)
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
    *,
    current_page: int = 1,
    page_size: int = 25,
    previous_token: str | None = None,
) -> dict[str, Any]:
    """A GetCasesByOrganization answer: these cases (one case_json() if none are given)."""
    cases = [case_json()] if cases is None else cases
    return {
        "data": cases,
        "skipSummary": {
            "status": "SUCCESS",
            "totalCount": len(cases) if total is None else total,
            "currentPage": current_page,
            "pageSize": page_size,
            "totalPages": 1,
            "hasNextPage": next_token is not None,
            "hasPreviousPage": previous_token is not None,
        },
        "cursorSummary": {
            "status": "SUCCESS",
            "nextPageToken": next_token,
            "previousPageToken": previous_token,
        },
    }


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


def list_one_page() -> autocollect.CasePage:
    return autocollect.list_cases(organization_id=ORG)


def list_with(body: object) -> autocollect.CasePage:
    """The page the client makes of this answer body."""
    with respx.mock(base_url=HOST, assert_all_called=False) as router:
        router.post("/token").mock(side_effect=token_issuer())
        router.get(CASES_PATH).mock(side_effect=answer(200, body))
        return list_one_page()
