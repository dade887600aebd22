"""Browser tests: real Chromium through Playwright's sync API against Django's live server.

Fixtures
    browser          one Chromium for the session (Debian's /usr/bin/chromium when present, else
                     Playwright's own); a test FAILS, never skips, when none can be launched.
    browser_locale   the browser's language, "en-GB"; override it in a module or test to see the
                     Norwegian pages (e.g. return "nb-NO").
    page             a fresh context and page per test, 1280x900, recording console errors,
                     uncaught exceptions and CSP violations.
    live_upstream    points the AutoCollect client at the live server's sandbox; use it in every
                     test whose pages call the upstream.

Helpers (login, assert_accessible, assert_no_console_errors, screenshot, ...) live in
tests/support/browser.py.

Everything under tests/browser is marked `browser`; under xdist each module's tests stay on one
worker (its module fixtures are set up once), and the modules spread over the workers, each with
its own Chromium and live server: on one worker, the browser tests alone were the suite's
critical path. The live server serves static files through the
staticfiles handler; DJANGO_ALLOW_ASYNC_UNSAFE is set in tests/environment.py, because Playwright's
sync API runs an event loop in the test thread.
"""

from collections.abc import Iterator
from pathlib import Path
from typing import Any, Final

import pytest
from playwright.sync_api import Browser, Page, Playwright, sync_playwright
from playwright.sync_api import Error as PlaywrightError
from pytest_django import Settings
from pytest_django.live_server_helper import LiveServer

from cases import autocollect
from tests.support.browser import CSP_REPORTER, DEFAULT_TIMEOUT_MS, VIEWPORT, record_errors

BROWSER_TESTS_DIR: Final = Path(__file__).resolve().parent
DEBIAN_CHROMIUM: Final = Path("/usr/bin/chromium")
CHROMIUM_ARGS: Final = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
INSTALL_HINT: Final = (
    "The browser tests need Chromium. Install Debian's package (sudo apt-get install chromium, "
    "which provides /usr/bin/chromium) or Playwright's build (.venv/bin/python -m playwright "
    "install chromium); `make browser` does whichever fits."
)


@pytest.hookimpl(tryfirst=True)  # before xdist's hook, which reads the group marks
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark everything under tests/browser; under xdist keep each module on one worker."""
    grouping = config.pluginmanager.hasplugin("xdist")
    for item in items:
        path = Path(item.path).resolve()
        if BROWSER_TESTS_DIR in path.parents:
            item.add_marker(pytest.mark.browser)
            if grouping:
                item.add_marker(pytest.mark.xdist_group(f"browser-{path.stem}"))


# --------------------------------------------------------------------------------------------
# Browser and page
# --------------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def playwright_instance() -> Iterator[Playwright]:
    playwright = sync_playwright().start()
    yield playwright
    playwright.stop()


@pytest.fixture(scope="session")
def browser(playwright_instance: Playwright) -> Iterator[Browser]:
    """One headless Chromium for the session; no browser is a failure with install advice."""
    options: dict[str, Any] = {"headless": True, "args": CHROMIUM_ARGS}
    if DEBIAN_CHROMIUM.exists():
        options["executable_path"] = str(DEBIAN_CHROMIUM)
    try:
        chromium = playwright_instance.chromium.launch(**options)
    except PlaywrightError as error:
        pytest.fail(f"Could not launch Chromium: {error.message}\n\n{INSTALL_HINT}", pytrace=False)
    yield chromium
    chromium.close()


@pytest.fixture
def browser_locale() -> str:
    return "en-GB"


@pytest.fixture
def page(browser: Browser, browser_locale: str) -> Iterator[Page]:
    """A fresh context per test (no cookies carried over), 1280x900, errors recorded."""
    context = browser.new_context(viewport=VIEWPORT, locale=browser_locale)
    context.set_default_timeout(DEFAULT_TIMEOUT_MS)
    context.add_init_script(script=CSP_REPORTER)
    new_page = context.new_page()
    record_errors(new_page)
    yield new_page
    context.close()


@pytest.fixture
def live_upstream(live_server: LiveServer, settings: Settings) -> Iterator[str]:
    """Point the AutoCollect client at the live server's sandbox for this test."""
    settings.AUTOCOLLECT_API_URL = f"{live_server.url}/sandbox/collection/v1"
    settings.AUTOCOLLECT_TOKEN_URL = f"{live_server.url}/sandbox/token"
    reset = getattr(autocollect, "reset_http_client", None)
    if reset is not None:
        reset()
    yield live_server.url
    if reset is not None:
        reset()
