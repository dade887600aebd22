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

Helpers (import from tests.browser.conftest)
    login(page, live_server, username, password)   through the real login form
    assert_accessible(page)                        axe-core, WCAG 2.1 A/AA, serious + critical
    assert_no_console_errors(page, allow=...)      console errors, page errors, CSP violations;
                                                   pass allow=HTTP_ERROR_MESSAGES in a test that
                                                   provokes 4xx/5xx answers on purpose
    screenshot(page, name)                         docs/screenshots/<name>.png, only when the
                                                   environment says SCREENSHOTS=1 (see
                                                   test_screenshots.py)

Everything under tests/browser is marked `browser` (and, under xdist, kept on one worker so one
Chromium and one live server serve them all). The live server serves static files through the
staticfiles handler; DJANGO_ALLOW_ASYNC_UNSAFE is set in tests/environment.py, because Playwright's
sync API runs an event loop in the test thread.
"""

import os
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final
from weakref import WeakKeyDictionary

import pytest
from django.conf import settings
from playwright.sync_api import (
    Browser,
    ConsoleMessage,
    Page,
    Playwright,
    ViewportSize,
    sync_playwright,
)
from playwright.sync_api import Error as PlaywrightError
from pytest_django import Settings
from pytest_django.live_server_helper import LiveServer

from cases import autocollect

BROWSER_TESTS_DIR: Final = Path(__file__).resolve().parent
AXE_PATH: Final = BROWSER_TESTS_DIR / "vendor" / "axe.min.js"
SCREENSHOTS_DIR: Final = Path(settings.BASE_DIR) / "docs" / "screenshots"
SCREENSHOTS_VARIABLE: Final = "SCREENSHOTS"  # SCREENSHOTS=1 writes the README's screenshots
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
VIEWPORT: Final = ViewportSize(width=1280, height=900)
DEFAULT_TIMEOUT_MS: Final = 10_000
AXE_TAGS: Final = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
AXE_BLOCKING_IMPACTS: Final = frozenset({"serious", "critical"})

# The browser's own line for an HTTP error status, and htmx's: expected where a test provokes one.
HTTP_ERROR_MESSAGES: Final = (
    r"Failed to load resource: the server responded with a status of [45]\d\d",
    r"Response Status Error Code [45]\d\d",
)

# Reports every CSP violation as a console error, so it cannot pass unnoticed. Init scripts are
# injected by the browser itself and are not subject to the page's policy.
_CSP_REPORTER: Final = """
document.addEventListener("securitypolicyviolation", (event) => {
  console.error(
    "CSP violation: " + event.violatedDirective + " blocked " + (event.blockedURI || "inline") +
    " at " + event.sourceFile + ":" + event.lineNumber
  );
});
"""


@pytest.hookimpl(tryfirst=True)  # before xdist's hook, which reads the group marks
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark everything under tests/browser; under xdist keep it all on one worker."""
    group_on_one_worker = config.pluginmanager.hasplugin("xdist")
    for item in items:
        if BROWSER_TESTS_DIR in Path(item.path).resolve().parents:
            item.add_marker(pytest.mark.browser)
            if group_on_one_worker:
                item.add_marker(pytest.mark.xdist_group("browser"))


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


@dataclass
class BrowserLog:
    """What went wrong in the page: console errors, uncaught exceptions, CSP violations."""

    errors: list[str] = field(default_factory=list)

    def on_console(self, message: ConsoleMessage) -> None:
        if message.type == "error":
            self.errors.append(f"console: {message.text} ({message.location.get('url', '')})")

    def on_page_error(self, error: PlaywrightError) -> None:
        self.errors.append(f"uncaught: {error.message}")


_LOGS: WeakKeyDictionary[Page, BrowserLog] = WeakKeyDictionary()


@pytest.fixture
def browser_locale() -> str:
    return "en-GB"


@pytest.fixture
def page(browser: Browser, browser_locale: str) -> Iterator[Page]:
    """A fresh context per test (no cookies carried over), 1280x900, errors recorded."""
    context = browser.new_context(viewport=VIEWPORT, locale=browser_locale)
    context.set_default_timeout(DEFAULT_TIMEOUT_MS)
    context.add_init_script(script=_CSP_REPORTER)
    new_page = context.new_page()
    log = BrowserLog()
    new_page.on("console", log.on_console)
    new_page.on("pageerror", log.on_page_error)
    _LOGS[new_page] = log
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


# --------------------------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------------------------


def login(page: Page, live_server: LiveServer, username: str, password: str) -> None:
    """Log in through the real login form and wait until the browser has left it."""
    page.goto(f"{live_server.url}/accounts/login/")
    page.locator("#id_username").fill(username)
    page.locator("#id_password").fill(password)
    page.locator("form.auth__form button[type=submit]").click()
    try:
        page.wait_for_url(re.compile(r"^(?!.*/accounts/login/).*$"))
    except PlaywrightError:
        pytest.fail(f"Logging in as {username!r} did not leave the login page", pytrace=False)


def assert_no_console_errors(page: Page, *, allow: Iterable[str] = ()) -> None:
    """Fail on console errors, uncaught exceptions and CSP violations, except `allow` regexes."""
    allowed = [re.compile(pattern) for pattern in allow]
    log = _LOGS.get(page, BrowserLog())
    unexpected = [
        entry for entry in log.errors if not any(pattern.search(entry) for pattern in allowed)
    ]
    if unexpected:
        pytest.fail(
            "The page reported errors:\n" + "\n".join(f"  - {entry}" for entry in unexpected),
            pytrace=False,
        )


def _inject_axe(page: Page) -> None:
    """Load the vendored axe-core into the page.

    Not page.add_script_tag(path=...): that inlines the file as a <script> element, which the
    page's CSP rightly blocks (and reports as a violation). Evaluating the source through the
    DevTools protocol is not subject to the page's policy.
    """
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.evaluate(AXE_PATH.read_text(encoding="utf-8"))
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        pytest.fail(f"axe-core did not load from {AXE_PATH}", pytrace=False)


def _describe_violation(violation: dict[str, Any]) -> str:
    nodes = violation.get("nodes", [])
    lines = [
        f"[{violation.get('impact')}] {violation.get('id')}: {violation.get('help')}",
        f"    {violation.get('helpUrl')}",
    ]
    for node in nodes[:5]:
        target = " ".join(str(part) for part in node.get("target", []))
        summary = " ".join(str(node.get("failureSummary", "")).split())
        lines.append(f"    at {target}: {summary}")
    if len(nodes) > 5:
        lines.append(f"    ... and {len(nodes) - 5} more elements")
    return "\n".join(lines)


def assert_accessible(page: Page, *, selector: str | None = None) -> None:
    """Run axe-core (WCAG 2.0/2.1 A and AA) and fail on serious or critical violations."""
    _inject_axe(page)
    results: dict[str, Any] = page.evaluate(
        """([selector, tags]) => axe.run(selector ? document.querySelector(selector) : document,
               {runOnly: {type: "tag", values: tags}, resultTypes: ["violations"]})""",
        [selector, AXE_TAGS],
    )
    blocking = [
        violation
        for violation in results.get("violations", [])
        if violation.get("impact") in AXE_BLOCKING_IMPACTS
    ]
    if blocking:
        pytest.fail(
            f"axe-core found {len(blocking)} serious or critical accessibility violation(s) "
            f"on {page.url}:\n" + "\n".join(_describe_violation(v) for v in blocking),
            pytrace=False,
        )


def screenshots_wanted() -> bool:
    """Were the README's screenshots asked for (SCREENSHOTS=1)? Otherwise none is written, so
    running the tests leaves the working tree as it was."""
    return os.environ.get(SCREENSHOTS_VARIABLE, "") not in ("", "0")


def screenshot(page: Page, name: str, *, full_page: bool = True) -> Path | None:
    """Save docs/screenshots/<name>.png for the README, when asked for; return its path."""
    if not screenshots_wanted():
        return None
    SCREENSHOTS_DIR.mkdir(parents=True, exist_ok=True)
    target = SCREENSHOTS_DIR / f"{name}.png"
    page.screenshot(path=target, full_page=full_page)
    return target
