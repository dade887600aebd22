"""The case page in a real Chromium: a failed reveal beside its number, progress while a slow page
loads, a failed page that keeps its frame, copy buttons, and the phone layout (390 x 844).

Each test seeds one small organisation and reads what it expects from the sandbox's own tables.
The server's side of the same behaviour is in tests/test_case_page_details.py.
"""

import json
import re
import uuid
from collections.abc import Iterator
from typing import Final

import pytest
from django.conf import settings
from django.contrib.auth.models import User
from django.test import Client
from playwright.sync_api import Browser, Page, ViewportSize, expect
from pytest_django import Settings
from pytest_django.live_server_helper import LiveServer

from cases import autocollect
from dashboard.models import Membership, Organization, Role
from sandbox.models import Case as SandboxCase
from sandbox.models import Fault, SandboxOrganization
from sandbox.seeding import seed_organization
from tests.support.browser import (
    DEFAULT_TIMEOUT_MS,
    HTTP_ERROR_MESSAGES,
    assert_accessible,
    assert_no_console_errors,
)
from tests.support.sandbox_data import sandbox_cases, showcase_case

ORG_ID: Final = uuid.UUID("1f0c6a52-5c7e-4b55-9d0a-0000000000c9")
ORG_NAME: Final = "Stavanger Utleie AS"
SEED: Final = 7
CASE_COUNT: Final = 60
AGENT: Final = "kari"
PHONE: Final = ViewportSize(width=390, height=844)
SLOW_UPSTREAM_MS: Final = 1500  # each upstream answer, in the progress test
# No page load shorter than this shows the bar. Below the CSS delay (300 ms) because the record
# counts from the click, and a loaded machine leaves up to ~100 ms between Playwright's mouse
# press (where the navigation may start) and its click.
QUICK_ANSWER_MS: Final = 150
PROGRESS_DELAY: Final = "0.3s"  # the bar shows once a request has taken this long
# Runs in every document of the page (init scripts are not subject to the page's CSP); on the
# case list, from a click on, it records every 50 ms whether the progress bar shows.
RECORD_THE_BAR_ON_THE_LIST: Final = """
if (location.pathname === "/cases/") {
  let clickedAt = null;
  document.addEventListener("click", () => { clickedAt = performance.now(); }, true);
  setInterval(() => {
    const bar = document.getElementById("page-progress");
    if (clickedAt === null || !bar) { return; }
    const style = getComputedStyle(bar);
    const record = JSON.parse(sessionStorage.getItem("progress") || "[]");
    record.push({
      at: performance.now() - clickedAt,
      visibility: style.visibility,
      delay: style.transitionDelay,
      busy: document.getElementById("main").getAttribute("aria-busy") || "",
    });
    sessionStorage.setItem("progress", JSON.stringify(record));
  }, 50);
}
"""


@pytest.fixture
def organization(transactional_db: None) -> Organization:
    seed_organization(ORG_ID, ORG_NAME, cases=CASE_COUNT, seed=SEED)
    organization = Organization.objects.create(name=ORG_NAME, amili_id=ORG_ID)
    user = User.objects.create_user(AGENT, password="correct-horse-battery")
    Membership.objects.create(user=user, organization=organization, role=Role.AGENT)
    return organization


def sign_in(page: Page, live_server: LiveServer) -> None:
    """A session for the agent in the page's cookies, without the login form."""
    client = Client()
    client.force_login(User.objects.get(username=AGENT))
    session = client.cookies[settings.SESSION_COOKIE_NAME].value
    page.context.add_cookies(
        [{"name": settings.SESSION_COOKIE_NAME, "value": session, "url": live_server.url}]
    )


@pytest.fixture
def agent_page(
    page: Page, live_server: LiveServer, live_upstream: str, organization: Organization
) -> Page:
    sign_in(page, live_server)
    return page


def fail_upstream(fault: str) -> None:
    """Every answer for the organisation fails so; the reads cached so far are forgotten."""
    SandboxOrganization.objects.filter(pk=ORG_ID).update(fault=fault)
    autocollect.forget_organization_reads(ORG_ID)


def case_url(live_server: LiveServer, case: SandboxCase) -> str:
    return f"{live_server.url}/cases/{case.case_number}/"


def mark_document(page: Page) -> None:
    page.evaluate("window.__sameDocument = true")


def assert_same_document(page: Page) -> None:
    assert page.evaluate("window.__sameDocument === true"), "the page was reloaded"


# --------------------------------------------------------------------------------------------
# Errors
# --------------------------------------------------------------------------------------------


def test_a_failed_reveal_shows_its_error_beside_the_number_and_a_retry_reveals_it(
    agent_page: Page, live_server: LiveServer
) -> None:
    page = agent_page
    showcase = showcase_case(ORG_ID)
    identification = showcase.debtor.identification_number
    page.goto(case_url(live_server, showcase.case))
    debtors = page.locator("#debtors")
    expect(debtors.get_by_role("heading", name=showcase.debtor.full_name)).to_be_visible()
    mark_document(page)
    fail_upstream(Fault.RATE_LIMITED)

    page.locator("#identification-1").get_by_role("button", name=re.compile(r"^Show")).click()

    cell = page.locator("#identification-1")
    expect(cell).to_contain_text("Too many requests right now")
    expect(cell).to_contain_text("Try again in 1 second.")
    # The rest of the debtors' section, and of the page, is still there.
    expect(debtors.get_by_role("heading", name=showcase.debtor.full_name)).to_be_visible()
    expect(debtors.get_by_text(showcase.debtor.customer_number, exact=True).first).to_be_visible()
    expect(page.get_by_role("heading", name="Invoices")).to_be_visible()
    expect(cell).not_to_contain_text(identification)

    fail_upstream("")
    cell.get_by_role("button", name=re.compile(r"^Try again")).click()

    expect(page.locator("#identification-1")).to_contain_text(identification)
    assert_same_document(page)
    assert_no_console_errors(page, allow=HTTP_ERROR_MESSAGES)


def test_a_failed_case_page_keeps_its_heading_and_breadcrumb_and_recovers_in_place(
    agent_page: Page, live_server: LiveServer
) -> None:
    page = agent_page
    case = showcase_case(ORG_ID).case
    fail_upstream(Fault.UNAVAILABLE)

    response = page.goto(case_url(live_server, case))

    assert response is not None
    assert response.status == 503
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Case {case.case_number}")
    breadcrumbs = page.get_by_role("navigation", name="Breadcrumbs")
    expect(breadcrumbs.get_by_role("link", name="Cases")).to_be_visible()
    expect(
        page.get_by_role("heading", level=2, name="AutoCollect is temporarily unavailable")
    ).to_be_visible()
    expect(page.get_by_role("alert").filter(has_text="Try again in 1 second.")).to_be_visible()
    assert_accessible(page)
    mark_document(page)

    fail_upstream("")
    page.get_by_role("button", name="Try again").click()

    expect(page.get_by_role("heading", name="Invoices")).to_be_visible()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Case {case.case_number}")
    expect(page.get_by_role("heading", level=1)).to_have_count(1)
    assert_same_document(page)
    assert_no_console_errors(page, allow=HTTP_ERROR_MESSAGES)


def test_a_slow_page_load_shows_the_progress_bar_until_the_page_arrives(
    agent_page: Page, live_server: LiveServer, settings: Settings
) -> None:
    page = agent_page
    case = sandbox_cases(ORG_ID)[0]
    target = case_url(live_server, case)
    # While a navigation is pending Playwright waits for it before reading the page, so the page
    # being left records what its bar shows, and the next page reads the record.
    page.add_init_script(script=RECORD_THE_BAR_ON_THE_LIST)
    page.goto(f"{live_server.url}/cases/")
    expect(page.locator("#page-progress")).to_be_hidden()
    settings.SANDBOX_LATENCY_MS = SLOW_UPSTREAM_MS  # the case page waits for a slow upstream

    page.locator("#results").get_by_role("link", name=str(case.case_number), exact=True).click()

    expect(page).to_have_url(target)
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Case {case.case_number}")
    expect(page.locator("#page-progress")).to_be_hidden()
    expect(page.locator("#main")).not_to_have_attribute("aria-busy", "true")
    record = json.loads(page.evaluate("sessionStorage.getItem('progress') || '[]'"))
    lit = [moment for moment in record if moment["visibility"] == "visible"]
    assert lit, record
    assert all(moment["busy"] == "true" for moment in lit), record
    # A quick answer never flashes it: it lights up only after a moment.
    assert PROGRESS_DELAY in lit[0]["delay"], record
    assert lit[0]["at"] >= QUICK_ANSWER_MS, record
    assert_no_console_errors(page)


def test_going_back_to_a_page_clears_its_progress_bar(
    agent_page: Page, live_server: LiveServer
) -> None:
    page = agent_page
    case = sandbox_cases(ORG_ID)[0]
    page.goto(f"{live_server.url}/cases/")
    page.locator("#results").get_by_role("link", name=str(case.case_number), exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Case {case.case_number}")

    page.go_back()

    expect(page).to_have_url(f"{live_server.url}/cases/")
    expect(page.locator("#page-progress")).to_be_hidden()


def test_a_download_link_does_not_leave_the_progress_bar_running(
    agent_page: Page, live_server: LiveServer
) -> None:
    page = agent_page
    page.goto(f"{live_server.url}/cases/")

    with page.expect_download():
        page.get_by_role("link", name="Export CSV").click()

    page.wait_for_timeout(600)  # past the bar's delay
    expect(page.locator("#page-progress")).to_be_hidden()


# --------------------------------------------------------------------------------------------
# Copy buttons
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("button_name", "field"),
    [("Copy the KID", "payment_reference"), ("Copy the account number", "account_number")],
)
def test_a_copy_button_puts_the_value_on_the_clipboard_and_says_copied(
    agent_page: Page, live_server: LiveServer, button_name: str, field: str
) -> None:
    page = agent_page
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_server.url)
    case = next(c for c in sandbox_cases(ORG_ID) if c.payment_reference and c.account_number)
    value = getattr(case, field)
    page.goto(case_url(live_server, case))
    button = page.get_by_role("button", name=button_name)
    expect(button).to_be_visible()

    button.click()

    status = button.locator("xpath=following-sibling::*[@role='status'][1]")
    expect(status).to_have_text("Copied")
    expect(status).to_be_visible()
    assert page.evaluate("navigator.clipboard.readText()") == value
    assert_accessible(page)
    expect(status).to_have_text("", timeout=DEFAULT_TIMEOUT_MS)  # the confirmation clears itself
    assert_no_console_errors(page)


# --------------------------------------------------------------------------------------------
# Phone
# --------------------------------------------------------------------------------------------


@pytest.fixture
def phone_page(
    browser: Browser, live_server: LiveServer, live_upstream: str, organization: Organization
) -> Iterator[Page]:
    context = browser.new_context(viewport=PHONE, locale="en-GB")
    context.set_default_timeout(DEFAULT_TIMEOUT_MS)
    page = context.new_page()
    sign_in(page, live_server)
    yield page
    context.close()


def box_right(page: Page, selector: str) -> float:
    return float(page.locator(selector).first.evaluate("e => e.getBoundingClientRect().right"))


def test_on_a_phone_the_remaining_amount_stays_in_sight_in_the_case_tables(
    phone_page: Page, live_server: LiveServer
) -> None:
    page = phone_page
    case = showcase_case(ORG_ID).case
    page.goto(case_url(live_server, case))
    invoices = page.get_by_role("region", name="Invoice table")
    expect(invoices).to_be_visible()
    # The table is wider than the phone: it scrolls sideways.
    assert invoices.evaluate("e => e.scrollWidth > e.clientWidth + 50")

    for table in (invoices, page.locator(".breakdown").first):
        remaining = table.locator("tbody tr:not(.breakdown__group)").first.locator("td").last
        box = remaining.bounding_box()
        assert box is not None
        assert box["x"] >= 0, box
        assert box["x"] + box["width"] <= PHONE["width"], box
        header = table.locator("thead th").last
        expect(header).to_have_text("Remaining")
        header_box = header.bounding_box()
        assert header_box is not None
        assert header_box["x"] + header_box["width"] <= PHONE["width"]

    # Scrolled to the start and to the end, the column stays where it is.
    invoices.evaluate("e => { e.scrollLeft = e.scrollWidth; }")
    box = invoices.locator("tbody tr").first.locator("td").last.bounding_box()
    assert box is not None
    assert box["x"] + box["width"] <= PHONE["width"]
    assert_no_console_errors(page)


def test_on_a_phone_long_sub_status_badges_wrap_instead_of_being_clipped(
    phone_page: Page, live_server: LiveServer
) -> None:
    page = phone_page
    waiting = sandbox_cases(ORG_ID, sub_status="DEBT_COLLECTION_LIST_MANUAL")
    assert waiting, "the seed has no case awaiting debt collection approval; change SEED"
    page.goto(case_url(live_server, waiting[0]))

    badges = page.locator(".case-badges .badge")
    expect(badges.last).to_have_text("Awaiting debt collection approval")
    for index in range(badges.count()):
        badge = badges.nth(index)
        assert badge.evaluate("e => e.scrollWidth <= e.clientWidth"), "the label is clipped"
        box = badge.bounding_box()
        assert box is not None
        assert box["x"] + box["width"] <= PHONE["width"]
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]

    # In the case list's cards too: the badge stays inside its own cell.
    page.goto(f"{live_server.url}/cases/?size=100")
    badge = page.locator("#results .badge--waiting").first
    expect(badge).to_be_visible()
    cell = badge.locator("xpath=ancestor::td[1]")
    badge_box, cell_box = badge.bounding_box(), cell.bounding_box()
    assert badge_box is not None
    assert cell_box is not None
    assert badge_box["x"] + badge_box["width"] <= cell_box["x"] + cell_box["width"] + 0.5
    assert badge.evaluate("e => e.scrollWidth <= e.clientWidth")
    assert_no_console_errors(page)
