"""The product's flows in a real Chromium against the live server and its sandbox: searching,
filtering, paging and history, a pasted URL without JavaScript, the case and debtor pages, the
CSV export, switching language, revealing an identification number, an upstream failure shown in
place, accessibility. The README's screenshots are taken in test_screenshots.py.

Every test seeds one small organisation (a fraction of a second) and reads what it expects from
the sandbox's own tables, so the assertions follow the seeded data instead of hard-coding it.
"""

import contextlib
import csv
import io
import re
import uuid
from decimal import Decimal
from typing import Any, Final
from urllib.parse import parse_qsl, urlsplit

import pytest
from django.conf import settings
from django.contrib.auth.models import User
from django.test import Client
from playwright.sync_api import Browser, Locator, Page, Route, expect
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError
from pytest_django.live_server_helper import LiveServer

from cases import autocollect
from cases.export import HEADER
from dashboard.models import Membership, Organization, Role
from sandbox.models import Case as SandboxCase
from sandbox.models import Claim as SandboxClaim
from sandbox.models import Debtor as SandboxDebtor
from sandbox.models import Fault, SandboxOrganization
from sandbox.search import fold_for_search
from sandbox.seeding import seed_organization
from tests.support.browser import (
    DEFAULT_TIMEOUT_MS,
    HTTP_ERROR_MESSAGES,
    PAGE_SIZE,
    VIEWPORT,
    assert_accessible,
    assert_no_console_errors,
    login,
    table_case_numbers,
)
from tests.support.sandbox_data import sandbox_cases, showcase_case

ORG_ID: Final = uuid.UUID("1f0c6a52-5c7e-4b55-9d0a-0000000000a1")
ORG_NAME: Final = "Bergen Boliger AS"
SEED: Final = 7
CASE_COUNT: Final = 120  # five pages of 25: the pager shows
PASSWORD: Final = "correct-horse-battery"
AGENT: Final = "kari"
VIEWER: Final = "ola"

# Set on window before an action; still there afterwards only if the page was not reloaded.
NO_RELOAD_MARKER: Final = "window.__sameDocument = true"
STILL_SAME_DOCUMENT: Final = "window.__sameDocument === true"

# How long a late answer gets to (wrongly) land; it comes from this machine, so it is quick.
LATE_ANSWER_GRACE_MS: Final = 500
RANGE_DASH: Final = "\N{EN DASH}"  # between the numbers of "Showing 26 to 50 of 70"


# --------------------------------------------------------------------------------------------
# Data: one seeded organisation, an agent and a viewer
# --------------------------------------------------------------------------------------------


@pytest.fixture
def organization(transactional_db: None) -> Organization:
    """The sandbox organisation with CASE_COUNT cases, and its dashboard twin with two users."""
    seed_organization(ORG_ID, ORG_NAME, cases=CASE_COUNT, seed=SEED)
    organization = Organization.objects.create(name=ORG_NAME, amili_id=ORG_ID)
    for username, role in ((AGENT, Role.AGENT), (VIEWER, Role.VIEWER)):
        user = User.objects.create_user(username, password=PASSWORD)
        Membership.objects.create(user=user, organization=organization, role=role)
    return organization


@pytest.fixture
def agent_page(
    page: Page, live_server: LiveServer, live_upstream: str, organization: Organization
) -> Page:
    """The page, logged in as an agent, on the case list."""
    sign_in(page, live_server, AGENT)
    page.goto(f"{live_server.url}/cases/")
    return page


def sign_in(page: Page, live_server: LiveServer, username: str) -> None:
    """A session for `username` in the page's cookies, without the login form (which the first
    test and the shell's tests go through): half a second saved per test."""
    client = Client()
    client.force_login(User.objects.get(username=username))
    session = client.cookies[settings.SESSION_COOKIE_NAME].value
    page.context.add_cookies(
        [{"name": settings.SESSION_COOKIE_NAME, "value": session, "url": live_server.url}]
    )


def case_numbers(cases: list[SandboxCase]) -> list[str]:
    return [str(case.case_number) for case in cases]


def search_matches(term: str, **lookups: Any) -> list[str]:
    """The case numbers the upstream's SearchTerm finds for `term` (a folded substring match)."""
    return case_numbers(
        sandbox_cases(ORG_ID, search_text__contains=fold_for_search(term), **lookups)
    )


def surname_on_a_few_cases() -> str:
    """A debtor surname that matches more than one case but fewer than a page of them."""
    surnames = sorted(
        {debtor.last_name for debtor in SandboxDebtor.objects.filter(organization_id=ORG_ID)} - {""}
    )
    for surname in surnames:
        if 2 <= len(search_matches(surname)) <= 6:
            return surname
    raise AssertionError("the seed has no surname on a few cases; change SEED")


def in_ore(shown: str) -> int:
    """ "NOK 12,345.50" and "12 345,50 kr" are both 1234550 øre, whatever the locale."""
    return int(re.sub(r"\D", "", shown))


def ore(amount: Decimal) -> int:
    return int(amount.scaleb(2))


# --------------------------------------------------------------------------------------------
# Page helpers
# --------------------------------------------------------------------------------------------


# In an expected list state: the parameter is there, whatever its (opaque) value.
ANY_VALUE: Final = object()


def list_state(url: str) -> dict[str, str] | None:
    """The list state a URL names: its non-empty parameters, the default page size left out
    (a plain form submit sends every field, so `?q=x&status=&size=25` and `?q=x` are the same
    list). None when the URL is not the case list."""
    parts = urlsplit(url)
    if parts.path != "/cases/":
        return None
    state = dict(parse_qsl(parts.query))  # blank values are dropped
    if state.get("size") == str(PAGE_SIZE):
        del state["size"]
    return state


def _matches(state: dict[str, str] | None, expected: dict[str, object]) -> bool:
    if state is None or state.keys() != expected.keys():
        return False
    return all(value is ANY_VALUE or state[key] == value for key, value in expected.items())


def expect_list_url(page: Page, expected: dict[str, object]) -> None:
    """Wait until the address bar shows the case list with exactly these parameters."""
    try:
        page.wait_for_url(lambda url: _matches(list_state(url), expected))
    except PlaywrightTimeoutError:
        pytest.fail(f"the URL is {page.url}, not the case list with {expected}", pytrace=False)


def mark_document(page: Page) -> None:
    page.evaluate(NO_RELOAD_MARKER)


def assert_same_document(page: Page) -> None:
    assert page.evaluate(STILL_SAME_DOCUMENT), "the page was reloaded instead of swapped"


def status_filter(page: Page) -> Locator:
    return page.get_by_role("combobox", name="Status", exact=True)


def htmx_list_requests(page: Page) -> list[str]:
    """Start recording the HTMX requests the page sends to the case list; returns the record."""
    seen: list[str] = []

    def record(request: Any) -> None:
        if "/cases/" in request.url and request.headers.get("hx-request") == "true":
            seen.append(request.url)

    page.on("request", record)
    return seen


# --------------------------------------------------------------------------------------------
# The case list
# --------------------------------------------------------------------------------------------


def test_an_agent_logs_in_and_typing_a_search_narrows_the_table_and_replaces_the_url(
    page: Page, live_server: LiveServer, live_upstream: str, organization: Organization
) -> None:
    login(page, live_server, AGENT, PASSWORD)
    expect(page).to_have_url(f"{live_server.url}/cases/")
    surname = surname_on_a_few_cases()
    expected = search_matches(surname)
    expect(table_case_numbers(page)).to_have_count(PAGE_SIZE)
    history_length = page.evaluate("history.length")
    mark_document(page)
    requests = htmx_list_requests(page)

    page.get_by_role("searchbox", name="Search").press_sequentially(surname, delay=40)

    expect(table_case_numbers(page)).to_have_text(expected)
    expect_list_url(page, {"q": surname})
    expect(page.locator("#results .pager__status").first).to_contain_text(
        f"Showing 1{RANGE_DASH}{len(expected)} of {len(expected)}"
    )
    # Screen readers hear the new count.
    expect(page.locator("#live-region")).to_have_text(
        f"Showing 1{RANGE_DASH}{len(expected)} of {len(expected)}"
    )
    assert_same_document(page)
    # Replaced, not pushed: typing adds no history entries.
    assert page.evaluate("history.length") == history_length
    # Debounced: fewer requests than keystrokes (without the delay there would be one each).
    assert 1 <= len(requests) < len(surname), requests
    assert_no_console_errors(page)


def test_searching_for_an_e_mail_keeps_it_out_of_the_address_and_history(
    agent_page: Page, live_server: LiveServer
) -> None:
    page = agent_page
    debtor = SandboxDebtor.objects.exclude(email="").select_related("case").first()
    assert debtor is not None
    mark_document(page)

    page.get_by_role("searchbox", name="Search").fill(debtor.email)

    expect(page.locator(f'#results a[href="/cases/{debtor.case.case_number}/"]')).to_be_visible()
    expect(page).to_have_url(re.compile(r"qref="))
    assert debtor.email not in page.url
    assert_same_document(page)
    page.reload()  # the reference works as an address in this session
    expect(page.locator(f'#results a[href="/cases/{debtor.case.case_number}/"]')).to_be_visible()
    expect(page.get_by_role("searchbox", name="Search")).to_have_value(debtor.email)
    assert_no_console_errors(page)


def test_filtering_and_paging_push_the_url_and_back_and_forward_restore_each_list(
    agent_page: Page, live_server: LiveServer
) -> None:
    page = agent_page
    open_cases = case_numbers(sandbox_cases(ORG_ID, status="OPEN"))
    assert len(open_cases) > PAGE_SIZE, "the seed must give more than a page of open cases"
    history_length = page.evaluate("history.length")
    mark_document(page)

    status_filter(page).select_option("OPEN")

    expect_list_url(page, {"status": "OPEN"})
    expect(table_case_numbers(page)).to_have_text(open_cases[:PAGE_SIZE])
    expect(page.get_by_role("list", name="Active filters")).to_contain_text("Status: Open")
    assert page.evaluate("history.length") == history_length + 1
    first_page_url = page.url

    page.get_by_role("link", name="Next").click()

    expect_list_url(page, {"status": "OPEN", "page": ANY_VALUE})
    expect(table_case_numbers(page)).to_have_text(open_cases[PAGE_SIZE : 2 * PAGE_SIZE])
    expect(page.locator("#results .pager__status").first).to_contain_text(
        f"Showing 26{RANGE_DASH}50 of {len(open_cases)}"
    )
    assert_same_document(page)
    second_page_url = page.url

    page.go_back()
    expect(page).to_have_url(first_page_url)
    expect(table_case_numbers(page)).to_have_text(open_cases[:PAGE_SIZE])
    expect(status_filter(page)).to_have_value("OPEN")

    page.go_forward()
    expect(page).to_have_url(second_page_url)
    expect(table_case_numbers(page)).to_have_text(open_cases[PAGE_SIZE : 2 * PAGE_SIZE])

    page.go_back()
    expect(page).to_have_url(first_page_url)
    expect(table_case_numbers(page)).to_have_text(open_cases[:PAGE_SIZE])
    page.go_back()
    expect(page).to_have_url(f"{live_server.url}/cases/")
    expect(table_case_numbers(page)).to_have_text(case_numbers(sandbox_cases(ORG_ID))[:PAGE_SIZE])
    expect(status_filter(page)).to_have_value("")
    assert_no_console_errors(page)


def test_pressing_back_twice_quickly_shows_the_list_of_the_url_reached(
    agent_page: Page, live_server: LiveServer
) -> None:
    """htmx fetches each history entry from the server (nothing is cached in the browser); the
    answer for an entry already left behind must not replace the page shown for the newer one."""
    page = agent_page
    status_filter(page).select_option("OPEN")
    expect_list_url(page, {"status": "OPEN"})
    page.get_by_role("link", name="Next").click()
    expect_list_url(page, {"status": "OPEN", "page": ANY_VALUE})
    held: list[Route] = []

    def hold_the_restore_of_the_first_filtered_page(route: Route) -> None:
        request = route.request
        is_restore = request.headers.get("hx-history-restore-request") == "true"
        if is_restore and list_state(request.url) == {"status": "OPEN"}:
            held.append(route)  # answered late, below
        else:
            route.continue_()

    page.route(lambda url: "/cases/" in url, hold_the_restore_of_the_first_filtered_page)
    page.go_back()  # to ?status=OPEN, whose answer is held back
    for _ in range(50):  # route handlers run while Playwright waits
        if held:
            break
        page.wait_for_timeout(100)
    assert len(held) == 1, "the first Back did not ask the server for its page"
    page.go_back()  # to the unfiltered list, before the first answer arrived

    expect(page).to_have_url(f"{live_server.url}/cases/")
    expect(table_case_numbers(page)).to_have_text(case_numbers(sandbox_cases(ORG_ID))[:PAGE_SIZE])
    with contextlib.suppress(PlaywrightError):  # the page may have given up on the request
        held[0].continue_()  # the late answer arrives
    page.wait_for_timeout(LATE_ANSWER_GRACE_MS)

    expect(page).to_have_url(f"{live_server.url}/cases/")
    expect(status_filter(page)).to_have_value("")
    expect(table_case_numbers(page)).to_have_text(case_numbers(sandbox_cases(ORG_ID))[:PAGE_SIZE])
    assert_no_console_errors(page)


def test_a_loading_indicator_shows_while_the_list_is_loading(
    agent_page: Page, live_server: LiveServer
) -> None:
    page = agent_page
    held: list[Route] = []

    def hold_list_requests(route: Route) -> None:
        if route.request.headers.get("hx-request") == "true":
            held.append(route)
        else:
            route.continue_()

    page.route(lambda url: "/cases/" in url, hold_list_requests)
    status_filter(page).select_option("PAUSED")

    expect(page.locator("#page-progress")).to_be_visible()
    expect(page.locator("#results-spinner")).to_be_visible()
    expect(page.locator("#results")).to_have_attribute("aria-busy", "true")
    assert len(held) == 1
    held[0].continue_()

    expect(table_case_numbers(page)).to_have_text(
        case_numbers(sandbox_cases(ORG_ID, status="PAUSED"))
    )
    expect(page.locator("#page-progress")).to_be_hidden()
    expect(page.locator("#results-spinner")).to_be_hidden()
    expect(page.locator("#results")).not_to_have_attribute("aria-busy", "true")
    assert_no_console_errors(page)


def test_a_pasted_url_renders_the_same_list_without_javascript(
    agent_page: Page, live_server: LiveServer, browser: Browser
) -> None:
    page = agent_page
    page.get_by_role("searchbox", name="Search").fill("a")
    expect_list_url(page, {"q": "a"})
    status_filter(page).select_option("OPEN")
    expect_list_url(page, {"q": "a", "status": "OPEN"})
    page.get_by_role("link", name="Next").click()
    expect_list_url(page, {"q": "a", "status": "OPEN", "page": ANY_VALUE})
    pasted_url = page.url
    shown = table_case_numbers(page).all_inner_texts()
    assert shown == search_matches("a", status="OPEN")[PAGE_SIZE : 2 * PAGE_SIZE]

    context = browser.new_context(viewport=VIEWPORT, locale="en-GB", java_script_enabled=False)
    context.set_default_timeout(DEFAULT_TIMEOUT_MS)
    try:
        no_js = context.new_page()
        sign_in(no_js, live_server, AGENT)
        no_js.goto(pasted_url)

        expect(no_js).to_have_url(pasted_url)
        assert not no_js.evaluate("document.documentElement.classList.contains('js')")
        expect(table_case_numbers(no_js)).to_have_text(shown)
        expect(no_js.get_by_role("searchbox", name="Search")).to_have_value("a")
        expect(status_filter(no_js)).to_have_value("OPEN")

        # Without JavaScript the pager is a plain link, and it still works.
        no_js.get_by_role("link", name="Previous").click()
        expect_list_url(no_js, {"q": "a", "status": "OPEN", "page": ANY_VALUE})
        expect(table_case_numbers(no_js)).to_have_text(
            search_matches("a", status="OPEN")[:PAGE_SIZE]
        )
    finally:
        context.close()


def test_exporting_downloads_the_filtered_cases_without_identification_numbers(
    agent_page: Page, live_server: LiveServer
) -> None:
    page = agent_page
    paused = case_numbers(sandbox_cases(ORG_ID, status="PAUSED"))
    status_filter(page).select_option("PAUSED")
    expect(table_case_numbers(page)).to_have_text(paused)

    with page.expect_download() as download_info:
        page.get_by_role("link", name="Export CSV").click()
    download = download_info.value

    export_url = urlsplit(download.url)
    assert export_url.path == "/cases/export.csv"
    assert dict(parse_qsl(export_url.query)) == {"status": "PAUSED"}
    assert re.fullmatch(r"cases-\d{4}-\d{2}-\d{2}\.csv", download.suggested_filename)
    text = download.path().read_text(encoding="utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    assert tuple(rows[0]) == HEADER
    assert [row[0] for row in rows[1:]] == paused
    assert {row[HEADER.index("Status")] for row in rows[1:]} == {"PAUSED"}
    identification_numbers = SandboxDebtor.objects.filter(organization_id=ORG_ID).values_list(
        "identification_number", flat=True
    )
    leaked = [number for number in identification_numbers if number and number in text]
    assert not leaked, "the export carries identification numbers"
    expect_list_url(page, {"status": "PAUSED"})  # the page stayed
    assert_no_console_errors(page)


# --------------------------------------------------------------------------------------------
# The case and debtor pages
# --------------------------------------------------------------------------------------------


def test_opening_a_case_shows_its_claim_breakdown_and_the_debtor_link_lists_their_cases(
    agent_page: Page, live_server: LiveServer
) -> None:
    page = agent_page
    showcase = showcase_case(ORG_ID)
    case, debtor = showcase.case, showcase.debtor
    number = str(case.case_number)
    page.goto(f"{live_server.url}/cases/?customer={debtor.customer_number}")

    page.locator("#results").get_by_role("link", name=number, exact=True).click()

    expect(page).to_have_url(f"{live_server.url}/cases/{number}/")
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Case {number}")
    expect(page.get_by_role("heading", name="Claim breakdown")).to_be_visible()
    claims = list(SandboxClaim.objects.filter(case=case))
    total_row = page.locator("table.breakdown tfoot tr").first
    expect(total_row.locator("th")).to_have_text("Total")
    cells = total_row.locator("td").all_inner_texts()
    assert [in_ore(cell) for cell in cells] == [
        ore(sum((getattr(claim, field) for claim in claims), Decimal(0)))
        for field in ("original_amount", "paid_amount", "credited_amount", "remaining_amount")
    ]
    assert in_ore(cells[-1]) == ore(case.remaining_amount)
    # Grouped per invoice: each invoice of the case heads its own group of claims.
    for invoice in case.invoices.all():
        expect(
            page.locator("table.breakdown").get_by_role(
                "rowheader", name=f"Invoice {invoice.invoice_number}", exact=True
            )
        ).to_be_visible()
    expect(page.get_by_text("The figures do not add up")).to_have_count(0)

    page.locator("#debtors").get_by_role("link", name=debtor.full_name).click()

    expect(page).to_have_url(f"{live_server.url}/debtors/{debtor.customer_number}/")
    expect(page.get_by_role("heading", level=1)).to_have_text(debtor.full_name)
    their_cases = sandbox_cases(ORG_ID, debtors__customer_number=debtor.customer_number)
    expect(page.locator("#debtor-page tbody th[scope=row]")).to_have_text(case_numbers(their_cases))
    assert_no_console_errors(page)


def test_an_agent_reveals_a_debtors_identification_number_in_place(
    agent_page: Page, live_server: LiveServer
) -> None:
    page = agent_page
    showcase = showcase_case(ORG_ID)
    identification = showcase.debtor.identification_number
    case_url = f"{live_server.url}/cases/{showcase.case.case_number}/"
    page.goto(case_url)
    cell = page.locator("#identification-1")
    expect(cell).to_contain_text(identification[-2:])
    expect(cell).not_to_contain_text(identification)
    mark_document(page)

    cell.get_by_role("button", name=re.compile(r"^Show")).click()

    expect(page.locator("#identification-1")).to_contain_text(identification)
    expect(page.locator("#identification-1").get_by_role("button")).to_have_count(0)
    expect(page).to_have_url(case_url)
    assert_same_document(page)
    assert_no_console_errors(page)


def test_a_viewer_sees_the_identification_number_masked_and_no_show_button(
    page: Page, live_server: LiveServer, live_upstream: str, organization: Organization
) -> None:
    showcase = showcase_case(ORG_ID)
    identification = showcase.debtor.identification_number
    sign_in(page, live_server, VIEWER)

    page.goto(f"{live_server.url}/cases/{showcase.case.case_number}/")

    cell = page.locator("#identification-1")
    expect(cell).to_contain_text(identification[-2:])
    expect(cell).not_to_contain_text(identification)
    expect(page.get_by_role("button", name=re.compile(r"^Show"))).to_have_count(0)
    assert_no_console_errors(page)


# --------------------------------------------------------------------------------------------
# Language, failures, accessibility
# --------------------------------------------------------------------------------------------


def test_switching_language_keeps_the_url_and_reformats_the_page(
    agent_page: Page, live_server: LiveServer
) -> None:
    page = agent_page
    # A state reached through htmx (typing replaces the URL, a filter pushes it), not a page load.
    page.get_by_role("searchbox", name="Search").fill("a")
    expect_list_url(page, {"q": "a"})
    status_filter(page).select_option("OPEN")
    expect_list_url(page, {"q": "a", "status": "OPEN"})
    list_url = page.url
    # The remaining amount: the row's third number, after days past due and the original amount.
    first_amount = page.locator("#results tbody tr").first.locator("td.num").nth(2)
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(first_amount).to_have_text(re.compile(r"^NOK[\s\u00a0][\d,]+\.\d\d$"))
    expect(page.get_by_role("button", name="Log out")).to_be_visible()

    page.get_by_label("Language").select_option("nb")

    expect(page.locator("html")).to_have_attribute("lang", "nb")
    expect(page).to_have_url(list_url)
    expect(first_amount).to_have_text(re.compile(r"^[\d\s\u00a0]+,\d\d[\s\u00a0]kr$"))
    expect(page.get_by_role("button", name="Logg ut")).to_be_visible()
    expect(page.locator("select[name=status]")).to_have_value("OPEN")

    page.locator("#language-switcher").select_option("en")

    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page).to_have_url(list_url)
    expect(page.get_by_role("button", name="Log out")).to_be_visible()
    assert_no_console_errors(page)


def test_switching_to_norwegian_translates_the_dashboards_own_labels(
    agent_page: Page, live_server: LiveServer
) -> None:
    page = agent_page
    heading = page.get_by_role("heading", level=1)
    expect(heading).to_have_text("Cases")
    expect(page.get_by_role("link", name="Export CSV")).to_be_visible()

    page.get_by_label("Language").select_option("nb")

    expect(page.locator("html")).to_have_attribute("lang", "nb")
    expect(page).to_have_url(f"{live_server.url}/cases/")
    # Whatever the translator's words, the page's own English labels are gone.
    expect(heading).not_to_have_text("Cases")
    expect(page.get_by_role("link", name="Export CSV")).to_have_count(0)


def test_an_upstream_failure_shows_in_place_with_a_retry_and_the_filters_stay_usable(
    agent_page: Page, live_server: LiveServer
) -> None:
    page = agent_page
    SandboxOrganization.objects.filter(pk=ORG_ID).update(fault=Fault.UNAVAILABLE)
    # The list the page shows is cached: the reload must reach the now failing upstream.
    autocollect.forget_organization_reads(ORG_ID)
    page.reload()
    failure = page.locator("#results")
    expect(
        failure.get_by_role("heading", name="AutoCollect is temporarily unavailable")
    ).to_be_visible()
    expect(table_case_numbers(page)).to_have_count(0)
    expect(page.get_by_role("button", name="Log out")).to_be_visible()
    mark_document(page)

    # The filters still work while the upstream is down: the failure is answered in place.
    status_filter(page).select_option("OPEN")

    expect_list_url(page, {"status": "OPEN"})
    retry = failure.get_by_role("button", name="Try again")
    expect(retry).to_have_attribute("hx-get", re.compile(r"[?&]status=OPEN(&|$)"))  # swapped
    assert list_state(retry.get_attribute("hx-get") or "") == {"status": "OPEN"}
    expect(page.get_by_role("heading", level=1)).to_have_text("Cases")

    SandboxOrganization.objects.filter(pk=ORG_ID).update(fault="")
    retry.click()

    expect(table_case_numbers(page)).to_have_text(
        case_numbers(sandbox_cases(ORG_ID, status="OPEN"))[:PAGE_SIZE]
    )
    expect_list_url(page, {"status": "OPEN"})
    assert_same_document(page)
    assert_no_console_errors(page, allow=HTTP_ERROR_MESSAGES)


def test_the_list_and_case_pages_are_accessible_and_clean(
    agent_page: Page, live_server: LiveServer
) -> None:
    page = agent_page
    expect(table_case_numbers(page)).to_have_count(PAGE_SIZE)
    assert_accessible(page)

    # After a swap, too: the results partial with active filter chips.
    status_filter(page).select_option("CLOSED")
    expect(page.get_by_role("list", name="Active filters")).to_be_visible()
    assert_accessible(page)

    showcase = showcase_case(ORG_ID)
    page.goto(f"{live_server.url}/cases/{showcase.case.case_number}/")
    expect(page.get_by_role("heading", name="Claim breakdown")).to_be_visible()
    assert_accessible(page)

    page.goto(f"{live_server.url}/debtors/{showcase.debtor.customer_number}/")
    expect(page.get_by_role("heading", level=1)).to_have_text(showcase.debtor.full_name)
    assert_accessible(page)
    assert_no_console_errors(page)
