"""HTTP: the process's client, one deadline per call, retries, bounded reads, error translation.

A call has one budget, settings.AUTOCOLLECT_TIMEOUT, for everything it does: fetching a token,
every attempt, the waits between them and reading each answer. Each attempt's httpx timeouts are
what is left of it; a retry that could not finish inside it is not started; an answer that
trickles in is cut off when the budget is spent, and one larger than AUTOCOLLECT_MAX_BODY_BYTES
is refused unread. Tuning comes from settings at call time.
"""

from __future__ import annotations

import logging
import random
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC
from email.utils import parsedate_to_datetime
from typing import NoReturn

import httpx
from django.conf import settings
from django.core.signals import setting_changed
from django.dispatch import receiver

from cases.autocollect.clock import clock
from cases.autocollect.contract import PAGE_TOKEN_PARAMETER, RETRYABLE_STATUSES
from cases.autocollect.errors import (
    AccessDenied,
    InvalidPageToken,
    NotFound,
    Problem,
    RateLimited,
    Rejected,
    UpstreamTimeout,
    UpstreamUnavailable,
)
from cases.autocollect.parsing import parse_problem

logger = logging.getLogger("cases.autocollect")

MAX_CONNECTIONS = 20
MAX_KEEPALIVE_CONNECTIONS = 10

# --------------------------------------------------------------------------------------------
# The per-process HTTP client
# --------------------------------------------------------------------------------------------

_client: httpx.Client | None = None
_transport: httpx.BaseTransport | None = None
_client_lock = threading.Lock()
_on_reset: list[Callable[[], None]] = []


def http_client() -> httpx.Client:
    """The one HTTP client of this process, created on first use."""
    global _client  # one pooled client per process, by design
    with _client_lock:
        if _client is None:
            _client = _build_client(_transport)
        return _client


def reset_http_client() -> None:
    """Close the process's HTTP client and forget its token; the next call starts afresh."""
    global _client
    with _client_lock:
        client, _client = _client, None
    if client is not None:
        client.close()
    for forget in _on_reset:
        forget()


def on_reset(forget: Callable[[], None]) -> None:
    """Run `forget` whenever the client is reset (the auth module's process token)."""
    _on_reset.append(forget)


def use_transport(transport: httpx.BaseTransport | None) -> None:
    """Route the process's client through this transport (tests); None restores the network."""
    global _transport
    _transport = transport
    reset_http_client()


def current_transport() -> httpx.BaseTransport | None:
    """The transport use_transport installed, None for the network."""
    return _transport


def _build_client(transport: httpx.BaseTransport | None) -> httpx.Client:
    # Every request carries its own timeouts, cut from its call's budget; these are the most
    # any request may take, for one built without them.
    return httpx.Client(
        timeout=Deadline.start().timeout(),
        limits=httpx.Limits(
            max_connections=MAX_CONNECTIONS,
            max_keepalive_connections=MAX_KEEPALIVE_CONNECTIONS,
            # httpx closes a connection idle for 5 s; requests a few seconds apart would each pay
            # a new TCP and TLS handshake. A connection the upstream closed meanwhile is noticed
            # before reuse (httpcore checks the socket), and a GET is retried if it races one.
            keepalive_expiry=float(settings.AUTOCOLLECT_KEEPALIVE_SECONDS),
        ),
        transport=transport,
        headers={"Accept": "application/json", "User-Agent": "collection-dashboard"},
        follow_redirects=False,
    )


@receiver(setting_changed)
def _forget_client_on_tuning_change(*, setting: str, **kwargs: object) -> None:
    if setting in {"AUTOCOLLECT_TIMEOUT", "AUTOCOLLECT_KEEPALIVE_SECONDS"}:
        reset_http_client()


# --------------------------------------------------------------------------------------------
# The deadline of one call
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Deadline:
    """When one client call must be over: AUTOCOLLECT_TIMEOUT after it started."""

    ends_at: float  # on the monotonic clock
    budget: float

    @classmethod
    def start(cls) -> Deadline:
        budget = float(settings.AUTOCOLLECT_TIMEOUT)
        return cls(ends_at=clock().monotonic() + budget, budget=budget)

    def remaining(self) -> float:
        return max(0.0, self.ends_at - clock().monotonic())

    def allows(self, seconds: float) -> bool:
        """Whether `seconds` more still end inside the budget."""
        return seconds < self.remaining()

    def check(self) -> None:
        """Raise UpstreamTimeout once the budget is spent."""
        if self.remaining() <= 0:
            raise UpstreamTimeout(
                f"AutoCollect did not answer within {self.budget:g} s (AUTOCOLLECT_TIMEOUT)"
            )

    def timeout(self) -> httpx.Timeout:
        """httpx timeouts for an attempt starting now: what is left of the budget.

        Connecting and waiting for a pooled connection should fail fast; reading may take the
        rest, since listing with a search term is the upstream's slowest answer.
        """
        left = self.remaining()
        quick = min(left, float(settings.AUTOCOLLECT_CONNECT_TIMEOUT))
        return httpx.Timeout(connect=quick, read=left, write=left, pool=quick)


# --------------------------------------------------------------------------------------------
# Calls and answers
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Call:
    """One request to send: what the log shows (template) and what goes on the wire."""

    method: str
    template: str  # the path with placeholders: what the log shows
    url: str
    params: Mapping[str, str] | None = None
    json_body: Mapping[str, object] | None = None
    form: Mapping[str, str] | None = None
    headers: Mapping[str, str] = field(default_factory=dict)
    # GETs may be repeated freely; a POST only when it never left this machine.
    idempotent: bool = True

    @property
    def sends_page_token(self) -> bool:
        return bool(self.params and self.params.get(PAGE_TOKEN_PARAMETER))

    def build(self, deadline: Deadline) -> httpx.Request:
        return http_client().build_request(
            self.method,
            self.url,
            params=dict(self.params) if self.params else None,
            json=dict(self.json_body) if self.json_body is not None else None,
            data=dict(self.form) if self.form is not None else None,
            headers=dict(self.headers),
            timeout=deadline.timeout(),
        )


@dataclass(frozen=True, slots=True)
class Reply:
    """An answer read in full (and within its limits): status, headers and body."""

    status_code: int
    reason_phrase: str
    headers: httpx.Headers
    content: bytes

    @property
    def ok(self) -> bool:
        return 200 <= self.status_code < 300


def send(call: Call, deadline: Deadline, auth: httpx.Auth | None = None) -> Reply:
    """Send, repeating transient failures while the budget allows.

    Returns the last answer, which may still be a failure for the caller to translate.
    """
    attempt = 1
    while True:
        deadline.check()
        started = clock().monotonic()
        try:
            reply = _exchange(call, deadline, auth)
        except httpx.TransportError as error:
            _log_failure(call, error, started, attempt)
            wait = _backoff_seconds(attempt)
            if not _may_retry(call, error, attempt) or not _retry_fits(deadline, wait, started):
                _raise_transport_error(error)
        else:
            _log_exchange(call, reply, started, attempt)
            if reply.status_code not in RETRYABLE_STATUSES or not call.idempotent:
                return reply
            retry_after = retry_after_seconds(reply.headers)
            if retry_after is not None and retry_after > settings.AUTOCOLLECT_RETRY_AFTER_CAP:
                return reply  # the upstream wants longer than a page view may wait
            wait = _backoff_seconds(attempt) if retry_after is None else retry_after
            if attempt >= settings.AUTOCOLLECT_MAX_ATTEMPTS:
                return reply
            if not _retry_fits(deadline, wait, started):
                return reply
        clock().sleep(wait)
        attempt += 1


def _exchange(call: Call, deadline: Deadline, auth: httpx.Auth | None) -> Reply:
    """One attempt: send, then read the body in chunks, checking the deadline and the size."""
    response = http_client().send(call.build(deadline), auth=auth, stream=True)
    try:
        content = read_bounded(response, deadline)
    finally:
        response.close()
    return Reply(
        status_code=response.status_code,
        reason_phrase=response.reason_phrase,
        headers=response.headers,
        content=content,
    )


def read_bounded(response: httpx.Response, deadline: Deadline) -> bytes:
    """The body, unless it is larger than allowed or still arriving when the budget is spent.

    httpx's read timeout applies to each read, so an upstream that sends a byte a second would
    never trip it; the deadline is checked between chunks instead.
    """
    limit = int(settings.AUTOCOLLECT_MAX_BODY_BYTES)
    declared = response.headers.get("Content-Length", "").strip()
    if declared.isascii() and declared.isdigit() and int(declared) > limit:
        raise _too_large(limit)
    body = bytearray()
    for chunk in response.iter_bytes():  # decoded: a compressed bomb counts at its real size
        body += chunk
        if len(body) > limit:
            raise _too_large(limit)
        deadline.check()
    return bytes(body)


def _too_large(limit: int) -> UpstreamUnavailable:
    return UpstreamUnavailable(f"AutoCollect's answer was too large (over {limit} bytes)")


def _may_retry(call: Call, error: httpx.TransportError, attempt: int) -> bool:
    if attempt >= settings.AUTOCOLLECT_MAX_ATTEMPTS:
        return False
    if call.idempotent:
        return isinstance(
            error, httpx.TimeoutException | httpx.NetworkError | httpx.RemoteProtocolError
        )
    # A POST may be repeated only when its request never reached the upstream.
    return isinstance(error, httpx.ConnectError | httpx.ConnectTimeout | httpx.PoolTimeout)


def _retry_fits(deadline: Deadline, wait: float, started: float) -> bool:
    """A retry is started only if, after the wait, as long as the last attempt took remains."""
    last_attempt = clock().monotonic() - started
    return deadline.allows(wait + last_attempt)


def _raise_transport_error(error: httpx.TransportError) -> NoReturn:
    kind = type(error).__name__
    if isinstance(error, httpx.TimeoutException):
        raise UpstreamTimeout(f"AutoCollect did not answer in time ({kind})") from error
    raise UpstreamUnavailable(f"AutoCollect could not be reached ({kind})") from error


def _backoff_seconds(attempt: int) -> float:
    base = float(settings.AUTOCOLLECT_BACKOFF_BASE)
    ceiling = min(float(settings.AUTOCOLLECT_BACKOFF_MAX), base * 2.0 ** (attempt - 1))
    return ceiling * random.uniform(0.5, 1.0)  # noqa: S311 - jitter, not cryptography


def retry_after_seconds(headers: httpx.Headers) -> int | None:
    """Retry-After in seconds (it may be a number or an HTTP date); None if absent or odd."""
    value = headers.get("Retry-After", "").strip()
    if not value:
        return None
    if value.isascii() and value.isdigit():
        return int(value)
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return max(0, round(moment.timestamp() - clock().time()))


# --------------------------------------------------------------------------------------------
# Translating a failed answer
# --------------------------------------------------------------------------------------------


def raise_for_status(reply: Reply, *, sent_page_token: bool) -> None:
    """Raise the client's exception for a failed answer; do nothing for a 2xx."""
    status = reply.status_code
    if reply.ok:
        return
    retry_after = retry_after_seconds(reply.headers)
    if status == 429:
        raise RateLimited("AutoCollect is rate limiting us", retry_after=retry_after)
    if status == 403:
        raise AccessDenied("Our AutoCollect credentials may not read this organisation")
    if status == 404:
        raise NotFound("AutoCollect has no such resource")
    if 400 <= status < 500:
        problem = parse_problem(status, reply.reason_phrase, reply.content)
        # Only a token we sent can be refused: naming PageToken otherwise is a plain refusal,
        # and treating it as a stale token would restart the list at page one for ever.
        if status == 400 and sent_page_token and _names_page_token(problem):
            raise InvalidPageToken(problem)
        raise Rejected(problem)
    raise UpstreamUnavailable(
        f"AutoCollect answered HTTP {status}",
        retry_after=retry_after if status == 503 else None,
    )


def _names_page_token(problem: Problem) -> bool:
    # Parameter names are case-insensitive upstream, and validators may prefix them ("$.pageToken").
    return any(PAGE_TOKEN_PARAMETER.lower() in name.lower() for name in problem.errors)


# --------------------------------------------------------------------------------------------
# Logging: method, path template, status and time; never a query string, id or body
# --------------------------------------------------------------------------------------------


def _log_exchange(call: Call, reply: Reply, started: float, attempt: int) -> None:
    elapsed_ms = _elapsed_ms(started)
    # The fields also feed the request log's upstream totals (dashboard.logs.UpstreamCallCounter).
    logger.info(
        "autocollect %s %s -> %s in %d ms (attempt %d)",
        call.method,
        call.template,
        reply.status_code,
        elapsed_ms,
        attempt,
        extra={
            "upstream_method": call.method,
            "upstream_route": call.template,
            "upstream_status": reply.status_code,
            "upstream_ms": elapsed_ms,
            "attempt": attempt,
        },
    )


def _log_failure(call: Call, error: httpx.TransportError, started: float, attempt: int) -> None:
    elapsed_ms = _elapsed_ms(started)
    logger.warning(
        "autocollect %s %s failed: %s after %d ms (attempt %d)",
        call.method,
        call.template,
        type(error).__name__,
        elapsed_ms,
        attempt,
        extra={
            "upstream_method": call.method,
            "upstream_route": call.template,
            "upstream_error": type(error).__name__,
            "upstream_ms": elapsed_ms,
            "attempt": attempt,
        },
    )


def _elapsed_ms(started: float) -> int:
    return round((clock().monotonic() - started) * 1000)
