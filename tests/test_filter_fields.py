"""The case list's filter fields: every text filter applies as one types, the search's help says
what the search looks at (checked against the sandbox), and the folded panel's count.

The browser's side of the same (typing, folding on a phone) is in
tests/browser/test_filters_browser.py.
"""

import re
import uuid

import pytest
from django.test import Client
from django.utils import translation

from cases.forms import CaseFilterForm
from sandbox.models import SandboxOrganization
from tests.support.sandbox_data import add_case, add_debtor, add_invoice
from tests.support.transport import RecordingTransport

LIST_URL = "/cases/"
PHONE = "+4791234567"  # as the sandbox stores it and the case page shows it
CASE_NUMBER = 1000001
TEXT_FILTERS = ("q", "customer", "invoice")


@pytest.fixture
def sandbox_a(sandbox_a: SandboxOrganization) -> SandboxOrganization:
    """One case whose debtor has a known phone, e-mail, name and customer number, and another."""
    case = add_case(sandbox_a, CASE_NUMBER)
    add_invoice(case, "F-77", unique_source_invoice_id="SRC-77")
    add_debtor(
        case,
        full_name="Kari Nordmann",
        customer_number="K-1001",
        email="kari@example.no",
        phone=PHONE,
        debtor_id=uuid.uuid4(),
    )
    case.refresh_search_text()
    other = add_case(sandbox_a, 1000002)
    add_debtor(
        other,
        full_name="Ola Hansen",
        customer_number="K-2002",
        email="ola@example.no",
        phone="+4722334455",
    )
    other.refresh_search_text()
    return sandbox_a


def found(client: Client, **query: str) -> list[str]:
    """The case numbers listed; a personal term goes through its redirect to a reference."""
    response = client.get(LIST_URL, query, headers={"Accept-Language": "en"}, follow=True)
    assert response.status_code == 200
    html = response.content.decode()
    return re.findall(r'<th scope="row"><a href="/cases/(\d+)/"', html)


# --- Typing ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", TEXT_FILTERS)
def test_every_text_filter_applies_as_one_types_after_the_same_pause(name: str) -> None:
    attrs = CaseFilterForm().fields[name].widget.attrs

    assert attrs["hx-trigger"].startswith("input changed delay:300ms")
    assert attrs["hx-replace-url"] == "true"  # typing adds no history entry per pause
    assert attrs["hx-include"] == "closest form"
    assert "hx-push-url" not in attrs


def test_without_javascript_the_form_still_submits(client_a: Client, sandbox_a: object) -> None:
    html = client_a.get(LIST_URL).content.decode()

    assert re.search(r'<form method="get" action="/cases/"', html)
    assert re.search(r'<button type="submit"', html)


@pytest.mark.parametrize("name", ["customer", "invoice"])
def test_typing_a_personal_value_in_another_text_filter_replaces_the_url(
    client_a: Client, sandbox_a: SandboxOrganization, name: str
) -> None:
    response = client_a.get(
        LIST_URL,
        {name: "91234567"},
        headers={"HX-Request": "true", "HX-Target": "results", "HX-Trigger-Name": name},
    )

    assert f"{name}ref=" in response["HX-Replace-Url"]
    assert "91234567" not in response["HX-Replace-Url"]
    assert "HX-Push-Url" not in response


# --- What the search looks at ---------------------------------------------------------------------


def test_the_search_help_says_what_is_searched_and_that_phones_are_not() -> None:
    with translation.override("en"):
        help_text = str(CaseFilterForm().fields["q"].help_text)
    assert help_text == (
        "Case, invoice or customer number, source invoice id, name or e-mail. Not phone numbers."
    )


@pytest.mark.parametrize(
    "term", [str(CASE_NUMBER), "F-77", "K-1001", "SRC-77", "Nordmann", "kari@example.no"]
)
def test_each_thing_the_help_names_finds_the_case(
    client_a: Client, sandbox_a: SandboxOrganization, term: str
) -> None:
    assert found(client_a, q=term) == [str(CASE_NUMBER)]


@pytest.mark.parametrize("term", [PHONE, "+47 912 34 567", "912 34 567", "91234567"])
def test_a_phone_number_finds_nothing_however_it_is_written_as_the_help_says(
    client_a: Client,
    sandbox_a: SandboxOrganization,
    sandbox_upstream: RecordingTransport,
    term: str,
) -> None:
    """AutoCollect's SearchTerm does not look at phones (docs/autocollect-api.md), so no way of
    writing one can find the case: the help says so instead of promising a match."""
    assert found(client_a, q=term) == []
    assert sandbox_upstream.case_requests(), "the search was asked upstream"


# --- The folded panel's count ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "count"),
    [
        ({}, 0),
        ({"q": "hansen"}, 0),  # the search box is never folded away
        ({"size": "50"}, 0),  # a page size narrows nothing
        ({"status": "OPEN"}, 1),
        ({"status": "OPEN", "type": "DEBT_COLLECTION", "customer": "K-1", "from": "2026-01-01"}, 4),
        ({"invoice": "SRC-1", "to": "2026-01-01", "q": "x"}, 2),
        ({"status": "NOPE"}, 0),  # invalid: nothing is in effect
    ],
)
def test_the_folded_panel_counts_the_filters_in_effect_beside_the_search(
    query: dict[str, str], count: int
) -> None:
    assert CaseFilterForm(query).folded_filter_count() == count


def test_the_page_shows_the_count_on_the_button(client_a: Client, sandbox_a: object) -> None:
    html = client_a.get(
        LIST_URL, {"status": "OPEN", "type": "DEBT_COLLECTION"}, headers={"Accept-Language": "en"}
    ).content.decode()

    assert re.search(r"Filters<span [^>]*data-filter-count> \(2\)</span></summary>", html)
