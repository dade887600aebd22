"""The bearer token: client credentials, shared through the cache, as an httpx.Auth.

The token lives in the shared Django cache, keyed by the credential (never the secret), so every
process and machine uses one; each process also keeps it until its refresh time, so most calls
skip the cache round trip. When it must be fetched, one caller fetches it while the others wait
for theirs in the cache (a cache lock). A 401 forgets the token, fetches a new one and retries
once, inside httpx's auth flow; a second 401 is an error, not a loop. Fetching counts against
the call's deadline like any other request.
"""

from __future__ import annotations

import hashlib
import logging
import threading
from collections.abc import Generator
from dataclasses import dataclass
from typing import Final
from urllib.parse import urlsplit

import httpx
from django.conf import settings
from django.core.cache import cache

from cases.autocollect.clock import clock
from cases.autocollect.contract import TOKEN_REFUSAL_STATUSES
from cases.autocollect.errors import RateLimited, UpstreamUnavailable
from cases.autocollect.parsing import json_body, parse_token
from cases.autocollect.transport import (
    Call,
    Deadline,
    on_reset,
    retry_after_seconds,
    send,
)

logger = logging.getLogger("cases.autocollect")

TOKEN_LOCK_POLL_SECONDS: Final = 0.05
REFUSED_TWICE: Final = (
    "AutoCollect refused a freshly issued token (401): check that the credentials may use this API"
)


class BearerAuth(httpx.Auth):
    """Signs each request with the shared token; one refresh-and-retry on a 401."""

    def __init__(self, deadline: Deadline) -> None:
        self.deadline = deadline

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response]:
        token = access_token(self.deadline)
        request.headers["Authorization"] = f"Bearer {token}"
        response = yield request
        if response.status_code != 401:
            return
        _drop_body(response)
        logger.info("autocollect: the token was refused (401); fetching a new one")
        forget_token(token)
        token = access_token(self.deadline)
        self.deadline.check()
        request.headers["Authorization"] = f"Bearer {token}"
        # The refresh took part of the budget: the retry gets only what is left.
        request.extensions = {**request.extensions, "timeout": self.deadline.timeout().as_dict()}
        response = yield request
        if response.status_code == 401:
            raise UpstreamUnavailable(REFUSED_TWICE)


def _drop_body(response: httpx.Response) -> None:
    """Close a refused answer's stream unread: httpx would read all of it, without any limit."""
    if isinstance(response.stream, httpx.SyncByteStream):
        response.stream.close()
    response.stream = httpx.ByteStream(b"")


# --------------------------------------------------------------------------------------------
# Where the token is kept: this process, then the shared cache
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _HeldToken:
    key: str
    token: str
    refresh_at: float  # wall-clock seconds


_held: _HeldToken | None = None
_held_lock = threading.Lock()


def _forget_held() -> None:
    global _held  # the process's copy of the shared token
    with _held_lock:
        _held = None


on_reset(_forget_held)


def token_cache_key() -> str:
    """The cache key of the token: the credential's hash, never the secret."""
    credential = f"{settings.AUTOCOLLECT_TOKEN_URL}\n{settings.AUTOCOLLECT_CLIENT_ID}"
    return "autocollect:token:" + hashlib.sha256(credential.encode()).hexdigest()


def _held_token(key: str) -> str | None:
    held = _held
    if held is not None and held.key == key and clock().time() < held.refresh_at:
        return held.token
    return None


def _hold(key: str, token: str, refresh_at: float) -> str:
    global _held  # the process's copy of the shared token
    with _held_lock:
        _held = _HeldToken(key=key, token=token, refresh_at=refresh_at)
    return token


def _cached_token(key: str) -> str | None:
    entry = cache.get(key)
    if not isinstance(entry, dict):
        return None
    token, refresh_at = entry.get("access_token"), entry.get("refresh_at")
    if (
        isinstance(token, str)
        and isinstance(refresh_at, int | float)
        and clock().time() < refresh_at
    ):
        return _hold(key, token, float(refresh_at))
    return None


def access_token(deadline: Deadline) -> str:
    """A valid bearer token: held, cached, or fetched once for every concurrent caller."""
    key = token_cache_key()
    token = _held_token(key) or _cached_token(key)
    if token is not None:
        return token
    lock_key = key + ":lock"
    # The lock outlives a fetch that takes a whole budget, then frees itself.
    lock_seconds = int(deadline.budget) + 5
    if cache.add(lock_key, "1", timeout=lock_seconds):
        try:
            # Another caller may have stored one between our look and our lock.
            return _cached_token(key) or _fetch_and_store_token(key, deadline)
        finally:
            cache.delete(lock_key)
    # Someone else is fetching: wait briefly for their token, then stop waiting and fetch.
    wait_until = clock().monotonic() + float(settings.AUTOCOLLECT_TOKEN_LOCK_WAIT)
    while clock().monotonic() < wait_until:
        deadline.check()
        clock().sleep(min(TOKEN_LOCK_POLL_SECONDS, deadline.remaining()))
        token = _cached_token(key)
        if token is not None:
            return token
    return _fetch_and_store_token(key, deadline)


def forget_token(token: str) -> None:
    """Forget a refused token, here and in the cache; a fresh one another worker stored stays."""
    global _held  # the process's copy of the shared token
    key = token_cache_key()
    with _held_lock:
        if _held is not None and _held.token == token:
            _held = None
    entry = cache.get(key)
    if isinstance(entry, dict) and entry.get("access_token") == token:
        cache.delete(key)


def _fetch_and_store_token(key: str, deadline: Deadline) -> str:
    token, lifetime = _fetch_token(deadline)
    now = clock().time()
    margin = min(float(settings.AUTOCOLLECT_TOKEN_REFRESH_MARGIN), lifetime / 2)
    refresh_at = now + lifetime - margin
    cache.set(
        key,
        {"access_token": token, "refresh_at": refresh_at},
        timeout=max(1, int(refresh_at - now)),
    )
    return _hold(key, token, refresh_at)


def _fetch_token(deadline: Deadline) -> tuple[str, float]:
    """POST the client credentials; the token and how many seconds it lives."""
    token_url = str(settings.AUTOCOLLECT_TOKEN_URL)
    call = Call(
        method="POST",
        template=urlsplit(token_url).path or "/",
        url=token_url,
        form={
            "grant_type": "client_credentials",
            "client_id": str(settings.AUTOCOLLECT_CLIENT_ID),
            "client_secret": str(settings.AUTOCOLLECT_CLIENT_SECRET),
        },
        # Fetching a token changes nothing upstream, so it may be repeated like a GET.
        idempotent=True,
    )
    reply = send(call, deadline)
    if reply.status_code in TOKEN_REFUSAL_STATUSES:
        raise UpstreamUnavailable(
            "The AutoCollect token endpoint refused our credentials "
            f"(HTTP {reply.status_code}): check AUTOCOLLECT_CLIENT_ID, "
            "AUTOCOLLECT_CLIENT_SECRET and AUTOCOLLECT_TOKEN_URL"
        )
    if reply.status_code == 429:
        raise RateLimited(
            "The AutoCollect token endpoint is rate limiting us",
            retry_after=retry_after_seconds(reply.headers),
        )
    if not reply.ok:
        raise UpstreamUnavailable(
            f"The AutoCollect token endpoint answered HTTP {reply.status_code}"
        )
    return parse_token(json_body(reply.content), now=clock().time())
