"""A faked AutoCollect behind the dashboard's pages: respx at the URLs the settings name.

The client's own tests fake another host (tests/support/autocollect.py); the tests of the pages
and the export fake the configured upstream, so the views run as they do in the suite, for
organisation A. Answers are built with autocollect.answer and autocollect.page_json.
"""

import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import respx
from django.conf import settings

from tests.support.autocollect import page_json
from tests.support.people import ORG_A_ID

CASES_ROUTE = f"{settings.AUTOCOLLECT_API_URL}/orgs/{ORG_A_ID}/cases"


def router_at_configured_urls() -> Iterator[respx.MockRouter]:
    """A respx router at the configured token and API URLs (for `fake_upstream` fixtures): the
    route named "token" hands out a token, the one named "cases" answers organisation A's list
    with one case until a test mocks it otherwise."""
    with respx.mock(assert_all_called=False) as router:
        router.post(settings.AUTOCOLLECT_TOKEN_URL, name="token").mock(
            return_value=httpx.Response(
                200, json={"access_token": "t", "token_type": "Bearer", "expires_in": 3600}
            )
        )
        router.get(CASES_ROUTE, name="cases").mock(
            side_effect=lambda request: httpx.Response(200, json=page_json([org_a_case_json()]))
        )
        yield router


def org_a_case_json(number: int = 1001, **overrides: Any) -> dict[str, Any]:
    """A case of organisation A numbered `number`, its ids derived from the number."""
    case_id = str(uuid.UUID(int=number))
    case: dict[str, Any] = {
        "caseId": case_id,
        "caseNumber": number,
        "organizationId": ORG_A_ID,
        "creditorId": "ddc16491-2bd6-4cc3-b855-e93eb9eb99c2",
        "creditorNumber": "CR-1",
        "status": "OPEN",
        "subStatus": "NONE",
        "type": "PAYMENT_REMINDER",
        "description": "Husleie mars",
        "registeredAt": "2026-03-01T23:30:00Z",
        "closedAt": None,
        "invoices": [
            {
                "invoiceId": str(uuid.UUID(int=number + 10_000)),
                "invoiceNumber": f"F-{number}",
                "caseId": case_id,
                "registeredAt": "2026-03-01T23:30:00Z",
                "originalAmount": 1000.5,
                "remainingAmount": 800.25,
                "remainingPrincipal": 750,
                "uniqueSourceInvoiceId": f"SRC-{number}",
                "paidAmount": 200.25,
                "creditedAmount": 0,
                "currency": {"code": "NOK"},
            }
        ],
        "debtors": [
            {
                "debtorId": str(uuid.UUID(int=number + 20_000)),
                "type": "PRIVATE",
                "debtorNumber": "D-9",
                "customerNumber": f"CUST-{number}",
                "firstName": "Kari",
                "lastName": "Nordmann",
                "fullName": "Kari Nordmann",
                "identificationNumber": "01017012345",
                "email": "kari.nordmann@example.no",
                "phone": "+4791234567",
            }
        ],
        "remainingAmount": 850.25,
        "remainingPrincipal": 750,
        "claims": [],
        "caseAccountDetails": None,
    }
    case.update(overrides)
    return case
