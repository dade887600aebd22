"""Several organisations and keeping one's place, in a real Chromium: two tabs that never mix
organisations, selects that act when the choice is made (not at each arrow key), the case page's
way back to the list it came from, an expired session that resumes the search after login, and
the notice of a page link that is no longer valid.
"""

import re
import time
import uuid
from importlib import import_module
from typing import Final
from urllib.parse import parse_qs, urlsplit

import pytest
from django.conf import settings
from django.contrib.auth.models import User
from playwright.sync_api import Browser, Page, expect
from pytest_django.live_server_helper import LiveServer

from dashboard import security
from dashboard.models import Membership, Organization, Role
from sandbox.models import Case as SandboxCase
from sandbox.seeding import seed_organization
from tests.support.browser import (
    DEFAULT_TIMEOUT_MS,
    VIEWPORT,
    assert_no_console_errors,
    login,
    table_case_numbers,
)

PASSWORD: Final = "correct-horse-battery"
USER: Final = "kari"
BERGEN: Final = ("Bergen Boliger AS", uuid.UUID("1f0c6a52-5c7e-4b55-9d0a-0000000000a1"))
TROMSO: Final = ("Tromsø Kraft AS", uuid.UUID("1f0c6a52-5c7e-4b55-9d0a-0000000000b2"))
CASES_EACH: Final = 60  # more than a page of 25
# Set on window before an action; still there afterwards only if the page was not reloaded.
NO_RELOAD_MARKER: Final = "window.__sameDocument = true"
STILL_SAME_DOCUMENT: Final = "window.__sameDocument === true"
QUIET_MS: Final = 600  # long enough for a request that should not happen to have happened


@pytest.fixture
def staff(transactional_db: None) -> User:
    """An agent of two seeded organisations."""
    user = User.objects.create_user(USER, password=PASSWORD)
    for seed, (name, amili_id) in enumerate((BERGEN, TROMSO), start=7):
        seed_organization(amili_id, name, cases=CASES_EACH, seed=seed)
        organization = Organization.objects.create(name=name, amili_id=amili_id)
        Membership.objects.create(user=user, organization=organization, role=Role.AGENT)
    return user


def organisation(name: str) -> Organization:
    return Organization.objects.get(name=name)


def case_numbers_of(amili_id: uuid.UUID) -> set[str]:
    return {
        str(number)
        for number in SandboxCase.objects.filter(organization_id=amili_id).values_list(
            "case_number", flat=True
        )
    }


def list_requests(page: Page) -> list[str]:
    """Every request the page makes to the case list from now on."""
    seen: list[str] = []
    page.on(
        "request", lambda request: seen.append(request.url) if "/cases/?" in request.url else None
    )
    return seen


def history_length(page: Page) -> int:
    return int(page.evaluate("history.length"))


# --- Two tabs -------------------------------------------------------------------------------


def test_a_tab_left_in_the_old_organisation_reloads_whole_with_a_notice(
    browser: Browser, live_server: LiveServer, live_upstream: str, staff: User
) -> None:
    context = browser.new_context(viewport=VIEWPORT, locale="en-GB")
    context.set_default_timeout(DEFAULT_TIMEOUT_MS)
    first, second = context.new_page(), context.new_page()
    login(first, live_server, USER, PASSWORD)
    first.goto(f"{live_server.url}/cases/")
    expect(first.get_by_label("Organisation")).to_have_value(str(organisation(BERGEN[0]).pk))

    second.goto(f"{live_server.url}/cases/")
    second.get_by_label("Organisation").select_option(label=TROMSO[0])
    expect(second.get_by_label("Organisation")).to_have_value(str(organisation(TROMSO[0]).pk))

    # The first tab still shows Bergen; its next htmx request must not get Tromsø's rows.
    first.get_by_label("Status").select_option("OPEN")

    expect(first.get_by_role("status").filter(has_text="in another tab")).to_be_visible()
    expect(first.get_by_label("Organisation")).to_have_value(str(organisation(TROMSO[0]).pk))
    shown = set(table_case_numbers(first).all_inner_texts())
    assert shown
    assert shown <= case_numbers_of(TROMSO[1])
    assert_no_console_errors(first)
    context.close()


# --- Selects act when the choice is made -------------------------------------------------------


def test_arrow_keys_on_the_status_filter_search_once_when_the_choice_is_made(
    page: Page, live_server: LiveServer, live_upstream: str, staff: User
) -> None:
    login(page, live_server, USER, PASSWORD)
    page.goto(f"{live_server.url}/cases/")
    status = page.get_by_label("Status")
    status.focus()
    before = history_length(page)
    requests = list_requests(page)

    for _ in range(3):
        status.press("ArrowDown")
    page.wait_for_timeout(QUIET_MS)

    assert requests == []  # walking through the choices searches nothing
    expect(page).to_have_url(f"{live_server.url}/cases/")
    chosen = status.input_value()
    assert chosen

    status.press("Enter")

    expect(page).to_have_url(re.compile(rf"status={chosen}"))
    page.wait_for_timeout(QUIET_MS)
    assert len(requests) == 1
    assert history_length(page) == before + 1
    assert_no_console_errors(page)


def test_leaving_the_status_filter_after_arrow_keys_applies_the_choice(
    page: Page, live_server: LiveServer, live_upstream: str, staff: User
) -> None:
    login(page, live_server, USER, PASSWORD)
    page.goto(f"{live_server.url}/cases/")
    status = page.get_by_label("Status")
    status.focus()
    status.press("ArrowDown")
    status.press("ArrowDown")
    chosen = status.input_value()

    page.keyboard.press("Tab")

    expect(page).to_have_url(re.compile(rf"status={chosen}"))


def test_escape_puts_the_status_filter_back(
    page: Page, live_server: LiveServer, live_upstream: str, staff: User
) -> None:
    login(page, live_server, USER, PASSWORD)
    page.goto(f"{live_server.url}/cases/")
    status = page.get_by_label("Status")
    status.focus()
    requests = list_requests(page)

    status.press("ArrowDown")
    status.press("Escape")
    page.keyboard.press("Tab")
    page.wait_for_timeout(QUIET_MS)

    expect(status).to_have_value("")
    assert requests == []


def test_choosing_a_status_with_the_mouse_searches_at_once(
    page: Page, live_server: LiveServer, live_upstream: str, staff: User
) -> None:
    login(page, live_server, USER, PASSWORD)
    page.goto(f"{live_server.url}/cases/")

    page.get_by_label("Status").select_option("OPEN")

    expect(page).to_have_url(re.compile(r"status=OPEN"))


def test_arrow_keys_on_the_organisation_selector_switch_only_on_enter(
    page: Page, live_server: LiveServer, live_upstream: str, staff: User
) -> None:
    login(page, live_server, USER, PASSWORD)
    page.goto(f"{live_server.url}/cases/")
    page.evaluate(NO_RELOAD_MARKER)
    switcher = page.get_by_label("Organisation")
    switcher.focus()

    switcher.press("ArrowDown")
    page.wait_for_timeout(QUIET_MS)

    assert page.evaluate(STILL_SAME_DOCUMENT)  # nothing was switched
    switch_button = page.get_by_role("button", name="Switch")
    expect(switch_button).to_be_visible()  # the way to act on the choice, beside Enter

    page.keyboard.press("Tab")  # leaving the selector does not switch either
    page.wait_for_timeout(QUIET_MS)
    assert page.evaluate(STILL_SAME_DOCUMENT)
    expect(switch_button).to_be_focused()

    page.keyboard.press("Enter")

    expect(page.get_by_label("Organisation")).to_have_value(str(organisation(TROMSO[0]).pk))
    assert_no_console_errors(page)


def test_enter_on_the_organisation_selector_switches(
    page: Page, live_server: LiveServer, live_upstream: str, staff: User
) -> None:
    login(page, live_server, USER, PASSWORD)
    page.goto(f"{live_server.url}/cases/?status=OPEN")
    switcher = page.get_by_label("Organisation")
    switcher.focus()
    switcher.press("ArrowDown")

    switcher.press("Enter")

    expect(page.get_by_label("Organisation")).to_have_value(str(organisation(TROMSO[0]).pk))
    expect(page).to_have_url(f"{live_server.url}/cases/?status=OPEN")  # the filter is kept


# --- Keeping one's place ------------------------------------------------------------------------


def test_the_cases_breadcrumb_returns_to_the_filtered_page_the_case_was_opened_from(
    page: Page, live_server: LiveServer, live_upstream: str, staff: User
) -> None:
    login(page, live_server, USER, PASSWORD)
    page.goto(f"{live_server.url}/cases/")
    page.get_by_label("Rows per page").select_option("10")
    expect(page).to_have_url(re.compile(r"size=10"))
    page.get_by_role("link", name="Next").first.click()
    expect(page).to_have_url(re.compile(r"page="))
    list_url = page.url

    table_case_numbers(page).first.click()
    expect(page).to_have_url(re.compile(r"/cases/\d+/$"))
    page.reload()  # later requests of the case page come from the case page itself
    page.get_by_role("navigation", name="Breadcrumbs").get_by_role("link", name="Cases").click()

    expect(page).to_have_url(list_url)
    expect(page.get_by_text(re.compile(r"Showing 11.20 of"))).to_have_count(2)


def test_after_the_session_expires_mid_search_login_says_why_and_returns_to_the_search(
    page: Page, live_server: LiveServer, live_upstream: str, staff: User
) -> None:
    login(page, live_server, USER, PASSWORD)
    page.goto(f"{live_server.url}/cases/")
    page.locator("#id_q").fill("kari@example.no")  # a personal term: kept out of the URL
    expect(page).to_have_url(re.compile(r"qref="))
    list_url = page.url
    cookie = next(c for c in page.context.cookies() if c["name"] == "sessionid")
    # The configured engine: with cached_db, a change written to the database alone goes unseen.
    session = import_module(settings.SESSION_ENGINE).SessionStore(session_key=cookie["value"])
    session[security.SESSION_SEEN_AT] = int(time.time() - 31 * 60)
    session.save()

    page.get_by_label("Status").select_option("OPEN")  # an htmx request after the expiry

    expect(page).to_have_url(re.compile(r"/accounts/login/\?next="))
    why = page.get_by_role("status").filter(has_text="30 minutes without activity")
    expect(why).to_be_visible()
    expect(page.locator("#results")).to_have_count(0)  # no login form inside the results
    page.locator("#id_username").fill(USER)
    page.locator("#id_password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()

    expect(page).to_have_url(re.compile(r"/cases/\?.*qref="))
    assert parse_qs(urlsplit(page.url).query)["qref"] == parse_qs(urlsplit(list_url).query)["qref"]
    expect(page.locator("#id_q")).to_have_value("kari@example.no")
    assert_no_console_errors(page)


def test_a_page_link_no_longer_valid_says_so_on_the_first_page(
    page: Page, live_server: LiveServer, live_upstream: str, staff: User
) -> None:
    login(page, live_server, USER, PASSWORD)

    page.goto(f"{live_server.url}/cases/?status=OPEN&page=expired-token")

    expect(page).to_have_url(f"{live_server.url}/cases/?status=OPEN")
    notice = page.get_by_text("That page of results is no longer available")
    expect(notice).to_be_visible()
    page.wait_for_timeout(QUIET_MS)
    expect(notice).to_be_visible()  # it stays until the user moves on


def test_a_pager_link_no_longer_valid_restarts_in_place_and_says_so(
    page: Page, live_server: LiveServer, live_upstream: str, staff: User
) -> None:
    login(page, live_server, USER, PASSWORD)
    page.goto(f"{live_server.url}/cases/?status=OPEN")
    first_page = table_case_numbers(page).all_inner_texts()
    next_link = page.get_by_role("link", name="Next").first
    # The token expired while the page stood open: the upstream now refuses it.
    next_link.evaluate(
        """link => {
            for (const name of ["href", "hx-get"]) {
                link.setAttribute(name, link.getAttribute(name).replace(/page=[^&]*/, "page=gone"));
            }
            htmx.process(link);
        }"""
    )

    next_link.click()

    notice = (
        page.locator("#results")
        .get_by_role("status")
        .filter(has_text="That page of results is no longer available")
    )
    expect(notice).to_be_visible()
    expect(page).to_have_url(f"{live_server.url}/cases/?status=OPEN")
    assert table_case_numbers(page).all_inner_texts() == first_page
    page.wait_for_timeout(QUIET_MS)
    expect(notice).to_be_in_viewport()


def test_a_link_to_a_case_of_the_other_organisation_offers_the_switch(
    page: Page, live_server: LiveServer, live_upstream: str, staff: User
) -> None:
    login(page, live_server, USER, PASSWORD)
    tromso_case = min(case_numbers_of(TROMSO[1]))

    response = page.goto(f"{live_server.url}/cases/{tromso_case}/")

    assert response is not None
    assert response.status == 404
    page.get_by_role("button", name=f"Switch to {TROMSO[0]} and open the case").click()
    expect(page).to_have_url(f"{live_server.url}/cases/{tromso_case}/")
    expect(page.get_by_role("heading", name=f"Case {tromso_case}", exact=True)).to_be_visible()
    expect(page.get_by_label("Organisation")).to_have_value(str(organisation(TROMSO[0]).pk))
    assert_no_console_errors(page, allow=[r"status of 404"])
