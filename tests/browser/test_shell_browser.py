"""The shell in a real Chromium: logging in and out, switching language and organisation,
accessibility and a clean console under the Content-Security-Policy."""

import re
import uuid

import pytest
from django.contrib.auth.models import User
from playwright.sync_api import Page, ViewportSize, expect
from pytest_django.live_server_helper import LiveServer

from dashboard.models import Membership, Organization, Role
from sandbox.seeding import seed_organization
from tests.support.browser import (
    assert_accessible,
    assert_no_console_errors,
    login,
)

PASSWORD = "correct-horse-battery"
PHONE = ViewportSize(width=390, height=844)


@pytest.fixture
def staff(transactional_db: None) -> User:
    """An agent of two organisations the sandbox knows, so the header offers a switch."""
    user = User.objects.create_user("kari", password=PASSWORD)
    for name, amili_id in (
        ("Bergen Boliger AS", uuid.UUID("1f0c6a52-5c7e-4b55-9d0a-0000000000a1")),
        ("Tromsø Kraft AS", uuid.UUID("1f0c6a52-5c7e-4b55-9d0a-0000000000b2")),
    ):
        seed_organization(amili_id, name, cases=3, seed=7)
        organization = Organization.objects.create(name=name, amili_id=amili_id)
        Membership.objects.create(user=user, organization=organization, role=Role.AGENT)
    return user


def test_logging_in_lands_on_the_case_list_and_logging_out_returns_to_login(
    page: Page, live_server: LiveServer, live_upstream: str, staff: User
) -> None:
    login(page, live_server, "kari", PASSWORD)
    expect(page).to_have_url(f"{live_server.url}/cases/")

    # Any page in the layout carries the logout button; a 404 needs nothing from the upstream.
    page.goto(f"{live_server.url}/no-such-page/")
    page.get_by_role("button", name="Log out").click()

    expect(page).to_have_url(re.compile(r"/accounts/login/$"))
    page.goto(f"{live_server.url}/cases/")
    expect(page).to_have_url(re.compile(r"/accounts/login/\?next=/cases/$"))
    assert_no_console_errors(page, allow=[r"status of 404"])


def test_wrong_password_is_told_on_the_login_page(
    page: Page, live_server: LiveServer, staff: User
) -> None:
    page.goto(f"{live_server.url}/accounts/login/")
    page.locator("#id_username").fill("kari")
    page.locator("#id_password").fill("not-the-password")
    page.get_by_role("button", name="Log in").click()

    expect(page.get_by_role("alert").filter(has_text="correct username")).to_be_visible()
    assert_accessible(page)
    assert_no_console_errors(page)


def test_login_page_is_accessible_and_clean_on_desktop_and_phone(
    page: Page, live_server: LiveServer
) -> None:
    page.goto(f"{live_server.url}/accounts/login/")
    expect(page.get_by_role("heading", name="Log in")).to_be_visible()
    # The stylesheet and both scripts arrived from static/ and ran under the CSP.
    expect(page.locator("html")).to_have_class(re.compile(r"\bjs\b"))
    assert page.evaluate("window.htmx && window.htmx.version").startswith("2.")
    assert page.evaluate("htmx.config.allowEval") is False
    assert_accessible(page)

    page.set_viewport_size(PHONE)
    page.reload()
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    assert_accessible(page)
    assert_no_console_errors(page)


def test_switching_language_on_the_login_page_changes_html_lang(
    page: Page, live_server: LiveServer
) -> None:
    page.goto(f"{live_server.url}/accounts/login/")
    expect(page.locator("html")).to_have_attribute("lang", "en")

    page.get_by_label("Language").select_option("nb")

    expect(page.locator("html")).to_have_attribute("lang", "nb")
    expect(page).to_have_url(f"{live_server.url}/accounts/login/")
    assert_no_console_errors(page)


def test_layout_for_a_logged_in_user_is_accessible_and_switches_organisation(
    page: Page, live_server: LiveServer, live_upstream: str, staff: User
) -> None:
    login(page, live_server, "kari", PASSWORD)
    page.goto(f"{live_server.url}/no-such-page/")
    expect(page.get_by_role("heading", name="We could not find that page")).to_be_visible()
    assert_accessible(page)

    switcher = page.get_by_label("Organisation")
    expect(switcher).to_have_value(str(Organization.objects.get(name="Bergen Boliger AS").pk))
    switcher.select_option(label="Tromsø Kraft AS")

    expect(page).to_have_url(f"{live_server.url}/cases/")
    page.goto(f"{live_server.url}/no-such-page/")
    expect(page.get_by_label("Organisation")).to_have_value(
        str(Organization.objects.get(name="Tromsø Kraft AS").pk)
    )
    assert_no_console_errors(page, allow=[r"status of 404"])


def test_skip_link_appears_on_focus_and_moves_to_the_content(
    page: Page, live_server: LiveServer
) -> None:
    page.goto(f"{live_server.url}/no-such-page/")  # no autofocus field, unlike the login page
    page.keyboard.press("Tab")

    skip = page.get_by_role("link", name="Skip to main content")
    expect(skip).to_be_focused()
    expect(skip).to_be_in_viewport()
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"#main$"))
    expect(page.locator("main#main")).to_be_focused()


def test_the_accessibility_check_fails_on_an_inaccessible_page(page: Page) -> None:
    page.set_content('<html><body><img src="data:,"><input type="text"></body></html>')

    with pytest.raises(pytest.fail.Exception, match="image-alt"):
        assert_accessible(page)


def test_the_console_check_catches_csp_violations_and_script_errors(page: Page) -> None:
    page.set_content(
        "<html><head><meta http-equiv='Content-Security-Policy' content=\"script-src 'none'\">"
        "</head><body><script>document.title = 'ran'</script></body></html>"
    )
    page.evaluate("setTimeout(() => { throw new Error('boom') }, 0)")
    page.wait_for_timeout(50)

    with pytest.raises(pytest.fail.Exception, match=r"(?s)Content Security Policy.*uncaught: boom"):
        assert_no_console_errors(page)
