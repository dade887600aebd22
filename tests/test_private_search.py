"""Search terms that are personal data never stand in a URL the dashboard generates."""

import re
import uuid

import pytest
from django.test import Client

from cases import private_search
from dashboard.models import Organization, Role
from sandbox.models import SandboxOrganization
from tests.support.people import make_member
from tests.support.sandbox_data import add_case, add_debtor
from tests.support.transport import RecordingTransport

EMAIL = "kari.nordmann@example.no"
LINK_ATTRIBUTES = re.compile(r'(?:href|hx-get|hx-post|action|value)="([^"]*)"')


@pytest.fixture
def sandbox_a(sandbox_a: SandboxOrganization) -> SandboxOrganization:
    """Organisation A in the sandbox with two cases, their debtors known by e-mail."""
    for number, email in ((1000001, EMAIL), (1000002, "ola@example.no")):
        case = add_case(sandbox_a, number)
        add_debtor(case, email=email, full_name=f"Debtor {number}", debtor_id=uuid.uuid4())
        case.refresh_search_text()
    return sandbox_a


def generated_urls(html: str) -> list[str]:
    """Every URL-like attribute in the page, except the search box's own value."""
    return [url for url in LINK_ATTRIBUTES.findall(html) if url != EMAIL]


@pytest.mark.parametrize(
    "term", ["kari@example.no", "+47 412 34 567", "41234567", "01019012345", " 010190-12345 "]
)
def test_e_mails_phones_and_national_ids_count_as_personal(term: str) -> None:
    assert private_search.is_personal(term)


@pytest.mark.parametrize("term", ["hansen", "1000017", "K-1001", "INV-2024-00012345", "", "øst"])
def test_names_and_case_invoice_and_customer_numbers_do_not(term: str) -> None:
    assert not private_search.is_personal(term)


def test_a_personal_search_in_the_address_moves_to_a_reference(
    client_a: Client, sandbox_a: SandboxOrganization
) -> None:
    response = client_a.get("/cases/", {"q": EMAIL, "status": "OPEN"})

    assert response.status_code == 302
    assert EMAIL not in response["Location"]
    assert "qref=" in response["Location"]
    assert "status=OPEN" in response["Location"]

    page = client_a.get(response["Location"])
    html = page.content.decode()
    assert page.status_code == 200
    assert "/cases/1000001/" in html
    assert "/cases/1000002/" not in html
    assert EMAIL in html  # the search box and its chip still show what was searched for
    assert not [url for url in generated_urls(html) if EMAIL in url or "@" in url]


def test_typing_a_personal_search_replaces_the_url_with_a_reference(
    client_a: Client, sandbox_a: SandboxOrganization
) -> None:
    response = client_a.get(
        "/cases/",
        {"q": EMAIL},
        headers={"HX-Request": "true", "HX-Target": "results", "HX-Trigger-Name": "q"},
    )

    assert response.status_code == 200
    assert "qref=" in response["HX-Replace-Url"]
    assert EMAIL not in response["HX-Replace-Url"]
    assert "HX-Push-Url" not in response
    assert "/cases/1000001/" in response.content.decode()
    assert not [url for url in generated_urls(response.content.decode()) if "@" in url]


def test_a_deliberate_change_with_a_personal_search_pushes_the_reference(
    client_a: Client, sandbox_a: SandboxOrganization
) -> None:
    response = client_a.get(
        "/cases/",
        {"q": EMAIL, "status": "OPEN"},
        headers={"HX-Request": "true", "HX-Target": "results", "HX-Trigger-Name": "status"},
    )

    assert "qref=" in response["HX-Push-Url"]
    assert EMAIL not in response["HX-Push-Url"]


def test_the_same_search_keeps_its_reference(
    client_a: Client, sandbox_a: SandboxOrganization
) -> None:
    first = client_a.get("/cases/", {"q": EMAIL})["Location"]
    second = client_a.get("/cases/", {"q": EMAIL})["Location"]
    assert first == second


def test_a_session_keeps_only_its_recent_private_searches(
    client_a: Client, sandbox_a: SandboxOrganization
) -> None:
    first = client_a.get("/cases/", {"q": "first@example.no"})["Location"]
    for index in range(private_search.KEPT_PER_SESSION):
        client_a.get("/cases/", {"q": f"user{index}@example.no"})

    response = client_a.get(first, headers={"Accept-Language": "en"})

    assert response.status_code == 400
    assert "This search has expired" in response.content.decode()


def test_a_reference_from_another_session_has_expired_and_sends_nothing_upstream(
    client_a: Client,
    org_a: Organization,
    sandbox_a: SandboxOrganization,
    sandbox_upstream: RecordingTransport,
) -> None:
    location = client_a.get("/cases/", {"q": EMAIL})["Location"]
    colleague = Client()
    colleague.force_login(make_member(org_a, Role.VIEWER, "colleague"))
    sent_before = len(sandbox_upstream.case_requests())

    response = colleague.get(location, headers={"Accept-Language": "en"})

    assert response.status_code == 400
    assert "This search has expired. Type it again." in response.content.decode()
    assert len(sandbox_upstream.case_requests()) == sent_before


def test_export_and_chip_links_carry_the_reference(
    client_a: Client, sandbox_a: SandboxOrganization
) -> None:
    location = client_a.get("/cases/", {"q": EMAIL, "status": "OPEN"})["Location"]
    html = client_a.get(location).content.decode()

    export_url = next(url for url in generated_urls(html) if "/cases/export.csv" in url)
    assert "qref=" in export_url
    export = client_a.get(export_url.replace("&amp;", "&"))
    rows = export.getvalue().decode().splitlines()
    assert export.status_code == 200
    # No Accept-Language: the default language, Norwegian, whose file is separated by ";".
    assert [row.split(";")[0].lstrip("\ufeff") for row in rows[1:]] == ["1000001"]

    search_chip, status_chip = re.findall(r'class="chip__remove" href="([^"]*)"', html)
    assert "qref" not in search_chip  # removing the search removes its reference
    assert "status=OPEN" in search_chip
    assert "qref=" in status_chip  # removing the status keeps the search
    assert "status" not in status_chip


def test_an_ordinary_search_stays_in_the_url(
    client_a: Client, sandbox_a: SandboxOrganization
) -> None:
    response = client_a.get(
        "/cases/", {"q": "1000001"}, headers={"HX-Request": "true", "HX-Trigger-Name": "q"}
    )
    assert response.status_code == 200
    assert "HX-Replace-Url" not in response
    assert "HX-Push-Url" not in response
