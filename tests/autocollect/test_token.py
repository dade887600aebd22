"""The client's bearer token: shared cache, kept in the process, one refresh on a 401."""

import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
import respx
from django.core.cache import cache
from pytest_django import Settings

from cases import autocollect
from cases.autocollect import UpstreamTimeout, UpstreamUnavailable
from tests.support.autocollect import (
    CASES_PATH,
    CLIENT_SECRET,
    FakeClock,
    answer,
    installed_clock,
    list_one_page,
    page_json,
    token_issuer,
)


@pytest.fixture
def clock() -> Iterator[FakeClock]:
    yield from installed_clock()


def test_two_calls_fetch_one_token(fake_upstream: respx.MockRouter) -> None:
    cases = fake_upstream.get(CASES_PATH).mock(side_effect=answer(200, page_json()))

    list_one_page()
    list_one_page()

    assert fake_upstream.routes["token"].call_count == 1
    assert [call.request.headers["Authorization"] for call in cases.calls] == ["Bearer token-1"] * 2


def test_token_request_sends_client_credentials_form_encoded(
    fake_upstream: respx.MockRouter,
) -> None:
    fake_upstream.get(CASES_PATH).mock(side_effect=answer(200, page_json()))

    list_one_page()

    request = fake_upstream.routes["token"].calls.last.request
    assert request.headers["Content-Type"] == "application/x-www-form-urlencoded"
    form = dict(httpx.QueryParams(request.content.decode()))
    assert form == {
        "grant_type": "client_credentials",
        "client_id": "dashboard",
        "client_secret": CLIENT_SECRET,
    }


def test_token_lives_in_the_shared_cache_keyed_without_the_secret(
    fake_upstream: respx.MockRouter,
) -> None:
    fake_upstream.get(CASES_PATH).mock(side_effect=answer(200, page_json()))
    list_one_page()

    key = autocollect.token_cache_key()
    assert CLIENT_SECRET not in key
    assert cache.get(key)["access_token"] == "token-1"

    # Another process (a fresh client that holds no token, same cache) reuses it...
    autocollect.reset_http_client()
    list_one_page()
    assert fake_upstream.routes["token"].call_count == 1

    # ...and with neither the process's copy nor the cache entry, a token is fetched again.
    autocollect.reset_http_client()
    cache.clear()
    list_one_page()
    assert fake_upstream.routes["token"].call_count == 2


def test_the_process_keeps_the_token_so_most_calls_skip_the_cache(
    fake_upstream: respx.MockRouter,
) -> None:
    fake_upstream.get(CASES_PATH).mock(side_effect=answer(200, page_json()))
    list_one_page()

    key = autocollect.token_cache_key()
    cache.delete(key)  # were the cache read, the token would be fetched again
    list_one_page()

    assert fake_upstream.routes["token"].call_count == 1


def test_token_is_refreshed_about_a_minute_before_it_expires(
    fake_upstream: respx.MockRouter, clock: FakeClock
) -> None:
    fake_upstream.routes["token"].side_effect = token_issuer(clock.time, lifetime=3600)
    cases = fake_upstream.get(CASES_PATH).mock(side_effect=answer(200, page_json()))

    list_one_page()
    clock.advance(3600 - 70)  # 70 s left: still good
    list_one_page()
    clock.advance(15)  # 55 s left: time for a new one
    list_one_page()

    assert fake_upstream.routes["token"].call_count == 2
    assert cases.calls.last.request.headers["Authorization"] == "Bearer token-2"


def test_the_refresh_margin_is_a_setting(
    fake_upstream: respx.MockRouter, clock: FakeClock, settings: Settings
) -> None:
    settings.AUTOCOLLECT_TOKEN_REFRESH_MARGIN = 300
    fake_upstream.routes["token"].side_effect = token_issuer(clock.time, lifetime=3600)
    fake_upstream.get(CASES_PATH).mock(side_effect=answer(200, page_json()))

    list_one_page()
    clock.advance(3600 - 290)
    list_one_page()

    assert fake_upstream.routes["token"].call_count == 2


def test_expires_in_is_used_when_expires_on_is_missing(
    fake_upstream: respx.MockRouter, clock: FakeClock
) -> None:
    fake_upstream.routes["token"].side_effect = answer(
        200, {"access_token": "short", "token_type": "Bearer", "expires_in": "600"}
    )
    fake_upstream.get(CASES_PATH).mock(side_effect=answer(200, page_json()))

    list_one_page()
    clock.advance(530)
    list_one_page()
    assert fake_upstream.routes["token"].call_count == 1
    clock.advance(20)  # 50 s left
    list_one_page()
    assert fake_upstream.routes["token"].call_count == 2


@pytest.mark.parametrize(
    "expires_on",
    ["inf", "-inf", "nan", "Infinity", 1e308, "1e400", -5, 0, "soon", [], {"at": 1}, True],
)
def test_an_expiry_that_cannot_be_believed_gives_the_default_lifetime(
    fake_upstream: respx.MockRouter, clock: FakeClock, expires_on: object
) -> None:
    fake_upstream.routes["token"].side_effect = answer(
        200, {"access_token": "odd", "token_type": "Bearer", "expires_on": expires_on}
    )
    fake_upstream.get(CASES_PATH).mock(side_effect=answer(200, page_json()))

    list_one_page()
    clock.advance(230)  # the default lifetime is 300 s, refreshed 60 s early
    list_one_page()
    assert fake_upstream.routes["token"].call_count == 1
    clock.advance(20)
    list_one_page()
    capped = expires_on == 1e308  # centuries are not believed: a day at most
    assert fake_upstream.routes["token"].call_count == (1 if capped else 2)
    clock.advance(24 * 3600)
    list_one_page()
    assert fake_upstream.routes["token"].call_count == (2 if capped else 3)


def test_a_401_refreshes_the_token_and_retries_once(fake_upstream: respx.MockRouter) -> None:
    cases = fake_upstream.get(CASES_PATH).mock(
        side_effect=[httpx.Response(401), httpx.Response(200, json=page_json())]
    )

    page = list_one_page()

    assert len(page.cases) == 1
    assert fake_upstream.routes["token"].call_count == 2
    assert [c.request.headers["Authorization"] for c in cases.calls] == [
        "Bearer token-1",
        "Bearer token-2",
    ]
    assert cache.get(autocollect.token_cache_key())["access_token"] == "token-2"


def test_a_second_401_is_an_error_not_a_loop(fake_upstream: respx.MockRouter) -> None:
    cases = fake_upstream.get(CASES_PATH).mock(side_effect=answer(401))

    with pytest.raises(UpstreamUnavailable, match="refused a freshly issued token"):
        list_one_page()

    assert cases.call_count == 2
    assert fake_upstream.routes["token"].call_count == 2


def test_a_refused_answers_body_is_not_read(fake_upstream: respx.MockRouter) -> None:
    fake_upstream.get(CASES_PATH).mock(
        side_effect=[httpx.Response(401, stream=_Endless()), httpx.Response(200, json=page_json())]
    )

    assert len(list_one_page().cases) == 1


class _Endless(httpx.SyncByteStream):
    """A body that never ends: reading it whole would never return."""

    def __iter__(self) -> Iterator[bytes]:
        while True:
            yield b"x" * 65536


def test_concurrent_callers_fetch_the_token_once(fake_upstream: respx.MockRouter) -> None:
    fake_upstream.routes["token"].side_effect = token_issuer(delay=0.3)
    cases = fake_upstream.get(CASES_PATH).mock(side_effect=answer(200, page_json()))
    callers = 6
    start = threading.Barrier(callers)

    def call() -> autocollect.CasePage:
        start.wait(timeout=5)
        return list_one_page()

    with ThreadPoolExecutor(max_workers=callers) as pool:
        pages = [
            future.result(timeout=10) for future in [pool.submit(call) for _ in range(callers)]
        ]

    assert all(len(page.cases) == 1 for page in pages)
    assert fake_upstream.routes["token"].call_count == 1
    assert cases.call_count == callers
    assert {c.request.headers["Authorization"] for c in cases.calls} == {"Bearer token-1"}


def test_waiting_for_another_callers_token_respects_the_deadline(
    fake_upstream: respx.MockRouter, clock: FakeClock, settings: Settings
) -> None:
    settings.AUTOCOLLECT_TIMEOUT = 1.0
    settings.AUTOCOLLECT_TOKEN_LOCK_WAIT = 3.0
    cases = fake_upstream.get(CASES_PATH).mock(side_effect=answer(200, page_json()))
    cache.add(autocollect.token_cache_key() + ":lock", "1", timeout=60)  # a fetch under way

    with pytest.raises(UpstreamTimeout):
        list_one_page()

    assert sum(clock.sleeps) == pytest.approx(
        1.0
    )  # polled for the cache no longer than the call's budget
    assert cases.call_count == 0


def test_a_slow_token_endpoint_counts_against_the_calls_budget(
    fake_upstream: respx.MockRouter, clock: FakeClock, settings: Settings
) -> None:
    settings.AUTOCOLLECT_TIMEOUT = 10.0

    def slow_token(request: httpx.Request) -> httpx.Response:
        clock.advance(10.5)
        return httpx.Response(200, json={"access_token": "late", "expires_in": 3600})

    fake_upstream.routes["token"].side_effect = slow_token
    cases = fake_upstream.get(CASES_PATH).mock(side_effect=answer(200, page_json()))

    with pytest.raises(UpstreamTimeout):
        list_one_page()

    assert cases.call_count == 0


@pytest.mark.parametrize(
    ("status", "body"),
    [(401, {"error": "invalid_client"}), (400, {"error": "invalid_request"})],
)
def test_token_endpoint_refusing_credentials_says_to_check_them(
    fake_upstream: respx.MockRouter, status: int, body: object
) -> None:
    fake_upstream.routes["token"].side_effect = answer(status, body)
    cases = fake_upstream.get(CASES_PATH).mock(side_effect=answer(200, page_json()))

    with pytest.raises(UpstreamUnavailable, match="AUTOCOLLECT_CLIENT_ID") as raised:
        list_one_page()

    assert CLIENT_SECRET not in str(raised.value)
    assert fake_upstream.routes["token"].call_count == 1  # credentials do not improve by retrying
    assert cases.call_count == 0


def test_token_answer_without_a_token_is_malformed(fake_upstream: respx.MockRouter) -> None:
    fake_upstream.routes["token"].side_effect = answer(200, {"token_type": "Bearer"})

    with pytest.raises(UpstreamUnavailable, match="malformed"):
        list_one_page()
