"""The debtor page: all of a customer's cases in the organisation, their details and totals."""

import re
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from django.test import Client

from dashboard.models import Organization, Role
from sandbox.models import Case as SandboxCase
from sandbox.models import SandboxOrganization
from tests.support.pages import nok, section, text_of
from tests.support.people import ORG_B_ID, logged_in
from tests.support.sandbox_data import (
    DEBTOR_ID,
    NATIONAL_ID,
    add_case,
    add_claim,
    add_debtor,
    add_invoice,
    sandbox_organization,
)
from tests.support.transport import RecordingTransport

CUSTOMER = "K-1001"


def debtor_case(
    organization: SandboxOrganization,
    case_number: int,
    *,
    remaining: str,
    principal: str,
    day: int,
    customer: str = CUSTOMER,
    **fields: object,
) -> SandboxCase:
    """A case of this customer: principal + interest, figures that add up."""
    case = add_case(
        organization,
        case_number,
        remaining=remaining,
        principal=principal,
        registered_at=datetime(2025, 3, day, 10, 0, tzinfo=UTC),
        **fields,
    )
    invoice = add_invoice(case, f"F-{case_number}")
    add_claim(case, invoice, "PRINCIPAL", principal)
    add_claim(case, invoice, "INTEREST", str(Decimal(remaining) - Decimal(principal)))
    add_debtor(case, customer_number=customer)
    return case


@pytest.fixture
def three_cases(sandbox_a: SandboxOrganization) -> list[SandboxCase]:
    return [
        debtor_case(sandbox_a, 5_000_001, remaining="1000.10", principal="900.00", day=1),
        debtor_case(
            sandbox_a, 5_000_002, remaining="250.25", principal="200.00", day=2, status="PAUSED"
        ),
        debtor_case(
            sandbox_a,
            5_000_003,
            remaining="0",
            principal="0",
            day=3,
            status="CLOSED",
            closed_at=datetime(2025, 3, 20, tzinfo=UTC),
        ),
    ]


def url(customer: str = CUSTOMER) -> str:
    return f"/debtors/{customer}/"


def test_lists_every_case_of_the_customer_newest_first_with_links(
    client_a: Client, three_cases: list[SandboxCase], sandbox_a: SandboxOrganization
) -> None:
    debtor_case(sandbox_a, 5_000_004, remaining="5", principal="5", day=4, customer="K-OTHER")

    html = client_a.get(url()).text

    cases = section(html, "cases-title")
    numbers = re.findall(r'<a href="/cases/(\d+)/">', cases)
    assert numbers == ["5000003", "5000002", "5000001"]
    assert "5000004" not in html
    assert nok("1000.10") in text_of(cases)


def test_totals_count_open_cases_and_sum_remaining_and_principal(
    client_a: Client, three_cases: list[SandboxCase]
) -> None:
    totals = text_of(section(client_a.get(url(), HTTP_ACCEPT_LANGUAGE="en").text, "totals-title"))

    assert "Cases 3" in totals
    assert "Open cases 2" in totals  # open and paused; the closed one is not
    assert f"Remaining amount {nok('1250.35', 'en')}" in totals
    assert f"Remaining principal {nok('1100.00', 'en')}" in totals


def test_shows_the_debtors_details_with_the_identification_number_masked(
    client_a: Client, three_cases: list[SandboxCase]
) -> None:
    response = client_a.get(url())

    details = section(response.text, "details-title")
    for expected in ("Kari Nordmann", "D-551", "kari@example.no", "+4791234567", CUSTOMER):
        assert expected in details
    assert NATIONAL_ID not in response.text
    assert "•••••••••45" in details
    assert "no-store" in response["Cache-Control"]


def test_an_agent_can_reveal_the_identification_number_in_place(
    org_a: Organization, three_cases: list[SandboxCase]
) -> None:
    agent = logged_in(org_a, Role.AGENT)

    response = agent.post(url(), {"debtor": DEBTOR_ID}, HTTP_HX_REQUEST="true")

    assert response.status_code == 200
    assert response.text.strip().startswith('<span id="identification-1"')
    assert NATIONAL_ID in response.text


def test_a_viewer_may_not_reveal(org_a: Organization, three_cases: list[SandboxCase]) -> None:
    viewer = logged_in(org_a, Role.VIEWER)

    response = viewer.post(url(), {"debtor": DEBTOR_ID}, HTTP_HX_REQUEST="true")

    assert response.status_code == 403
    assert NATIONAL_ID not in response.text


def test_an_unknown_customer_number_is_404(
    client_a: Client, three_cases: list[SandboxCase]
) -> None:
    assert client_a.get(url("K-NOBODY")).status_code == 404


def test_a_customer_number_with_a_nul_is_404_without_asking(
    client_a: Client, sandbox_upstream: RecordingTransport
) -> None:
    assert client_a.get(url("K-1\x00")).status_code == 404
    assert not sandbox_upstream.requests


def test_another_organisations_customer_is_404_without_asking_for_that_organisation(
    client_a: Client,
    three_cases: list[SandboxCase],
    org_b: Organization,
    sandbox_upstream: RecordingTransport,
) -> None:
    debtor_case(
        sandbox_organization(org_b), 6_000_001, remaining="1", principal="1", day=5, customer="K-B"
    )

    response = client_a.get(url("K-B"))

    assert response.status_code == 404
    assert sandbox_upstream.requests
    assert all(ORG_B_ID not in str(request.url) for request in sandbox_upstream.requests)


@pytest.mark.parametrize(("fault", "status"), [("500", 502), ("503", 503), ("429", 429)])
def test_an_upstream_failure_shows_the_friendly_error(
    fault: str, status: int, client_a: Client, three_cases: list[SandboxCase]
) -> None:
    SandboxOrganization.objects.filter(pk=three_cases[0].organization_id).update(fault=fault)

    response = client_a.get(url())

    assert response.status_code == status
    assert "upstream-error" in response.text
    assert "no-store" in response["Cache-Control"]


def test_an_htmx_failure_replaces_the_page_content_in_place(
    client_a: Client, three_cases: list[SandboxCase]
) -> None:
    SandboxOrganization.objects.filter(pk=three_cases[0].organization_id).update(fault="500")

    response = client_a.get(url(), HTTP_HX_REQUEST="true", HTTP_HX_TARGET="debtor-page")

    assert response.status_code == 502
    # The page's frame stays, with the error inside it (the heading names the customer).
    assert response.text.strip().startswith('<div id="debtor-page"')
    assert 'class="upstream-error"' in response.text


def test_hostile_upstream_text_is_escaped(client_a: Client, sandbox_a: SandboxOrganization) -> None:
    case = add_case(sandbox_a, 5_000_010, status="<script>s()</script>")
    add_debtor(case, full_name="<img src=x onerror=alert(1)>", phone="<b>9</b>")

    html = client_a.get(url()).text

    assert "<img src=x" not in html
    assert "<b>9</b>" not in html
    assert "<script>s()" not in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html


def test_a_customer_number_with_markup_is_escaped(
    client_a: Client, sandbox_a: SandboxOrganization
) -> None:
    case = add_case(sandbox_a, 5_000_011)
    add_debtor(case, customer_number='<b title="x">K')

    response = client_a.get(url('<b title="x">K'))

    assert response.status_code == 200
    assert '<b title="x">' not in response.text
    assert "&lt;b title=&quot;x&quot;&gt;K" in response.text
