"""The decision queues in a real Chromium: the keyboard flow from selecting to deciding, the
shortcuts dialog, shortcuts that stay quiet while typing, accessibility.

One organisation is seeded in the sandbox and indexed by a real full refresh through the live
server; the assertions read the index and the audit trail, not hard-coded numbers.
"""

import itertools
import time
import uuid
from typing import Final

import pytest
from django.conf import settings
from django.contrib.auth.models import User
from django.test import Client
from playwright.sync_api import Locator, Page, expect
from pytest_django.live_server_helper import LiveServer

from cases.models import AuditEntry
from dashboard.models import Membership, Organization, Role
from sandbox.models import Case as SandboxCase
from sandbox.seeding import seed_organization
from tests.support.browser import assert_accessible, assert_no_console_errors
from triage import sync
from triage.queries import Queue, queue, queue_counts

ORG_ID: Final = uuid.UUID("1f0c6a52-5c7e-4b55-9d0a-0000000000a1")
ORG_NAME: Final = "Bergen Boliger AS"
SEED: Final = 7
CASE_COUNT: Final = 120
AGENT: Final = "kari"
VIEWER: Final = "ola"
ROWS: Final = "[data-triage-table] tbody tr[data-case-number]"
SELECTED: Final = f"{ROWS}[aria-current='true']"


@pytest.fixture
def organization(transactional_db: None, live_upstream: str) -> Organization:
    """The sandbox organisation, its dashboard twin with an agent and a viewer, indexed."""
    seed_organization(ORG_ID, ORG_NAME, cases=CASE_COUNT, seed=SEED)
    organization = Organization.objects.create(name=ORG_NAME, amili_id=ORG_ID)
    for username, role in ((AGENT, Role.AGENT), (VIEWER, Role.VIEWER)):
        user = User.objects.create_user(username, password="correct-horse-battery")
        Membership.objects.create(user=user, organization=organization, role=role)
    sync.full_refresh(organization)
    return organization


def sign_in(page: Page, live_server: LiveServer, username: str) -> None:
    client = Client()
    client.force_login(User.objects.get(username=username))
    session = client.cookies[settings.SESSION_COOKIE_NAME].value
    page.context.add_cookies(
        [{"name": settings.SESSION_COOKIE_NAME, "value": session, "url": live_server.url}]
    )


def approvals(organization: Organization) -> list[int]:
    """The approvals queue's case numbers in its default order (waiting longest first)."""
    return [row.case_number for row in queue(organization, Queue.DEBT_COLLECTION_LIST)]


def selected_number(page: Page) -> Locator:
    return page.locator(SELECTED)


def test_an_agent_clears_an_approval_with_the_keyboard(
    page: Page, live_server: LiveServer, organization: Organization
) -> None:
    waiting = approvals(organization)
    assert len(waiting) >= 3, "the seed gives too few approvals; change SEED"
    sign_in(page, live_server, AGENT)
    page.goto(f"{live_server.url}/triage/")
    expect(page.locator(ROWS)).to_have_count(len(waiting))

    # j selects the first case and loads its panel; j, k move on and back.
    page.keyboard.press("j")
    expect(selected_number(page)).to_have_attribute("data-case-number", str(waiting[0]))
    expect(page.locator("#triage-panel")).to_have_attribute("data-case-number", str(waiting[0]))
    page.keyboard.press("j")
    expect(page.locator("#triage-panel")).to_have_attribute("data-case-number", str(waiting[1]))
    page.keyboard.press("k")
    expect(page.locator("#triage-panel")).to_have_attribute("data-case-number", str(waiting[0]))
    expect(page).to_have_url(
        f"{live_server.url}/triage/?queue=debt-collection-list&selected={waiting[0]}"
    )
    expect(page.locator(f"{ROWS}[data-case-number='{waiting[0]}']")).to_be_focused()

    # a opens the confirmation in the dialog, the focus in it; Enter confirms.
    page.keyboard.press("a")
    dialog = page.locator("#action-dialog")
    expect(dialog).to_be_visible()
    expect(dialog.get_by_role("heading", name="Accept the debt-collection list")).to_be_visible()
    assert page.evaluate(
        "document.getElementById('action-dialog').contains(document.activeElement)"
    )
    page.keyboard.press("Enter")

    # The case leaves the queue, the next one is selected and has the focus.
    expect(dialog).to_be_hidden()
    expect(page.locator(f"{ROWS}[data-case-number='{waiting[0]}']")).to_have_count(0)
    expect(selected_number(page)).to_have_attribute("data-case-number", str(waiting[1]))
    expect(page.locator("#triage-panel")).to_have_attribute("data-case-number", str(waiting[1]))
    expect(page.locator(f"{ROWS}[data-case-number='{waiting[1]}']")).to_be_focused()
    count = page.locator("nav.triage-tabs a[aria-current='page'] .triage-tabs__count")
    expect(count).to_have_text(str(len(waiting) - 1))
    assert f"selected={waiting[1]}" in page.url

    # The decision is in the audit trail, and on the case page's timeline.
    entry = AuditEntry.objects.get(case_number=waiting[0], action="accept-debt-collection")
    assert entry.username == AGENT
    assert entry.outcome in {"accepted", "succeeded"}
    page.goto(f"{live_server.url}/cases/{waiting[0]}/")
    timeline = page.locator("#case-timeline")
    expect(timeline).to_contain_text(AGENT)
    expect(timeline).to_contain_text("Accept debt collection")
    assert_no_console_errors(page)


TEN: Final = 10


def test_an_agent_clears_ten_approvals_with_the_keyboard_in_under_a_minute(
    page: Page, live_server: LiveServer, organization: Organization
) -> None:
    """The issue's "done when": ten debt-collection-list approvals cleared by keyboard in under
    a minute, each decision in the audit trail, the counts right."""
    # Enough approvals for ten and a next one: open collection notices wait for the decision.
    SandboxCase.objects.filter(
        organization_id=ORG_ID, status="OPEN", sub_status="NONE", type="COLLECTION_NOTICE"
    ).update(sub_status="DEBT_COLLECTION_LIST_MANUAL")
    sync.full_refresh(organization)
    waiting = approvals(organization)
    assert len(waiting) > TEN, "too few open collection notices to make approvals of; see SEED"
    count = page.locator("nav.triage-tabs a[aria-current='page'] .triage-tabs__count")
    sign_in(page, live_server, AGENT)
    page.goto(f"{live_server.url}/triage/")
    expect(count).to_have_text(str(len(waiting)))
    dialog = page.locator("#action-dialog")

    started = time.monotonic()
    page.keyboard.press("j")
    for decided, following in itertools.pairwise(waiting[: TEN + 1]):
        expect(page.locator("#triage-panel")).to_have_attribute("data-case-number", str(decided))
        page.keyboard.press("a")
        expect(dialog).to_be_visible()
        page.keyboard.press("Enter")
        expect(dialog).to_be_hidden()
        expect(selected_number(page)).to_have_attribute("data-case-number", str(following))
        expect(page.locator(f"{ROWS}[data-case-number='{following}']")).to_be_focused()
    expect(page.locator("#triage-panel")).to_have_attribute("data-case-number", str(waiting[TEN]))
    elapsed = time.monotonic() - started

    assert elapsed < 60, f"ten decisions took {elapsed:.1f} s"
    expect(count).to_have_text(str(len(waiting) - TEN))
    cleared = waiting[:TEN]
    entries = AuditEntry.objects.filter(action="accept-debt-collection", username=AGENT)
    assert list(entries.order_by("case_number").values_list("case_number", flat=True)) == sorted(
        cleared
    )
    assert set(entries.values_list("outcome", flat=True)) <= {"accepted", "succeeded"}
    # The sandbox made each decision, and the index, read again, counts what the queue showed.
    still_waiting = SandboxCase.objects.filter(
        organization_id=ORG_ID,
        sub_status="DEBT_COLLECTION_LIST_MANUAL",
        status__in=["OPEN", "PAUSED"],
    )
    assert not still_waiting.filter(case_number__in=cleared).exists()
    sync.full_refresh(organization)
    assert queue_counts(organization)[Queue.DEBT_COLLECTION_LIST] == still_waiting.count()
    assert still_waiting.count() == len(waiting) - TEN
    assert_no_console_errors(page)


def test_enter_opens_the_selected_case(
    page: Page, live_server: LiveServer, organization: Organization
) -> None:
    waiting = approvals(organization)
    sign_in(page, live_server, AGENT)
    page.goto(f"{live_server.url}/triage/")
    page.keyboard.press("j")
    expect(page.locator("#triage-panel")).to_have_attribute("data-case-number", str(waiting[0]))

    page.keyboard.press("Enter")

    expect(page).to_have_url(f"{live_server.url}/cases/{waiting[0]}/")


def test_question_mark_lists_the_shortcuts_and_escape_closes_them(
    page: Page, live_server: LiveServer, organization: Organization
) -> None:
    sign_in(page, live_server, AGENT)
    page.goto(f"{live_server.url}/triage/")

    page.keyboard.press("?")

    shortcuts = page.get_by_role("dialog", name="Keyboard shortcuts")
    expect(shortcuts).to_be_visible()
    expect(shortcuts).to_contain_text("Next / previous case")
    assert_accessible(page)
    page.keyboard.press("Escape")
    expect(shortcuts).to_be_hidden()


def test_typing_in_the_filter_does_not_move_the_selection(
    page: Page, live_server: LiveServer, organization: Organization
) -> None:
    sign_in(page, live_server, AGENT)
    page.goto(f"{live_server.url}/triage/?queue=open")
    search = page.get_by_role("searchbox", name="Filter")

    search.click()
    page.keyboard.type("jjk")

    expect(search).to_have_value("jjk")
    expect(page.locator(SELECTED)).to_have_count(0)
    expect(page.locator("#triage-panel")).not_to_have_attribute("data-case-number", "x")
    assert page.locator("#triage-panel[data-case-number]").count() == 0
    expect(page.locator("#action-dialog")).to_be_hidden()


def test_a_viewer_gets_no_action_keys(
    page: Page, live_server: LiveServer, organization: Organization
) -> None:
    waiting = approvals(organization)
    sign_in(page, live_server, VIEWER)
    page.goto(f"{live_server.url}/triage/")
    page.keyboard.press("j")
    expect(page.locator("#triage-panel")).to_have_attribute("data-case-number", str(waiting[0]))

    page.keyboard.press("a")

    expect(page.locator("#action-dialog")).to_be_hidden()
    expect(page.locator("#triage-panel [data-shortcut]")).to_have_count(0)
    assert not AuditEntry.objects.exists()


def test_the_queue_page_is_accessible_with_a_case_selected(
    page: Page, live_server: LiveServer, organization: Organization
) -> None:
    waiting = approvals(organization)
    sign_in(page, live_server, AGENT)
    page.goto(f"{live_server.url}/triage/?selected={waiting[0]}")
    expect(page.locator("#triage-panel")).to_have_attribute("data-case-number", str(waiting[0]))

    assert_accessible(page)
    page.goto(f"{live_server.url}/triage/?queue=open&sort=-amount&page=2")
    expect(page.locator(ROWS)).not_to_have_count(0)
    assert_accessible(page)
    assert_no_console_errors(page)
