"""Login throttling (django-axes): a cool-off per user name and per address, never a lock.

Attempts live in the database, so each test starts with none (its transaction is rolled back).
"""

import re
from datetime import timedelta
from typing import TYPE_CHECKING

import pytest
from axes.models import AccessAttempt
from django.contrib.auth.models import User
from django.test import Client, RequestFactory
from django.utils import timezone
from pytest_django.fixtures import Settings

from dashboard.models import Organization, Role
from dashboard.security import client_address
from tests.support.people import make_member
from tests.support.security_log import security_lines

if TYPE_CHECKING:  # the test client's response type exists only in django-stubs
    from django.test.client import _MonkeyPatchedWSGIResponse as Response

LOGIN_URL = "/accounts/login/"
PASSWORD = "pw-12345!"  # tests.support.people's


@pytest.fixture
def kari(org_a: Organization) -> User:
    return make_member(org_a, Role.AGENT, "kari")


def attempt(client: Client, username: str, password: str, address: str = "10.0.0.1") -> "Response":
    return client.post(
        LOGIN_URL,
        {"username": username, "password": password},
        REMOTE_ADDR=address,
        headers={"Accept-Language": "en"},
    )


def fail(times: int, username: str = "kari", address: str = "10.0.0.1") -> list[int]:
    """Fail `times` logins; the statuses answered."""
    client = Client()
    return [attempt(client, username, "wrong-password", address).status_code for _ in range(times)]


def without_tokens(html: str) -> str:
    """The page without what differs between any two renders: CSRF tokens, the clock."""
    return re.sub(r"[A-Za-z0-9]{32,}|\d\d:\d\d", "", html)


def test_the_fifth_failure_is_answered_with_the_lockout_page(kari: User) -> None:
    assert fail(5) == [200, 200, 200, 200, 429]


def test_five_failures_for_one_user_name_pause_its_logins(kari: User) -> None:
    fail(5)

    response = attempt(Client(), "kari", PASSWORD, address="10.9.9.9")  # right password too

    assert response.status_code == 429
    assert "_auth_user_id" not in Client().session
    html = response.content.decode()
    assert "Too many login attempts" in html
    assert "15 minutes" in html
    assert re.search(r"Try again after \d\d:\d\d", html)
    assert response["Retry-After"] == "900"


def test_four_failures_do_not(kari: User) -> None:
    fail(4)
    response = attempt(Client(), "kari", PASSWORD)
    assert response.status_code == 302


def test_the_lockout_page_names_no_one_and_looks_the_same_for_unknown_names(kari: User) -> None:
    fail(5, "kari")
    fail(5, "nobody-here", address="10.0.0.2")

    known = attempt(Client(), "kari", "x", address="10.0.0.3")
    unknown = attempt(Client(), "nobody-here", "x", address="10.0.0.4")

    assert known.status_code == unknown.status_code == 429
    assert "kari" not in known.content.decode()
    assert "nobody-here" not in unknown.content.decode()
    assert without_tokens(known.content.decode()) == without_tokens(unknown.content.decode())


def test_a_failed_login_does_not_say_whether_the_user_exists(kari: User) -> None:
    known = attempt(Client(), "kari", "wrong").content.decode()
    unknown = attempt(Client(), "nobody-here", "wrong").content.decode()
    assert "Please enter a correct username and password" in known
    assert without_tokens(known.replace("kari", "X")) == without_tokens(
        unknown.replace("nobody-here", "X")
    )


def test_many_failures_from_one_address_pause_that_address(kari: User, settings: Settings) -> None:
    settings.LOGIN_FAILURE_LIMIT_PER_ADDRESS = 8
    for index in range(8):
        fail(1, f"guess-{index}", address="10.0.0.7")

    assert attempt(Client(), "kari", PASSWORD, address="10.0.0.7").status_code == 429
    assert attempt(Client(), "kari", PASSWORD, address="10.0.0.8").status_code == 302


def test_an_address_gets_more_tries_than_a_user_name(kari: User) -> None:
    for index in range(10):  # an office behind one address, colleagues mistyping
        fail(1, f"colleague-{index}", address="10.0.0.7")
    assert attempt(Client(), "kari", PASSWORD, address="10.0.0.7").status_code == 302


def test_logins_resume_after_the_cool_off(kari: User) -> None:
    fail(5)
    assert attempt(Client(), "kari", PASSWORD).status_code == 429

    AccessAttempt.objects.update(attempt_time=timezone.now() - timedelta(minutes=16))

    assert attempt(Client(), "kari", PASSWORD).status_code == 302


def test_the_limit_and_the_cool_off_are_settings(kari: User, settings: Settings) -> None:
    settings.AXES_FAILURE_LIMIT = 2
    settings.LOGIN_COOLOFF_MINUTES = 1
    settings.AXES_COOLOFF_TIME = timedelta(minutes=1)
    fail(2)
    response = attempt(Client(), "kari", PASSWORD)
    assert response.status_code == 429
    assert response["Retry-After"] == "60"
    assert "1 minute" in response.content.decode()


def test_the_lockout_page_is_translated(kari: User) -> None:
    fail(5)
    response = Client().post(
        LOGIN_URL,
        {"username": "kari", "password": "x"},
        REMOTE_ADDR="10.0.0.1",
        headers={"Accept-Language": "nb"},
    )
    assert response.status_code == 429
    assert "Too many login attempts" not in response.content.decode()
    assert "For mange innloggingsforsøk" in response.content.decode()


def test_throttled_and_failed_logins_reach_the_security_log(kari: User) -> None:
    with security_lines() as lines:
        fail(5)

    assert sum("event=login_failed" in line for line in lines) == 5
    assert sum("event=login_locked_out" in line for line in lines) == 1
    assert all(f"user_id={kari.pk}" in line for line in lines if "login_failed" in line)
    assert not [line for line in lines if "wrong-password" in line or "kari" in line]


def test_a_failed_login_for_an_unknown_name_logs_a_fingerprint_not_the_name(db: None) -> None:
    with security_lines() as lines:
        attempt(Client(), "kari.nordmann@example.no", "secret-typed-here")
    (line,) = lines
    assert "event=login_failed" in line
    assert "user_id=-" in line
    assert re.search(r"user_name_fingerprint=[0-9a-f]{16}\b", line)
    assert "example.no" not in line
    assert "secret-typed-here" not in line


@pytest.mark.parametrize(
    ("proxies", "remote", "forwarded", "expected"),
    [
        (0, "10.0.0.1", "6.6.6.6", "10.0.0.1"),  # no trusted proxy: the header is anyone's
        (1, "10.0.0.1", "6.6.6.6, 203.0.113.9", "203.0.113.9"),  # the proxy appended the last
        (2, "10.0.0.1", "6.6.6.6, 203.0.113.9, 10.0.0.2", "203.0.113.9"),
        (1, "10.0.0.1", "", "10.0.0.1"),  # header missing: the proxy's own address
        (1, "10.0.0.1", "not-an-address", "10.0.0.1"),
        (0, "", "", None),
    ],
)
def test_the_client_address_comes_from_trusted_proxies_only(
    settings: Settings, proxies: int, remote: str, forwarded: str, expected: str | None
) -> None:
    settings.TRUSTED_PROXY_COUNT = proxies
    request = RequestFactory().get("/", REMOTE_ADDR=remote, HTTP_X_FORWARDED_FOR=forwarded)
    assert client_address(request) == expected


def test_behind_a_trusted_proxy_each_client_address_has_its_own_count(
    kari: User, settings: Settings
) -> None:
    settings.TRUSTED_PROXY_COUNT = 1
    settings.LOGIN_FAILURE_LIMIT_PER_ADDRESS = 3
    client = Client()
    for index in range(3):
        client.post(
            LOGIN_URL,
            {"username": f"guess-{index}", "password": "x"},
            REMOTE_ADDR="10.0.0.1",  # the proxy
            HTTP_X_FORWARDED_FOR="198.51.100.7",
        )
    blocked = Client().post(
        LOGIN_URL,
        {"username": "kari", "password": PASSWORD},
        REMOTE_ADDR="10.0.0.1",
        HTTP_X_FORWARDED_FOR="198.51.100.7",
    )
    other = Client().post(
        LOGIN_URL,
        {"username": "kari", "password": PASSWORD},
        REMOTE_ADDR="10.0.0.1",
        HTTP_X_FORWARDED_FOR="198.51.100.8",
    )
    assert blocked.status_code == 429
    assert other.status_code == 302
