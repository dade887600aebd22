"""Fixture plugin: route the AutoCollect client into the in-process sandbox.

Registered from tests/conftest.py (`pytest_plugins = ["tests.upstream"]`). With `sandbox_upstream`,
every upstream call the client makes goes through a WSGI transport into this very Django process,
so views, client and sandbox run together inside the test's transaction: fast, and no server.
"""

from collections.abc import Iterator

import pytest

from cases import autocollect
from tests.support.transport import RecordingTransport, in_process_sandbox

__all__ = ["RecordingTransport", "sandbox_upstream"]


@pytest.fixture
def sandbox_upstream(db: None) -> Iterator[RecordingTransport]:
    """The client talks to the in-process sandbox; the fixture's value records every request."""
    recorder = RecordingTransport(in_process_sandbox())
    autocollect.use_transport(recorder)
    try:
        yield recorder
    finally:
        autocollect.use_transport(None)
