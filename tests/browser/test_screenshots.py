"""The README's screenshots, of the demo a user gets from `make run`.

The data is exactly `make run`'s: `manage.py seed_demo` (its organisations, seed and case count,
and its logins), and the pages are those the demo login sees. The pages are checked on every run
(they render, and nothing scrolls sideways on a phone); the PNGs under docs/screenshots/ are
written only when asked for, so a test run leaves the working tree clean:

    SCREENSHOTS=1 .venv/bin/python -m pytest tests/browser/test_screenshots.py -q
"""

import io
import uuid
from typing import Final

import pytest
from django.core.management import call_command
from playwright.sync_api import Page, ViewportSize, expect
from pytest_django import Settings
from pytest_django.live_server_helper import LiveServer

from dashboard.management.commands.seed_demo import DEMO_ACCOUNTS, DEMO_ORGANIZATIONS
from tests.support.browser import (
    PAGE_SIZE,
    assert_no_console_errors,
    login,
    screenshot,
    table_case_numbers,
)
from tests.support.sandbox_data import showcase_case

PHONE: Final = ViewportSize(width=390, height=844)
DEMO_USERNAME, DEMO_PASSWORD, *_ = DEMO_ACCOUNTS[0]  # the login the README offers first
DEMO_ORGANIZATION_ID: Final = uuid.UUID(DEMO_ORGANIZATIONS[0][0])  # the one it lands on


@pytest.fixture
def demo(transactional_db: None, settings: Settings, live_upstream: str) -> None:
    """What `make run` seeds: the sandbox's demo organisations and the demo logins."""
    settings.AUTOCOLLECT_USES_EMBEDDED_SANDBOX = True  # as in `make run`: seed the sandbox
    call_command("seed_demo", stdout=io.StringIO())


def assert_fits_a_phone(page: Page) -> None:
    """Nothing makes the page scroll sideways at phone width (wide tables scroll in place)."""
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"{page.url} is {width}px wide on a {PHONE['width']}px phone"


def test_the_login_page(page: Page, live_server: LiveServer) -> None:
    page.goto(f"{live_server.url}/accounts/login/")
    expect(page.get_by_role("heading", name="Log in")).to_be_visible()
    screenshot(page, "login")

    page.set_viewport_size(PHONE)
    page.reload()
    assert_fits_a_phone(page)
    screenshot(page, "login-phone")
    assert_no_console_errors(page)


def test_the_demo_case_list_case_page_and_debtor_page(
    page: Page, live_server: LiveServer, demo: None
) -> None:
    login(page, live_server, DEMO_USERNAME, DEMO_PASSWORD)
    page.goto(f"{live_server.url}/cases/")
    expect(table_case_numbers(page)).to_have_count(PAGE_SIZE)
    expect(page.get_by_role("link", name="Next")).to_be_visible()
    screenshot(page, "case-list")

    showcase = showcase_case(DEMO_ORGANIZATION_ID)
    case_page = f"{live_server.url}/cases/{showcase.case.case_number}/"
    page.goto(case_page)
    expect(page.get_by_role("heading", name="Claim breakdown")).to_be_visible()
    screenshot(page, "case-page")

    page.get_by_role("link", name=showcase.debtor.full_name).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(showcase.debtor.full_name)
    screenshot(page, "debtor-page")
    debtor_page = page.url

    page.set_viewport_size(PHONE)
    page.goto(f"{live_server.url}/cases/")
    expect(table_case_numbers(page)).to_have_count(PAGE_SIZE)
    assert_fits_a_phone(page)
    screenshot(page, "case-list-phone")

    page.goto(case_page)
    expect(page.get_by_role("heading", name="Claim breakdown")).to_be_visible()
    assert_fits_a_phone(page)
    screenshot(page, "case-page-phone")

    page.goto(debtor_page)
    expect(page.get_by_role("heading", level=1)).to_have_text(showcase.debtor.full_name)
    assert_fits_a_phone(page)
    assert_no_console_errors(page)
