"""One organisation cannot starve the others: its calls in flight are bounded, the excess refused.

The bound holds per process (a counter per organisation) and across processes (slot keys in the
shared cache). The tests run against django.core.cache.cache, so the suite's Redis pass checks
the cross-process bound on Redis; a second process is simulated by giving the client a fresh
per-process counter while the first one's calls are still in flight.
"""

import math
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
import respx
from django.core.cache import cache
from django.test import Client, override_settings

from cases import autocollect
from cases.autocollect import OrganizationBusy, UpstreamTimeout, UpstreamUnavailable, fairness
from cases.upstream_errors import describe_upstream_error
from dashboard.models import Organization, Role
from sandbox.models import SandboxOrganization
from tests.support.autocollect import (
    ACTION_PATH,
    CASES_PATH,
    ORG,
    OTHER_ORG,
    FakeClock,
    answer,
    case_json,
    installed_clock,
    page_json,
    router_at_test_host,
    upstream_settings,
)
from tests.support.people import logged_in
from tests.support.sandbox_data import add_case, sandbox_organization

OTHER_CASES_PATH = f"/collection/v1/orgs/{OTHER_ORG}/cases"
BUSY_MESSAGE = "Many requests for your organisation are waiting on AutoCollect."


@pytest.fixture
def fake_upstream() -> Iterator[respx.MockRouter]:
    with upstream_settings():
        yield from router_at_test_host()


@pytest.fixture(autouse=True)
def _a_process_of_its_own(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test starts with no calls in flight in this (simulated) process."""
    monkeypatch.setattr(fairness, "_process_slots", fairness.ProcessSlots())


def limits(per_process: int, cluster: int) -> override_settings:
    return override_settings(
        AUTOCOLLECT_MAX_IN_FLIGHT_PER_ORGANIZATION=per_process,
        AUTOCOLLECT_MAX_IN_FLIGHT_PER_ORGANIZATION_CLUSTER=cluster,
    )


@dataclass
class HeldUpstream:
    """An upstream that holds organisation A's answers until released (B's come at once)."""

    entered: threading.Semaphore = field(default_factory=lambda: threading.Semaphore(0))
    release: threading.Event = field(default_factory=threading.Event)
    calls: int = 0

    def respond(self, request: httpx.Request) -> httpx.Response:
        self.calls += 1
        self.entered.release()
        self.release.wait(timeout=10)
        return httpx.Response(200, json=page_json())

    def wait_for(self, calls: int) -> None:
        for _ in range(calls):
            assert self.entered.acquire(timeout=5), "the held calls never reached the upstream"


@pytest.fixture
def held(fake_upstream: respx.MockRouter) -> Iterator[HeldUpstream]:
    upstream = HeldUpstream()
    fake_upstream.get(CASES_PATH).mock(side_effect=upstream.respond)
    fake_upstream.get(OTHER_CASES_PATH).mock(
        side_effect=answer(200, page_json([case_json(organizationId=OTHER_ORG)]))
    )
    yield upstream
    upstream.release.set()


class InFlight:
    """Calls of organisation A started in threads, still waiting on the held upstream."""

    def __init__(self, calls: int, read: Callable[[], object]) -> None:
        self.results: list[object] = []
        self.threads = [threading.Thread(target=self._run, args=(read,)) for _ in range(calls)]
        for thread in self.threads:
            thread.start()

    def _run(self, read: Callable[[], object]) -> None:
        try:
            self.results.append(read())
        except autocollect.AutoCollectError as error:
            self.results.append(error)

    def finish(self, upstream: HeldUpstream) -> list[object]:
        upstream.release.set()
        for thread in self.threads:
            thread.join(timeout=10)
        return self.results


def list_a() -> autocollect.CasePage:
    return autocollect.list_cases(organization_id=ORG)


def list_b() -> autocollect.CasePage:
    return autocollect.list_cases(organization_id=OTHER_ORG)


def refused_at_once(read: Callable[[], object]) -> OrganizationBusy:
    started = time.monotonic()
    with pytest.raises(OrganizationBusy) as refused:
        read()
    assert time.monotonic() - started < 0.5, "the excess must be answered at once, not queued"
    return refused.value


def no_slot_is_held(organization_id: str) -> bool:
    keys = [f"{organization_id}:autocollect:in-flight:{index}" for index in range(50)]
    return fairness._process_slots.in_flight(organization_id) == 0 and not cache.get_many(keys)


# --- In one process --------------------------------------------------------------------------


def test_the_call_beyond_the_limit_is_refused_at_once_while_another_organisation_is_served(
    held: HeldUpstream,
) -> None:
    with limits(per_process=2, cluster=10):
        in_flight = InFlight(2, list_a)
        held.wait_for(2)

        refused = refused_at_once(list_a)
        other = list_b()

        results = in_flight.finish(held)
        after = list_a()

    assert refused.retry_after == fairness.BUSY_RETRY_AFTER
    assert held.calls == 3  # two held, one after they finished: the refused one never went out
    assert [case.organization_id for case in other.cases] == [OTHER_ORG]
    assert all(isinstance(result, autocollect.CasePage) for result in results)
    assert len(after.cases) == 1
    assert no_slot_is_held(ORG)


def test_a_refused_action_sends_nothing(
    held: HeldUpstream, fake_upstream: respx.MockRouter
) -> None:
    action = fake_upstream.post(ACTION_PATH).mock(side_effect=answer(202, {}))
    with limits(per_process=1, cluster=0):
        in_flight = InFlight(1, list_a)
        held.wait_for(1)

        refused_at_once(
            lambda: autocollect.perform_case_action(
                organization_id=ORG,
                case_id=case_json()["caseId"],
                action=autocollect.CaseAction.PAUSE,
                idempotency_key="key-1",
            )
        )
        in_flight.finish(held)

    assert action.call_count == 0


@pytest.fixture
def clock() -> Iterator[FakeClock]:
    yield from installed_clock()


def failing(kind: str, clock: FakeClock) -> Callable[[httpx.Request], httpx.Response]:
    def respond(request: httpx.Request) -> httpx.Response:
        if kind == "connect-timeout":
            raise httpx.ConnectTimeout("no answer", request=request)
        if kind == "deadline":
            clock.advance(60)  # the answer arrives after the call's deadline
            return httpx.Response(200, json=page_json())
        return httpx.Response(500 if kind == "server-error" else 404)

    return respond


@pytest.mark.parametrize(
    ("kind", "raised"),
    [
        ("server-error", UpstreamUnavailable),
        ("refusal", autocollect.NotFound),
        ("connect-timeout", UpstreamTimeout),
        ("deadline", UpstreamTimeout),
    ],
)
def test_a_slot_is_given_back_however_the_call_ends(
    fake_upstream: respx.MockRouter, clock: FakeClock, kind: str, raised: type[Exception]
) -> None:
    route = fake_upstream.get(CASES_PATH).mock(side_effect=failing(kind, clock))

    with limits(per_process=1, cluster=1):
        with pytest.raises(raised):
            list_a()
        assert no_slot_is_held(ORG)
        route.mock(side_effect=answer(200, page_json()))
        list_a()  # a slot left taken would refuse this one

    assert no_slot_is_held(ORG)


def test_zero_switches_both_bounds_off(held: HeldUpstream) -> None:
    with limits(per_process=0, cluster=0):
        in_flight = InFlight(8, list_a)
        held.wait_for(8)
        results = in_flight.finish(held)

    assert all(isinstance(result, autocollect.CasePage) for result in results)


# --- Across processes --------------------------------------------------------------------------


def test_the_cluster_limit_holds_across_processes(
    held: HeldUpstream, monkeypatch: pytest.MonkeyPatch
) -> None:
    with limits(per_process=5, cluster=2):
        in_flight = InFlight(2, list_a)
        held.wait_for(2)

        monkeypatch.setattr(fairness, "_process_slots", fairness.ProcessSlots())  # process two
        refused_at_once(list_a)
        list_b()

        in_flight.finish(held)
        list_a()

    assert held.calls == 3
    assert no_slot_is_held(ORG)


def test_each_process_keeps_its_own_limit_under_the_cluster_one(
    held: HeldUpstream, monkeypatch: pytest.MonkeyPatch
) -> None:
    with limits(per_process=1, cluster=3):
        first = InFlight(1, list_a)
        held.wait_for(1)
        refused_at_once(list_a)  # this process is at its limit, the cluster is not

        monkeypatch.setattr(fairness, "_process_slots", fairness.ProcessSlots())  # process two
        second = InFlight(1, list_a)
        held.wait_for(1)

        first.finish(held)
        second.finish(held)

    assert held.calls == 2


def test_the_slots_of_a_process_that_died_free_themselves(fake_upstream: respx.MockRouter) -> None:
    """A process killed mid-call never gives its slots back: they expire on their own."""
    fake_upstream.get(CASES_PATH).mock(side_effect=answer(200, page_json()))
    with limits(per_process=5, cluster=2):
        for key in fairness.shared_slot_keys(ORG):
            cache.add(key, "1", timeout=1)
        refused_at_once(list_a)

        time.sleep(1.2)
        page = list_a()

    assert len(page.cases) == 1
    assert no_slot_is_held(ORG)


def test_a_slot_key_lives_a_little_longer_than_the_call_can(
    fake_upstream: respx.MockRouter, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake_upstream.get(CASES_PATH).mock(side_effect=answer(200, page_json()))
    lifetimes: list[float] = []
    add = cache.add

    def add_and_record(key: str, value: object, timeout: float, **options: Any) -> bool:
        if ":in-flight:" in key:
            lifetimes.append(timeout)
        return add(key, value, timeout=timeout, **options)

    monkeypatch.setattr(cache, "add", add_and_record)
    with limits(per_process=5, cluster=2), override_settings(AUTOCOLLECT_TIMEOUT=7.5):
        list_a()

    assert len(lifetimes) == 1
    assert 7.5 < lifetimes[0] <= math.ceil(7.5) + fairness.SLOT_MARGIN_SECONDS


# --- The page ----------------------------------------------------------------------------------


def test_the_busy_error_is_a_503_with_retry_after() -> None:
    info = describe_upstream_error(OrganizationBusy("busy", retry_after=2))

    assert (info.status, info.retry_after, info.retryable) == (503, 2, True)


@pytest.fixture
def busy_organisation(org_a: Organization, sandbox_a: SandboxOrganization) -> Iterator[None]:
    """Organisation A with a case, and every cluster-wide slot taken (by other processes)."""
    add_case(sandbox_a, 1001)
    with limits(per_process=6, cluster=2):
        for key in fairness.shared_slot_keys(str(org_a.amili_id)):
            cache.add(key, "1", timeout=30)
        yield


@pytest.mark.usefixtures("busy_organisation")
def test_a_busy_organisation_gets_the_503_page_with_retry_after(
    client_a_in_english: Client,
) -> None:
    response = client_a_in_english.get("/cases/")

    assert response.status_code == 503
    assert response["Retry-After"] == str(fairness.BUSY_RETRY_AFTER)
    assert BUSY_MESSAGE in response.content.decode()
    assert 'name="q"' in response.content.decode()  # the filters stay usable


@pytest.mark.usefixtures("busy_organisation")
def test_over_htmx_the_busy_message_replaces_the_results_in_place(
    client_a_in_english: Client,
) -> None:
    response = client_a_in_english.get(
        "/cases/", headers={"HX-Request": "true", "HX-Target": "results"}
    )

    body = response.content.decode()
    assert response.status_code == 503
    assert response["Retry-After"] == str(fairness.BUSY_RETRY_AFTER)
    assert body.lstrip().startswith('<div id="results"')
    assert BUSY_MESSAGE in body


@pytest.mark.usefixtures("busy_organisation")
def test_the_case_page_of_a_busy_organisation_is_a_503_too(client_a_in_english: Client) -> None:
    response = client_a_in_english.get("/cases/1001/")

    assert response.status_code == 503
    assert response["Retry-After"] == str(fairness.BUSY_RETRY_AFTER)
    assert BUSY_MESSAGE in response.content.decode()


@pytest.mark.usefixtures("busy_organisation")
def test_another_organisation_is_served_while_one_is_busy(org_b: Organization) -> None:
    add_case(sandbox_organization(org_b), 2001)

    response = logged_in(org_b, Role.AGENT).get("/cases/")

    assert response.status_code == 200
    assert "2001" in response.content.decode()
