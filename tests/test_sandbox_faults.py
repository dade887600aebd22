"""The sandbox fails on request: by header (one answer), setting (every answer), organisation."""

import json
import time
import uuid
from datetime import UTC, datetime
from typing import Any

import pytest
from django.test import Client, override_settings

from sandbox.models import Case, SandboxOrganization
from sandbox.seeding import seed_organization
from tests.support.sandbox import SandboxApi

ORG_ID = uuid.UUID("3a1f4c2e-9d8b-4e7a-b6c5-d4e3f2a1b0c9")
HEALTHY_ORG_ID = uuid.UUID("8e7d6c5b-4a39-4281-9f0e-1d2c3b4a5968")
NOW = datetime(2025, 6, 2, tzinfo=UTC)
QUICK_KINDS = ["500", "503", "429", "malformed", "expired-token"]


@pytest.fixture
def api(client: Client, db: None) -> SandboxApi:
    seed_organization(ORG_ID, "Feilfjord AS", 5, seed=1, now=NOW)
    seed_organization(HEALTHY_ORG_ID, "Friskvik AS", 5, seed=2, now=NOW)
    return SandboxApi(client, ORG_ID)


@pytest.fixture
def recorded_sleeps(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """Record the timeout fault's sleep instead of sleeping (its length is what matters)."""
    sleeps: list[float] = []
    monkeypatch.setattr("sandbox.faults.time.sleep", sleeps.append)
    return sleeps


def assert_failed_as(response: Any, kind: str) -> None:
    expected_status = {"500": 500, "503": 503, "429": 429, "malformed": 200, "expired-token": 401}
    assert response.status_code == expected_status[kind], response.content
    if kind == "malformed":
        assert response["Content-Type"] == "application/json"
        with pytest.raises(json.JSONDecodeError):
            json.loads(response.content)
        return
    assert response["Content-Type"] == "application/problem+json"
    body = response.json()
    assert body["status"] == expected_status[kind]
    if kind in {"503", "429"}:
        assert int(response["Retry-After"]) >= 1
    if kind == "expired-token":
        assert "expired" in body["detail"]
        assert "invalid_token" in response["WWW-Authenticate"]


@pytest.mark.parametrize("kind", QUICK_KINDS)
def test_the_header_fails_that_one_answer(api: SandboxApi, kind: str) -> None:
    assert_failed_as(api.get("cases", headers={"X-Sandbox-Fault": kind}), kind)
    assert api.get("cases").status_code == 200


@pytest.mark.parametrize("kind", QUICK_KINDS)
def test_the_organisation_fault_fails_only_that_organisations_answers(
    api: SandboxApi, kind: str
) -> None:
    SandboxOrganization.objects.filter(pk=ORG_ID).update(fault=kind)
    assert_failed_as(api.get("cases"), kind)
    assert_failed_as(api.get("invoices"), kind)
    assert api.get("cases", organization_id=HEALTHY_ORG_ID).status_code == 200


@pytest.mark.parametrize("kind", QUICK_KINDS)
def test_the_setting_fails_every_api_answer(api: SandboxApi, kind: str) -> None:
    with override_settings(SANDBOX_FAULT=kind):
        assert_failed_as(api.get("cases"), kind)
        assert_failed_as(api.get("cases", organization_id=HEALTHY_ORG_ID), kind)
        assert_failed_as(api.get(f"batches/{uuid.uuid4()}"), kind)
    assert api.get("cases").status_code == 200


def test_the_setting_leaves_the_token_endpoint_working(client: Client, db: None) -> None:
    with override_settings(SANDBOX_FAULT="500"):
        response = client.post(
            "/sandbox/token",
            {
                "grant_type": "client_credentials",
                "client_id": "sandbox",
                "client_secret": "sandbox",
            },
        )
    assert response.status_code == 200


def test_the_header_fails_the_token_endpoint_too(client: Client, db: None) -> None:
    response = client.post(
        "/sandbox/token",
        {"grant_type": "client_credentials", "client_id": "sandbox", "client_secret": "sandbox"},
        headers={"X-Sandbox-Fault": "503"},
    )
    assert_failed_as(response, "503")


def test_a_failed_action_changes_nothing(api: SandboxApi) -> None:
    case = Case.objects.filter(organization_id=ORG_ID, status="OPEN").first()
    assert case is not None
    response = api.post(f"cases/{case.pk}/pause", headers={"X-Sandbox-Fault": "500"})
    assert_failed_as(response, "500")
    case.refresh_from_db()
    assert case.status == "OPEN"
    assert not case.batches.exists()


@override_settings(AUTOCOLLECT_TIMEOUT=0.1)
def test_timeout_answers_only_after_the_client_has_given_up(api: SandboxApi) -> None:
    started = time.perf_counter()
    response = api.get("cases", headers={"X-Sandbox-Fault": "timeout"})
    elapsed = time.perf_counter() - started
    assert elapsed >= 1.1
    assert elapsed < 5
    assert response.status_code == 504


@override_settings(AUTOCOLLECT_TIMEOUT=0.1)
def test_timeout_by_organisation_and_by_setting_sleeps_past_the_client_timeout(
    api: SandboxApi, recorded_sleeps: list[float]
) -> None:
    SandboxOrganization.objects.filter(pk=ORG_ID).update(fault="timeout")
    assert api.get("cases").status_code == 504
    with override_settings(SANDBOX_FAULT="timeout"):
        assert api.get("cases", organization_id=HEALTHY_ORG_ID).status_code == 504
    assert recorded_sleeps == [pytest.approx(1.1), pytest.approx(1.1)]


@override_settings(AUTOCOLLECT_TIMEOUT=60)
def test_timeout_sleeps_at_most_15_seconds(api: SandboxApi, recorded_sleeps: list[float]) -> None:
    assert api.get("cases", headers={"X-Sandbox-Fault": "timeout"}).status_code == 504
    assert recorded_sleeps == [15.0]


def test_an_unknown_fault_header_is_a_400_naming_it(api: SandboxApi) -> None:
    response = api.get("cases", headers={"X-Sandbox-Fault": "banana"})
    assert response.status_code == 400
    assert "X-Sandbox-Fault" in response.json()["errors"]


@override_settings(SANDBOX_LATENCY_MS=150)
def test_latency_setting_delays_every_answer(api: SandboxApi, client: Client) -> None:
    started = time.perf_counter()
    api.get("cases")
    assert time.perf_counter() - started >= 0.15
    started = time.perf_counter()
    client.post("/sandbox/token", {"grant_type": "client_credentials"})
    assert time.perf_counter() - started >= 0.15


def test_without_latency_setting_answers_are_quick(api: SandboxApi) -> None:
    started = time.perf_counter()
    api.get("cases")
    assert time.perf_counter() - started < 0.15
