"""Fixtures shared by the whole suite."""

import logging
from collections.abc import Iterator

import pytest
from django.contrib.auth.models import User
from django.core.cache import cache
from django.test import Client
from pytest_django.fixtures import Settings

from cases import autocollect
from dashboard.models import Organization, Role
from sandbox.models import SandboxOrganization
from tests.support.people import ORG_A_ID, ORG_A_NAME, ORG_B_ID, ORG_B_NAME, make_member
from tests.support.sandbox_data import sandbox_organization
from tests.support.transport import RecordingTransport, in_process_sandbox


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings: Settings) -> None:
    """The suite creates many users; real password hashing would dominate its run time."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _instant_autocollect_retries(settings: Settings) -> Iterator[None]:
    """The client retries at once and waits for no Retry-After; each test starts without the
    token an earlier test left in the process. Tests that time retries use their own settings
    and autocollect.use_clock()."""
    settings.AUTOCOLLECT_BACKOFF_BASE = 0
    settings.AUTOCOLLECT_RETRY_AFTER_CAP = 0
    autocollect.reset_http_client()
    yield
    autocollect.reset_http_client()


@pytest.fixture(autouse=True)
def _empty_cache() -> Iterator[None]:
    """Tokens and upstream data are cached; no test sees another's."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def client_log(caplog: pytest.LogCaptureFixture) -> Iterator[pytest.LogCaptureFixture]:
    """caplog at the AutoCollect client's own logger, from DEBUG up ("cases" does not propagate
    to the root logger)."""
    log = logging.getLogger("cases.autocollect")
    log.addHandler(caplog.handler)
    caplog.set_level(logging.DEBUG, logger="cases.autocollect")
    yield caplog
    log.removeHandler(caplog.handler)


@pytest.fixture
def org_a(db: None) -> Organization:
    return Organization.objects.create(name=ORG_A_NAME, amili_id=ORG_A_ID)


@pytest.fixture
def org_b(db: None) -> Organization:
    return Organization.objects.create(name=ORG_B_NAME, amili_id=ORG_B_ID)


@pytest.fixture
def admin_a(org_a: Organization) -> User:
    return make_member(org_a, Role.ADMIN)


@pytest.fixture
def agent_a(org_a: Organization) -> User:
    return make_member(org_a, Role.AGENT)


@pytest.fixture
def viewer_a(org_a: Organization) -> User:
    return make_member(org_a, Role.VIEWER)


@pytest.fixture
def client_a(client: Client, agent_a: User) -> Client:
    """A browser session logged in as an agent of organisation A."""
    client.force_login(agent_a)
    return client


@pytest.fixture
def client_a_in_english(agent_a: User) -> Client:
    """An agent of organisation A whose browser asks for English (for tests of English texts)."""
    client = Client(headers={"Accept-Language": "en"})
    client.force_login(agent_a)
    return client


# --- The in-process sandbox ---------------------------------------------------------------------


@pytest.fixture
def sandbox_upstream(db: None) -> Iterator[RecordingTransport]:
    """The client talks to the in-process sandbox; the fixture's value records every request.

    Every upstream call goes through a WSGI transport into this very Django process, so views,
    client and sandbox run together inside the test's transaction: fast, and no server.
    """
    recorder = RecordingTransport(in_process_sandbox())
    autocollect.use_transport(recorder)
    try:
        yield recorder
    finally:
        autocollect.use_transport(None)


@pytest.fixture
def sandbox_a(org_a: Organization, sandbox_upstream: RecordingTransport) -> SandboxOrganization:
    """Organisation A in the in-process sandbox, with no cases yet; the client talks to it."""
    return sandbox_organization(org_a)
