"""Production start-up fails loudly on missing configuration; development needs nothing."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PRODUCTION = {
    "DEBUG": "false",
    "SECRET_KEY": "a-real-secret",
    "ALLOWED_HOSTS": "dashboard.example.no",
    "CACHE_URL": "redis://127.0.0.1:6379/1",
    "AUTOCOLLECT_API_URL": "https://api.staging.amili.no/collection/v1",
}


def load_settings(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("AUTOCOLLECT_", "SANDBOX_"))}
    for name in ("DEBUG", "SECRET_KEY", "ALLOWED_HOSTS", "CACHE_URL", "DATABASE_URL"):
        clean.pop(name, None)
    code = (
        "import django; django.setup(); from django.conf import settings; "
        "print(settings.SANDBOX_ENABLED, settings.DEBUG)"
    )
    return subprocess.run(  # noqa: S603 - our own interpreter and a fixed script
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={**clean, "DJANGO_SETTINGS_MODULE": "dashboard.settings", **env},
        capture_output=True,
        text=True,
        check=False,
    )


def test_production_settings_load_with_everything_set() -> None:
    result = load_settings(PRODUCTION)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["False", "False"]  # sandbox off, DEBUG off


@pytest.mark.parametrize(
    "missing", ["SECRET_KEY", "ALLOWED_HOSTS", "CACHE_URL", "AUTOCOLLECT_API_URL"]
)
def test_production_start_up_stops_without(missing: str) -> None:
    env = {k: v for k, v in PRODUCTION.items() if k != missing}
    result = load_settings(env)
    assert result.returncode != 0
    assert f"{missing} is not set" in result.stderr


def test_development_needs_no_configuration() -> None:
    result = load_settings({"DEBUG": "true"})
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["True", "True"]


def test_env_example_lists_every_variable_the_settings_read() -> None:
    settings_source = (ROOT / "dashboard" / "settings.py").read_text()
    read = set(re.findall(r'env(?:\.\w+)?\(\s*"([A-Z_]+)"', settings_source))
    read |= set(re.findall(r'_required_in_production\(\s*"([A-Z_]+)"', settings_source))
    listed = set(re.findall(r"^([A-Z_]+)=", (ROOT / ".env.example").read_text(), re.MULTILINE))
    assert len(read) > 10
    assert read <= listed, f"missing from .env.example: {sorted(read - listed)}"
