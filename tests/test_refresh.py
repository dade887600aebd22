"""Every page says when its data was fetched, and its Refresh control reads past the cache.

Runs against the in-process sandbox with the read cache on (its default of 20 seconds): a
second view of a page within that time does not reach the upstream, a change in the upstream
shows only after a refresh (or an action, or the cache's time), and `refresh` never stays in an
address or in a link the page generates.
"""

import re
from collections.abc import Callable, Iterator

import pytest
from django.test import Client, override_settings

from sandbox.models import SandboxOrganization
from tests.support.sandbox_data import add_case, add_debtor
from tests.support.transport import RecordingTransport

LIST_URL = "/cases/"
HTMX_RESULTS = {"HX-Request": "true", "HX-Target": "results"}
FETCHED = re.compile(
    r'<time datetime="([^"]+)">Fetched from AutoCollect at (\d\d:\d\d:\d\d)</time>'
)
FETCHED_AT = re.compile(r'<p class="fetched[^>]*>\s*<time datetime="([^"]+)">')


@pytest.fixture(autouse=True)
def _cache_on() -> Iterator[None]:
    with override_settings(AUTOCOLLECT_CACHE_SECONDS=20):
        yield


@pytest.fixture
def one_case(sandbox_a: SandboxOrganization) -> SandboxOrganization:
    add_debtor(add_case(sandbox_a, 1001), customer_number="K-1001")
    return sandbox_a


def case_reads(upstream: RecordingTransport) -> int:
    return len(upstream.case_requests())


def refresh_links(html: str) -> list[str]:
    return re.findall(r'href="([^"]*refresh=[^"]*)"', html)


def other_links(html: str) -> list[str]:
    return [
        link
        for link in re.findall(r'(?:href|hx-get)="([^"]*)"', html)
        if link not in refresh_links(html)
    ]


# --- Saying when ---------------------------------------------------------------------------------


@pytest.mark.parametrize("url", [LIST_URL, "/cases/1001/", "/debtors/K-1001/"])
@pytest.mark.usefixtures("one_case")
def test_each_page_says_when_its_data_was_fetched_and_offers_a_refresh(
    client_a_in_english: Client, url: str
) -> None:
    html = client_a_in_english.get(url).content.decode()

    fetched = FETCHED.search(html)
    assert fetched is not None
    assert fetched.group(1).startswith("20")  # a machine-readable moment, to the second
    assert refresh_links(html) == [f"{url}?refresh=1"]


@pytest.mark.usefixtures("one_case")
def test_the_norwegian_page_says_it_in_norwegian(client_a: Client) -> None:
    html = client_a.get(LIST_URL).content.decode()

    assert "Hentet fra AutoCollect kl." in html
    assert ">Oppdater</a>" in html


# --- The cache -----------------------------------------------------------------------------------


@pytest.mark.parametrize("url", [LIST_URL, "/cases/1001/", "/debtors/K-1001/"])
@pytest.mark.usefixtures("one_case")
def test_a_second_view_within_the_cache_time_does_not_ask_the_upstream(
    client_a: Client, sandbox_upstream: RecordingTransport, url: str
) -> None:
    first = client_a.get(url).content.decode()
    reads = case_reads(sandbox_upstream)
    second = client_a.get(url).content.decode()

    assert case_reads(sandbox_upstream) == reads
    assert FETCHED_AT.findall(second) == FETCHED_AT.findall(first) != []


def test_with_caching_off_every_view_asks_the_upstream(
    client_a: Client, one_case: SandboxOrganization, sandbox_upstream: RecordingTransport
) -> None:
    with override_settings(AUTOCOLLECT_CACHE_SECONDS=0):
        client_a.get(LIST_URL)
        client_a.get(LIST_URL)

    assert case_reads(sandbox_upstream) == 2


# --- Refreshing ----------------------------------------------------------------------------------


def test_a_refresh_over_htmx_shows_what_the_upstream_holds_now_and_keeps_the_address(
    client_a_in_english: Client, one_case: SandboxOrganization
) -> None:
    client_a_in_english.get(LIST_URL, {"status": "OPEN"})
    add_case(one_case, 1002)
    assert "1002" not in client_a_in_english.get(LIST_URL, {"status": "OPEN"}).content.decode()

    response = client_a_in_english.get(
        LIST_URL, {"status": "OPEN", "refresh": "1"}, headers=HTMX_RESULTS
    )

    html = response.content.decode()
    assert response.status_code == 200
    assert html.lstrip().startswith('<section id="results"')
    assert "1002" in html
    assert "HX-Push-Url" not in response
    assert "HX-Replace-Url" not in response
    assert refresh_links(html) == ["/cases/?status=OPEN&amp;refresh=1"]
    assert not [link for link in other_links(html) if "refresh" in link]
    # The refreshed answer is what the next views get.
    assert "1002" in client_a_in_english.get(LIST_URL, {"status": "OPEN"}).content.decode()


def test_a_refresh_without_javascript_reads_the_upstream_then_returns_to_the_pages_address(
    client_a: Client, one_case: SandboxOrganization, sandbox_upstream: RecordingTransport
) -> None:
    client_a.get(LIST_URL, {"status": "OPEN"})
    add_case(one_case, 1002)

    response = client_a.get(LIST_URL, {"status": "OPEN", "refresh": "1"})
    after = client_a.get(response["Location"])

    assert response.status_code == 302
    assert response["Location"] == "/cases/?status=OPEN"
    assert "1002" in after.content.decode()
    assert case_reads(sandbox_upstream) == 2  # the first view and the refresh; not the redirect


def change_description(organization: SandboxOrganization) -> str:
    organization.cases.filter(case_number=1001).update(description="Endret beskrivelse")
    return "Endret beskrivelse"


def change_name(organization: SandboxOrganization) -> str:
    organization.debtors.filter(customer_number="K-1001").update(full_name="Kari Endret")
    return "Kari Endret"


@pytest.mark.parametrize(
    ("url", "target", "change"),
    [
        ("/cases/1001/", "case-page", change_description),
        ("/debtors/K-1001/", "debtor-page", change_name),
    ],
)
def test_the_case_and_debtor_pages_refresh_in_place(
    client_a: Client,
    one_case: SandboxOrganization,
    url: str,
    target: str,
    change: Callable[[SandboxOrganization], str],
) -> None:
    client_a.get(url)
    changed = change(one_case)
    assert changed not in client_a.get(url).content.decode()

    response = client_a.get(
        url, {"refresh": "1"}, headers={"HX-Request": "true", "HX-Target": target}
    )

    html = response.content.decode()
    assert html.lstrip().startswith(f'<div id="{target}"')
    assert changed in html
    assert "HX-Push-Url" not in response
    assert refresh_links(html) == [f"{url}?refresh=1"]


@pytest.mark.parametrize("url", ["/cases/1001/", "/debtors/K-1001/"])
@pytest.mark.usefixtures("one_case")
def test_a_detail_page_refresh_without_javascript_redirects_to_the_page(
    client_a: Client, url: str
) -> None:
    response = client_a.get(url, {"refresh": "1"})

    assert response.status_code == 302
    assert response["Location"] == url


def test_with_caching_off_a_refresh_without_javascript_only_redirects(
    client_a: Client, one_case: SandboxOrganization, sandbox_upstream: RecordingTransport
) -> None:
    with override_settings(AUTOCOLLECT_CACHE_SECONDS=0):
        response = client_a.get(LIST_URL, {"refresh": "1"})

    assert response.status_code == 302
    assert response["Location"] == LIST_URL
    assert case_reads(sandbox_upstream) == 0  # the page it redirects to reads afresh anyway


@pytest.mark.usefixtures("one_case")
def test_a_refresh_keeps_a_personal_search_term_out_of_the_address(client_a: Client) -> None:
    response = client_a.get(LIST_URL, {"q": "kari@example.no", "refresh": "1"})

    assert response.status_code == 302
    assert "kari" not in response["Location"]
    assert "refresh" not in response["Location"]
