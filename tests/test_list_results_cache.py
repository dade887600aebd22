"""The case list's results partial is kept beside the reads it shows, and forgotten with them.

A repeated HTMX request for the same results (typing, paging back and forth) is answered with
the rendering an earlier identical request made, without rendering or reading again; an action
or webhook that forgets the organisation's reads, the Refresh control, another organisation,
language or role, and the reads' own expiry all lead to a fresh rendering.
"""

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.core.cache import cache
from django.test import Client, override_settings

from cases import autocollect, views
from cases.autocollect import read_cache
from dashboard.models import Organization, Role
from sandbox.models import SandboxOrganization
from tests.support.people import logged_in
from tests.support.sandbox_data import add_case, add_debtor, sandbox_organization
from tests.support.transport import RecordingTransport

LIST_URL = "/cases/"
RESULTS = {"HX-Request": "true", "HX-Target": "results", "HX-Current-URL": "http://t/cases/"}


@pytest.fixture(autouse=True)
def _cache_on() -> Iterator[None]:
    with override_settings(AUTOCOLLECT_CACHE_SECONDS=20):
        yield


@pytest.fixture
def renders(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """How many times the list was rendered (one entry per render)."""
    calls: list[int] = []
    render: Callable[..., Any] = views._render_list

    def counted(*arguments: Any, **options: Any) -> Any:
        calls.append(1)
        return render(*arguments, **options)

    monkeypatch.setattr(views, "_render_list", counted)
    return calls


@pytest.fixture
def cases_a(sandbox_a: SandboxOrganization) -> SandboxOrganization:
    add_debtor(add_case(sandbox_a, 1001, remaining="100"), customer_number="K-1001")
    return sandbox_a


def reads(upstream: RecordingTransport) -> int:
    return len(upstream.case_requests())


@pytest.mark.usefixtures("cases_a")
def test_an_identical_results_request_gets_the_kept_rendering(
    client_a: Client, sandbox_upstream: RecordingTransport, renders: list[int]
) -> None:
    first = client_a.get(LIST_URL, headers=RESULTS)
    second = client_a.get(LIST_URL, headers=RESULTS)

    assert first.status_code == second.status_code == 200
    assert second.content == first.content
    assert b"1001" in second.content
    assert len(renders) == 1
    assert reads(sandbox_upstream) == 1


@pytest.mark.usefixtures("cases_a")
def test_forgetting_the_organisations_reads_forgets_the_rendering(
    client_a: Client, org_a: Organization, sandbox_upstream: RecordingTransport, renders: list[int]
) -> None:
    client_a.get(LIST_URL, headers=RESULTS)
    autocollect.forget_organization_reads(str(org_a.amili_id))
    client_a.get(LIST_URL, headers=RESULTS)

    assert len(renders) == 2
    assert reads(sandbox_upstream) == 2


def test_the_refresh_control_renders_afresh_and_keeps_the_new_rendering(
    client_a: Client,
    cases_a: SandboxOrganization,
    sandbox_upstream: RecordingTransport,
    renders: list[int],
) -> None:
    client_a.get(LIST_URL, headers=RESULTS)
    add_case(cases_a, 1002, registered_at=datetime(2026, 1, 1, tzinfo=UTC))

    refreshed = client_a.get(f"{LIST_URL}?refresh=1", headers=RESULTS)
    after = client_a.get(LIST_URL, headers=RESULTS)

    assert b"1002" in refreshed.content
    assert b"1002" in after.content
    assert len(renders) == 2
    assert reads(sandbox_upstream) == 2


@pytest.mark.usefixtures("cases_a")
def test_each_filter_page_and_language_is_kept_on_its_own(
    client_a: Client, client_a_in_english: Client, renders: list[int]
) -> None:
    client_a.get(LIST_URL, headers=RESULTS)
    client_a.get(f"{LIST_URL}?status=OPEN", headers=RESULTS)
    english = client_a_in_english.get(LIST_URL, headers=RESULTS)

    assert len(renders) == 3
    assert b"Showing" in english.content  # not the Norwegian rendering


@pytest.mark.usefixtures("cases_a")
def test_each_role_gets_its_own_rendering(
    client_a: Client, org_a: Organization, renders: list[int]
) -> None:
    client_a.get(LIST_URL, headers=RESULTS)
    logged_in(org_a, Role.VIEWER).get(LIST_URL, headers=RESULTS)

    assert len(renders) == 2


def test_organisations_never_share_a_rendering(
    client_a: Client, cases_a: SandboxOrganization, org_b: Organization, renders: list[int]
) -> None:
    add_case(sandbox_organization(org_b), 2001)
    client_a.get(LIST_URL, headers=RESULTS)

    answer_b = logged_in(org_b, Role.AGENT).get(LIST_URL, headers=RESULTS)

    assert len(renders) == 2
    assert b"2001" in answer_b.content
    assert b"1001" not in answer_b.content


@pytest.mark.usefixtures("cases_a")
def test_only_the_results_partial_is_kept(client_a: Client, renders: list[int]) -> None:
    client_a.get(LIST_URL)
    client_a.get(LIST_URL)  # the whole page: it holds the CSRF token and messages
    client_a.get(LIST_URL, headers={**RESULTS, "HX-Target": "case-search"})
    client_a.get(LIST_URL, headers={**RESULTS, "HX-Target": "case-search"})

    assert len(renders) == 4


@pytest.mark.usefixtures("cases_a")
def test_a_personal_search_term_is_never_in_a_key(
    client_a: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    keys: list[str] = []
    store = cache.set

    def set_and_record(key: str, *arguments: Any, **options: Any) -> None:
        keys.append(key)
        store(key, *arguments, **options)

    monkeypatch.setattr(cache, "set", set_and_record)
    client_a.get(f"{LIST_URL}?customer=K-1001", headers=RESULTS)

    assert keys
    assert not [key for key in keys if "K-1001" in key]


def test_a_rendering_is_kept_no_longer_than_the_reads_it_shows(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    timeouts: list[object] = []
    monkeypatch.setattr(
        cache, "set", lambda key, value, timeout=None, **_: timeouts.append(timeout)
    )
    now = datetime.now(UTC)

    read_cache.rendering_store("org", "q", "generation", b"html", now - timedelta(seconds=15))
    read_cache.rendering_store("org", "q", "generation", b"html", now - timedelta(seconds=19.5))
    read_cache.rendering_store("org", "q", "", b"html", now)  # no generation: caching is off

    assert len(timeouts) == 1
    assert isinstance(timeouts[0], int)
    assert 3 <= timeouts[0] <= 5
