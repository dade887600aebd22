"""A slow or trickling upstream gives our 504 page within AUTOCOLLECT_TIMEOUT, not a hung worker."""

import time
from collections.abc import Iterator

import httpx
import pytest
from django.test import Client
from pytest_django import Settings

from cases import autocollect

BUDGET = 0.5


class Trickle(httpx.SyncByteStream):
    """An answer that arrives a byte every 50 ms and never ends."""

    def __iter__(self) -> Iterator[bytes]:
        while True:
            time.sleep(0.05)
            yield b" "


def trickling_upstream(request: httpx.Request) -> httpx.Response:
    if request.url.path.endswith("/token"):
        return httpx.Response(200, json={"access_token": "t", "expires_in": 3600})
    return httpx.Response(200, stream=Trickle())


@pytest.fixture
def trickling(settings: Settings) -> Iterator[None]:
    settings.AUTOCOLLECT_TIMEOUT = BUDGET
    settings.AUTOCOLLECT_BACKOFF_BASE = 0.2  # real backoff: it must fit the budget too
    autocollect.use_transport(httpx.MockTransport(trickling_upstream))
    yield
    autocollect.use_transport(None)


@pytest.mark.parametrize(
    "url", ["/cases/", "/cases/export.csv", "/cases/100234/", "/debtors/CUST-1/"]
)
def test_a_trickling_upstream_is_a_504_within_the_budget(
    client_a: Client, trickling: None, url: str
) -> None:
    started = time.monotonic()

    response = client_a.get(url)

    assert response.status_code == 504
    assert time.monotonic() - started < BUDGET + 1.0
