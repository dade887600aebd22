"""Who sees which organisation: login everywhere, membership decides, nothing else does."""

from typing import Any

import pytest
from django.contrib.auth.models import AnonymousUser, User
from django.contrib.sessions.backends.db import SessionStore
from django.db import connection
from django.http import HttpRequest, HttpResponse
from django.test import Client, RequestFactory
from django.test.utils import CaptureQueriesContext
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from dashboard.middleware import SESSION_ORGANIZATION_KEY, OrganizationMiddleware
from dashboard.models import Membership, Organization, Role
from tests.support.people import make_member

# URL prefixes that must answer without a dashboard login.
# Reached without a session: the login page, probes, language, the sandbox and admin (their own
# logins), and the upstream's webhook, authenticated by its signature (tests/test_webhooks.py).
PUBLIC_PREFIXES = (
    "accounts/login/",
    "healthz",
    "readyz",
    "i18n/",
    "sandbox/",
    "admin/",
    "webhooks/",
)
SAMPLE_ARGUMENTS = {
    "int": "1",
    "str": "x",
    "path": "x",
    "slug": "x",
    "uuid": "1f0c6a52-5c7e-4b55-9d0a-0000000000a1",
    "case_number": "1",
    "customer_number": "x",
    "action_slug": "pause",  # cases.urls: one of the action catalogue's slugs
    "batch_reference": "x",
}


def _all_paths(resolver: URLResolver | None = None, prefix: str = "") -> list[str]:
    """Every concrete path the URLconf serves, with sample values for its parameters."""
    resolver = resolver or get_resolver()
    paths: list[str] = []
    for entry in resolver.url_patterns:
        pattern = str(entry.pattern)
        if isinstance(entry, URLResolver):
            paths += _all_paths(entry, prefix + pattern)
        elif isinstance(entry, URLPattern):
            paths.append(_fill(prefix + pattern))
    return paths


def _fill(pattern: str) -> str:
    import re

    filled = re.sub(
        r"<(?:(\w+):)?\w+>", lambda m: SAMPLE_ARGUMENTS.get(m.group(1) or "str", "x"), pattern
    )
    return "/" + filled.lstrip("^").rstrip("$").replace("\\Z", "")


def _dashboard_paths() -> list[str]:
    return [p for p in _all_paths() if not p.lstrip("/").startswith(PUBLIC_PREFIXES)]


def test_the_urlconf_has_dashboard_pages_to_check() -> None:
    assert {"/cases/", "/cases/1/", "/debtors/x/"} <= set(_dashboard_paths())


@pytest.mark.django_db
@pytest.mark.parametrize("path", _dashboard_paths())
def test_every_dashboard_url_requires_login(client: Client, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


@pytest.mark.django_db
def test_an_expired_session_on_an_htmx_request_redirects_the_whole_page(client: Client) -> None:
    response = client.get(
        "/cases/?q=x",
        headers={"HX-Request": "true", "HX-Current-URL": "http://testserver/cases/?q=x"},
    )
    assert response.status_code == 200
    assert response["HX-Redirect"].startswith(reverse("login") + "?next=/cases/")


def _request_with(user: User, *, chosen: int | None = None, **extra: Any) -> HttpRequest:
    request = RequestFactory().get("/cases/", **extra)
    request.user = user
    request.session = SessionStore()
    if chosen is not None:
        request.session[SESSION_ORGANIZATION_KEY] = chosen
    return request


def _resolve_organization(request: HttpRequest) -> Organization | None:
    OrganizationMiddleware(lambda r: HttpResponse())(request)
    return request.organization  # type: ignore[attr-defined,no-any-return]


@pytest.mark.django_db
def test_the_organisation_comes_from_the_membership(agent_a: User, org_a: Organization) -> None:
    assert _resolve_organization(_request_with(agent_a)) == org_a


@pytest.mark.django_db
def test_the_organisation_never_comes_from_a_parameter_a_header_or_a_cookie(
    agent_a: User, org_a: Organization, org_b: Organization
) -> None:
    request = _request_with(
        agent_a,
        data={"organization": org_b.pk, "organization_id": str(org_b.amili_id), "org": org_b.pk},
        HTTP_X_ORGANIZATION=str(org_b.amili_id),
        HTTP_COOKIE=f"organization_id={org_b.pk}",
    )
    assert _resolve_organization(request) == org_a


@pytest.mark.django_db
def test_a_session_choice_without_membership_falls_back_to_a_real_membership(
    agent_a: User, org_a: Organization, org_b: Organization
) -> None:
    assert _resolve_organization(_request_with(agent_a, chosen=org_b.pk)) == org_a


@pytest.mark.django_db
def test_anonymous_requests_have_no_organisation() -> None:
    request = RequestFactory().get("/")
    request.user = AnonymousUser()
    request.session = SessionStore()
    assert _resolve_organization(request) is None


@pytest.mark.django_db
def test_a_member_of_two_organisations_switches_with_a_post(
    client: Client, org_a: Organization, org_b: Organization
) -> None:
    user = make_member(org_a, Role.ADMIN, "both")
    Membership.objects.create(user=user, organization=org_b, role=Role.VIEWER)
    client.force_login(user)
    response = client.post(reverse("switch_organization"), {"organization": org_b.pk})
    assert response.status_code == 302
    assert response["Location"] == reverse("cases:list")
    assert client.session[SESSION_ORGANIZATION_KEY] == org_b.pk


@pytest.mark.django_db
def test_switching_to_an_organisation_without_membership_is_refused(
    client_a: Client, org_a: Organization, org_b: Organization
) -> None:
    response = client_a.post(reverse("switch_organization"), {"organization": org_b.pk})
    assert response.status_code == 403
    assert SESSION_ORGANIZATION_KEY not in client_a.session


@pytest.mark.django_db
def test_switching_with_a_nonsense_value_is_refused(client_a: Client) -> None:
    response = client_a.post(reverse("switch_organization"), {"organization": "drop table"})
    assert response.status_code == 403


@pytest.mark.django_db
@pytest.mark.parametrize(
    "organization", ["9223372036854775808", "-9223372036854775809", "0", "-1", "9" * 5000]
)
def test_switching_to_an_id_beyond_the_database_is_refused_on_the_page_not_a_500(
    client_a: Client, organization: str
) -> None:
    response = client_a.post(
        reverse("switch_organization"),
        {"organization": organization},
        headers={"Accept-Language": "en"},
    )
    assert response.status_code == 403
    assert b"You are not a member of that organisation" in response.content
    assert SESSION_ORGANIZATION_KEY not in client_a.session


@pytest.mark.django_db
def test_switching_never_redirects_off_site(client: Client, org_a: Organization) -> None:
    user = make_member(org_a, Role.VIEWER, "solo")
    client.force_login(user)
    response = client.post(
        reverse("switch_organization"), {"organization": org_a.pk, "next": "https://evil.example/"}
    )
    assert response["Location"] == reverse("cases:list")


@pytest.mark.django_db
def test_switching_needs_a_post(client_a: Client) -> None:
    assert client_a.get(reverse("switch_organization")).status_code == 405


@pytest.mark.django_db
def test_a_user_without_membership_sees_a_page_that_says_so(client: Client) -> None:
    client.force_login(User.objects.create_user("lonely", password="pw-12345!"))
    response = client.get("/cases/", headers={"Accept-Language": "en"})
    assert response.status_code == 403
    assert b"no organisation" in response.content.lower()


@pytest.mark.django_db
def test_healthz_answers_without_login(client: Client) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


@pytest.mark.django_db
def test_a_page_reads_the_users_memberships_once(
    client: Client, org_a: Organization, org_b: Organization
) -> None:
    user = make_member(org_a, Role.AGENT, "two-orgs")
    Membership.objects.create(user=user, organization=org_b, role=Role.VIEWER)
    client.force_login(user)

    with CaptureQueriesContext(connection) as queries:
        response = client.get("/cases/?from=not-a-date")  # invalid: nothing goes upstream

    assert response.status_code == 400
    assert org_b.name in response.content.decode()  # the switcher lists both organisations
    membership_reads = [q for q in queries if 'FROM "dashboard_membership"' in q["sql"]]
    assert len(membership_reads) == 1
