"""The client's read cache: per organisation and query, brief, invalidated at once, single flight.

Written against django.core.cache.cache, so the suite's Redis pass (CACHE_URL=redis://...) runs
the same tests against the shared cache production uses.
"""

import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
import respx
from django.core.cache import cache
from django.test import override_settings

from cases import autocollect
from cases.autocollect import CaseFilters, UpstreamTimeout, UpstreamUnavailable
from tests.support.autocollect import (
    ACTION_PATH,
    CASES_PATH,
    NATIONAL_ID,
    ORG,
    OTHER_ORG,
    FakeClock,
    answer,
    case_json,
    installed_clock,
    numbered_pages,
    page_json,
    router_at_test_host,
    upstream_settings,
)

OTHER_CASES_PATH = f"/collection/v1/orgs/{OTHER_ORG}/cases"
RECEIPT = {"summary": {"status": "SUCCESS"}, "data": {"batchId": "b-1", "batchUrl": "/b/1"}}


@pytest.fixture(autouse=True)
def _cache_on() -> Iterator[None]:
    with upstream_settings(), override_settings(AUTOCOLLECT_CACHE_SECONDS=20):
        yield


@pytest.fixture
def fake_upstream() -> Iterator[respx.MockRouter]:
    yield from router_at_test_host()


def counting(total: list[int]) -> Callable[[httpx.Request], httpx.Response]:
    """An upstream whose page says how many times it was asked (in totalCount)."""

    def respond(request: httpx.Request) -> httpx.Response:
        total[0] += 1
        return httpx.Response(200, json=page_json(total=total[0]))

    return respond


def recorded_keys(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The keys cache.set is called with from now on, in this thread."""
    keys: list[str] = []
    store = cache.set

    def set_and_record(key: str, *arguments: Any, **options: Any) -> None:
        keys.append(key)
        store(key, *arguments, **options)

    monkeypatch.setattr(cache, "set", set_and_record)
    return keys


def list_a(**arguments: Any) -> autocollect.CasePage:
    return autocollect.list_cases(organization_id=ORG, **arguments)


# --- Hits and misses -------------------------------------------------------------------------


def test_a_repeated_read_is_answered_from_the_cache(fake_upstream: respx.MockRouter) -> None:
    cases = fake_upstream.get(CASES_PATH).mock(side_effect=answer(200, page_json()))

    first = list_a()
    second = list_a()

    assert cases.call_count == 1
    assert second == first
    assert second.fetched_at == first.fetched_at  # the answer says when it was really fetched


@pytest.mark.parametrize(
    "arguments",
    [
        {"filters": CaseFilters(status="OPEN")},
        {"filters": CaseFilters(search_term="Nordmann")},
        {"page_token": "tok-2"},
        {"page_size": 50},
    ],
    ids=["filter", "search", "page-token", "page-size"],
)
def test_each_query_is_cached_on_its_own(
    fake_upstream: respx.MockRouter, arguments: dict[str, Any]
) -> None:
    cases = fake_upstream.get(CASES_PATH).mock(side_effect=answer(200, page_json()))

    list_a()
    list_a(**arguments)
    list_a(**arguments)
    list_a()

    assert cases.call_count == 2


def test_organisations_never_share_a_cached_read(fake_upstream: respx.MockRouter) -> None:
    own = fake_upstream.get(CASES_PATH).mock(side_effect=answer(200, page_json()))
    other = fake_upstream.get(OTHER_CASES_PATH).mock(
        side_effect=answer(200, page_json([case_json(organizationId=OTHER_ORG)]))
    )

    mine = list_a()
    theirs = autocollect.list_cases(organization_id=OTHER_ORG)

    assert (own.call_count, other.call_count) == (1, 1)
    assert [case.organization_id for case in mine.cases] == [ORG]
    assert [case.organization_id for case in theirs.cases] == [OTHER_ORG]


def test_cache_keys_start_with_the_organisation_and_never_hold_the_search_term(
    fake_upstream: respx.MockRouter, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake_upstream.get(CASES_PATH).mock(side_effect=answer(200, page_json()))
    keys = recorded_keys(monkeypatch)

    list_a(filters=CaseFilters(search_term=NATIONAL_ID))

    read_keys = [key for key in keys if key != autocollect.token_cache_key()]
    assert read_keys
    assert all(key.startswith(f"{ORG}:") for key in read_keys)
    assert not any(NATIONAL_ID in key or "SearchTerm" in key for key in keys)


def test_zero_seconds_turns_the_cache_off(fake_upstream: respx.MockRouter) -> None:
    cases = fake_upstream.get(CASES_PATH).mock(side_effect=answer(200, page_json()))

    with override_settings(AUTOCOLLECT_CACHE_SECONDS=0):
        list_a()
        list_a()

    assert cases.call_count == 2


def test_a_cached_read_expires_after_its_seconds(fake_upstream: respx.MockRouter) -> None:
    cases = fake_upstream.get(CASES_PATH).mock(side_effect=answer(200, page_json()))

    with override_settings(AUTOCOLLECT_CACHE_SECONDS=1):
        list_a()
        list_a()
        time.sleep(1.1)
        list_a()

    assert cases.call_count == 2


def test_failures_are_not_cached(fake_upstream: respx.MockRouter) -> None:
    cases = fake_upstream.get(CASES_PATH).mock(
        side_effect=[httpx.Response(500), httpx.Response(200, json=page_json())]
    )

    with pytest.raises(UpstreamUnavailable):
        list_a()
    page = list_a()

    assert cases.call_count == 2
    assert len(page.cases) == 1


def test_an_entry_this_code_cannot_use_is_a_miss(
    fake_upstream: respx.MockRouter, monkeypatch: pytest.MonkeyPatch
) -> None:
    cases = fake_upstream.get(CASES_PATH).mock(side_effect=answer(200, page_json()))
    keys = recorded_keys(monkeypatch)
    list_a()

    monkeypatch.undo()
    for key in keys:
        cache.set(key, "written by another version", 60)
    page = list_a()

    assert cases.call_count == 2
    assert len(page.cases) == 1


# --- Fresh reads and invalidation --------------------------------------------------------------


def test_a_fresh_read_asks_the_upstream_and_the_next_reads_get_its_answer(
    fake_upstream: respx.MockRouter,
) -> None:
    asked = [0]
    fake_upstream.get(CASES_PATH).mock(side_effect=counting(asked))

    assert list_a().skip.total_count == 1
    assert list_a(fresh=True).skip.total_count == 2
    assert list_a().skip.total_count == 2
    assert asked == [2]


def test_forgetting_drops_every_read_of_that_organisation_and_no_other(
    fake_upstream: respx.MockRouter,
) -> None:
    own = fake_upstream.get(CASES_PATH).mock(side_effect=answer(200, page_json()))
    other = fake_upstream.get(OTHER_CASES_PATH).mock(
        side_effect=answer(200, page_json([case_json(organizationId=OTHER_ORG)]))
    )
    list_a()
    list_a(page_size=50)
    autocollect.list_cases(organization_id=OTHER_ORG)

    autocollect.forget_organization_reads(ORG.upper())  # any spelling of the UUID

    list_a()
    list_a(page_size=50)
    autocollect.list_cases(organization_id=OTHER_ORG)
    assert own.call_count == 4
    assert other.call_count == 1


def test_an_action_forgets_the_organisations_reads(fake_upstream: respx.MockRouter) -> None:
    cases = fake_upstream.get(CASES_PATH).mock(side_effect=answer(200, page_json()))
    fake_upstream.post(ACTION_PATH).mock(side_effect=answer(202, RECEIPT))
    list_a()

    autocollect.perform_case_action(
        organization_id=ORG,
        case_id=case_json()["caseId"],
        action=autocollect.CaseAction.PAUSE,
        idempotency_key="key-1",
    )
    list_a()

    assert cases.call_count == 2


def test_an_action_that_failed_after_sending_forgets_them_too(
    fake_upstream: respx.MockRouter,
) -> None:
    cases = fake_upstream.get(CASES_PATH).mock(side_effect=answer(200, page_json()))
    fake_upstream.post(ACTION_PATH).mock(side_effect=answer(500))
    list_a()

    with pytest.raises(UpstreamUnavailable):
        autocollect.perform_case_action(
            organization_id=ORG,
            case_id=case_json()["caseId"],
            action=autocollect.CaseAction.PAUSE,
            idempotency_key="key-1",
        )
    list_a()

    assert cases.call_count == 2


def test_an_answer_fetched_while_reads_were_forgotten_is_not_kept(
    fake_upstream: respx.MockRouter,
) -> None:
    """An action that lands while a read is in flight: that read's answer may predate it."""
    asked = [0]

    def answer_while_an_action_lands(request: httpx.Request) -> httpx.Response:
        response = counting(asked)(request)
        if asked[0] == 1:
            autocollect.forget_organization_reads(ORG)
        return response

    fake_upstream.get(CASES_PATH).mock(side_effect=answer_while_an_action_lands)

    assert list_a().skip.total_count == 1
    assert list_a().skip.total_count == 2
    assert list_a().skip.total_count == 2
    assert asked == [2]


# --- Every page read ---------------------------------------------------------------------------


@pytest.fixture
def clock() -> Iterator[FakeClock]:
    yield from installed_clock()


def test_get_case_is_cached_and_says_when_it_was_fetched(
    fake_upstream: respx.MockRouter, clock: FakeClock
) -> None:
    cases = fake_upstream.get(CASES_PATH).mock(side_effect=answer(200, page_json()))

    first = autocollect.get_case(organization_id=ORG, case_number=100234)
    clock.advance(5)
    second = autocollect.get_case(organization_id=ORG, case_number=100234)
    fresh = autocollect.get_case(organization_id=ORG, case_number=100234, fresh=True)

    assert cases.call_count == 2
    assert first.fetched_at == second.fetched_at == datetime.fromtimestamp(1_800_000_000, UTC)
    assert fresh.fetched_at == datetime.fromtimestamp(1_800_000_005, UTC)
    assert first == fresh  # the same case: when it was read is not part of it


def test_a_list_page_says_when_it_was_fetched(fake_upstream: respx.MockRouter) -> None:
    fake_upstream.get(CASES_PATH).mock(side_effect=answer(200, page_json()))
    before = datetime.now(UTC)

    page = list_a()

    assert page.fetched_at is not None
    assert before <= page.fetched_at <= datetime.now(UTC)


def test_a_debtors_cases_are_cached_as_one_read(fake_upstream: respx.MockRouter) -> None:
    cases = fake_upstream.get(CASES_PATH).mock(side_effect=numbered_pages(pages=3, per_page=2))

    first = autocollect.get_debtor_cases(organization_id=ORG, customer_number="CUST-42")
    second = autocollect.get_debtor_cases(organization_id=ORG, customer_number="CUST-42")
    fresh = autocollect.get_debtor_cases(organization_id=ORG, customer_number="CUST-42", fresh=True)

    assert cases.call_count == 6  # three pages, twice
    assert second == first == fresh
    assert second.fetched_at == first.fetched_at <= fresh.fetched_at


def test_the_export_walk_always_asks_the_upstream(fake_upstream: respx.MockRouter) -> None:
    cases = fake_upstream.get(CASES_PATH).mock(side_effect=numbered_pages(pages=2, per_page=3))

    for _ in range(2):
        assert len(list(autocollect.iter_cases(organization_id=ORG, filters=CaseFilters()))) == 6

    assert cases.call_count == 4


# --- Single flight -----------------------------------------------------------------------------


def read_concurrently(callers: int, read: Callable[[], object]) -> list[object]:
    """Start `callers` threads at once on `read`; what each returned or raised."""
    start = threading.Barrier(callers)
    results: list[object] = [None] * callers

    def run(index: int) -> None:
        start.wait()
        try:
            results[index] = read()
        except autocollect.AutoCollectError as error:
            results[index] = error

    threads = [threading.Thread(target=run, args=(index,)) for index in range(callers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)
    return results


def slowly(
    respond: Callable[[httpx.Request], httpx.Response], seconds: float
) -> Callable[[httpx.Request], httpx.Response]:
    def respond_slowly(request: httpx.Request) -> httpx.Response:
        time.sleep(seconds)
        return respond(request)

    return respond_slowly


def test_concurrent_identical_misses_make_one_upstream_call(
    fake_upstream: respx.MockRouter,
) -> None:
    asked = [0]
    fake_upstream.get(CASES_PATH).mock(side_effect=slowly(counting(asked), 0.3))

    results = read_concurrently(8, list_a)

    assert asked == [1]
    pages = [result for result in results if isinstance(result, autocollect.CasePage)]
    assert len(pages) == 8
    assert {page.skip.total_count for page in pages} == {1}


def test_concurrent_different_reads_do_not_wait_for_each_other(
    fake_upstream: respx.MockRouter,
) -> None:
    asked = [0]
    fake_upstream.get(CASES_PATH).mock(side_effect=slowly(counting(asked), 0.3))
    sizes = iter(range(10, 16))
    lock = threading.Lock()

    def read_own_size() -> autocollect.CasePage:
        with lock:
            size = next(sizes)
        return list_a(page_size=size)

    started = time.monotonic()
    results = read_concurrently(6, read_own_size)

    assert asked == [6]
    assert all(isinstance(result, autocollect.CasePage) for result in results)
    assert time.monotonic() - started < 1.5  # side by side, not one after another


def test_when_the_fetching_caller_fails_a_waiting_one_takes_over(
    fake_upstream: respx.MockRouter,
) -> None:
    calls = [0]

    def fail_first(request: httpx.Request) -> httpx.Response:
        calls[0] += 1
        time.sleep(0.3)
        if calls[0] == 1:
            return httpx.Response(500)
        return httpx.Response(200, json=page_json())

    fake_upstream.get(CASES_PATH).mock(side_effect=fail_first)

    results = read_concurrently(6, list_a)

    assert calls == [2]  # one after the other: never two calls for one read at once
    assert sum(isinstance(result, UpstreamUnavailable) for result in results) == 1
    assert sum(isinstance(result, autocollect.CasePage) for result in results) == 5


def test_a_waiting_caller_gives_up_at_its_own_deadline(fake_upstream: respx.MockRouter) -> None:
    entered, release = threading.Event(), threading.Event()
    calls = [0]

    def hang(request: httpx.Request) -> httpx.Response:
        calls[0] += 1
        entered.set()
        release.wait(timeout=5)
        return httpx.Response(200, json=page_json())

    fake_upstream.get(CASES_PATH).mock(side_effect=hang)
    with override_settings(AUTOCOLLECT_TIMEOUT=0.5):
        holder = threading.Thread(target=lambda: read_concurrently(1, list_a))
        holder.start()
        assert entered.wait(timeout=5)
        started = time.monotonic()
        try:
            with pytest.raises(UpstreamTimeout):
                list_a()
            waited = time.monotonic() - started
        finally:
            release.set()
            holder.join(timeout=5)

    assert 0.4 <= waited < 1.0
    assert calls == [1]  # it waited for the holder instead of asking too
