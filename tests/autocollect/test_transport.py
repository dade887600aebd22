"""The client's HTTP: retries, one deadline per call, bounded answers, the client, logging.

Time is a FakeClock: backoff sleeps are recorded and move it on, and a slow upstream is one
that moves it on before it answers.
"""

import time
from collections.abc import Callable, Iterator

import httpx
import pytest
import respx
from django.test import override_settings
from pytest_django import Settings

from cases import autocollect
from cases.autocollect import CaseFilters, RateLimited, UpstreamTimeout, UpstreamUnavailable
from tests.support.autocollect import (
    CASES_PATH,
    CLIENT_SECRET,
    EMAIL,
    NATIONAL_ID,
    ORG,
    PHONE,
    FakeClock,
    answer,
    installed_clock,
    list_one_page,
    page_json,
)


@pytest.fixture(autouse=True)
def clock() -> Iterator[FakeClock]:
    yield from installed_clock()


# --- Retries -------------------------------------------------------------------------------


@pytest.mark.parametrize("status", [502, 503, 504])
def test_gateway_failures_are_retried_until_an_answer(
    fake_upstream: respx.MockRouter, clock: FakeClock, status: int
) -> None:
    cases = fake_upstream.get(CASES_PATH).mock(
        side_effect=[
            httpx.Response(status),
            httpx.Response(status),
            httpx.Response(200, json=page_json()),
        ]
    )

    assert len(list_one_page().cases) == 1
    assert cases.call_count == 3
    # Jittered exponential backoff: the second wait draws from a range twice as high.
    assert len(clock.sleeps) == 2
    assert 0.1 <= clock.sleeps[0] <= 0.2
    assert 0.2 <= clock.sleeps[1] <= 0.4


@pytest.mark.parametrize("status", [502, 503, 504])
def test_gateway_failures_give_up_after_the_last_attempt(
    fake_upstream: respx.MockRouter, clock: FakeClock, status: int
) -> None:
    cases = fake_upstream.get(CASES_PATH).mock(side_effect=answer(status))

    with pytest.raises(UpstreamUnavailable, match=str(status)):
        list_one_page()

    assert cases.call_count == 3
    assert len(clock.sleeps) == 2


def test_the_number_of_attempts_is_a_setting(
    fake_upstream: respx.MockRouter, settings: Settings
) -> None:
    settings.AUTOCOLLECT_MAX_ATTEMPTS = 5
    cases = fake_upstream.get(CASES_PATH).mock(side_effect=answer(502))

    with pytest.raises(UpstreamUnavailable):
        list_one_page()

    assert cases.call_count == 5


def test_the_backoff_is_capped_by_a_setting(
    fake_upstream: respx.MockRouter, clock: FakeClock, settings: Settings
) -> None:
    settings.AUTOCOLLECT_MAX_ATTEMPTS = 6
    settings.AUTOCOLLECT_BACKOFF_BASE = 1.0
    settings.AUTOCOLLECT_BACKOFF_MAX = 1.5
    settings.AUTOCOLLECT_TIMEOUT = 60.0
    fake_upstream.get(CASES_PATH).mock(side_effect=answer(502))

    with pytest.raises(UpstreamUnavailable):
        list_one_page()

    assert len(clock.sleeps) == 5
    assert all(0 < wait <= 1.5 for wait in clock.sleeps)


def test_a_500_is_not_retried(fake_upstream: respx.MockRouter, clock: FakeClock) -> None:
    cases = fake_upstream.get(CASES_PATH).mock(side_effect=answer(500))

    with pytest.raises(UpstreamUnavailable):
        list_one_page()

    assert cases.call_count == 1
    assert clock.sleeps == []


def test_connect_errors_are_retried(fake_upstream: respx.MockRouter) -> None:
    cases = fake_upstream.get(CASES_PATH).mock(
        side_effect=[httpx.ConnectError("refused"), httpx.Response(200, json=page_json())]
    )

    assert len(list_one_page().cases) == 1
    assert cases.call_count == 2


def test_persistent_connect_errors_are_unavailable(fake_upstream: respx.MockRouter) -> None:
    cases = fake_upstream.get(CASES_PATH).mock(side_effect=httpx.ConnectError("refused"))

    with pytest.raises(UpstreamUnavailable, match="ConnectError"):
        list_one_page()

    assert cases.call_count == 3


@pytest.mark.parametrize("error", [httpx.ReadTimeout, httpx.ConnectTimeout, httpx.PoolTimeout])
def test_quick_timeouts_are_retried_then_reported_as_timeouts(
    fake_upstream: respx.MockRouter, error: type[httpx.TimeoutException]
) -> None:
    cases = fake_upstream.get(CASES_PATH).mock(side_effect=error("slow"))

    with pytest.raises(UpstreamTimeout):
        list_one_page()

    assert cases.call_count == 3


def test_one_timeout_then_an_answer_succeeds(fake_upstream: respx.MockRouter) -> None:
    cases = fake_upstream.get(CASES_PATH).mock(
        side_effect=[httpx.ReadTimeout("slow"), httpx.Response(200, json=page_json())]
    )

    assert len(list_one_page().cases) == 1
    assert cases.call_count == 2


def test_retry_after_is_honoured_when_short(
    fake_upstream: respx.MockRouter, clock: FakeClock
) -> None:
    fake_upstream.get(CASES_PATH).mock(
        side_effect=[
            httpx.Response(503, headers={"Retry-After": "1"}),
            httpx.Response(429, headers={"Retry-After": "2"}),
            httpx.Response(200, json=page_json()),
        ]
    )

    list_one_page()

    assert clock.sleeps == [1, 2]


def test_a_long_retry_after_stops_retrying_and_reports_it(
    fake_upstream: respx.MockRouter, clock: FakeClock
) -> None:
    cases = fake_upstream.get(CASES_PATH).mock(
        side_effect=answer(429, headers={"Retry-After": "30"})
    )

    with pytest.raises(RateLimited) as raised:
        list_one_page()

    assert raised.value.retry_after == 30
    assert cases.call_count == 1
    assert clock.sleeps == []


def test_persistent_429_is_rate_limited_with_retry_after(
    fake_upstream: respx.MockRouter, clock: FakeClock
) -> None:
    cases = fake_upstream.get(CASES_PATH).mock(
        side_effect=answer(429, headers={"Retry-After": "1"})
    )

    with pytest.raises(RateLimited) as raised:
        list_one_page()

    assert raised.value.retry_after == 1
    assert cases.call_count == 3
    assert clock.sleeps == [1, 1]


def test_429_without_retry_after_backs_off_and_reports_none(
    fake_upstream: respx.MockRouter, clock: FakeClock
) -> None:
    fake_upstream.get(CASES_PATH).mock(side_effect=answer(429))

    with pytest.raises(RateLimited) as raised:
        list_one_page()

    assert raised.value.retry_after is None
    assert len(clock.sleeps) == 2
    assert all(0 < s <= 2.0 for s in clock.sleeps)


@pytest.mark.parametrize("value", ["soon", "-1", "²", "Wed, 99 Foo 2026 00:00:00 GMT", "1.5"])
def test_an_unreadable_retry_after_is_ignored(fake_upstream: respx.MockRouter, value: str) -> None:
    # Latin-1 on the wire, as a server may send it: "²" is a digit to str.isdigit().
    fake_upstream.get(CASES_PATH).mock(
        side_effect=lambda request: httpx.Response(
            429, headers=[(b"Retry-After", value.encode("latin-1"))]
        )
    )

    with pytest.raises(RateLimited) as raised:
        list_one_page()

    assert raised.value.retry_after is None


def test_a_long_retry_after_on_503_is_passed_on(fake_upstream: respx.MockRouter) -> None:
    fake_upstream.get(CASES_PATH).mock(side_effect=answer(503, headers={"Retry-After": "120"}))

    with pytest.raises(UpstreamUnavailable) as raised:
        list_one_page()

    assert raised.value.retry_after == 120


# --- One deadline per call -----------------------------------------------------------------


def slow(
    clock: FakeClock, seconds: float, response: httpx.Response
) -> Callable[[httpx.Request], httpx.Response]:
    """An upstream that takes `seconds` (on the fake clock) before it answers."""

    def respond(request: httpx.Request) -> httpx.Response:
        clock.advance(seconds)
        return response

    return respond


def test_each_attempt_gets_what_is_left_of_the_budget_as_its_timeouts(
    fake_upstream: respx.MockRouter, clock: FakeClock, settings: Settings
) -> None:
    settings.AUTOCOLLECT_TIMEOUT = 10.0
    answers = iter([(3, httpx.Response(502)), (0, httpx.Response(200, json=page_json()))])

    def three_seconds_then_an_answer(request: httpx.Request) -> httpx.Response:
        seconds, response = next(answers)
        clock.advance(seconds)
        return response

    cases = fake_upstream.get(CASES_PATH).mock(side_effect=three_seconds_then_an_answer)

    list_one_page()

    first, second = (call.request.extensions["timeout"] for call in cases.calls)
    assert first["read"] == pytest.approx(10.0)
    assert first["connect"] == pytest.approx(5.0)  # AUTOCOLLECT_CONNECT_TIMEOUT
    assert second["read"] == pytest.approx(10.0 - 3 - clock.sleeps[0])


def test_a_retry_that_cannot_finish_inside_the_budget_is_not_started(
    fake_upstream: respx.MockRouter, clock: FakeClock, settings: Settings
) -> None:
    settings.AUTOCOLLECT_TIMEOUT = 10.0
    # The first attempt took 6 s: another as long would end after the budget.
    cases = fake_upstream.get(CASES_PATH).mock(side_effect=slow(clock, 6, httpx.Response(502)))

    with pytest.raises(UpstreamUnavailable, match="502"):
        list_one_page()

    assert cases.call_count == 1
    assert clock.sleeps == []


def test_a_timed_out_attempt_that_used_the_budget_is_not_retried(
    fake_upstream: respx.MockRouter, clock: FakeClock, settings: Settings
) -> None:
    settings.AUTOCOLLECT_TIMEOUT = 10.0

    def times_out(request: httpx.Request) -> httpx.Response:
        clock.advance(request.extensions["timeout"]["read"])
        raise httpx.ReadTimeout("slow", request=request)

    cases = fake_upstream.get(CASES_PATH).mock(side_effect=times_out)
    started = clock.monotonic()

    with pytest.raises(UpstreamTimeout):
        list_one_page()

    assert cases.call_count == 1
    assert clock.monotonic() - started == pytest.approx(10.0)  # not three times ten


def test_a_retry_after_longer_than_what_is_left_is_not_waited_for(
    fake_upstream: respx.MockRouter, clock: FakeClock, settings: Settings
) -> None:
    settings.AUTOCOLLECT_TIMEOUT = 3.0
    settings.AUTOCOLLECT_RETRY_AFTER_CAP = 5.0
    cases = fake_upstream.get(CASES_PATH).mock(
        side_effect=slow(clock, 1, httpx.Response(503, headers={"Retry-After": "2"}))
    )

    with pytest.raises(UpstreamUnavailable) as raised:
        list_one_page()

    assert cases.call_count == 1
    assert clock.sleeps == []
    assert raised.value.retry_after == 2


def test_the_whole_call_stays_inside_the_budget_whatever_the_upstream_does(
    fake_upstream: respx.MockRouter, clock: FakeClock, settings: Settings
) -> None:
    settings.AUTOCOLLECT_TIMEOUT = 10.0
    settings.AUTOCOLLECT_MAX_ATTEMPTS = 50
    fake_upstream.get(CASES_PATH).mock(side_effect=slow(clock, 0.7, httpx.Response(503)))
    started = clock.monotonic()

    with pytest.raises(UpstreamUnavailable):
        list_one_page()

    assert clock.monotonic() - started <= 10.0


def test_an_answer_that_trickles_in_is_cut_off_at_the_deadline(
    fake_upstream: respx.MockRouter, clock: FakeClock, settings: Settings
) -> None:
    settings.AUTOCOLLECT_TIMEOUT = 10.0

    class Trickle(httpx.SyncByteStream):
        """A byte a second, for ever: every read is quick, the answer never ends."""

        def __iter__(self) -> Iterator[bytes]:
            while True:
                clock.advance(1)
                yield b" "

    cases = fake_upstream.get(CASES_PATH).mock(
        side_effect=lambda request: httpx.Response(200, stream=Trickle())
    )
    started = clock.monotonic()

    with pytest.raises(UpstreamTimeout, match="AUTOCOLLECT_TIMEOUT"):
        list_one_page()

    assert cases.call_count == 1
    assert clock.monotonic() - started == pytest.approx(10.0, abs=1.0)


def test_a_trickle_ends_in_real_time_too(settings: Settings) -> None:
    """Over a real transport and the real clock: the call ends near its budget."""
    autocollect.use_clock(None)
    settings.AUTOCOLLECT_TIMEOUT = 0.5

    class Trickle(httpx.SyncByteStream):
        def __iter__(self) -> Iterator[bytes]:
            while True:
                time.sleep(0.05)
                yield b" "

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/token":
            return httpx.Response(200, json={"access_token": "t", "expires_in": 3600})
        return httpx.Response(200, stream=Trickle())

    autocollect.use_transport(httpx.MockTransport(handler))
    started = time.monotonic()
    try:
        with pytest.raises(UpstreamTimeout):
            list_one_page()
    finally:
        autocollect.use_transport(None)

    assert time.monotonic() - started < 1.5


# --- Bounded answers -----------------------------------------------------------------------


def test_an_answer_larger_than_the_limit_is_refused_without_reading_it(
    fake_upstream: respx.MockRouter, settings: Settings
) -> None:
    settings.AUTOCOLLECT_MAX_BODY_BYTES = 1000
    chunks_read = 0

    class Huge(httpx.SyncByteStream):
        def __iter__(self) -> Iterator[bytes]:
            nonlocal chunks_read
            for _ in range(150_000):  # 150 MB in 1 kB chunks
                chunks_read += 1
                yield b"x" * 1000

    cases = fake_upstream.get(CASES_PATH).mock(
        side_effect=lambda request: httpx.Response(200, stream=Huge())
    )

    with pytest.raises(UpstreamUnavailable, match="too large"):
        list_one_page()

    assert chunks_read <= 2
    assert cases.call_count == 1  # a size does not improve by asking again


def test_a_declared_length_over_the_limit_is_refused_before_reading(
    fake_upstream: respx.MockRouter, settings: Settings
) -> None:
    settings.AUTOCOLLECT_MAX_BODY_BYTES = 1000

    class Unread(httpx.SyncByteStream):
        def __iter__(self) -> Iterator[bytes]:
            raise AssertionError("the body was read")

    fake_upstream.get(CASES_PATH).mock(
        side_effect=lambda request: httpx.Response(
            200, headers={"Content-Length": "150000000"}, stream=Unread()
        )
    )

    with pytest.raises(UpstreamUnavailable, match="too large"):
        list_one_page()


def test_an_answer_within_the_limit_is_read(
    fake_upstream: respx.MockRouter, settings: Settings
) -> None:
    settings.AUTOCOLLECT_MAX_BODY_BYTES = 100_000
    fake_upstream.get(CASES_PATH).mock(side_effect=answer(200, page_json()))

    assert len(list_one_page().cases) == 1


# --- The HTTP client -----------------------------------------------------------------------


def test_the_client_has_explicit_timeouts_from_settings() -> None:
    autocollect.use_clock(None)
    autocollect.http_client()  # built with the default; a settings change must rebuild it
    with override_settings(AUTOCOLLECT_TIMEOUT=7.5):
        timeout = autocollect.http_client().timeout

    assert timeout.read == pytest.approx(7.5, abs=0.1)
    assert timeout.connect is not None
    assert 0 < timeout.connect <= 7.5
    assert timeout.pool is not None
    assert autocollect.http_client() is autocollect.http_client()


def test_use_transport_routes_the_client_and_none_restores_it() -> None:
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.url.path)
        if request.url.path == "/token":
            return httpx.Response(200, json={"access_token": "t", "expires_in": 3600})
        return httpx.Response(200, json=page_json())

    autocollect.use_transport(httpx.MockTransport(handler))
    try:
        list_one_page()
    finally:
        autocollect.use_transport(None)

    assert seen == ["/token", CASES_PATH]
    assert autocollect.current_transport() is None


# --- Logging -------------------------------------------------------------------------------


def test_logs_name_method_path_template_and_status_but_no_values(
    fake_upstream: respx.MockRouter, client_log: pytest.LogCaptureFixture
) -> None:
    fake_upstream.get(CASES_PATH).mock(
        side_effect=[httpx.ConnectError("refused"), httpx.Response(200, json=page_json())]
    )

    autocollect.list_cases(
        organization_id=ORG,
        filters=CaseFilters(search_term="Nordmann", customer_number="CUST-42"),
        page_token="tok-secret-page",
    )

    messages = [record.getMessage() for record in client_log.records]
    assert any("GET /orgs/{organizationId}/cases -> 200" in m and " ms" in m for m in messages)
    assert any("ConnectError" in m for m in messages)
    assert any("POST /token -> 200" in m for m in messages)
    logged = "\n".join(messages)
    for secret in (
        "Nordmann",
        "CUST-42",
        "tok-secret-page",
        ORG,
        "token-1",
        CLIENT_SECRET,
        NATIONAL_ID,
        EMAIL,
        PHONE,
    ):
        assert secret not in logged
