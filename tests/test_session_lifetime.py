"""Sessions end after idle time and after an absolute time; logout ends them on the server;
a removed membership takes effect on the very next request."""

import time

import pytest
from django.contrib.auth.models import User
from django.contrib.sessions.backends.base import SessionBase
from django.test import Client
from pytest_django.fixtures import Settings

from dashboard import security
from dashboard.models import Membership, Organization
from tests.support.security_log import security_lines

PAGE = "/organization/switch/"  # any page behind login; POST-only, so GET answers 405 cheaply


def age_session(client: Client, *, login_ago: float, seen_ago: float) -> None:
    """Pretend the session logged in `login_ago` seconds ago and was last seen `seen_ago` ago."""
    session = client.session
    now = time.time()
    session[security.SESSION_LOGIN_AT] = int(now - login_ago)
    session[security.SESSION_SEEN_AT] = int(now - seen_ago)
    session.save()


def stored(client: Client) -> SessionBase:
    return client.session


def test_login_records_when_the_session_started(client_a: Client) -> None:
    session = stored(client_a)
    assert abs(session[security.SESSION_LOGIN_AT] - time.time()) < 5
    assert session[security.SESSION_SEEN_AT] == session[security.SESSION_LOGIN_AT]


def test_an_active_session_keeps_working(client_a: Client) -> None:
    age_session(client_a, login_ago=11 * 3600, seen_ago=29 * 60)
    assert client_a.get(PAGE).status_code == 405


def test_thirty_idle_minutes_end_the_session(client_a: Client) -> None:
    age_session(client_a, login_ago=3600, seen_ago=30 * 60 + 1)
    old_key = str(client_a.session.session_key)

    response = client_a.get(PAGE, headers={"Accept-Language": "en"})

    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/?next=")
    assert "_auth_user_id" not in client_a.session
    assert not type(client_a.session)().exists(old_key)  # flushed on the server
    login_page = client_a.get(response["Location"], headers={"Accept-Language": "en"})
    assert "You were logged out after 30 minutes without activity." in login_page.content.decode()


def test_twelve_hours_after_login_the_session_ends_however_active(client_a: Client) -> None:
    age_session(client_a, login_ago=12 * 3600 + 1, seen_ago=10)
    response = client_a.get(PAGE, headers={"Accept-Language": "en"})
    assert response.status_code == 302
    login_page = client_a.get(response["Location"], headers={"Accept-Language": "en"})
    assert "Your session has ended. Log in again to go on." in login_page.content.decode()


def test_the_limits_are_settings(client_a: Client, settings: Settings) -> None:
    settings.SESSION_IDLE_MINUTES = 5
    age_session(client_a, login_ago=3600, seen_ago=5 * 60 + 1)
    assert client_a.get(PAGE).status_code == 302


def test_an_expired_session_on_an_htmx_request_sends_the_page_to_login(client_a: Client) -> None:
    age_session(client_a, login_ago=3600, seen_ago=3600)
    response = client_a.get(
        "/cases/",
        headers={"HX-Request": "true", "HX-Current-URL": "http://testserver/cases/?status=OPEN"},
    )
    assert response.status_code == 200
    assert response["HX-Redirect"].startswith("/accounts/login/?next=/cases/")


def test_a_session_without_a_login_time_is_ended(client_a: Client) -> None:
    session = client_a.session
    del session[security.SESSION_LOGIN_AT]
    session.save()
    assert client_a.get(PAGE).status_code == 302


def test_activity_is_recorded_at_most_once_a_minute(client_a: Client) -> None:
    age_session(client_a, login_ago=600, seen_ago=30)
    before = stored(client_a)[security.SESSION_SEEN_AT]
    client_a.get(PAGE)
    assert stored(client_a)[security.SESSION_SEEN_AT] == before  # no session write

    age_session(client_a, login_ago=600, seen_ago=61)
    client_a.get(PAGE)
    assert abs(stored(client_a)[security.SESSION_SEEN_AT] - time.time()) < 5


def test_the_session_cookie_outlives_the_idle_limit_so_the_server_ends_it(
    settings: Settings,
) -> None:
    # The server, not the browser, must see an idle session end: only then can the login page
    # say why and return to the same list (tests/test_organisation_context.py).
    assert settings.SESSION_COOKIE_AGE == settings.SESSION_MAX_HOURS * 3600
    assert settings.SESSION_COOKIE_AGE > settings.SESSION_IDLE_MINUTES * 60


def test_expiry_is_logged_with_its_reason(client_a: Client, agent_a: User) -> None:
    age_session(client_a, login_ago=3600, seen_ago=3600)
    with security_lines() as lines:
        client_a.get(PAGE)
    assert [line for line in lines if "event=session_expired" in line] == [
        f"event=session_expired user_id={agent_a.pk} reason=idle address=127.0.0.1 route=-"
    ]


def test_logout_ends_the_session_on_the_server(client_a: Client, agent_a: User) -> None:
    cookie = client_a.cookies["sessionid"].value
    with security_lines() as lines:
        response = client_a.post("/accounts/logout/")
    assert response.status_code == 302
    assert not type(client_a.session)().exists(cookie)

    replay = Client()
    replay.cookies["sessionid"] = cookie  # the old cookie, kept by someone
    assert replay.get("/cases/").status_code == 302
    assert any(line.startswith(f"event=logout user_id={agent_a.pk} reason=user") for line in lines)


@pytest.mark.django_db
def test_a_removed_membership_takes_effect_on_the_very_next_request(
    client_a: Client, agent_a: User, org_a: Organization
) -> None:
    assert client_a.get("/organization/switch/").status_code == 405  # logged in, a member
    assert client_a.get("/cases/?status=NOT-A-STATUS").status_code == 400  # past the org check

    Membership.objects.filter(user=agent_a, organization=org_a).delete()

    response = client_a.get("/cases/?status=NOT-A-STATUS")
    assert response.status_code == 403
