"""Production configuration passes `check --deploy` and keeps its HTTPS promises.

Settings are read once per process, so each test starts a new interpreter with a production
environment (DEBUG off, a real-looking key, https upstream URLs), as CI's check does.
"""

import json
import os
import secrets
import subprocess
import sys
from pathlib import Path
from typing import cast

import pytest

ROOT = Path(__file__).resolve().parent.parent


def production(**overrides: str) -> dict[str, str]:
    """A throwaway production environment: nothing of this process's configuration leaks in."""
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": os.environ.get("HOME", str(ROOT)),
        "DJANGO_SETTINGS_MODULE": "dashboard.settings",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "dashboard.example.no,testserver",
        "CACHE_URL": "locmemcache://",
        "AUTOCOLLECT_API_URL": "https://api.staging.amili.no/collection/v1",
        "AUTOCOLLECT_TOKEN_URL": "https://auth.staging.amili.no/token",
        "AUTOCOLLECT_CLIENT_ID": "dashboard",
        "AUTOCOLLECT_CLIENT_SECRET": secrets.token_urlsafe(32),
    }
    env.update(overrides)
    return env


def run(argv: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603 - our own interpreter and fixed arguments
        [sys.executable, *argv], cwd=ROOT, env=env, capture_output=True, text=True, check=False
    )


def check_deploy(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return run(["manage.py", "check", "--deploy", "--fail-level", "WARNING"], env)


def probe(code: str, env: dict[str, str]) -> object:
    """Run `code` (which prints one JSON value) in a production process and return the value."""
    result = run(["-c", f"import django, json; django.setup(); {code}"], env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_check_deploy_passes_with_production_settings() -> None:
    result = check_deploy(production())
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


@pytest.mark.parametrize(
    "overrides",
    [{"SECURE_SSL_REDIRECT": "false"}, {"SECURE_HSTS_INCLUDE_SUBDOMAINS": "false"}],
)
def test_what_an_operator_switches_off_on_purpose_is_no_warning(overrides: dict[str, str]) -> None:
    result = check_deploy(production(**overrides))
    assert result.returncode == 0, result.stdout + result.stderr


def test_check_deploy_fails_when_hsts_is_switched_off() -> None:
    result = check_deploy(production(SECURE_HSTS_SECONDS="0"))
    assert result.returncode != 0
    assert "security.W004" in result.stderr


def test_production_defaults_redirect_to_https_with_hsts_and_secure_cookies() -> None:
    values = probe(
        "from django.conf import settings as s; print(json.dumps([s.SECURE_SSL_REDIRECT, "
        "s.SECURE_HSTS_SECONDS, s.SECURE_HSTS_INCLUDE_SUBDOMAINS, s.SECURE_HSTS_PRELOAD, "
        "s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, s.SECURE_CROSS_ORIGIN_OPENER_POLICY]))",
        production(),
    )
    assert values == [True, 31_536_000, True, False, True, True, "same-origin"]


def test_secure_ssl_redirect_false_switches_the_redirect_off() -> None:
    code = "from django.conf import settings; print(json.dumps(settings.SECURE_SSL_REDIRECT))"
    assert probe(code, production(SECURE_SSL_REDIRECT="false")) is False


def test_plain_http_requests_are_redirected_except_the_health_checks() -> None:
    code = (
        "from django.test import Client; c = Client(); "
        "print(json.dumps([(p, c.get(p).status_code, c.get(p).get('Location', '')) "
        "for p in ('/accounts/login/', '/cases/?q=x', '/healthz')]))"
    )
    answered = cast(list[tuple[str, int, str]], probe(code, production()))
    answers = {path: (status, location) for path, status, location in answered}
    assert answers["/accounts/login/"] == (301, "https://testserver/accounts/login/")
    assert answers["/cases/?q=x"][0] == 301
    assert answers["/healthz"][0] != 301


def test_https_requests_get_hsts() -> None:
    code = (
        "from django.test import Client; r = Client().get('/healthz', secure=True); "
        "print(json.dumps([r.status_code, r.get('Strict-Transport-Security', '')]))"
    )
    status, hsts = cast(list[object], probe(code, production()))
    assert status == 200
    assert hsts == "max-age=31536000; includeSubDomains"


@pytest.mark.parametrize("name", ["AUTOCOLLECT_API_URL", "AUTOCOLLECT_TOKEN_URL"])
def test_production_refuses_plain_http_upstream_urls(name: str) -> None:
    result = check_deploy(production(**{name: "http://api.staging.amili.no/x"}))
    assert result.returncode == 2
    assert f"{name} must be an https:// URL" in result.stderr
    assert "Traceback" not in result.stderr
