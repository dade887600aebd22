"""A user's memberships come from the shared cache, and every change takes effect at once.

dashboard.middleware.user_memberships keeps the list per user under a generation; saving or
deleting a membership, or saving an organisation, gives the users concerned a new one.
"""

from collections.abc import Iterator
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core.cache import cache
from django.db import connection
from django.test import Client, override_settings
from django.test.utils import CaptureQueriesContext

from dashboard import middleware
from dashboard.models import Membership, Organization, Role
from tests.support.people import make_member

# An invalid filter: the list answers 400 without asking the upstream, past the organisation check.
PAGE = "/cases/?from=not-a-date"


@pytest.fixture(autouse=True)
def _membership_cache_on() -> Iterator[None]:
    """On as with Redis (the suite's local-memory cache turns it off by default)."""
    with override_settings(MEMBERSHIP_CACHE_SECONDS=300):
        yield


def membership_reads(client: Client) -> int:
    with CaptureQueriesContext(connection) as queries:
        client.get(PAGE)
    return len([q for q in queries if 'FROM "dashboard_membership"' in q["sql"]])


def test_the_next_requests_read_no_memberships_from_the_database(client_a: Client) -> None:
    assert membership_reads(client_a) == 1
    assert membership_reads(client_a) == 0
    assert client_a.get(PAGE).status_code == 400  # still a member, past the organisation check


def test_zero_seconds_reads_them_on_every_request(client_a: Client) -> None:
    with override_settings(MEMBERSHIP_CACHE_SECONDS=0):
        assert membership_reads(client_a) == 1
        assert membership_reads(client_a) == 1


def test_a_new_membership_shows_on_the_next_request(
    client_a: Client, agent_a: User, org_b: Organization
) -> None:
    assert org_b.name not in client_a.get(PAGE).content.decode()

    Membership.objects.create(user=agent_a, organization=org_b, role=Role.VIEWER)

    assert org_b.name in client_a.get(PAGE).content.decode()  # the switcher lists it


def test_a_removed_membership_takes_effect_on_the_next_request(
    client_a: Client, agent_a: User
) -> None:
    client_a.get(PAGE)

    Membership.objects.filter(user=agent_a).delete()

    assert client_a.get(PAGE).status_code == 403


def test_a_changed_role_takes_effect_on_the_next_request(client_a: Client, agent_a: User) -> None:
    client_a.get(PAGE)
    membership = Membership.objects.get(user=agent_a)
    membership.role = Role.VIEWER
    membership.save()

    request_membership = client_a.get(PAGE).wsgi_request.membership  # type: ignore[attr-defined]

    assert request_membership.role == Role.VIEWER


def test_a_renamed_organisation_shows_on_its_members_next_request(
    client_a: Client, org_a: Organization, org_b: Organization, agent_a: User
) -> None:
    Membership.objects.create(user=agent_a, organization=org_b, role=Role.VIEWER)
    client_a.get(PAGE)

    org_b.name = "Narvik Nett AS"
    org_b.save()

    assert "Narvik Nett AS" in client_a.get(PAGE).content.decode()


def test_a_list_read_before_a_change_is_never_used(org_a: Organization) -> None:
    user = make_member(org_a, Role.AGENT, "racing")
    generation_key, entry_key = middleware._membership_keys(user.pk)
    cache.set(generation_key, "before")
    stale = list(Membership.objects.filter(user=user).select_related("organization"))
    Membership.objects.filter(user=user).delete()  # forgets: a new generation
    cache.set(entry_key, ("before", stale))  # the slow reader stores what it read before

    client = Client()
    client.force_login(user)

    assert client.get(PAGE).status_code == 403


def test_a_list_read_before_the_change_committed_is_dropped_at_the_commit(
    client_a: Client, agent_a: User, django_capture_on_commit_callbacks: Any
) -> None:
    client_a.get(PAGE)
    generation_key, entry_key = middleware._membership_keys(agent_a.pk)
    before = list(Membership.objects.filter(user=agent_a).select_related("organization"))
    with django_capture_on_commit_callbacks(execute=True):
        Membership.objects.filter(user=agent_a).delete()
        # Another request, before the commit: it read the new generation, and the old list
        # from the database (where the deletion is not visible yet).
        cache.set(entry_key, (cache.get(generation_key), before))

    assert client_a.get(PAGE).status_code == 403
