"""The CSV export, /cases/export.csv: every page, streamed lazily, safe for spreadsheets."""

import csv
import io
import uuid
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any, cast

import httpx
import pytest
import respx
from django.http import HttpResponseBase, StreamingHttpResponse
from django.test import Client
from django.utils import timezone
from pytest_django import Settings

from cases import autocollect
from cases.export import csv_lines
from dashboard.models import Organization
from sandbox.models import Debtor
from sandbox.seeding import seed_organization
from tests.support import autocollect as client_fakes
from tests.support.autocollect import answer, page_json
from tests.support.dashboard_upstream import org_a_case_json, router_at_configured_urls
from tests.support.people import ORG_A_ID
from tests.support.transport import RecordingTransport

EXPORT_URL = "/cases/export.csv"
HEADER = [
    "Case number",
    "Debtors",
    "Type",
    "Status",
    "Sub-status",
    "Registered",
    "Remaining amount",
    "Currency",
    "Invoices",
    "Invoice numbers",
    "Customer numbers",
]


class Pages:
    """A fake upstream list of several pages that records which page tokens were asked for."""

    def __init__(self, pages: list[list[dict[str, Any]]]) -> None:
        self.pages = pages
        self.asked: list[str | None] = []
        self.fail_on: dict[int, Callable[[httpx.Request], httpx.Response] | Exception] = {}

    def __call__(self, request: httpx.Request) -> httpx.Response:
        token = request.url.params.get("PageToken")
        self.asked.append(token)
        index = 0 if token is None else int(token.removeprefix("p"))
        failure = self.fail_on.get(index)
        if isinstance(failure, Exception):
            raise failure
        if failure is not None:
            return failure(request)
        is_last = index == len(self.pages) - 1
        return httpx.Response(
            200,
            json=page_json(
                self.pages[index],
                total=sum(len(page) for page in self.pages),
                current_page=index + 1,
                page_size=100,
                next_token=None if is_last else f"p{index + 1}",
                previous_token=None if index == 0 else f"p{index - 1}",
            ),
        )


def numbered_pages(*sizes: int) -> list[list[dict[str, Any]]]:
    start = 5000
    pages = []
    for size in sizes:
        pages.append([org_a_case_json(number) for number in range(start, start + size)])
        start += size
    return pages


@pytest.fixture
def fake_upstream() -> Iterator[respx.MockRouter]:
    yield from router_at_configured_urls()


def serve(router: respx.MockRouter, pages: Pages) -> Pages:
    router.routes["cases"].mock(side_effect=pages)
    return pages


def streamed(response: HttpResponseBase) -> bytes:
    assert isinstance(response, StreamingHttpResponse)
    return b"".join(cast(Iterator[bytes], response.streaming_content))


def read_csv(response: HttpResponseBase) -> list[list[str]]:
    text = streamed(response).decode("utf-8")
    assert text.startswith("\ufeff")
    return list(csv.reader(io.StringIO(text.removeprefix("\ufeff"))))


# --- The whole list, lazily -------------------------------------------------------------------


def test_the_export_streams_every_case_across_all_upstream_pages(
    client_a_in_english: Client, org_a: Organization, sandbox_upstream: RecordingTransport
) -> None:
    seed_organization(uuid.UUID(ORG_A_ID), org_a.name, 230, seed=3)

    response = client_a_in_english.get(EXPORT_URL)

    assert response.status_code == 200
    assert isinstance(response, StreamingHttpResponse)
    rows = read_csv(response)
    assert rows[0] == HEADER
    case_numbers = [row[0] for row in rows[1:]]
    assert len(case_numbers) == len(set(case_numbers)) == 230


def test_the_export_applies_the_lists_filters_to_every_page(
    client_a_in_english: Client, fake_upstream: respx.MockRouter
) -> None:
    serve(fake_upstream, Pages(numbered_pages(100, 100, 3)))

    response = client_a_in_english.get(
        EXPORT_URL, {"status": "OPEN", "q": "hansen", "page": "ignored", "size": "10"}
    )
    rows = read_csv(response)

    assert len(rows) == 1 + 203
    for call in fake_upstream.routes["cases"].calls:
        params = call.request.url.params
        assert params["Status"] == "OPEN"
        assert params["SearchTerm"] == "hansen"
        assert params["PageSize"] == "100"  # the export walks in the largest pages
        assert params.get("PageToken") != "ignored"


def test_later_pages_are_fetched_only_as_the_file_is_read(
    client_a_in_english: Client, fake_upstream: respx.MockRouter
) -> None:
    pages = serve(fake_upstream, Pages(numbered_pages(100, 100, 5)))

    response = client_a_in_english.get(EXPORT_URL)

    assert isinstance(response, StreamingHttpResponse)
    assert pages.asked == [None]  # the first page is fetched before answering (for its status)
    chunks = iter(cast(Iterator[bytes], response.streaming_content))
    for _row in range(1 + 100):  # the header and the first page's rows
        next(chunks)
    assert pages.asked == [None], "page 2 must not be fetched before page 1 has been sent"
    next(chunks)
    assert pages.asked == [None, "p1"]
    rest = list(chunks)
    assert len(rest) == 99 + 5
    assert pages.asked == [None, "p1", "p2"]


def test_the_export_holds_no_list_of_cases(
    client_a_in_english: Client, fake_upstream: respx.MockRouter, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The view passes the client's lazy iterator on; it never asks list_cases itself."""
    serve(fake_upstream, Pages(numbered_pages(2)))
    calls: list[str] = []
    real_iter_cases = autocollect.iter_cases

    def recording_iter_cases(**kwargs: Any) -> Iterator[autocollect.Case]:
        calls.append("iter_cases")
        return real_iter_cases(**kwargs)

    monkeypatch.setattr(autocollect, "iter_cases", recording_iter_cases)

    rows = read_csv(client_a_in_english.get(EXPORT_URL))

    assert calls == ["iter_cases"]
    assert len(rows) == 3


# --- What the file contains -------------------------------------------------------------------


def test_no_identification_number_email_or_phone_is_exported(
    client_a_in_english: Client, fake_upstream: respx.MockRouter
) -> None:
    serve(fake_upstream, Pages(numbered_pages(3)))

    text = "\n".join(",".join(row) for row in read_csv(client_a_in_english.get(EXPORT_URL)))

    assert "01017012345" not in text
    assert "kari.nordmann@example.no" not in text
    assert "+4791234567" not in text
    assert "4791234567" not in text


def test_no_seeded_identification_number_is_exported(
    client_a_in_english: Client, org_a: Organization, sandbox_upstream: RecordingTransport
) -> None:
    seed_organization(uuid.UUID(ORG_A_ID), org_a.name, 40, seed=5)
    debtors = Debtor.objects.filter(organization_id=uuid.UUID(ORG_A_ID))
    personal = {
        value
        for debtor in debtors
        for value in (debtor.identification_number, debtor.email, debtor.phone)
        if value
    }
    assert personal

    rows = read_csv(client_a_in_english.get(EXPORT_URL))
    text = "\n".join(",".join(row) for row in rows)

    assert not [value for value in personal if value in text]
    exported_customers = {number for row in rows[1:] for number in row[-1].split("; ")}
    assert exported_customers == {debtor.customer_number for debtor in debtors}


def test_a_row_has_the_tables_columns_plus_invoice_and_customer_numbers(
    client_a_in_english: Client, fake_upstream: respx.MockRouter
) -> None:
    case = org_a_case_json(
        7001,
        status="PAUSED",
        subStatus="DEBT_COLLECTION_LIST_MANUAL",
        type="DEBT_COLLECTION",
        registeredAt="2026-03-01T23:30:00Z",
        remainingAmount="12345.60",
    )
    case["debtors"].append(
        {**case["debtors"][0], "fullName": "Ola Nordmann", "customerNumber": "CUST-2"}
    )
    case["invoices"].append({**case["invoices"][0], "invoiceNumber": "F-2"})
    serve(fake_upstream, Pages([[case]]))

    rows = read_csv(client_a_in_english.get(EXPORT_URL))

    assert rows[1] == [
        "7001",
        "Kari Nordmann; Ola Nordmann",
        "DEBT_COLLECTION",
        "PAUSED",
        "DEBT_COLLECTION_LIST_MANUAL",
        "2026-03-02",  # the day in Europe/Oslo
        "12345.60",
        "NOK",
        "2",
        "F-7001; F-2",
        "CUST-7001; CUST-2",
    ]


def test_cells_a_spreadsheet_would_run_as_formulas_are_neutralised(
    client_a_in_english: Client, fake_upstream: respx.MockRouter
) -> None:
    case = org_a_case_json(7002, remainingAmount="-150.50", type="@SUM(A1:A9)")
    case["debtors"][0]["fullName"] = '=HYPERLINK("http://evil.example","click")'
    case["debtors"][0]["customerNumber"] = "+47 1234"
    case["invoices"][0]["invoiceNumber"] = "-2+3"
    case["debtors"].append({**case["debtors"][0], "fullName": "\tTabbed", "customerNumber": "\rX"})
    serve(fake_upstream, Pages([[case]]))

    row = read_csv(client_a_in_english.get(EXPORT_URL))[1]

    assert row[1] == '\'=HYPERLINK("http://evil.example","click"); \tTabbed'
    assert row[2] == "'@SUM(A1:A9)"
    assert row[6] == "-150.50", "a negative amount is a number we wrote, not a formula"
    assert row[9] == "'-2+3"
    assert row[10] == "'+47 1234; \rX"


def test_the_file_has_a_bom_and_download_headers(
    client_a_in_english: Client, fake_upstream: respx.MockRouter
) -> None:
    case = org_a_case_json(7003)
    case["debtors"][0]["fullName"] = "Åse Ødegård Æsir"
    serve(fake_upstream, Pages([[case]]))

    response = client_a_in_english.get(EXPORT_URL)
    raw = streamed(response)

    assert raw.startswith(b"\xef\xbb\xbfCase number,")
    assert "Åse Ødegård Æsir".encode() in raw
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    today = timezone.localdate().isoformat()
    assert response["Content-Disposition"] == f'attachment; filename="cases-{today}.csv"'
    assert "no-store" in response["Cache-Control"]


# --- When things go wrong ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("failure", "reason"),
    [
        (httpx.ReadTimeout("slow"), "the collection service timed out"),
        (answer(503, headers={"Retry-After": "30"}), "the collection service was unavailable"),
        (
            answer(429, headers={"Retry-After": "30"}),
            "the collection service asked us to slow down",
        ),
    ],
)
def test_a_failure_part_way_ends_the_file_with_an_incomplete_line(
    client_a_in_english: Client, fake_upstream: respx.MockRouter, failure: Any, reason: str
) -> None:
    pages = Pages(numbered_pages(100, 100))
    pages.fail_on[1] = failure
    serve(fake_upstream, pages)

    response = client_a_in_english.get(EXPORT_URL)

    assert response.status_code == 200
    rows = read_csv(response)
    assert len(rows) == 1 + 100 + 1
    last = rows[-1][0]
    assert last.startswith(f"# EXPORT INCOMPLETE: {reason}")
    assert last.endswith("after 100 rows")


@pytest.mark.parametrize(
    ("failure", "status"),
    [
        (answer(503, headers={"Retry-After": "30"}), 503),
        (answer(502), 502),
        (httpx.ReadTimeout("slow"), 504),
        (answer(429, headers={"Retry-After": "30"}), 429),
        (answer(403), 403),
    ],
)
def test_a_failure_on_the_first_page_is_an_error_status_not_a_file(
    client_a_in_english: Client, fake_upstream: respx.MockRouter, failure: Any, status: int
) -> None:
    pages = Pages(numbered_pages(100, 100))
    pages.fail_on[0] = failure
    serve(fake_upstream, pages)

    response = client_a_in_english.get(EXPORT_URL)

    assert response.status_code == status
    assert not response.streaming
    assert "text/html" in response["Content-Type"]
    assert "Content-Disposition" not in response


@pytest.mark.parametrize(
    "query",
    [{"status": "NOPE"}, {"from": "2026-03-02", "to": "2026-03-01"}, {"size": "7"}],
)
def test_invalid_filters_are_a_400_in_plain_words_and_nothing_is_asked_upstream(
    client_a_in_english: Client, fake_upstream: respx.MockRouter, query: dict[str, str]
) -> None:
    response = client_a_in_english.get(EXPORT_URL, query)

    assert response.status_code == 400
    assert response["Content-Type"] == "text/plain; charset=utf-8"
    assert response.content.decode().startswith("The export was not started")
    assert not fake_upstream.calls


def test_an_empty_search_exports_just_the_header(
    client_a_in_english: Client, fake_upstream: respx.MockRouter
) -> None:
    serve(fake_upstream, Pages([[]]))

    rows = read_csv(client_a_in_english.get(EXPORT_URL, {"q": "nothing"}))

    assert rows == [HEADER]


# --- An upstream that misbehaves, and odd values -------------------------------------------


def test_an_upstream_with_ever_new_page_tokens_ends_at_the_page_limit_and_says_so(
    client_a_in_english: Client, fake_upstream: respx.MockRouter, settings: Settings
) -> None:
    settings.AUTOCOLLECT_MAX_PAGES = 3
    pages = serve(fake_upstream, Pages(numbered_pages(2, 2, 2, 2, 2)))  # more pages than allowed

    rows = read_csv(client_a_in_english.get(EXPORT_URL))

    assert len(rows) == 1 + 6 + 1
    assert rows[-1] == [
        "# EXPORT INCOMPLETE: the export stopped at its limit of 3 pages of cases after 6 rows"
    ]
    assert pages.asked == [None, "p1", "p2"]


def test_a_page_token_loop_ends_the_file_with_an_incomplete_line(
    client_a_in_english: Client, fake_upstream: respx.MockRouter
) -> None:
    def same_token_for_ever(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json=page_json([org_a_case_json(5000)], next_token="again"))

    fake_upstream.routes["cases"].mock(side_effect=same_token_for_ever)

    rows = read_csv(client_a_in_english.get(EXPORT_URL))

    assert rows[-1][0].startswith("# EXPORT INCOMPLETE: the collection service was unavailable")


@pytest.mark.parametrize(
    "registered_at",
    [
        "9999-12-31T23:59:59-05:00",
        "0001-01-01T00:00:00+01:00",
        "9999-12-31T23:59:59Z",
        "0001-01-01T00:00:00Z",
    ],
)
def test_a_moment_at_the_calendars_ends_leaves_the_date_empty_and_the_file_whole(
    client_a_in_english: Client, fake_upstream: respx.MockRouter, registered_at: str
) -> None:
    odd = org_a_case_json(5001, registeredAt=registered_at, closedAt=registered_at)
    serve(fake_upstream, Pages([[org_a_case_json(5000), odd, org_a_case_json(5002)]]))

    rows = read_csv(client_a_in_english.get(EXPORT_URL))

    assert [row[0] for row in rows[1:]] == ["5000", "5001", "5002"]
    assert rows[2][5] == ""


def test_odd_but_readable_values_are_exported_as_they_are(
    client_a_in_english: Client, fake_upstream: respx.MockRouter
) -> None:
    negative = org_a_case_json(5005, caseNumber=-5, remainingAmount="-999999999999999.99")
    negative["debtors"][0]["customerNumber"] = "C-1\n../../accounts/logout"
    zero = org_a_case_json(5006, caseNumber=0, remainingAmount="999999999999999.99")
    serve(fake_upstream, Pages([[negative, zero]]))

    rows = read_csv(client_a_in_english.get(EXPORT_URL))

    assert [row[0] for row in rows[1:]] == ["-5", "0"]
    assert rows[1][6] == "-999999999999999.99"
    assert rows[1][10] == "C-1\n../../accounts/logout"  # quoted by csv, one cell
    assert rows[2][6] == "999999999999999.99"


def test_csv_lines_shows_a_moment_oslo_cannot_show_by_its_own_day() -> None:
    """Cases built elsewhere than the client's parsing: the file still ends properly."""
    with client_fakes.upstream_settings():
        parsed = client_fakes.list_with(page_json()).cases[0]
    edge = replace(parsed, registered_at=datetime(9999, 12, 31, 23, 59, tzinfo=UTC))

    lines = list(csv_lines([parsed, edge, parsed]))

    assert len(lines) == 4
    assert ",9999-12-31," in lines[2]
