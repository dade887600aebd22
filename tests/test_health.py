"""/healthz (the process answers) and /readyz (database, cache and upstream token, each named)."""

from collections.abc import Iterator
from pathlib import Path
from unittest import mock

import httpx
import pytest
from django.db import OperationalError, connection
from django.test import Client
from pytest_django import Settings

from cases import autocollect
from tests.support.logs import deployment_logging
from tests.support.transport import RecordingTransport

ALL_OK = {"status": "ok", "checks": {"database": "ok", "cache": "ok", "upstream": "ok"}}
# What a failing dependency's error could say, and a probe must not repeat to anyone.
INTERNAL_DETAIL = "db-7.internal.example:5432 user=dashboard"


@pytest.fixture
def upstream_refusing() -> Iterator[RecordingTransport]:
    """An upstream whose token endpoint answers 503 to everything."""
    recorder = RecordingTransport(httpx.MockTransport(lambda request: httpx.Response(503)))
    autocollect.use_transport(recorder)
    yield recorder
    autocollect.use_transport(None)


# --- /healthz -----------------------------------------------------------------------------------


def test_healthz_answers_ok_without_login_or_database() -> None:
    """No `db` fixture: pytest-django makes any database access an error here."""
    response = Client().get("/healthz")

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert "no-store" in response["Cache-Control"]


@pytest.mark.django_db
def test_healthz_answers_while_the_database_is_down() -> None:
    with mock.patch.object(connection, "cursor", side_effect=OperationalError("down")):
        response = Client().get("/healthz")

    assert response.status_code == 200


@pytest.mark.django_db
def test_healthz_is_not_redirected_to_https(settings: Settings) -> None:
    """A load balancer probes over plain HTTP."""
    settings.SECURE_SSL_REDIRECT = True

    assert Client().get("/healthz").status_code == 200
    assert Client().get("/readyz").status_code in {200, 503}


# --- /readyz ------------------------------------------------------------------------------------


def test_readyz_is_ok_when_database_cache_and_token_are(
    sandbox_upstream: RecordingTransport,
) -> None:
    response = Client().get("/readyz")

    assert response.status_code == 200
    assert response.json() == ALL_OK
    assert "no-store" in response["Cache-Control"]
    assert [r.url.path for r in sandbox_upstream.requests] == ["/sandbox/token"]


def test_readyz_uses_the_shared_token_without_asking_the_upstream_again(
    sandbox_upstream: RecordingTransport,
) -> None:
    Client().get("/readyz")
    autocollect.reset_http_client()  # another process: nothing held, the cache still has it
    sandbox_upstream.requests.clear()

    response = Client().get("/readyz")

    assert response.json() == ALL_OK
    assert sandbox_upstream.requests == []


def test_readyz_is_503_naming_the_database_when_it_is_down(
    sandbox_upstream: RecordingTransport, tmp_path: Path
) -> None:
    failure = OperationalError(f"could not connect to {INTERNAL_DETAIL}")
    with (
        deployment_logging(tmp_path) as logs,
        mock.patch.object(connection, "cursor", side_effect=failure),
    ):
        response = Client().get("/readyz")

    assert response.status_code == 503
    assert response.json() == {
        "status": "error",
        "checks": {"database": "error", "cache": "ok", "upstream": "ok"},
    }
    assert INTERNAL_DETAIL not in response.text
    (warning,) = [e for e in logs.entries() if e["logger"] == "dashboard.views"]
    assert warning["message"] == "readiness: database failed (OperationalError)"
    assert warning["check"] == "database"
    assert INTERNAL_DETAIL not in logs.text()
    # A failing probe is logged at INFO, with its status (a passing one only at DEBUG).
    assert [(e["route"], e["status"]) for e in logs.requests() if e["route"] == "readyz"] == [
        ("readyz", 503)
    ]


def test_readyz_is_503_naming_the_cache_when_it_is_unreachable(
    sandbox_upstream: RecordingTransport, settings: Settings
) -> None:
    Client().get("/readyz")  # the token is held by this process from now on
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",  # nothing listens on port 1
        }
    }

    response = Client().get("/readyz")

    assert response.status_code == 503
    assert response.json()["checks"] == {"database": "ok", "cache": "error", "upstream": "ok"}
    assert "127.0.0.1" not in response.text


def test_readyz_is_503_naming_the_upstream_when_no_token_can_be_had(
    db: None, upstream_refusing: RecordingTransport
) -> None:
    response = Client().get("/readyz")

    assert response.status_code == 503
    assert response.json()["checks"] == {"database": "ok", "cache": "ok", "upstream": "error"}
    assert upstream_refusing.requests  # it did try
    assert "503" not in response.text


def test_readyz_gives_the_token_a_short_deadline_of_its_own(db: None, settings: Settings) -> None:
    settings.AUTOCOLLECT_TIMEOUT = 30
    deadlines: list[float] = []

    def refuse(request: httpx.Request) -> httpx.Response:
        deadlines.append(request.extensions["timeout"]["read"])
        return httpx.Response(503)

    autocollect.use_transport(httpx.MockTransport(refuse))
    try:
        Client().get("/readyz")
    finally:
        autocollect.use_transport(None)

    assert deadlines
    assert all(0 < seconds <= 2.0 for seconds in deadlines)


def test_readyz_answers_without_login_and_only_to_get(db: None) -> None:
    assert Client().post("/readyz").status_code == 405
    assert Client().get("/readyz").status_code in {200, 503}
