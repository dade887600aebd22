"""Case actions in a real Chromium: open a case, pause it through the confirmation in place, see
"pending" and then the new state (the sandbox's batches run late here, as SANDBOX_BATCH_DELAY_MS
makes them in the demo), the entry on the case's timeline, and /audit/ for an administrator.
"""

import uuid
from typing import Final

import pytest
from django.conf import settings
from django.contrib.auth.models import User
from django.test import Client
from playwright.sync_api import Page, expect
from pytest_django import Settings
from pytest_django.live_server_helper import LiveServer

from cases.models import AuditEntry
from dashboard.models import Membership, Organization, Role
from sandbox.models import Case as SandboxCase
from sandbox.seeding import seed_organization
from tests.support.browser import assert_accessible, assert_no_console_errors

ORG_ID: Final = uuid.UUID("1f0c6a52-5c7e-4b55-9d0a-0000000000c3")
ORG_NAME: Final = "Stavanger Utleie AS"
AGENT: Final = "kari-actions"
ADMIN: Final = "ada-actions"


@pytest.fixture
def organization(transactional_db: None) -> Organization:
    seed_organization(ORG_ID, ORG_NAME, cases=30, seed=3)
    organization = Organization.objects.create(name=ORG_NAME, amili_id=ORG_ID)
    for username, role in ((AGENT, Role.AGENT), (ADMIN, Role.ADMIN)):
        user = User.objects.create_user(username, password="pw-12345!")
        Membership.objects.create(user=user, organization=organization, role=role)
    return organization


def sign_in(page: Page, live_server: LiveServer, username: str) -> None:
    client = Client()
    client.force_login(User.objects.get(username=username))
    session = client.cookies[settings.SESSION_COOKIE_NAME].value
    page.context.add_cookies(
        [{"name": settings.SESSION_COOKIE_NAME, "value": session, "url": live_server.url}]
    )


def test_an_agent_pauses_a_case_in_place_and_sees_it_on_the_timeline(
    page: Page,
    live_server: LiveServer,
    live_upstream: str,
    organization: Organization,
    settings: Settings,
) -> None:
    settings.SANDBOX_BATCH_DELAY_MS = 1500  # long enough to see "pending", short for a test
    case = (
        SandboxCase.objects.filter(organization_id=ORG_ID, status="OPEN")
        .order_by("case_number")
        .first()
    )
    assert case is not None
    sign_in(page, live_server, AGENT)
    page.goto(f"{live_server.url}/cases/{case.case_number}/")
    page.evaluate("window.__sameDocument = true")

    page.locator("#case-actions").get_by_role("link", name="Pause", exact=True).click()

    panel = page.locator("#action-panel")
    expect(panel.get_by_role("heading", name="Pause the case")).to_be_visible()
    expect(panel.get_by_text("Collection stops")).to_be_visible()
    reason = panel.get_by_label("Reason")
    expect(reason).to_be_focused()
    reason.select_option("PAYMENT_PLAN")
    panel.get_by_label("Explanation").fill("Instalments agreed on the phone")
    assert_accessible(page, selector="#action-panel")
    panel.get_by_role("button", name="Pause").click()

    expect(panel.get_by_text("Accepted by AutoCollect")).to_be_visible()
    expect(panel.get_by_text("Pending: AutoCollect is carrying out the action.")).to_be_visible()
    expect(panel.get_by_text("Done: the case was paused.")).to_be_visible(timeout=10_000)
    expect(page.locator("#batch-status .badge").first).to_have_text("Paused")

    timeline = page.locator("#case-timeline")
    expect(timeline).to_contain_text("Pause: Done")
    expect(timeline).to_contain_text("Payment plan agreed with the debtor: Instalments agreed")
    actions = page.locator("#case-actions")
    expect(actions.get_by_role("link", name="Resume", exact=True)).to_be_visible()
    expect(actions.get_by_role("link", name="Pause", exact=True)).to_have_count(0)
    assert page.evaluate("window.__sameDocument === true"), "the page was reloaded"
    assert SandboxCase.objects.get(pk=case.pk).status == "PAUSED"
    entry = AuditEntry.objects.get(organization=organization, case_number=case.case_number)
    assert (entry.outcome, entry.username) == ("succeeded", AGENT)
    assert_accessible(page)
    assert_no_console_errors(page)

    sign_in(page, live_server, ADMIN)
    page.goto(f"{live_server.url}/audit/")
    expect(page.get_by_role("heading", name="Audit trail")).to_be_visible()
    expect(page.locator("#audit-results")).to_contain_text(AGENT)
    expect(page.locator("#audit-results")).to_contain_text(str(case.case_number))
    assert_accessible(page)
    assert_no_console_errors(page)
