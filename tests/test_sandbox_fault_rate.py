"""SANDBOX_FAULT_RATE fails that fraction of the sandbox's API answers, with every kind of fault."""

import os
import random
import subprocess
import sys
import uuid
from collections import Counter
from typing import Any

import pytest
from django.test import Client, override_settings

from sandbox import faults
from sandbox.seeding import seed_organization
from tests.support.sandbox import SandboxApi

ORG_ID = uuid.UUID("5b2e8c1d-7a64-4f3b-9e0d-2c1b4a3f6e58")
STATUS_OF_FAULT = {
    "500": 500,
    "503": 503,
    "429": 429,
    "timeout": 504,
    "malformed": 200,
    "expired-token": 401,
}


@pytest.fixture
def api(client: Client, db: None, monkeypatch: pytest.MonkeyPatch) -> SandboxApi:
    seed_organization(ORG_ID, "Tilfeldig AS", 3, seed=3)
    # The timeout fault's sleep is recorded, not slept: its length is another test's business.
    monkeypatch.setattr("sandbox.faults.time.sleep", lambda seconds: None)
    return SandboxApi(client, ORG_ID)


def fault_of(response: Any) -> str | None:
    """Which fault an answer is, or None for a real answer."""
    if response.status_code == 200:
        return None if response.content.startswith(b'{"summary"') else "malformed"
    return next(kind for kind, status in STATUS_OF_FAULT.items() if status == response.status_code)


def test_without_a_rate_no_answer_fails(api: SandboxApi) -> None:
    assert all(api.get("cases").status_code == 200 for _ in range(20))


@override_settings(SANDBOX_FAULT_RATE=1.0)
def test_a_rate_of_one_fails_every_answer_with_a_known_fault(api: SandboxApi) -> None:
    seen = Counter(fault_of(api.get("cases")) for _ in range(60))

    assert None not in seen
    assert set(seen) <= set(STATUS_OF_FAULT)


def test_the_draw_fails_about_the_fraction_asked_for_and_uses_every_kind() -> None:
    draw = random.Random(7)
    with override_settings(SANDBOX_FAULT_RATE=0.1):
        drawn = [faults.fault_from_rate(draw) for _ in range(20_000)]

    failed = [kind for kind in drawn if kind is not None]
    assert 0.09 < len(failed) / len(drawn) < 0.11
    assert set(failed) == faults.FAULT_KINDS
    assert min(Counter(failed).values()) > len(failed) / len(faults.FAULT_KINDS) / 2


@override_settings(SANDBOX_FAULT_RATE=1.0)
def test_the_header_still_names_the_fault(api: SandboxApi) -> None:
    assert api.get("cases", headers={"X-Sandbox-Fault": "429"}).status_code == 429


@pytest.mark.parametrize("rate", ["-0.1", "1.5"])
def test_a_rate_outside_zero_to_one_stops_start_up(rate: str) -> None:
    result = subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"],
        env={
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "dashboard.settings",
            "DEBUG": "true",
            "SANDBOX_FAULT_RATE": rate,
        },
        capture_output=True,
        text=True,
        check=False,
    )

    assert result.returncode != 0
    assert f"SANDBOX_FAULT_RATE is {float(rate)}; it must be between 0 and 1" in result.stderr
