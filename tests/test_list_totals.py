"""The case list's total remaining amount, from the local case index, for the list's filters."""

import re
from collections.abc import Iterator
from datetime import UTC, date, datetime
from decimal import Decimal
from itertools import count

import pytest
from django.test import Client, override_settings

from cases.autocollect import CaseFilters
from cases.list_totals import CurrencyTotal, Unavailable, list_total
from dashboard.models import Organization
from sandbox.models import SandboxOrganization
from tests.support.sandbox_data import add_case
from tests.support.transport import RecordingTransport
from triage.models import CaseSummary, IndexedDebtor, SyncState

SYNCED_AT = datetime(2026, 3, 2, 13, 5, tzinfo=UTC)  # 14:05 in Oslo
RESULTS = {"HX-Request": "true", "HX-Target": "results", "HX-Current-URL": "http://t/cases/"}
_numbers = count(5000)


@pytest.fixture(autouse=True)
def _cache_on() -> Iterator[None]:
    with override_settings(AUTOCOLLECT_CACHE_SECONDS=20):
        yield


def indexed(
    organization: Organization,
    remaining: str,
    *,
    status: str = "OPEN",
    type: str = "DEBT_COLLECTION",
    currency: str = "NOK",
    registered_at: datetime = datetime(2026, 2, 1, 12, tzinfo=UTC),
    customer: str = "",
    vanished: bool = False,
) -> CaseSummary:
    number = next(_numbers)
    row = CaseSummary.objects.create(
        organization=organization,
        case_id=f"case-{number}",
        case_number=number,
        status=status,
        sub_status="NONE",
        type=type,
        registered_at=registered_at,
        remaining_amount=Decimal(remaining),
        remaining_principal=Decimal(remaining),
        currency=currency,
        confirmed_at=SYNCED_AT,
        vanished_at=SYNCED_AT if vanished else None,
    )
    if customer:
        IndexedDebtor.objects.create(
            organization=organization, case=row, customer_number=customer, display_name="X"
        )
    return row


def synced(organization: Organization) -> None:
    SyncState.objects.create(organization=organization, last_incremental_sync_at=SYNCED_AT)


def nok(total: str) -> tuple[CurrencyTotal, ...]:
    return (CurrencyTotal("NOK", Decimal(total)),)


def test_the_total_adds_the_remaining_amounts_the_filters_match(
    org_a: Organization, org_b: Organization
) -> None:
    synced(org_a)
    indexed(org_a, "100.50")
    indexed(org_a, "200", status="PAUSED", type="PAYMENT_REMINDER")
    indexed(org_a, "1000", vanished=True)  # the upstream no longer returns it
    indexed(org_b, "99999")  # another organisation's

    everything = list_total(org_a, CaseFilters())
    paused = list_total(org_a, CaseFilters(status="PAUSED"))
    reminders = list_total(org_a, CaseFilters(type="PAYMENT_REMINDER"))
    closed = list_total(org_a, CaseFilters(status="CLOSED"))

    assert everything.amounts == nok("300.50")
    assert everything.cases == 2
    assert everything.as_of == SYNCED_AT
    assert everything.unavailable is None
    assert paused.amounts == reminders.amounts == nok("200")
    assert closed.amounts == ()
    assert closed.cases == 0


def test_currencies_are_never_added_together(org_a: Organization) -> None:
    synced(org_a)
    indexed(org_a, "10")
    indexed(org_a, "5", currency="EUR")
    indexed(org_a, "20")

    total = list_total(org_a, CaseFilters())

    assert total.amounts == (CurrencyTotal("NOK", Decimal(30)), CurrencyTotal("EUR", Decimal(5)))
    assert total.cases == 3


def test_a_customer_number_counts_each_of_its_cases_once(org_a: Organization) -> None:
    synced(org_a)
    case = indexed(org_a, "70", customer="K-1")
    IndexedDebtor.objects.create(organization=org_a, case=case, customer_number="K-1", position=1)
    indexed(org_a, "30", customer="K-2")

    assert list_total(org_a, CaseFilters(customer_number="K-1")).amounts == nok("70")


def test_creation_dates_are_whole_days_in_oslo_both_ends_included(org_a: Organization) -> None:
    synced(org_a)
    indexed(org_a, "1", registered_at=datetime(2026, 1, 31, 22, 59, tzinfo=UTC))  # 31 Jan Oslo
    indexed(org_a, "2", registered_at=datetime(2026, 1, 31, 23, 0, tzinfo=UTC))  # 1 Feb Oslo
    indexed(org_a, "4", registered_at=datetime(2026, 2, 28, 22, 59, tzinfo=UTC))  # 28 Feb
    indexed(org_a, "8", registered_at=datetime(2026, 2, 28, 23, 0, tzinfo=UTC))  # 1 Mar

    february = CaseFilters(created_from=date(2026, 2, 1), created_to=date(2026, 2, 28))

    assert list_total(org_a, february).amounts == nok("6")
    assert list_total(org_a, CaseFilters(created_to=date.max)).amounts == nok("15")


@pytest.mark.parametrize(
    ("filters", "reason"),
    [
        (CaseFilters(search_term="Kari"), Unavailable.SEARCH),
        (CaseFilters(unique_source_invoice_id="SRC-1"), Unavailable.INVOICE),
    ],
)
def test_what_the_index_cannot_answer_has_no_total(
    org_a: Organization, filters: CaseFilters, reason: Unavailable
) -> None:
    synced(org_a)
    indexed(org_a, "10")

    total = list_total(org_a, filters)

    assert total.unavailable == reason
    assert total.amounts == ()


def test_an_index_that_never_synced_has_no_total(org_a: Organization) -> None:
    indexed(org_a, "10")

    assert list_total(org_a, CaseFilters()).unavailable == Unavailable.NO_INDEX


def test_the_total_is_kept_with_the_reads_and_recomputed_on_refresh(org_a: Organization) -> None:
    synced(org_a)
    indexed(org_a, "10")
    list_total(org_a, CaseFilters())
    indexed(org_a, "5")

    assert list_total(org_a, CaseFilters()).amounts == nok("10")
    assert list_total(org_a, CaseFilters(), fresh=True).amounts == nok("15")


# --- On the page ---------------------------------------------------------------------------


@pytest.fixture
def listed_a(
    org_a: Organization, sandbox_a: SandboxOrganization, sandbox_upstream: RecordingTransport
) -> Organization:
    add_case(sandbox_a, 1001, remaining="1234.5")
    synced(org_a)
    indexed(org_a, "1234.50")
    indexed(org_a, "100", status="CLOSED")
    return org_a


def text(html: bytes) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html.decode()))


TOTAL = {"HX-Request": "true", "HX-Target": "list-total", "HX-Current-URL": "http://t/cases/"}


def shown_total(client: Client, list_address: str) -> str:
    """The total as the browser shows it: the list's placeholder, then the address it asks."""
    listed = client.get(list_address, headers=RESULTS).content.decode()
    placeholder = re.search(r'<p[^>]*id="list-total"[^>]*hx-get="([^"]+)"', listed)
    assert placeholder, "the list has no placeholder for its total"
    assert "Total remaining:" not in text(listed.encode())  # not computed on the list's path
    answer = client.get(placeholder.group(1).replace("&amp;", "&"), headers=TOTAL)
    assert answer.status_code == 200
    return text(answer.content)


@pytest.mark.usefixtures("listed_a")
def test_the_list_shows_the_total_and_how_fresh_the_index_is(
    client_a: Client, client_a_in_english: Client
) -> None:
    norwegian = shown_total(client_a, "/cases/")
    english = shown_total(client_a_in_english, "/cases/?status=OPEN")

    assert re.search(r"Sum utestående: 1\s334,50\skr", norwegian)
    assert "2 saker" in norwegian
    assert "14:05" in norwegian
    assert re.search(r"Total remaining: NOK\s1,234\.50", english)
    assert "1 case, case index as of" in english


@pytest.mark.usefixtures("listed_a")
def test_a_text_search_says_the_total_is_not_available(client_a_in_english: Client) -> None:
    html = client_a_in_english.get("/cases/?q=Nordmann", headers=RESULTS).content

    assert "Total remaining: not available for a text search" in text(html)
    assert "1,234.50 " not in text(html).split("Total remaining")[1]


@pytest.mark.usefixtures("listed_a")
def test_without_javascript_the_total_is_a_page_of_its_own(client_a_in_english: Client) -> None:
    listed = client_a_in_english.get("/cases/?status=OPEN").content.decode()
    link = re.search(r'<p[^>]*id="list-total".*?<a href="([^"]+)"', listed, re.S)
    assert link
    assert link.group(1) == "/cases/total/?status=OPEN"

    page = text(client_a_in_english.get(link.group(1)).content)

    assert re.search(r"Total remaining: NOK\s1,234\.50", page)
    assert "Back to the cases" in page


@pytest.mark.usefixtures("listed_a")
def test_the_total_of_filters_the_list_refuses_is_a_400_that_says_so(
    client_a_in_english: Client,
) -> None:
    answer = client_a_in_english.get("/cases/total/?from=not-a-date", headers=TOTAL)

    assert answer.status_code == 400
    assert "the filters are not valid" in text(answer.content)


@pytest.mark.usefixtures("listed_a")
def test_a_refresh_recomputes_the_total_with_the_list(
    org_a: Organization, client_a_in_english: Client
) -> None:
    shown_total(client_a_in_english, "/cases/?status=OPEN")  # the total is now cached
    indexed(org_a, "10")

    refreshed = client_a_in_english.get("/cases/?status=OPEN&refresh=1", headers=RESULTS)

    assert re.search(r"Total remaining: NOK\s1,244\.50", text(refreshed.content))
