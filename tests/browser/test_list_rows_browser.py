"""The case list's rows in a real Chromium: selecting text in a row does not open the case, a
plain click does; every row is one Tab stop; Up/Down move between rows; "/" focuses the search,
and so does logging in; the new columns show on a desktop and in a phone's row cards."""

import re
import uuid
from typing import Final

import pytest
from django.conf import settings
from django.contrib.auth.models import User
from django.test import Client
from playwright.sync_api import Browser, Page, expect
from pytest_django.live_server_helper import LiveServer

from dashboard.models import Membership, Organization, Role
from sandbox.seeding import seed_organization
from tests.support.browser import assert_no_console_errors, login

ORG_ID: Final = uuid.UUID("1f0c6a52-5c7e-4b55-9d0a-0000000000b7")
ORG_NAME: Final = "Bodø Utleie AS"
CASE_COUNT: Final = 30  # more than a page of 25: the pager's Next link shows
ROWS: Final = "#results tbody[data-rows] > tr"


@pytest.fixture
def list_page(
    page: Page, live_server: LiveServer, live_upstream: str, transactional_db: None
) -> Page:
    """Logged in as an agent (a session cookie, not the form), on the case list."""
    seed_organization(ORG_ID, ORG_NAME, cases=CASE_COUNT, seed=3)
    organization = Organization.objects.create(name=ORG_NAME, amili_id=ORG_ID)
    user = User.objects.create_user("rows-agent", password="not-used-here-1")
    Membership.objects.create(user=user, organization=organization, role=Role.AGENT)
    client = Client()
    client.force_login(user)
    page.context.add_cookies(
        [
            {
                "name": settings.SESSION_COOKIE_NAME,
                "value": client.cookies[settings.SESSION_COOKIE_NAME].value,
                "url": live_server.url,
            }
        ]
    )
    page.goto(f"{live_server.url}/cases/")
    expect(page.locator(ROWS).first).to_be_visible()
    return page


def row_link(page: Page, index: int) -> str:
    return page.locator(ROWS).nth(index).locator("a[href]").first.inner_text()


def test_dragging_across_a_name_selects_it_without_opening_the_case(list_page: Page) -> None:
    url = list_page.url
    name = list_page.locator(f"{ROWS} .case-table__debtor").first
    box = name.bounding_box()
    assert box is not None

    first_line = box["y"] + 8  # a long name wraps; stay on its first line
    list_page.mouse.move(box["x"] + 1, first_line)
    list_page.mouse.down()
    list_page.mouse.move(box["x"] + box["width"] - 1, first_line, steps=5)
    list_page.mouse.up()
    list_page.wait_for_timeout(300)  # a navigation would have started by now

    assert list_page.url == url
    assert list_page.evaluate("window.getSelection().toString()").strip() != ""
    name.dblclick()  # selecting a word: the first click of it must not navigate either
    list_page.wait_for_timeout(300)
    assert list_page.url == url
    assert_no_console_errors(list_page)


def test_a_plain_click_in_a_row_opens_its_case(list_page: Page) -> None:
    number = row_link(list_page, 0)

    list_page.locator(f"{ROWS} .case-table__debtor").first.click()

    list_page.wait_for_url(f"**/cases/{number}/")


def test_each_row_is_one_tab_stop(list_page: Page) -> None:
    list_page.locator(ROWS).first.locator("a[href]").first.focus()
    rows = list_page.locator(ROWS).count()

    for index in range(1, rows):
        list_page.keyboard.press("Tab")
        focused = list_page.evaluate("document.activeElement.closest('tr')?.rowIndex ?? -1")
        assert focused == index + 1, f"Tab {index} left the rows' links (header row is 0)"
    list_page.keyboard.press("Tab")
    assert list_page.evaluate("document.activeElement.closest('tbody') === null")


def test_up_and_down_move_between_rows(list_page: Page) -> None:
    first, second, third = (row_link(list_page, index) for index in range(3))
    list_page.locator(ROWS).first.locator("a[href]").first.focus()

    list_page.keyboard.press("ArrowDown")
    list_page.keyboard.press("ArrowDown")
    assert list_page.evaluate("document.activeElement.textContent") == third
    list_page.keyboard.press("ArrowUp")
    assert list_page.evaluate("document.activeElement.textContent") == second
    list_page.keyboard.press("Home")
    assert list_page.evaluate("document.activeElement.textContent") == first
    list_page.keyboard.press("End")
    assert list_page.evaluate("document.activeElement.textContent") == row_link(list_page, -1)
    assert list_page.evaluate("window.scrollY") >= 0  # arrows did not throw


def test_slash_focuses_the_search_but_types_in_a_text_field(list_page: Page) -> None:
    list_page.locator("h1").click()

    list_page.keyboard.press("/")

    search = list_page.locator("input[type='search'][name='q']")
    expect(search).to_be_focused()
    list_page.keyboard.type("a/b")
    expect(search).to_have_value("a/b")


def test_the_columns_show_due_date_days_past_due_and_original_amount(list_page: Page) -> None:
    headers = list_page.locator("#results thead th").all_inner_texts()

    assert headers[5:8] == ["Due date", "Days past due", "Original"]
    first = list_page.locator(ROWS).first
    expect(first.locator("td[data-label='Original']")).to_contain_text("NOK")
    expect(list_page.locator("#list-total")).to_contain_text("Total remaining")


def test_on_a_phone_the_row_card_shows_the_new_cells_with_their_labels(list_page: Page) -> None:
    list_page.set_viewport_size({"width": 390, "height": 844})
    card = list_page.locator(ROWS).first

    for label in ("Due date", "Days past due", "Original"):
        cell = card.locator(f"td[data-label='{label}']")
        expect(cell).to_be_visible()
        box = cell.bounding_box()
        assert box is not None
        assert box["x"] + box["width"] <= 390, f"{label} is off the side of the card"


def test_after_logging_in_the_focus_is_in_the_search_box(
    list_page: Page, live_server: LiveServer, browser: Browser
) -> None:
    User.objects.create_user("rows-login", password="a-long-enough-password-7")
    Membership.objects.create(
        user=User.objects.get(username="rows-login"),
        organization=Organization.objects.get(amili_id=ORG_ID),
        role=Role.VIEWER,
    )
    fresh = browser.new_page()  # no session: the login form, then the list
    try:
        login(fresh, live_server, "rows-login", "a-long-enough-password-7")

        expect(fresh.locator(ROWS).first).to_be_visible()
        expect(fresh.locator("input[type='search'][name='q']")).to_be_focused()
        fresh.keyboard.type("Hauge")  # typing starts the search at once
        expect(fresh).to_have_url(re.compile(r"q=Hauge"))
    finally:
        fresh.close()


def test_a_list_address_naming_a_place_on_the_page_keeps_its_focus(list_page: Page) -> None:
    list_page.goto(f"{list_page.url.split('#')[0]}#results")

    expect(list_page.locator("input[type='search'][name='q']")).not_to_be_focused()
