"""Personal values stay out of the URLs the case list generates, in every form people type them:
ids and phone numbers with spaces, dots, dashes and country codes, inside longer text, in the
customer and invoice filters, and in every value of a repeated parameter."""

import re
import uuid
from urllib.parse import parse_qs, urlsplit

import pytest
from django.test import Client

from cases import private_search
from dashboard.personal_data import looks_personal, redact
from sandbox.models import SandboxOrganization
from tests.support.sandbox_data import add_case, add_debtor
from tests.support.transport import RecordingTransport

EMAIL = "kari.nordmann@example.no"
URL_ATTRIBUTES = re.compile(r'(?:href|hx-get|hx-post|action|hx-push-url|hx-replace-url)="([^"]*)"')

PERSONAL = [
    "Kari 01019012345",
    "(+47) 912 34 567",
    "01.01.90 12345",
    "010190 12345",
    "010190-12345",
    "01019012345",
    "+47 912 34 567",
    "0047 91234567",
    "912 34 567",
    "91234567",
    "kari@example.no",
    "skriv til kari@example.no i dag",
    "fnr: 01019012345",
    "tlf.91234567",
]
NOT_PERSONAL = ["hansen", "Kari Nordmann", "1000017", "K-1001", "INV-2024-00012345", "F-1001", ""]


@pytest.fixture
def sandbox_a(sandbox_a: SandboxOrganization) -> SandboxOrganization:
    case = add_case(sandbox_a, 1000001)
    add_debtor(case, email=EMAIL, full_name="Kari Nordmann", debtor_id=uuid.uuid4())
    case.refresh_search_text()
    return sandbox_a


def generated_urls(response_html: str) -> list[str]:
    return URL_ATTRIBUTES.findall(response_html)


def assert_no_url_shows(term: str, *urls: str) -> None:
    digits = re.sub(r"\D", "", term)
    for url in urls:
        query = " ".join(
            value for values in parse_qs(urlsplit(url).query).values() for value in values
        )
        assert term not in query, url
        assert "@" not in query, url
        if len(digits) >= 8:
            assert digits not in re.sub(r"\D", "", query), url


@pytest.mark.parametrize("term", PERSONAL)
def test_ids_phones_and_e_mails_in_any_common_form_are_personal(term: str) -> None:
    assert looks_personal(term)
    assert private_search.is_personal(term)


@pytest.mark.parametrize("term", NOT_PERSONAL)
def test_names_and_case_invoice_and_customer_numbers_are_not(term: str) -> None:
    assert not looks_personal(term)


def test_redaction_keeps_the_rest_of_the_text() -> None:
    assert redact("Kari 01019012345 ringte fra (+47) 912 34 567 og kari@x.no") == (
        "Kari [personal data] ringte fra [personal data] og [personal data]"
    )


@pytest.mark.parametrize("term", PERSONAL)
def test_a_personal_search_moves_out_of_the_address_bar(
    client_a: Client, sandbox_a: SandboxOrganization, term: str
) -> None:
    response = client_a.get("/cases/", {"q": term, "status": "OPEN"})

    assert response.status_code == 302
    assert "qref=" in response["Location"]
    assert "status=OPEN" in response["Location"]
    page = client_a.get(response["Location"])
    assert page.status_code == 200
    assert_no_url_shows(term, response["Location"], *generated_urls(page.content.decode()))


@pytest.mark.parametrize(
    ("name", "reference"), [("customer", "customerref"), ("invoice", "invoiceref")]
)
def test_personal_customer_and_invoice_filters_move_too(
    client_a: Client,
    sandbox_a: SandboxOrganization,
    sandbox_upstream: RecordingTransport,
    name: str,
    reference: str,
) -> None:
    response = client_a.get("/cases/", {name: "01019012345"})

    assert response.status_code == 302
    assert f"{reference}=" in response["Location"]
    page = client_a.get(response["Location"])
    html = page.content.decode()
    assert page.status_code == 200
    assert_no_url_shows("01019012345", *generated_urls(html))
    assert 'value="01019012345"' in html  # the field still shows what was typed
    sent = sandbox_upstream.case_requests()[-1]
    assert "01019012345" in str(sent.url)  # and the upstream is asked for it


def test_removing_one_private_filter_keeps_the_other(
    client_a: Client, sandbox_a: SandboxOrganization
) -> None:
    location = client_a.get("/cases/", {"q": EMAIL, "customer": "01019012345"})["Location"]
    assert "qref=" in location
    assert "customerref=" in location
    html = client_a.get(location).content.decode()

    removals = re.findall(r'class="chip__remove" href="([^"]*)"', html)
    assert len(removals) == 2
    search_removal, customer_removal = removals  # chips in form order: search, customer
    assert "qref" not in search_removal
    assert "customerref=" in search_removal
    assert "customerref" not in customer_removal
    assert "qref=" in customer_removal
    page = client_a.get(customer_removal.replace("&amp;", "&"))
    assert page.status_code == 200
    assert page.context["form"].cleaned_data["q"] == EMAIL
    assert page.context["form"].cleaned_data["customer"] == ""


def test_a_repeated_search_parameter_keeps_no_value_in_generated_links(
    client_a: Client, sandbox_a: SandboxOrganization
) -> None:
    response = client_a.get(f"/cases/?q={EMAIL}&q=hansen&status=OPEN")

    assert response.status_code == 302  # the address bar showed the e-mail: it moves
    assert EMAIL not in response["Location"]
    page = client_a.get(response["Location"])
    urls = generated_urls(page.content.decode())
    assert urls
    assert not [url for url in urls if "@" in url or "example.no" in url]


def test_a_repeated_search_in_an_htmx_request_keeps_the_e_mail_out_of_the_links(
    client_a: Client, sandbox_a: SandboxOrganization
) -> None:
    response = client_a.get(
        f"/cases/?q={EMAIL}&q=hansen",
        headers={"HX-Request": "true", "HX-Target": "results", "HX-Trigger-Name": "q"},
    )
    assert response.status_code == 200
    assert not [url for url in generated_urls(response.content.decode()) if "@" in url]
    assert "@" not in response.get("HX-Replace-Url", "")


def test_personal_values_in_other_parameters_never_reach_a_link(
    client_a: Client, sandbox_a: SandboxOrganization, sandbox_upstream: RecordingTransport
) -> None:
    sent_before = len(sandbox_upstream.case_requests())
    response = client_a.get("/cases/", {"status": EMAIL, "size": "91234567"})

    assert response.status_code == 400  # invalid choices: the form's errors, nothing sent
    assert len(sandbox_upstream.case_requests()) == sent_before
    assert not [
        url for url in generated_urls(response.content.decode()) if "@" in url or "91234567" in url
    ]


def test_an_unknown_parameter_with_a_personal_value_is_dropped_by_a_redirect(
    client_a: Client, sandbox_a: SandboxOrganization
) -> None:
    response = client_a.get("/cases/", {"note": EMAIL, "status": "OPEN"})
    assert response.status_code == 302
    assert response["Location"] == "/cases/?status=OPEN"


def test_an_overlong_personal_value_is_a_form_error_and_repeated_in_no_link(
    client_a: Client, sandbox_a: SandboxOrganization
) -> None:
    term = "9" * 65  # longer than a customer number may be
    response = client_a.get("/cases/", {"customer": term})
    assert response.status_code == 400
    assert not [url for url in generated_urls(response.content.decode()) if term in url]


def test_registration_dates_are_not_mistaken_for_personal_numbers(
    client_a: Client, sandbox_a: SandboxOrganization
) -> None:
    response = client_a.get("/cases/", {"from": "2026-01-01", "to": "2026-12-31"})
    assert response.status_code == 200
    assert any("from=2026-01-01" in url for url in generated_urls(response.content.decode()))
