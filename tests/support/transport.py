"""The in-process sandbox as an httpx transport, shared by the test fixtures and the benchmarks.

Every upstream call the client makes goes through a WSGI transport into this very Django process,
so views, client and sandbox run together inside one thread (and, in tests, one transaction):
fast, deterministic, and no server to start.
"""

from collections.abc import Callable, Iterable
from typing import Any

import httpx
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from django.utils import translation

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


def as_a_nested_request(app: WsgiApp) -> WsgiApp:
    """Run a sandbox request inside the dashboard's request in this thread, harmlessly.

    Over real HTTP the two are separate requests; in-process they share a thread, so:
    - the database connection must survive: Django closes it when a request starts and finishes
      (close_old_connections), which would end the test's transaction. django.test.Client
      reconnects those handlers while the outer view runs, so they are detached per request;
    - the dashboard request's language must survive the sandbox's LocaleMiddleware.
    """

    def wrapped(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        language = translation.get_language()
        detached = [
            signal
            for signal in (request_started, request_finished)
            if signal.disconnect(close_old_connections)
        ]
        try:
            result = app(environ, start_response)
            try:
                return list(result)
            finally:
                close = getattr(result, "close", None)
                if close is not None:
                    close()  # fires request_finished now, while the handlers are detached
        finally:
            for signal in detached:
                signal.connect(close_old_connections)
            if language:
                translation.activate(language)
            else:
                translation.deactivate()

    return wrapped


def in_process_sandbox() -> httpx.BaseTransport:
    """A transport that answers every request from this process's own Django (the sandbox)."""
    return httpx.WSGITransport(app=as_a_nested_request(get_wsgi_application()))


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
