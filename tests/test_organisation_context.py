"""Several organisations and keeping one's place: a page never mixes two organisations, a switch
keeps the filters that still make sense, a case of the user's other organisation offers a switch,
the case page returns to the list it was opened from, and an expired session resumes the search.
"""

import time
from urllib.parse import urlsplit

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse

from dashboard import security
from dashboard.middleware import SESSION_ORGANIZATION_KEY
from dashboard.models import Membership, Organization, Role
from dashboard.organisation_stamp import ORGANIZATION_HEADER
from sandbox.models import SandboxOrganization
from tests.support.pages import text_of
from tests.support.people import make_member
from tests.support.sandbox_data import (
    DEBTOR_ID,
    NATIONAL_ID,
    add_case,
    add_debtor,
    sandbox_organization,
)
from tests.support.transport import RecordingTransport

A_CASE = 4_300_001  # only in organisation A
B_CASE = 4_300_002  # only in organisation B
PASSWORD = "pw-12345!"  # tests.support.people.make_member's
LIST = "/cases/"
SWITCHED = "in another tab"


# --- Fixtures and helpers -----------------------------------------------------------------------


@pytest.fixture
def both(
    org_a: Organization, org_b: Organization, sandbox_upstream: RecordingTransport
) -> tuple[SandboxOrganization, SandboxOrganization]:
    """Each organisation in the sandbox with a case of its own, with a debtor."""
    sandbox_a, sandbox_b = sandbox_organization(org_a), sandbox_organization(org_b)
    add_debtor(add_case(sandbox_a, A_CASE, remaining="100.00"))
    add_debtor(add_case(sandbox_b, B_CASE, remaining="200.00"))
    return sandbox_a, sandbox_b


@pytest.fixture
def member_of_both(org_a: Organization, org_b: Organization) -> User:
    user = make_member(org_a, Role.AGENT, "two-organisations")
    Membership.objects.create(user=user, organization=org_b, role=Role.AGENT)
    return user


def english(user: User) -> Client:
    client = Client(headers={"Accept-Language": "en"})
    client.force_login(user)
    return client


def working_in(client: Client, organization: Organization) -> None:
    """The session's organisation, as a switch in any tab leaves it."""
    session = client.session
    session[SESSION_ORGANIZATION_KEY] = organization.pk
    session.save()


def page_text(client: Client, url: str) -> str:
    return text_of(client.get(url).content.decode())


# --- A page never mixes two organisations ---------------------------------------------------


def test_every_page_names_the_organisation_it_shows_for_htmx_requests(
    member_of_both: User, org_a: Organization, both: object
) -> None:
    client = english(member_of_both)
    working_in(client, org_a)

    html = client.get(LIST).content.decode()

    assert f'hx-headers=\'{{"{ORGANIZATION_HEADER}": "{org_a.pk}"}}\'' in html


def test_an_htmx_request_from_a_tab_of_the_old_organisation_reloads_the_tab_with_a_notice(
    member_of_both: User, org_a: Organization, org_b: Organization, both: object
) -> None:
    client = english(member_of_both)
    working_in(client, org_b)  # switched in another tab
    stale = {"HX-Request": "true", "HX-Target": "results", ORGANIZATION_HEADER: str(org_a.pk)}

    response = client.get(LIST, {"status": "OPEN"}, headers=stale)

    assert response.headers["HX-Refresh"] == "true"
    assert str(B_CASE) not in response.content.decode()  # no partial of the other organisation
    reloaded = page_text(client, LIST)
    assert f"You switched to {org_b.name} {SWITCHED}" in reloaded
    assert str(B_CASE) in reloaded


def test_an_htmx_request_from_a_page_of_the_current_organisation_is_answered(
    member_of_both: User, org_b: Organization, both: object
) -> None:
    client = english(member_of_both)
    working_in(client, org_b)
    current = {"HX-Request": "true", "HX-Target": "results", ORGANIZATION_HEADER: str(org_b.pk)}

    response = client.get(LIST, headers=current)

    assert "HX-Refresh" not in response.headers
    assert str(B_CASE) in response.content.decode()


def test_a_plain_navigation_shows_the_sessions_organisation(
    member_of_both: User, org_b: Organization, both: object
) -> None:
    client = english(member_of_both)
    working_in(client, org_b)

    text = page_text(client, LIST)

    assert str(B_CASE) in text
    assert str(A_CASE) not in text
    assert SWITCHED not in text


def test_a_reveal_posted_from_a_page_of_the_old_organisation_reveals_nothing(
    member_of_both: User,
    org_a: Organization,
    org_b: Organization,
    both: tuple[SandboxOrganization, SandboxOrganization],
) -> None:
    client = english(member_of_both)
    working_in(client, org_a)
    page = client.get(reverse("cases:detail", args=[A_CASE])).content.decode()
    assert f'name="page_organization" value="{org_a.pk}"' in page  # the reveal form's stamp
    working_in(client, org_b)
    url = reverse("cases:detail", args=[A_CASE])

    plain = client.post(
        url, {"debtor": DEBTOR_ID, "page_organization": org_a.pk}, headers={"Referer": url}
    )
    htmx = client.post(
        url,
        {"debtor": DEBTOR_ID, "page_organization": org_a.pk},
        headers={"HX-Request": "true", ORGANIZATION_HEADER: str(org_a.pk)},
    )

    assert plain.status_code == 303
    assert plain["Location"] == url
    assert htmx.headers["HX-Refresh"] == "true"
    assert NATIONAL_ID not in plain.content.decode() + htmx.content.decode()


def test_switching_organisation_posts_are_not_taken_for_a_stale_page(
    member_of_both: User, org_a: Organization, org_b: Organization, both: object
) -> None:
    client = english(member_of_both)
    working_in(client, org_a)

    response = client.post(reverse("switch_organization"), {"organization": org_b.pk})

    assert response.status_code == 302
    assert client.session[SESSION_ORGANIZATION_KEY] == org_b.pk
    assert SWITCHED not in page_text(client, LIST)


# --- Switching keeps the filters that make sense ---------------------------------------------


def test_switching_from_the_list_keeps_the_filters_that_mean_the_same_everywhere(
    member_of_both: User, org_a: Organization, org_b: Organization, both: object
) -> None:
    client = english(member_of_both)
    working_in(client, org_a)
    came_from = (
        "http://testserver/cases/?status=OPEN&type=DEBT_COLLECTION&from=2025-01-01"
        "&to=2025-12-31&size=50&q=hansen&customer=K-1&invoice=F-1&page=token"
    )

    response = client.post(
        reverse("switch_organization"), {"organization": org_b.pk}, headers={"Referer": came_from}
    )

    location = urlsplit(response["Location"])
    assert location.path == LIST
    kept = dict(pair.split("=") for pair in location.query.split("&"))
    assert kept == {
        "status": "OPEN",
        "type": "DEBT_COLLECTION",
        "from": "2025-01-01",
        "to": "2025-12-31",
        "size": "50",
    }
    notice = page_text(client, response["Location"])
    assert "search terms, customer numbers and invoice ids were not kept" in notice


def test_switching_without_typed_filters_says_nothing_about_them(
    member_of_both: User, org_b: Organization, both: object
) -> None:
    client = english(member_of_both)
    response = client.post(
        reverse("switch_organization"),
        {"organization": org_b.pk},
        headers={"Referer": "http://testserver/cases/?status=OPEN&page=token"},
    )

    assert response["Location"] == "/cases/?status=OPEN"
    assert "were not kept" not in page_text(client, response["Location"])


def test_switching_from_a_case_page_lands_on_the_case_list(
    member_of_both: User, org_b: Organization, both: object
) -> None:
    client = english(member_of_both)
    came_from = f"http://testserver/cases/{A_CASE}/"
    response = client.post(
        reverse("switch_organization"), {"organization": org_b.pk}, headers={"Referer": came_from}
    )
    assert response["Location"] == LIST


def test_switching_from_another_site_lands_on_the_case_list(
    member_of_both: User, org_b: Organization, both: object
) -> None:
    client = english(member_of_both)
    response = client.post(
        reverse("switch_organization"),
        {"organization": org_b.pk},
        headers={"Referer": "https://evil.example/cases/?status=OPEN"},
    )
    assert response["Location"] == LIST


def test_switching_from_triage_keeps_its_queue_and_order_but_not_its_filter_text(
    member_of_both: User, org_b: Organization, both: object
) -> None:
    client = english(member_of_both)
    response = client.post(
        reverse("switch_organization"),
        {"organization": org_b.pk},
        headers={"Referer": "http://testserver/triage/?queue=all&sort=amount&q=hansen&page=2"},
    )
    location = urlsplit(response["Location"])
    assert location.path == reverse("triage:queue")
    assert sorted(location.query.split("&")) == ["queue=all", "sort=amount"]


# --- A case of the user's other organisation ---------------------------------------------------


def test_a_case_of_the_users_other_organisation_offers_to_switch_there(
    member_of_both: User, org_a: Organization, org_b: Organization, both: object
) -> None:
    client = english(member_of_both)
    working_in(client, org_a)

    response = client.get(reverse("cases:detail", args=[B_CASE]))

    assert response.status_code == 404
    html = response.content.decode()
    assert f"Switch to {org_b.name} and open the case" in text_of(html)
    assert f'name="organization" value="{org_b.pk}"' in html
    assert f'name="next" value="/cases/{B_CASE}/"' in html

    switched = client.post(
        reverse("switch_organization"), {"organization": org_b.pk, "next": f"/cases/{B_CASE}/"}
    )
    assert switched["Location"] == f"/cases/{B_CASE}/"
    assert client.get(switched["Location"]).status_code == 200


def test_a_case_that_no_organisation_of_the_user_has_is_a_plain_404(
    member_of_both: User, org_a: Organization, both: object
) -> None:
    client = english(member_of_both)
    working_in(client, org_a)

    response = client.get(reverse("cases:detail", args=[9_999_999]))

    assert response.status_code == 404
    assert "Switch to" not in text_of(response.content.decode())


def test_a_non_member_learns_nothing_of_the_organisation_that_has_the_case(
    org_a: Organization, org_b: Organization, both: object, sandbox_upstream: RecordingTransport
) -> None:
    client = english(make_member(org_a, Role.AGENT, "only-a"))
    sandbox_upstream.requests.clear()

    response = client.get(reverse("cases:detail", args=[B_CASE]))

    assert response.status_code == 404
    assert org_b.name not in response.content.decode()
    assert "Switch to" not in text_of(response.content.decode())
    assert not [r for r in sandbox_upstream.requests if str(org_b.amili_id) in str(r.url)]


# --- The case page returns to the list it was opened from -----------------------------------


def breadcrumb(client: Client, case_number: int, **headers: str) -> str:
    html = client.get(reverse("cases:detail", args=[case_number]), headers=headers).content
    start = html.decode().index('aria-label="Breadcrumbs"')
    return html.decode()[start:].split('href="', 1)[1].split('"', 1)[0].replace("&amp;", "&")


def test_the_breadcrumb_returns_to_the_list_the_case_was_opened_from(
    member_of_both: User, org_a: Organization, both: object
) -> None:
    client = english(member_of_both)
    working_in(client, org_a)
    the_list = "/cases/?status=OPEN&size=50&page=token-2"

    assert breadcrumb(client, A_CASE, Referer=f"http://testserver{the_list}") == the_list
    # Later requests of the case page (a reveal, a reload) come from the case page itself.
    case_page = f"http://testserver/cases/{A_CASE}/"
    assert breadcrumb(client, A_CASE, Referer=case_page) == the_list


def test_the_breadcrumb_keeps_a_personal_search_term_out_of_the_page(
    member_of_both: User, org_a: Organization, both: object
) -> None:
    client = english(member_of_both)
    working_in(client, org_a)

    href = breadcrumb(client, A_CASE, Referer="http://testserver/cases/?q=kari%40example.no")

    assert "example" not in href
    assert href.startswith("/cases/?qref=")
    # The reference leads to the same search.
    assert 'value="kari@example.no"' in client.get(href).content.decode()


def test_the_breadcrumb_without_a_list_behind_it_goes_to_the_list(
    member_of_both: User, org_a: Organization, both: object
) -> None:
    client = english(member_of_both)
    working_in(client, org_a)
    assert breadcrumb(client, A_CASE) == LIST


def test_the_remembered_list_belongs_to_its_organisation(
    member_of_both: User, org_a: Organization, org_b: Organization, both: object
) -> None:
    client = english(member_of_both)
    working_in(client, org_a)
    breadcrumb(client, A_CASE, Referer="http://testserver/cases/?status=OPEN")
    working_in(client, org_b)
    assert breadcrumb(client, B_CASE) == LIST


# --- An expired session resumes the search ----------------------------------------------------


def expire(client: Client) -> None:
    session = client.session
    now = time.time()
    session[security.SESSION_LOGIN_AT] = int(now - 3600)
    session[security.SESSION_SEEN_AT] = int(now - 31 * 60)
    session.save()


def log_in(client: Client, username: str, next_url: str) -> str:
    response = client.post(
        reverse("login"), {"username": username, "password": PASSWORD, "next": next_url}
    )
    assert response.status_code == 302, response.content
    return str(response["Location"])


def test_after_an_expired_session_the_same_user_returns_to_the_same_search(
    member_of_both: User, org_b: Organization, both: object
) -> None:
    client = english(member_of_both)
    working_in(client, org_b)  # not the first organisation: the login must keep it
    searched = client.get(LIST, {"q": "kari@example.no", "status": "OPEN"})
    list_url = str(searched["Location"])  # the public address, with a reference
    expire(client)

    expired = client.get(list_url)
    assert expired.status_code == 302
    login_url = str(expired["Location"])
    login_text = page_text(client, login_url)
    assert "logged out after 30 minutes without activity" in login_text

    landing = log_in(client, member_of_both.username, list_url)

    assert landing == list_url
    again = client.get(landing).content.decode()
    assert 'value="kari@example.no"' in again  # the search, not "This search has expired"
    assert "This search has expired" not in again
    assert client.session[SESSION_ORGANIZATION_KEY] == org_b.pk


def test_after_an_expired_session_another_user_gets_nothing_of_it(
    member_of_both: User, org_a: Organization, both: object
) -> None:
    client = english(member_of_both)
    searched = client.get(LIST, {"q": "kari@example.no"})
    list_url = str(searched["Location"])
    expire(client)
    client.get(list_url)
    make_member(org_a, Role.AGENT, "colleague")

    log_in(client, "colleague", list_url)

    html = client.get(list_url).content.decode()
    assert "kari@example.no" not in html
    assert "This search has expired" in html


def test_an_htmx_request_after_expiry_sends_the_whole_tab_to_login(
    member_of_both: User, both: object
) -> None:
    client = english(member_of_both)
    expire(client)

    response = client.get(
        LIST,
        {"status": "OPEN"},
        headers={
            "HX-Request": "true",
            "HX-Target": "results",
            "HX-Current-URL": "http://testserver/cases/?status=OPEN",
        },
    )

    assert response["HX-Redirect"] == "/accounts/login/?next=/cases/%3Fstatus%3DOPEN"
    assert "<table" not in response.content.decode()
