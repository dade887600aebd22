"""The CSV export for people who open it in Excel set up for Norway, and what its audit keeps.

In Norwegian the file is written for a Norwegian spreadsheet: semicolons, translated headers and
labels, two decimals with a decimal comma, dd.mm.yyyy, a byte-order mark, and a name that says
whose cases and which day. The English file stays as tests/test_export.py pins it.
"""

import csv
import io
import uuid
from collections.abc import Iterator
from decimal import Decimal
from typing import cast

import httpx
import pytest
import respx
from django.contrib.auth.models import User
from django.http import HttpResponseBase, StreamingHttpResponse
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from cases import autocollect
from cases.audit import export_filters
from cases.export import ENGLISH_LAYOUT, csv_layout, export_filename
from cases.models import AuditEntry, AuditKind
from dashboard.models import Organization
from dashboard.personal_data import REDACTED
from sandbox.seeding import seed_organization
from tests.support.autocollect import page_json
from tests.support.dashboard_upstream import org_a_case_json, router_at_configured_urls
from tests.support.people import ORG_A_ID
from tests.support.transport import RecordingTransport

EXPORT_URL = "/cases/export.csv"
LIST_URL = "/cases/"
NORWEGIAN_HEADER = [
    "Saksnummer",
    "Skyldnere",
    "Type",
    "Status",
    "Understatus",
    "Registrert",
    "Utestående beløp",
    "Valuta",
    "Fakturaer",
    "Fakturanumre",
    "Kundenumre",
]


@pytest.fixture
def fake_upstream() -> Iterator[respx.MockRouter]:
    yield from router_at_configured_urls()


def in_language(user: User, language: str) -> Client:
    client = Client(headers={"Accept-Language": language})
    client.force_login(user)
    return client


@pytest.fixture
def norwegian(agent_a: User) -> Client:
    return in_language(agent_a, "nb")


def streamed_text(response: HttpResponseBase) -> str:
    assert isinstance(response, StreamingHttpResponse)
    return b"".join(cast(Iterator[bytes], response.streaming_content)).decode("utf-8")


def read_semicolon_csv(response: HttpResponseBase) -> list[list[str]]:
    text = streamed_text(response)
    assert text.startswith("\ufeff"), "Excel needs the byte-order mark to read æøå"
    return list(csv.reader(io.StringIO(text.removeprefix("\ufeff")), delimiter=";"))


def serve_cases(router: respx.MockRouter, *cases: dict[str, object]) -> None:
    router.routes["cases"].mock(return_value=httpx.Response(200, json=page_json(list(cases))))


# --- The Norwegian file ---------------------------------------------------------------------------


def test_a_norwegian_row_has_labels_decimal_commas_and_dotted_dates(
    norwegian: Client, fake_upstream: respx.MockRouter
) -> None:
    case = org_a_case_json(
        7001,
        status="PAUSED",
        subStatus="DEBT_COLLECTION_LIST_MANUAL",
        type="DEBT_COLLECTION",
        registeredAt="2026-03-01T23:30:00Z",
        remainingAmount="12345.6",
    )
    case["debtors"].append(
        {**case["debtors"][0], "fullName": "Åse Ødegård", "customerNumber": "CUST-2"}
    )
    serve_cases(fake_upstream, case)

    rows = read_semicolon_csv(norwegian.get(EXPORT_URL))

    assert rows[0] == NORWEGIAN_HEADER
    assert rows[1] == [
        "7001",
        "Kari Nordmann; Åse Ødegård",
        "Inkasso",
        "Pauset",
        "Venter på godkjenning til inkasso",
        "02.03.2026",  # the day in Europe/Oslo
        "12345,60",
        "NOK",
        "1",
        "F-7001",
        "CUST-7001; CUST-2",
    ]


def test_the_norwegian_file_is_semicolon_separated_with_a_bom() -> None:
    layout = csv_layout("nb")
    assert layout.delimiter == ";"
    assert ENGLISH_LAYOUT.delimiter == ","


@pytest.mark.parametrize(
    ("amount", "written"),
    [
        ("0", "0,00"),
        ("850.25", "850,25"),
        ("1000000", "1000000,00"),  # no grouping: Excel would read "1 000 000,00" as text
        ("-12.5", "-12,50"),
        ("0.005", "0,01"),  # rounded half up, as a person rounds øre
        ("999999999999.999", "1000000000000,00"),
    ],
)
def test_norwegian_amounts_have_two_decimals_and_a_comma(amount: str, written: str) -> None:
    assert csv_layout("nb").amount(Decimal(amount)) == written


def test_an_unknown_status_is_humanised_and_a_formula_still_neutralised(
    norwegian: Client, fake_upstream: respx.MockRouter
) -> None:
    case = org_a_case_json(7002, status="ON_HOLD_LEGAL", type="=HYPERLINK")
    serve_cases(fake_upstream, case)

    row = read_semicolon_csv(norwegian.get(EXPORT_URL))[1]

    assert row[3] == "On hold legal"
    assert row[2] == "'=hyperlink"


def test_the_norwegian_file_is_named_after_the_organisation_and_the_day(
    norwegian: Client, fake_upstream: respx.MockRouter, org_a: Organization
) -> None:
    response = norwegian.get(EXPORT_URL)
    streamed_text(response)

    today = timezone.localdate().isoformat()
    assert org_a.name == "Bergen Boliger AS"
    expected = f'attachment; filename="saker-bergen-boliger-as-{today}.csv"'
    assert response["Content-Disposition"] == expected


@pytest.mark.parametrize(
    ("name", "stem"),
    [
        ("Tromsø Kraft AS", "saker-tromso-kraft-as"),
        ("Ærlig & Åpen Eiendom", "saker-aerlig-apen-eiendom"),
        ('"; filename=evil.exe', "saker-filenameevilexe"),
        ("***", "saker"),
    ],
)
def test_the_organisation_in_a_file_name_is_plain_ascii(name: str, stem: str) -> None:
    today = timezone.localdate().isoformat()
    assert export_filename(csv_layout("nb"), name) == f"{stem}-{today}.csv"


def test_the_english_file_name_does_not_change_whatever_the_organisation() -> None:
    today = timezone.localdate().isoformat()
    assert export_filename(csv_layout("en"), "Bergen Boliger AS") == f"cases-{today}.csv"


def test_a_norwegian_file_cut_short_says_so_in_norwegian(
    norwegian: Client, fake_upstream: respx.MockRouter
) -> None:
    first = page_json([org_a_case_json(7003)], next_token="p1")

    def second_page_fails(request: httpx.Request) -> httpx.Response:
        if "PageToken" in request.url.params:
            return httpx.Response(503)
        return httpx.Response(200, json=first)

    fake_upstream.routes["cases"].mock(side_effect=second_page_fails)

    rows = read_semicolon_csv(norwegian.get(EXPORT_URL))

    assert len(rows) == 3
    assert rows[2][0].startswith("# EKSPORTEN ER UFULLSTENDIG:")
    assert rows[2][0].endswith("rader skrevet: 1")


def test_a_direct_norwegian_export_with_no_results_is_the_header_alone(
    norwegian: Client, fake_upstream: respx.MockRouter
) -> None:
    serve_cases(fake_upstream)

    assert read_semicolon_csv(norwegian.get(EXPORT_URL, {"q": "ingen"})) == [NORWEGIAN_HEADER]


# --- The list offers an export only when there is something to export -----------------------------


def test_the_list_offers_no_export_when_nothing_matches(
    norwegian: Client, fake_upstream: respx.MockRouter
) -> None:
    serve_cases(fake_upstream)

    html = norwegian.get(LIST_URL, {"q": "ingen"}).content.decode()

    assert reverse("cases:export") not in html


def test_the_list_offers_the_export_when_cases_match(
    norwegian: Client, fake_upstream: respx.MockRouter
) -> None:
    serve_cases(fake_upstream, org_a_case_json(7004))

    html = norwegian.get(LIST_URL, {"q": "7004"}).content.decode()

    assert f'href="{reverse("cases:export")}?q=7004"' in html


# --- The export's audit entry keeps no personal search term ---------------------------------------


@pytest.mark.parametrize(
    "term",
    ["kari.nordmann@example.no", "+47 912 34 567", "01017012345", "Kari 91234567"],
)
def test_an_exports_audit_entry_says_a_personal_term_was_used_not_which(
    agent_a: User, org_a: Organization, sandbox_upstream: RecordingTransport, term: str
) -> None:
    seed_organization(uuid.UUID(ORG_A_ID), org_a.name, cases=3, seed=5)

    response = in_language(agent_a, "en").get(EXPORT_URL, {"q": term, "status": "OPEN"})
    streamed_text(response)

    entry = AuditEntry.objects.get(organization=org_a, kind=AuditKind.EXPORT)
    assert entry.filters == {"status": "OPEN", "search_term": REDACTED}
    assert term not in str(entry.filters)


def test_personal_customer_and_invoice_filters_are_not_kept_either() -> None:
    filters = autocollect.CaseFilters(
        customer_number="91234567", unique_source_invoice_id="ola@example.no", type="X"
    )
    assert export_filters(filters) == {
        "customer_number": REDACTED,
        "unique_source_invoice_id": REDACTED,
        "type": "X",
    }


def test_a_search_term_that_is_no_personal_data_is_kept_in_the_audit_entry() -> None:
    filters = autocollect.CaseFilters(search_term="nordmann", customer_number="CUST-7")
    assert export_filters(filters) == {"search_term": "nordmann", "customer_number": "CUST-7"}
