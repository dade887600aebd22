"""The case list's filters in Chromium: folded on a phone, laid out on a desktop, and every text
filter applying as one types.

Each test seeds one small organisation in the sandbox and reads what it expects from the
sandbox's own tables.
"""

import re
import uuid
from typing import Final
from urllib.parse import parse_qsl, urlsplit

import pytest
from django.conf import settings
from django.contrib.auth.models import User
from django.test import Client
from playwright.sync_api import Browser, Page, ViewportSize, expect
from pytest_django.live_server_helper import LiveServer

from dashboard.models import Membership, Organization, Role
from sandbox.models import Debtor as SandboxDebtor
from sandbox.models import Invoice as SandboxInvoice
from sandbox.seeding import seed_organization
from tests.support.browser import (
    CSP_REPORTER,
    DEFAULT_TIMEOUT_MS,
    PAGE_SIZE,
    assert_accessible,
    assert_no_console_errors,
    record_errors,
    table_case_numbers,
)
from tests.support.sandbox_data import sandbox_cases

ORG_ID: Final = uuid.UUID("1f0c6a52-5c7e-4b55-9d0a-0000000000f1")
ORG_NAME: Final = "Fjord Filter AS"
SEED: Final = 11
CASE_COUNT: Final = 60
USERNAME: Final = "kari"
PHONE: Final = ViewportSize(width=390, height=844)
DESKTOP: Final = ViewportSize(width=1280, height=900)
TOGGLE: Final = ".case-filters__toggle"
# Of the first case's card on a phone: its number, debtor, type and status.
FIRST_CASE_SHOWN_AT_LEAST: Final = 160


@pytest.fixture
def organization(transactional_db: None) -> Organization:
    seed_organization(ORG_ID, ORG_NAME, cases=CASE_COUNT, seed=SEED)
    organization = Organization.objects.create(name=ORG_NAME, amili_id=ORG_ID)
    user = User.objects.create_user(USERNAME, password="correct-horse-battery")
    Membership.objects.create(user=user, organization=organization, role=Role.AGENT)
    return organization


def signed_in(page: Page, live_server: LiveServer) -> Page:
    client = Client()
    client.force_login(User.objects.get(username=USERNAME))
    session = client.cookies[settings.SESSION_COOKIE_NAME].value
    page.context.add_cookies(
        [{"name": settings.SESSION_COOKIE_NAME, "value": session, "url": live_server.url}]
    )
    return page


def query_of(page: Page) -> dict[str, str]:
    return dict(parse_qsl(urlsplit(page.url).query))


def cases_with_status(status: str) -> list[str]:
    return [str(case.case_number) for case in sandbox_cases(ORG_ID, status=status)]


# --- Phone ----------------------------------------------------------------------------------------


def test_on_a_phone_the_first_case_is_on_the_first_screen_and_the_filters_fold(
    page: Page, live_server: LiveServer, live_upstream: str, organization: Organization
) -> None:
    page.set_viewport_size(PHONE)
    signed_in(page, live_server).goto(f"{live_server.url}/cases/?status=OPEN&type=&size=25")
    expect(table_case_numbers(page).first).to_be_visible()

    first_row = page.locator("#results tbody tr").first.bounding_box()
    case_number = table_case_numbers(page).first.bounding_box()
    assert first_row is not None
    assert case_number is not None
    # The first case starts on the first screen, with room to read its first lines (it started
    # about 810 px down, below the unfolded filters).
    assert first_row["y"] <= PHONE["height"] - FIRST_CASE_SHOWN_AT_LEAST, first_row
    assert case_number["y"] + case_number["height"] <= PHONE["height"], case_number
    status = page.get_by_label("Status", exact=True)
    expect(status).to_be_hidden()
    toggle = page.locator(TOGGLE)
    expect(toggle).to_have_text("Filters (1)", use_inner_text=True)
    # Nothing scrolls sideways.
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]

    toggle.click()
    expect(status).to_be_visible()
    expect(status).to_have_value("OPEN")
    page.get_by_label("Type", exact=True).select_option("DEBT_COLLECTION")
    # The count follows the change, though only the results were swapped.
    expect(toggle).to_have_text("Filters (2)", use_inner_text=True)
    expect(page).to_have_url(re.compile(r"[?&]type=DEBT_COLLECTION(&|$)"))
    expect(status).to_be_visible()  # the panel stays open while one works in it

    toggle.click()
    expect(status).to_be_hidden()
    assert_accessible(page)
    assert_no_console_errors(page)


def test_on_a_phone_with_no_filter_set_the_button_shows_no_count(
    page: Page, live_server: LiveServer, live_upstream: str, organization: Organization
) -> None:
    page.set_viewport_size(PHONE)
    signed_in(page, live_server).goto(f"{live_server.url}/cases/?q=a")

    # The search box stays in view and is not counted: it is not folded away.
    expect(page.get_by_role("searchbox", name="Search")).to_be_visible()
    expect(page.locator(TOGGLE)).to_have_text("Filters", use_inner_text=True)


def test_the_folded_filters_open_and_search_without_javascript(
    browser: Browser, live_server: LiveServer, live_upstream: str, organization: Organization
) -> None:
    context = browser.new_context(viewport=PHONE, java_script_enabled=False, locale="en-GB")
    context.set_default_timeout(DEFAULT_TIMEOUT_MS)
    context.add_init_script(script=CSP_REPORTER)
    page = context.new_page()
    record_errors(page)
    try:
        signed_in(page, live_server).goto(f"{live_server.url}/cases/")
        status = page.get_by_label("Status", exact=True)
        expect(status).to_be_hidden()

        page.locator(TOGGLE).click()
        status.select_option("PAUSED")
        page.get_by_role("button", name="Search").click()

        expect(page).to_have_url(re.compile(r"[?&]status=PAUSED(&|$)"))
        expect(table_case_numbers(page)).to_have_text(cases_with_status("PAUSED")[:PAGE_SIZE])
        expect(page.locator(TOGGLE)).to_have_text("Filters (1)", use_inner_text=True)
    finally:
        context.close()


def test_an_invalid_folded_filter_opens_the_panel_to_show_its_error(
    page: Page, live_server: LiveServer, live_upstream: str, organization: Organization
) -> None:
    page.set_viewport_size(PHONE)
    signed_in(page, live_server).goto(f"{live_server.url}/cases/?from=2026-05-01&to=2026-01-01")

    expect(page.get_by_text("The end date is before the start date.")).to_be_visible()


# --- Desktop --------------------------------------------------------------------------------------


def test_on_a_desktop_every_filter_shows_without_a_button(
    page: Page, live_server: LiveServer, live_upstream: str, organization: Organization
) -> None:
    page.set_viewport_size(DESKTOP)
    signed_in(page, live_server).goto(f"{live_server.url}/cases/?status=OPEN")

    for label in ("Status", "Type", "Customer number", "Source invoice id", "Rows per page"):
        expect(page.get_by_label(label, exact=True)).to_be_visible()
    expect(page.locator(TOGGLE)).to_be_hidden()
    # One row of fields beside the search, as before the panel: the status sits level with it.
    search_box = page.get_by_role("searchbox", name="Search").bounding_box()
    status_box = page.get_by_label("Status", exact=True).bounding_box()
    assert search_box is not None
    assert status_box is not None
    assert abs(search_box["y"] - status_box["y"]) < 2
    assert_no_console_errors(page)


# --- Every text filter applies as one types -------------------------------------------------------


@pytest.mark.parametrize(
    ("label", "parameter"), [("Customer number", "customer"), ("Source invoice id", "invoice")]
)
def test_customer_number_and_source_invoice_apply_as_one_types(
    page: Page,
    live_server: LiveServer,
    live_upstream: str,
    organization: Organization,
    label: str,
    parameter: str,
) -> None:
    if parameter == "customer":
        debtor = SandboxDebtor.objects.filter(organization_id=ORG_ID).order_by("customer_number")[0]
        value = debtor.customer_number
        matching = sandbox_cases(ORG_ID, debtors__customer_number=value)
    else:
        invoice = SandboxInvoice.objects.filter(organization_id=ORG_ID).order_by("id")[0]
        value = invoice.unique_source_invoice_id
        matching = sandbox_cases(ORG_ID, invoices__unique_source_invoice_id=value)
    expected = [str(case.case_number) for case in matching]
    signed_in(page, live_server).goto(f"{live_server.url}/cases/")
    expect(table_case_numbers(page)).to_have_count(PAGE_SIZE)
    history_length = page.evaluate("history.length")

    page.get_by_label(label, exact=True).press_sequentially(value, delay=20)  # no Enter

    expect(table_case_numbers(page)).to_have_text(expected)
    # The form's other controls ride along (the page size, whose default is 25), filters do not.
    assert query_of(page) == {parameter: value, "size": str(PAGE_SIZE)}
    # Typing replaces the address, as the search box does: no history entry per pause.
    assert page.evaluate("history.length") == history_length
    assert_no_console_errors(page)
