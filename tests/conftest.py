"""Fixtures shared by the whole suite."""

from collections.abc import Iterator

import pytest
from django.contrib.auth.models import User
from django.core.cache import cache
from django.test import Client
from pytest_django.fixtures import Settings

from cases import autocollect
from dashboard.models import Membership, Organization, Role

pytest_plugins = ["tests.upstream"]

ORG_A_ID = "1f0c6a52-5c7e-4b55-9d0a-0000000000a1"
ORG_B_ID = "1f0c6a52-5c7e-4b55-9d0a-0000000000b2"


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
def org_a(db: None) -> Organization:
    return Organization.objects.create(name="Bergen Boliger AS", amili_id=ORG_A_ID)


@pytest.fixture
def org_b(db: None) -> Organization:
    return Organization.objects.create(name="Tromsø Kraft AS", amili_id=ORG_B_ID)


def make_member(organization: Organization, role: str, username: str | None = None) -> User:
    user = User.objects.create_user(username or f"{role}-{organization.pk}", password="pw-12345!")
    Membership.objects.create(user=user, organization=organization, role=role)
    return user


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
