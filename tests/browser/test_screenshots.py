"""The README's screenshots, of the demo a new user gets from `make run`, in English and Norwegian,
on a desktop (1280x900) and a phone (390x844).

The data is exactly `make run`'s: `manage.py seed_demo` (its organisations, seed and case count,
and its logins) and the case index its worker builds, and the pages are those the demo login
sees, in a browser that asks for English (en-GB) or Norwegian (nb-NO), as a new user's browser
would. The pages are checked on every run
(they render in that language, and nothing scrolls sideways on a phone); the PNGs under
docs/screenshots/ are written only when asked for, so a test run leaves the working tree clean:

    SCREENSHOTS=1 .venv/bin/python -m pytest tests/browser/test_screenshots.py -q

Names: <page>-<language>.png on the desktop (whole page), <page>-phone-<language>.png on the
phone (the first screen, what the phone shows before any scrolling), for the login page, the
case list, a case page and (desktop) the debtor page.
"""

import io
import uuid
from collections.abc import Iterator
from typing import Final

import pytest
from django.core.management import call_command
from django.utils import translation
from playwright.sync_api import Browser, Page, ViewportSize, expect
from pytest_django import Settings
from pytest_django.live_server_helper import LiveServer

from dashboard.management.commands.seed_demo import DEMO_ACCOUNTS, DEMO_ORGANIZATIONS
from tests.support.browser import (
    CSP_REPORTER,
    DEFAULT_TIMEOUT_MS,
    PAGE_SIZE,
    VIEWPORT,
    assert_no_console_errors,
    login,
    record_errors,
    screenshot,
    table_case_numbers,
)
from tests.support.sandbox_data import showcase_case

PHONE: Final = ViewportSize(width=390, height=844)
DEMO_USERNAME, DEMO_PASSWORD, *_ = DEMO_ACCOUNTS[0]  # the login the README offers first
DEMO_ORGANIZATION_ID: Final = uuid.UUID(DEMO_ORGANIZATIONS[0][0])  # the one it lands on
# The dashboard's language, and the browser locale a new user's browser would send for it.
LANGUAGES: Final = (("en", "en-GB"), ("nb", "nb-NO"))


@pytest.fixture
def demo(transactional_db: None, settings: Settings, live_upstream: str) -> None:
    """What `make run` seeds: the sandbox's demo organisations and the demo logins."""
    settings.AUTOCOLLECT_USES_EMBEDDED_SANDBOX = True  # as in `make run`: seed the sandbox
    call_command("seed_demo", stdout=io.StringIO())
    # `make run` then has its worker build the case index (refresh_case_index --enqueue), which
    # the list's total and the triage queues read; here it is built at once.
    call_command("refresh_case_index", stdout=io.StringIO())


def in_language(language: str, text: str) -> str:
    with translation.override(language):
        return translation.gettext(text)


@pytest.fixture
def new_browser(browser: Browser) -> Iterator[dict[str, Page]]:
    """A fresh desktop page for each language, as a new user's browser asking for it."""
    contexts = []
    pages: dict[str, Page] = {}
    for language, locale in LANGUAGES:
        context = browser.new_context(viewport=VIEWPORT, locale=locale)
        context.set_default_timeout(DEFAULT_TIMEOUT_MS)
        context.add_init_script(script=CSP_REPORTER)
        contexts.append(context)
        pages[language] = context.new_page()
        record_errors(pages[language])
    yield pages
    for context in contexts:
        context.close()


def assert_fits_a_phone(page: Page) -> None:
    """Nothing makes the page scroll sideways at phone width (wide tables scroll in place)."""
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"{page.url} is {width}px wide on a {PHONE['width']}px phone"


def assert_in_language(page: Page, language: str) -> None:
    expect(page.locator("html")).to_have_attribute("lang", language)


@pytest.mark.parametrize(("language", "locale"), LANGUAGES)
def test_the_login_page(
    browser: Browser, live_server: LiveServer, language: str, locale: str
) -> None:
    context = browser.new_context(viewport=VIEWPORT, locale=locale)
    page = context.new_page()
    record_errors(page)
    try:
        page.goto(f"{live_server.url}/accounts/login/")
        expect(page.get_by_role("heading", name=in_language(language, "Log in"))).to_be_visible()
        assert_in_language(page, language)
        screenshot(page, f"login-{language}")

        page.set_viewport_size(PHONE)
        page.reload()
        assert_fits_a_phone(page)
        screenshot(page, f"login-phone-{language}", full_page=False)
        assert_no_console_errors(page)
    finally:
        context.close()


def test_the_demo_case_list_case_page_and_debtor_page(
    new_browser: dict[str, Page], live_server: LiveServer, demo: None
) -> None:
    showcase = showcase_case(DEMO_ORGANIZATION_ID)
    case_page = f"{live_server.url}/cases/{showcase.case.case_number}/"
    for language, page in new_browser.items():
        claim_breakdown = page.get_by_role("heading", name=in_language(language, "Claim breakdown"))
        login(page, live_server, DEMO_USERNAME, DEMO_PASSWORD)
        page.goto(f"{live_server.url}/cases/")
        expect(table_case_numbers(page)).to_have_count(PAGE_SIZE)
        assert_in_language(page, language)
        screenshot(page, f"case-list-{language}")

        page.goto(case_page)
        expect(claim_breakdown).to_be_visible()
        screenshot(page, f"case-page-{language}")

        page.get_by_role("link", name=showcase.debtor.full_name).click()
        expect(page.get_by_role("heading", level=1)).to_have_text(showcase.debtor.full_name)
        screenshot(page, f"debtor-page-{language}")
        debtor_page = page.url

        page.set_viewport_size(PHONE)
        page.goto(f"{live_server.url}/cases/")
        expect(table_case_numbers(page)).to_have_count(PAGE_SIZE)
        # The first case shows on the phone's first screen, as the screenshot shows.
        expect(table_case_numbers(page).first).to_be_in_viewport()
        assert_fits_a_phone(page)
        screenshot(page, f"case-list-phone-{language}", full_page=False)

        page.goto(case_page)
        expect(claim_breakdown).to_be_visible()
        assert_fits_a_phone(page)
        screenshot(page, f"case-page-phone-{language}", full_page=False)

        page.goto(debtor_page)
        expect(page.get_by_role("heading", level=1)).to_have_text(showcase.debtor.full_name)
        assert_fits_a_phone(page)
        assert_no_console_errors(page)
