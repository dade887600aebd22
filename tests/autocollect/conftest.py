"""Fixtures every client test module here shares: the upstream's settings and a respx router."""

from collections.abc import Iterator

import pytest
import respx

from tests.support.autocollect import router_at_test_host, upstream_settings


@pytest.fixture(autouse=True)
def _fake_upstream_settings() -> Iterator[None]:
    with upstream_settings():
        yield


@pytest.fixture
def fake_upstream() -> Iterator[respx.MockRouter]:
    yield from router_at_test_host()
