"""Fixture plugin: route the AutoCollect client into the in-process sandbox.

Registered from tests/conftest.py (`pytest_plugins = ["tests.upstream"]`). With `sandbox_upstream`,
every upstream call the client makes goes through a WSGI transport into this very Django process,
so views, client and sandbox run together inside the test's transaction: fast, and no server.
"""

from collections.abc import Callable, Iterable, Iterator
from typing import Any

import httpx
import pytest
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from django.utils import translation

from cases import autocollect

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


def _keeping_the_language(app: WsgiApp) -> WsgiApp:
    """Run the sandbox without touching the dashboard request's language.

    In-process, the sandbox's LocaleMiddleware would activate its own language in the thread the
    dashboard's request is rendering in; over real HTTP they are separate requests.
    """

    def wrapped(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        language = translation.get_language()
        try:
            return list(app(environ, start_response))
        finally:
            if language:
                translation.activate(language)
            else:
                translation.deactivate()

    return wrapped


class RecordingTransport(httpx.BaseTransport):
    """Passes every request on and remembers it, so tests can say what reached the upstream."""

    def __init__(self, inner: httpx.BaseTransport) -> None:
        self.inner = inner
        self.requests: list[httpx.Request] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return self.inner.handle_request(request)

    def case_requests(self) -> list[httpx.Request]:
        return [r for r in self.requests if r.url.path.endswith("/cases")]


@pytest.fixture
def sandbox_upstream(db: None) -> Iterator[RecordingTransport]:
    """The client talks to the in-process sandbox; the fixture's value records every request."""
    # A request through the WSGI app would close the database connection at its start and end,
    # ending the test's transaction; django.test.Client disconnects these handlers for the same
    # reason.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    recorder = RecordingTransport(
        httpx.WSGITransport(app=_keeping_the_language(get_wsgi_application()))
    )
    autocollect.use_transport(recorder)
    try:
        yield recorder
    finally:
        autocollect.use_transport(None)
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)
