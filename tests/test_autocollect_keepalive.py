"""The connection to the upstream stays open between calls seconds apart.

httpx closes a connection idle for 5 s, which in production costs a TCP and TLS handshake on the
next call; the client keeps it AUTOCOLLECT_KEEPALIVE_SECONDS (60 by default). A real HTTP/1.1
server on a local port counts the connections the client opens.
"""

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.conf import settings
from django.test import override_settings

from cases import autocollect
from tests.support.autocollect import ORG, page_json


class KeepAliveUpstream(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keeps the connection open between requests
    connections: set[tuple[str, int]] = set()

    def do_POST(self) -> None:  # the token endpoint
        self.rfile.read(int(self.headers.get("Content-Length", "0")))
        self._answer({"access_token": "t", "token_type": "Bearer", "expires_in": 3600})

    def do_GET(self) -> None:  # the cases
        self._answer(page_json())

    def _answer(self, body: object) -> None:
        type(self).connections.add(self.client_address)
        content = json.dumps(body).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(content)))
        self.end_headers()
        self.wfile.write(content)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def local_upstream() -> Iterator[type[KeepAliveUpstream]]:
    KeepAliveUpstream.connections = set()
    server = ThreadingHTTPServer(("127.0.0.1", 0), KeepAliveUpstream)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{server.server_address[1]}"
    autocollect.use_transport(None)  # the network, not a fake
    try:
        with override_settings(
            AUTOCOLLECT_API_URL=f"{base}/collection/v1",
            AUTOCOLLECT_TOKEN_URL=f"{base}/token",
            AUTOCOLLECT_CACHE_SECONDS=0,
        ):
            yield KeepAliveUpstream
    finally:
        autocollect.reset_http_client()
        server.shutdown()
        server.server_close()


def two_calls_apart(seconds: float) -> None:
    autocollect.list_cases(organization_id=ORG)
    time.sleep(seconds)
    autocollect.list_cases(organization_id=ORG)


def test_calls_seconds_apart_reuse_one_connection(
    local_upstream: type[KeepAliveUpstream],
) -> None:
    with override_settings(AUTOCOLLECT_KEEPALIVE_SECONDS=60):
        two_calls_apart(1.0)

    assert len(local_upstream.connections) == 1  # token and both reads on one connection


def test_a_connection_idle_longer_than_the_setting_is_not_reused(
    local_upstream: type[KeepAliveUpstream],
) -> None:
    with override_settings(AUTOCOLLECT_KEEPALIVE_SECONDS=0.3):
        two_calls_apart(1.0)

    assert len(local_upstream.connections) == 2


def test_the_default_keeps_connections_a_minute() -> None:
    assert settings.AUTOCOLLECT_KEEPALIVE_SECONDS >= 60
