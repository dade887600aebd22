"""The case page: every section with exact figures, masked ids and their reveal, 404s, errors.

The client talks to the in-process sandbox; each test creates the sandbox rows it needs, so the
figures asserted are the figures seeded. Upstream requests are recorded at the transport.
"""

import logging
import re
from datetime import UTC, datetime
from urllib.parse import quote

import httpx
import pytest
from django.contrib.auth.models import User
from django.test import Client

from cases import autocollect
from dashboard.models import Organization, Role
from sandbox.models import Case as SandboxCase
from sandbox.models import SandboxOrganization
from tests.support.pages import nok, section, text_of
from tests.support.people import ORG_B_ID, logged_in, make_member
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

CASE_NUMBER = 4_200_017
OTHER_ORG_CASE_NUMBER = 4_200_099
SECOND_NATIONAL_ID = "31129954321"
SECOND_DEBTOR_ID = "7d3b1c5e-0000-4000-8000-00000000d0b2"


def add_standard_case(organization: SandboxOrganization) -> SandboxCase:
    """One invoice with principal and interest, a case-level fee, two debtors; all adds up."""
    case = add_case(
        organization,
        CASE_NUMBER,
        remaining="1945.67",
        principal="1200.00",
        sub_status="EVICTION_REQUEST_MANUAL",
        # 23:30 UTC on 31 January is 1 February in Oslo.
        registered_at=datetime(2025, 1, 31, 23, 30, tzinfo=UTC),
    )
    invoice = add_invoice(
        case,
        "F-2025-17",
        original_amount="1500.00",
        paid_amount="200.50",
        credited_amount="99.50",
        remaining_amount="1245.67",
        remaining_principal="1200.00",
    )
    add_claim(case, invoice, "PRINCIPAL", "1500.00", paid="200.50", credited="99.50")
    add_claim(case, invoice, "INTEREST", "45.67")
    add_claim(case, None, "COLLECTION_FEE", "700.00")
    add_debtor(case)
    add_debtor(
        case,
        debtor_id=SECOND_DEBTOR_ID,
        customer_number="K-1002",
        first_name="Ola",
        last_name="Nordmann",
        full_name="Ola Nordmann",
        identification_number=SECOND_NATIONAL_ID,
        email="ola@example.no",
        position=1,
    )
    return case


# --- Fixtures and helpers -----------------------------------------------------------------------


@pytest.fixture
def standard_case(sandbox_a: SandboxOrganization) -> SandboxCase:
    return add_standard_case(sandbox_a)


def page_url(case_number: int = CASE_NUMBER) -> str:
    return f"/cases/{case_number}/"


# --- The page -----------------------------------------------------------------------------------


def test_header_shows_status_dates_creditor_description_and_payment_details(
    client_a: Client, standard_case: SandboxCase
) -> None:
    response = client_a.get(page_url())

    assert response.status_code == 200
    summary = text_of(section(response.text, "summary-title"))
    assert re.search(rf"<h1>[^<]*\b{CASE_NUMBER}\b[^<]*</h1>", response.text)
    for expected in (
        "01.02.2025",  # registered in Europe/Oslo, the nb short date (one style per page)
        "CR-778",
        "Husleie januar",
        "15030012345",
        "0042000172",
        nok("1945.67"),
        nok("1200.00"),
    ):
        assert expected in summary, expected
    assert 'class="badge badge--open"' in response.text
    assert 'class="badge badge--waiting"' in response.text


def test_invoices_table_shows_dates_source_id_and_every_amount(
    client_a: Client, standard_case: SandboxCase
) -> None:
    invoices = text_of(section(client_a.get(page_url()).text, "invoices-title"))

    row = (
        f"F-2025-17 01.01.2025 15.01.2025 SRC-F-2025-17 {nok('1500.00')} {nok('200.50')} "
        f"{nok('99.50')} {nok('1245.67')}"
    )
    assert row in invoices


def test_claim_breakdown_shows_groups_rows_and_exact_totals(
    client_a: Client, standard_case: SandboxCase
) -> None:
    response = client_a.get(page_url(), HTTP_ACCEPT_LANGUAGE="en")
    claims = text_of(section(response.text, "claims-title"))

    assert "Invoice F-2025-17" in claims
    assert "Case-level claims (no invoice)" in claims
    figures = ("1500.00", "200.50", "99.50", "1200.00")
    assert "Principal " + " ".join(nok(f, "en") for f in figures) in claims
    assert f"Interest {nok('45.67', 'en')}" in claims
    assert f"Collection fee {nok('700.00', 'en')}" in claims
    totals = ("2245.67", "200.50", "99.50", "1945.67")
    assert "Total " + " ".join(nok(f, "en") for f in totals) in claims
    assert "alert--warning" not in section(response.text, "claims-title")


def test_figures_that_do_not_add_up_show_a_warning_naming_the_check(
    client_a: Client, sandbox_a: SandboxOrganization
) -> None:
    case = add_case(sandbox_a, CASE_NUMBER, remaining="150.00", principal="100.00")
    add_claim(case, None, "PRINCIPAL", "100.00")
    add_claim(case, None, "INTEREST", "20.00", paid="5.00", remaining="10.00")

    claims = section(client_a.get(page_url(), HTTP_ACCEPT_LANGUAGE="en").text, "claims-title")

    assert "alert alert--warning" in claims
    text = text_of(claims)
    assert "The figures do not add up" in text
    assert f"Interest on the case itself: the original amount is {nok('20.00', 'en')}" in text
    assert f"a difference of {nok('5.00', 'en')}" in text  # the interest claim
    assert f"a difference of {nok('40.00', 'en')}" in text  # the case's remaining amount
    assert "remaining principal" not in text  # that check passed


def test_unknown_enum_values_are_humanised(
    client_a: Client, sandbox_a: SandboxOrganization
) -> None:
    case = add_case(sandbox_a, CASE_NUMBER, remaining="9.00", status="ON_HOLD")
    add_claim(case, None, "SETTLEMENT_FEE", "9.00")

    text = text_of(client_a.get(page_url(), HTTP_ACCEPT_LANGUAGE="en").text)

    assert "On hold" in text
    assert "Settlement fee" in text


def test_each_debtor_is_shown_with_a_link_to_the_debtor_page(
    client_a: Client, standard_case: SandboxCase
) -> None:
    debtors = section(client_a.get(page_url()).text, "debtors-title")

    assert '<a href="/debtors/K-1001/">Kari Nordmann</a>' in debtors
    assert '<a href="/debtors/K-1002/">Ola Nordmann</a>' in debtors
    for expected in ("D-551", "kari@example.no", "+4791234567", "K-1001"):
        assert expected in debtors


def test_a_customer_number_with_a_slash_links_to_its_debtor_page(
    client_a: Client, sandbox_a: SandboxOrganization
) -> None:
    add_debtor(add_case(sandbox_a, CASE_NUMBER), customer_number="2024/77", full_name="Per Hansen")

    response = client_a.get(page_url())

    assert response.status_code == 200
    assert 'href="/debtors/2024%2F77/"' in section(response.text, "debtors-title")
    debtor_page = client_a.get("/debtors/2024%2F77/", headers={"Accept-Language": "en"})
    assert debtor_page.status_code == 200
    assert "Per Hansen" in debtor_page.text


@pytest.mark.parametrize(
    "customer_number",
    ["../../accounts/logout", "K\n1001", "K 1001", "æøå-12", "100%", "2024/77/../1"],
)
def test_an_odd_customer_number_links_to_its_own_debtor_page(
    client_a: Client, sandbox_a: SandboxOrganization, customer_number: str
) -> None:
    add_debtor(
        add_case(sandbox_a, CASE_NUMBER), customer_number=customer_number, full_name="Per Hansen"
    )

    response = client_a.get(page_url())

    assert response.status_code == 200
    href = re.search(r'<a href="(/debtors/[^"]*)">Per Hansen</a>', response.text)
    assert href is not None
    assert href.group(1) == f"/debtors/{quote(customer_number, safe='')}/"
    debtor_page = client_a.get(href.group(1))
    assert debtor_page.status_code == 200
    assert "Per Hansen" in debtor_page.text
    # The reveal form posts to the page itself, not to wherever the decoded path would resolve.
    assert f'hx-post="{href.group(1)}"' in debtor_page.text.replace("&#x27;", "'")


@pytest.mark.parametrize("customer_number", [".", ".."])
def test_a_customer_number_no_link_can_carry_is_shown_as_text(
    client_a: Client, sandbox_a: SandboxOrganization, customer_number: str
) -> None:
    add_debtor(
        add_case(sandbox_a, CASE_NUMBER), customer_number=customer_number, full_name="Per Hansen"
    )

    response = client_a.get(page_url())

    assert response.status_code == 200
    debtors = section(response.text, "debtors-title")
    assert "Per Hansen" in debtors
    assert "/debtors/" not in debtors


def test_a_page_view_is_exactly_one_upstream_call(
    client_a: Client, standard_case: SandboxCase, sandbox_upstream: RecordingTransport
) -> None:
    client_a.get(page_url())

    assert len(sandbox_upstream.case_requests()) == 1
    assert sandbox_upstream.case_requests()[0].url.params["CaseNumber"] == str(CASE_NUMBER)


def test_personal_data_is_not_stored_by_caches(
    client_a: Client, standard_case: SandboxCase
) -> None:
    response = client_a.get(page_url())

    assert "no-store" in response["Cache-Control"]
    assert "HX-Request" in response["Vary"]


def test_hostile_upstream_text_is_escaped(client_a: Client, sandbox_a: SandboxOrganization) -> None:
    case = add_case(sandbox_a, CASE_NUMBER, description="<script>alert('d')</script>")
    invoice = add_invoice(case, '"><img src=x onerror=alert(1)>')
    add_claim(case, invoice, "<b>BOLD</b>", "0")
    add_debtor(
        case, full_name="<svg onload=alert(2)>", email='"><script>x</script>', phone="<i>1</i>"
    )

    html = client_a.get(page_url()).text

    for hostile in (
        "<script>alert",
        "<img src=x",
        "<svg onload",
        "<b>BOLD",
        "<i>1</i>",
        '"><script>',
    ):
        assert hostile not in html
    assert "&lt;script&gt;alert(&#x27;d&#x27;)&lt;/script&gt;" in html
    assert "&lt;svg onload=alert(2)&gt;" in html


# --- 404s ---------------------------------------------------------------------------------------


def test_an_unknown_case_number_is_the_404_page(
    client_a: Client, standard_case: SandboxCase
) -> None:
    response = client_a.get(page_url(9_999_999))

    assert response.status_code == 404
    assert "error-page" in response.text


@pytest.mark.parametrize("number", ["9223372036854775808", "0", "00", "99999999999999999999"])
def test_a_case_number_no_case_can_have_is_404_without_asking_the_upstream(
    client_a: Client, standard_case: SandboxCase, sandbox_upstream: RecordingTransport, number: str
) -> None:
    response = client_a.get(f"/cases/{number}/")

    assert response.status_code == 404
    assert not sandbox_upstream.requests


def test_another_organisations_case_is_404_without_asking_for_that_organisation(
    client_a: Client,
    standard_case: SandboxCase,
    org_b: Organization,
    sandbox_upstream: RecordingTransport,
) -> None:
    add_case(sandbox_organization(org_b), OTHER_ORG_CASE_NUMBER, description="Tromsø secret")

    response = client_a.get(page_url(OTHER_ORG_CASE_NUMBER))

    assert response.status_code == 404
    assert "Tromsø secret" not in response.text
    assert sandbox_upstream.requests, "the upstream was asked (for organisation A)"
    assert all(ORG_B_ID not in str(request.url) for request in sandbox_upstream.requests)


def test_a_reveal_for_another_organisations_case_is_404(
    org_a: Organization, standard_case: SandboxCase, org_b: Organization
) -> None:
    other = add_case(sandbox_organization(org_b), OTHER_ORG_CASE_NUMBER)
    add_debtor(other, debtor_id=SECOND_DEBTOR_ID, identification_number=SECOND_NATIONAL_ID)
    client = logged_in(org_a, Role.ADMIN)

    response = client.post(page_url(OTHER_ORG_CASE_NUMBER), {"debtor": SECOND_DEBTOR_ID})

    assert response.status_code == 404
    assert SECOND_NATIONAL_ID not in response.text


# --- Identification numbers ---------------------------------------------------------------------


def test_identification_numbers_are_masked_by_default(
    client_a: Client, standard_case: SandboxCase
) -> None:
    html = client_a.get(page_url()).text

    assert NATIONAL_ID not in html
    assert SECOND_NATIONAL_ID not in html
    assert "•••••••••45" in html
    assert "•••••••••21" in html


@pytest.mark.parametrize("role", [Role.AGENT, Role.ADMIN])
def test_agents_and_admins_reveal_one_number_as_a_partial(
    role: str,
    org_a: Organization,
    standard_case: SandboxCase,
    caplog: pytest.LogCaptureFixture,
) -> None:
    client = logged_in(org_a, role)

    response = client.post(page_url(), {"debtor": DEBTOR_ID}, HTTP_HX_REQUEST="true")

    assert response.status_code == 200
    assert response.text.strip().startswith('<span id="identification-1"')
    assert NATIONAL_ID in response.text
    assert SECOND_NATIONAL_ID not in response.text
    assert "<html" not in response.text
    assert "no-store" in response["Cache-Control"]


def test_the_reveal_button_posts_the_debtor_id_to_the_page_itself(
    client_a: Client, standard_case: SandboxCase
) -> None:
    html = client_a.get(page_url()).text

    form = re.search(r'<form class="identification__reveal"[^>]*>.*?</form>', html, re.S)
    assert form
    assert f'hx-post="{page_url()}"' in form.group(0)
    assert 'method="post"' in form.group(0)
    assert f'name="debtor" value="{DEBTOR_ID}"' in form.group(0)
    assert "csrfmiddlewaretoken" in form.group(0)


def test_a_reveal_without_javascript_shows_the_whole_page_with_that_number(
    client_a: Client, standard_case: SandboxCase
) -> None:
    response = client_a.post(page_url(), {"debtor": SECOND_DEBTOR_ID})

    assert response.status_code == 200
    assert SECOND_NATIONAL_ID in response.text
    assert NATIONAL_ID not in response.text
    assert "claims-title" in response.text


def test_the_number_is_never_revealed_through_a_url(
    client_a: Client, standard_case: SandboxCase
) -> None:
    for query in (f"?debtor={DEBTOR_ID}", f"?reveal={DEBTOR_ID}"):
        response = client_a.get(page_url() + query, HTTP_HX_REQUEST="true")
        assert NATIONAL_ID not in response.text


def test_viewers_may_not_reveal_and_the_upstream_is_not_asked(
    org_a: Organization, standard_case: SandboxCase, sandbox_upstream: RecordingTransport
) -> None:
    viewer = logged_in(org_a, Role.VIEWER)

    page = viewer.get(page_url()).text
    sandbox_upstream.requests.clear()
    response = viewer.post(page_url(), {"debtor": DEBTOR_ID}, HTTP_HX_REQUEST="true")

    assert "identification__reveal" not in page
    assert response.status_code == 403
    assert NATIONAL_ID not in response.text
    assert sandbox_upstream.requests == []


def test_a_reveal_needs_the_csrf_token(org_a: Organization, standard_case: SandboxCase) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(make_member(org_a, Role.AGENT))
    client.get(page_url())  # sets the CSRF cookie, as a browser visit does
    token = client.cookies["csrftoken"].value

    forged = client.post(page_url(), {"debtor": DEBTOR_ID})
    genuine = client.post(page_url(), {"debtor": DEBTOR_ID, "csrfmiddlewaretoken": token})

    assert forged.status_code == 403
    assert NATIONAL_ID not in forged.text
    assert genuine.status_code == 200
    assert NATIONAL_ID in genuine.text


def test_a_reveal_is_audited_without_the_number(
    org_a: Organization, standard_case: SandboxCase, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="cases.audit")
    user: User = make_member(org_a, Role.AGENT, username="agent-kari")
    client = Client()
    client.force_login(user)

    client.post(page_url(), {"debtor": DEBTOR_ID}, HTTP_HX_REQUEST="true")

    (record,) = [r for r in caplog.records if r.name == "cases.audit"]
    line = record.getMessage()
    assert "identification number revealed" in line
    assert "agent-kari" in line
    assert f"organisation={org_a.pk}" in line
    assert str(CASE_NUMBER) in line
    assert NATIONAL_ID not in line
    assert NATIONAL_ID[-4:] not in line


def test_a_reveal_of_a_debtor_not_on_the_case_is_404(
    client_a: Client, standard_case: SandboxCase
) -> None:
    response = client_a.post(page_url(), {"debtor": "not-a-debtor"}, HTTP_HX_REQUEST="true")

    assert response.status_code == 404


def test_a_reveal_naming_no_debtor_is_a_bad_request(
    client_a: Client, standard_case: SandboxCase
) -> None:
    assert client_a.post(page_url(), {}).status_code == 400


# --- Upstream failures --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fault", "status"),
    [("500", 502), ("503", 503), ("429", 429), ("malformed", 502)],
)
def test_an_upstream_failure_shows_the_friendly_error_with_its_status(
    fault: str, status: int, client_a: Client, standard_case: SandboxCase
) -> None:
    SandboxOrganization.objects.filter(pk=standard_case.organization_id).update(fault=fault)

    response = client_a.get(page_url())

    assert response.status_code == status
    assert "upstream-error" in response.text
    assert f'href="{page_url()}"' in response.text  # the retry
    assert "no-store" in response["Cache-Control"]


def test_a_timeout_is_504(client_a: Client, org_a: Organization) -> None:
    def never_answers(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("slow", request=request)

    autocollect.use_transport(httpx.MockTransport(never_answers))
    try:
        response = client_a.get(page_url())
    finally:
        autocollect.use_transport(None)

    assert response.status_code == 504


def test_an_organisation_the_credentials_may_not_read_gets_a_403_page(
    client_a: Client, sandbox_upstream: RecordingTransport
) -> None:
    response = client_a.get(page_url())  # no sandbox organisation: the upstream answers 403

    assert response.status_code == 403
    assert "upstream-error" in response.text


def test_an_htmx_retry_gets_the_error_in_place_then_the_section(
    client_a: Client, standard_case: SandboxCase
) -> None:
    organization = SandboxOrganization.objects.filter(pk=standard_case.organization_id)
    organization.update(fault="503")
    htmx = {"HTTP_HX_REQUEST": "true", "HTTP_HX_TARGET": "case-page"}

    failed = client_a.get(page_url(), **htmx)  # type: ignore[arg-type]
    organization.update(fault="")
    recovered = client_a.get(page_url(), **htmx)  # type: ignore[arg-type]

    assert failed.status_code == 503
    # The page's frame stays, with the error inside it.
    assert failed.text.strip().startswith('<div id="case-page"')
    assert 'class="upstream-error"' in failed.text
    assert recovered.status_code == 200
    assert recovered.text.strip().startswith('<div id="case-page"')
    assert "<html" not in recovered.text


def test_a_failed_reveal_shows_its_error_in_the_identification_cell(
    client_a: Client, standard_case: SandboxCase
) -> None:
    SandboxOrganization.objects.filter(pk=standard_case.organization_id).update(fault="500")

    response = client_a.post(
        page_url(),
        {"debtor": DEBTOR_ID},
        HTTP_HX_REQUEST="true",
        HTTP_HX_TARGET="identification-1",
    )

    assert response.status_code == 502
    assert response.text.strip().startswith('<span id="identification-1"')
    assert "HX-Retarget" not in response


def test_a_retry_aimed_at_the_debtors_section_gets_only_that_section(
    client_a: Client, standard_case: SandboxCase
) -> None:
    response = client_a.get(page_url(), HTTP_HX_REQUEST="true", HTTP_HX_TARGET="debtors")

    assert response.status_code == 200
    assert response.text.strip().startswith('<section id="debtors"')
    assert "claims-title" not in response.text
    assert NATIONAL_ID not in response.text
