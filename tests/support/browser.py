"""Helpers for the browser tests (tests/browser); their fixtures stay in tests/browser/conftest.py.

record_errors(page)                            what the `page` fixture calls on a new page
login(page, live_server, username, password)   through the real login form
assert_accessible(page)                        axe-core, WCAG 2.1 A/AA, serious + critical
assert_no_console_errors(page, allow=...)      console errors, page errors, CSP violations;
                                               pass allow=HTTP_ERROR_MESSAGES in a test that
                                               provokes 4xx/5xx answers on purpose
screenshot(page, name)                         docs/screenshots/<name>.png, only when the
                                               environment says SCREENSHOTS=1 (see
                                               tests/browser/test_screenshots.py)
table_case_numbers(page)                       the case numbers in the case list's table
"""

import os
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final
from weakref import WeakKeyDictionary

import pytest
from django.conf import settings
from playwright.sync_api import ConsoleMessage, Locator, Page, ViewportSize
from playwright.sync_api import Error as PlaywrightError
from pytest_django.live_server_helper import LiveServer

AXE_PATH: Final = Path(__file__).resolve().parents[1] / "browser" / "vendor" / "axe.min.js"
SCREENSHOTS_DIR: Final = Path(settings.BASE_DIR) / "docs" / "screenshots"
SCREENSHOTS_VARIABLE: Final = "SCREENSHOTS"  # SCREENSHOTS=1 writes the README's screenshots
VIEWPORT: Final = ViewportSize(width=1280, height=900)
DEFAULT_TIMEOUT_MS: Final = 10_000
AXE_TAGS: Final = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
AXE_BLOCKING_IMPACTS: Final = frozenset({"serious", "critical"})
PAGE_SIZE: Final = 25  # the case list's default page size
TABLE_CASE_NUMBERS: Final = "#results tbody th[scope=row]"

# The browser's own line for an HTTP error status, and htmx's: expected where a test provokes one.
HTTP_ERROR_MESSAGES: Final = (
    r"Failed to load resource: the server responded with a status of [45]\d\d",
    r"Response Status Error Code [45]\d\d",
)

# Reports every CSP violation as a console error, so it cannot pass unnoticed. Init scripts are
# injected by the browser itself and are not subject to the page's policy.
CSP_REPORTER: Final = """
document.addEventListener("securitypolicyviolation", (event) => {
  console.error(
    "CSP violation: " + event.violatedDirective + " blocked " + (event.blockedURI || "inline") +
    " at " + event.sourceFile + ":" + event.lineNumber
  );
});
"""


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


def record_errors(page: Page) -> BrowserLog:
    """Record the page's console errors and uncaught exceptions for assert_no_console_errors."""
    log = BrowserLog()
    page.on("console", log.on_console)
    page.on("pageerror", log.on_page_error)
    _LOGS[page] = log
    return log


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


def table_case_numbers(page: Page) -> Locator:
    return page.locator(TABLE_CASE_NUMBERS)
