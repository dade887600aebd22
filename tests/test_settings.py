"""Production start-up fails loudly on missing configuration; development reads its own file only.

Every test starts a new interpreter: settings are read once per process. The configuration files
are temporary ones (dashboard/configuration.py's paths are repointed in the child), so no test
reads or writes the checkout's own .env or .env.development.
"""

import os
import re
import stat
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from dashboard import configuration

ROOT = Path(__file__).resolve().parent.parent
PRODUCTION = {
    "DEBUG": "false",
    "SECRET_KEY": "a-real-secret",
    "ALLOWED_HOSTS": "dashboard.example.no",
    "CACHE_URL": "redis://127.0.0.1:6379/1",
    "AUTOCOLLECT_API_URL": "https://api.staging.amili.no/collection/v1",
    "AUTOCOLLECT_TOKEN_URL": "https://auth.staging.amili.no/token",
    "AUTOCOLLECT_CLIENT_ID": "dashboard",
    "AUTOCOLLECT_CLIENT_SECRET": "a-real-client-secret",
}
DEVELOPMENT_FILE = "DEBUG=true\nSECRET_KEY=from-the-development-file\n"

# What a child process reports about the settings it loaded.
PROBE = (
    "from django.apps import apps; from django.conf import settings; "
    "print(settings.DEBUG, apps.is_installed('sandbox'), settings.SECRET_KEY, "
    "settings.CACHES['default']['BACKEND'].rsplit('.', 1)[-1])"
)


def clean_environment(env: dict[str, str]) -> dict[str, str]:
    """This process's environment without anything the settings read, plus `env`."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("AUTOCOLLECT_", "SANDBOX_"))}
    for name in ("DEBUG", "SECRET_KEY", "ALLOWED_HOSTS", "CACHE_URL", "DATABASE_URL", "PORT"):
        clean.pop(name, None)
    return {**clean, "DJANGO_SETTINGS_MODULE": "dashboard.settings", **env}


def run_python(code: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603 - our own interpreter and a fixed script
        [sys.executable, "-c", code],
        cwd=ROOT,
        env=clean_environment(env),
        capture_output=True,
        text=True,
        check=False,
    )


def load_settings(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    code = (
        "import django; django.setup(); from django.conf import settings; "
        "print(settings.SANDBOX_ENABLED, settings.DEBUG)"
    )
    return run_python(code, env)


@pytest.fixture
def files(tmp_path: Path) -> dict[str, Path]:
    """Where the child looks for the deployment's .env and the development file."""
    return {"deployment": tmp_path / ".env", "development": tmp_path / ".env.development"}


def _repoint(files: dict[str, Path]) -> str:
    return (
        "from pathlib import Path; from dashboard import configuration; "
        f"configuration.DEPLOYMENT_FILE = Path({str(files['deployment'])!r}); "
        f"configuration.DEVELOPMENT_FILE = Path({str(files['development'])!r}); "
    )


def start_server(files: dict[str, Path], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """Import dashboard.wsgi as gunicorn would, then report the settings it got."""
    return run_python(f"{_repoint(files)}import dashboard.wsgi; {PROBE}", env)


def manage(
    files: dict[str, Path], env: dict[str, str], *argv: str
) -> subprocess.CompletedProcess[str]:
    """Run manage.py with `argv` (default: a shell that reports the settings it got)."""
    arguments = list(argv) or ["shell", "--no-imports", "-c", PROBE]
    code = f"{_repoint(files)}import sys, manage; sys.argv = ['manage.py', *{arguments!r}]; "
    return run_python(code + "manage.main()", env)


# --- Production refuses to start without what it needs ------------------------------------------


def test_production_settings_load_with_everything_set() -> None:
    result = load_settings(PRODUCTION)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["False", "False"]  # sandbox off, DEBUG off


@pytest.mark.parametrize(
    "missing",
    [
        "SECRET_KEY",
        "ALLOWED_HOSTS",
        "CACHE_URL",
        "AUTOCOLLECT_API_URL",
        "AUTOCOLLECT_TOKEN_URL",
        "AUTOCOLLECT_CLIENT_ID",
        "AUTOCOLLECT_CLIENT_SECRET",
    ],
)
def test_production_start_up_stops_without(missing: str) -> None:
    env = {k: v for k, v in PRODUCTION.items() if k != missing}
    result = load_settings(env)
    assert result.returncode != 0
    assert f"{missing} is not set" in result.stderr


@pytest.mark.parametrize(
    "missing", ["AUTOCOLLECT_TOKEN_URL", "AUTOCOLLECT_CLIENT_ID", "AUTOCOLLECT_CLIENT_SECRET"]
)
def test_a_real_upstream_needs_its_own_token_url_and_credentials_even_with_the_sandbox_on(
    missing: str,
) -> None:
    """The sandbox's defaults apply only to the embedded sandbox, never to a named upstream."""
    env = {k: v for k, v in PRODUCTION.items() if k != missing}
    result = load_settings({**env, "DEBUG": "true", "SANDBOX_ENABLED": "true"})
    assert result.returncode != 0
    assert f"{missing} is not set and AUTOCOLLECT_API_URL is set" in result.stderr


@pytest.mark.parametrize("name", ["AUTOCOLLECT_API_URL", "AUTOCOLLECT_TOKEN_URL"])
@pytest.mark.parametrize("url", ["http://auth.amili.no/token", "auth.amili.no/token"])
def test_production_refuses_an_upstream_url_that_is_not_https(name: str, url: str) -> None:
    result = load_settings({**PRODUCTION, name: url})
    assert result.returncode != 0
    assert f"{name} must be an https:// URL" in result.stderr


@pytest.mark.parametrize("host", ["127.0.0.1:9000", "localhost", "[::1]:9000"])
def test_production_may_use_plain_http_to_this_machine(host: str) -> None:
    """A local TLS-terminating proxy or tunnel to the upstream stays possible."""
    result = load_settings({**PRODUCTION, "AUTOCOLLECT_TOKEN_URL": f"http://{host}/token"})
    assert result.returncode == 0, result.stderr


def test_production_does_not_install_the_sandbox(files: dict[str, Path]) -> None:
    result = start_server(files, PRODUCTION)
    assert result.returncode == 0, result.stderr
    debug, sandbox_installed, _, _ = result.stdout.split()
    assert (debug, sandbox_installed) == ("False", "False")


def test_no_published_secret_key_remains_in_the_code() -> None:
    assert "django-insecure" not in (ROOT / "dashboard" / "settings.py").read_text()


def test_debug_without_a_secret_key_gets_a_new_random_one_per_process() -> None:
    """What mypy and the benchmarks get: DEBUG alone works, with a key nobody else knows."""
    keys = []
    for _ in range(2):
        result = run_python(f"import django; django.setup(); {PROBE}", {"DEBUG": "true"})
        assert result.returncode == 0, result.stderr
        debug, sandbox_installed, key, _ = result.stdout.split()
        assert (debug, sandbox_installed) == ("True", "True")
        assert len(key) >= 50
        keys.append(key)
    assert keys[0] != keys[1]


def test_development_needs_no_configuration() -> None:
    result = load_settings({"DEBUG": "true"})
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["True", "True"]


def test_env_example_lists_every_variable_the_settings_read() -> None:
    settings_source = (ROOT / "dashboard" / "settings.py").read_text()
    read = set(
        re.findall(
            r'(?:env(?:\.\w+)?|_required_in_production|_upstream_\w+)\(\s*"([A-Z_]+)"',
            settings_source,
        )
    )
    listed = set(re.findall(r"^([A-Z_]+)=", (ROOT / ".env.example").read_text(), re.MULTILINE))
    assert len(read) > 10
    assert {"AUTOCOLLECT_TOKEN_URL", "AUTOCOLLECT_CLIENT_SECRET"} <= read
    assert read <= listed, f"missing from .env.example: {sorted(read - listed)}"


# --- Which process reads which file --------------------------------------------------------------


def test_the_server_never_reads_the_development_file(files: dict[str, Path]) -> None:
    """gunicorn on a machine where someone ran `make run`: no DEBUG, no sandbox, its own key."""
    files["development"].write_text(DEVELOPMENT_FILE + "SANDBOX_ENABLED=true\n")
    result = start_server(files, PRODUCTION)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split()[:3] == ["False", "False", "a-real-secret"]


def test_the_server_without_configuration_stops_rather_than_use_the_development_file(
    files: dict[str, Path],
) -> None:
    files["development"].write_text(DEVELOPMENT_FILE)
    result = start_server(files, {})
    assert result.returncode != 0
    assert "SECRET_KEY is not set" in result.stderr


def test_the_server_reads_the_deployments_env_file(files: dict[str, Path]) -> None:
    files["deployment"].write_text("".join(f"{k}={v}\n" for k, v in PRODUCTION.items()))
    result = start_server(files, {})
    assert result.returncode == 0, result.stderr
    assert result.stdout.split()[:3] == ["False", "False", "a-real-secret"]


def test_manage_py_reads_the_development_file(files: dict[str, Path]) -> None:
    files["development"].write_text(DEVELOPMENT_FILE)
    result = manage(files, {})
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["True", "True", "from-the-development-file", "LocMemCache"]


def test_the_environment_wins_over_the_development_file(files: dict[str, Path]) -> None:
    files["development"].write_text(DEVELOPMENT_FILE)
    upstream = {k: v for k, v in PRODUCTION.items() if k.startswith("AUTOCOLLECT_")}
    result = manage(files, {"SANDBOX_ENABLED": "false", **upstream})
    assert result.returncode == 0, result.stderr
    assert result.stdout.split()[:2] == ["True", "False"]


def test_an_empty_variable_counts_as_unset(files: dict[str, Path]) -> None:
    files["development"].write_text(DEVELOPMENT_FILE)
    result = manage(files, {"SECRET_KEY": "", "DEBUG": ""})
    assert result.returncode == 0, result.stderr
    assert result.stdout.split()[:3] == ["True", "True", "from-the-development-file"]


def test_a_deployments_manage_py_ignores_the_development_file(files: dict[str, Path]) -> None:
    """A SECRET_KEY of the process's own marks a deployment: migrate never gets the sandbox."""
    files["development"].write_text(DEVELOPMENT_FILE + "SANDBOX_ENABLED=true\n")
    env = {k: v for k, v in PRODUCTION.items() if k != "DEBUG"}
    result = manage(files, env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split()[:3] == ["False", "False", "a-real-secret"]


def test_a_deployments_env_file_with_a_secret_key_wins_over_the_development_file(
    files: dict[str, Path],
) -> None:
    files["deployment"].write_text("".join(f"{k}={v}\n" for k, v in PRODUCTION.items()))
    files["development"].write_text(DEVELOPMENT_FILE)
    result = manage(files, {})
    assert result.returncode == 0, result.stderr
    assert result.stdout.split()[:3] == ["False", "False", "a-real-secret"]


def test_a_copy_of_env_example_changes_nothing_for_development(files: dict[str, Path]) -> None:
    """`cp .env.example .env` used to turn DEBUG and the sandbox off and ask for Redis."""
    files["deployment"].write_text((ROOT / ".env.example").read_text())
    files["development"].write_text(DEVELOPMENT_FILE)
    result = manage(files, {})
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["True", "True", "from-the-development-file", "LocMemCache"]


def test_incomplete_configuration_is_one_line_not_a_traceback(files: dict[str, Path]) -> None:
    result = manage(files, {}, "add_member", "--help")
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert result.stderr.strip().count("\n") == 0
    assert result.stderr.startswith("manage.py: SECRET_KEY is not set")
    assert "make dev-config" in result.stderr


def test_the_development_file_is_written_once_with_a_key_of_its_own(tmp_path: Path) -> None:
    first, second = tmp_path / "one", tmp_path / "two"
    assert configuration.write_development_file(first)
    original = first.read_text()
    assert not configuration.write_development_file(first)
    assert first.read_text() == original
    assert configuration.write_development_file(second)
    values = configuration.read_env_file(first)
    assert values["DEBUG"] == "true"
    assert len(values["SECRET_KEY"]) >= 50
    assert values["SECRET_KEY"] != configuration.read_env_file(second)["SECRET_KEY"]
    assert stat.S_IMODE(first.stat().st_mode) == 0o600


def test_commands_writing_the_development_file_at_once_agree_on_one_key(tmp_path: Path) -> None:
    path = tmp_path / ".env.development"
    with ThreadPoolExecutor(max_workers=8) as pool:
        created = list(pool.map(lambda _: configuration.write_development_file(path), range(16)))
    assert created.count(True) == 1
    assert len(configuration.read_env_file(path)["SECRET_KEY"]) >= 50
    assert [entry.name for entry in tmp_path.iterdir()] == [".env.development"]


def test_env_files_allow_comments_quotes_and_export(tmp_path: Path) -> None:
    path = tmp_path / ".env"
    path.write_text(
        "# a comment\n\nexport A=1\nB = 'two words'\nC=\"x#y\"\nnot an assignment\nD=\n"
    )
    assert configuration.read_env_file(path) == {"A": "1", "B": "two words", "C": "x#y", "D": ""}
    assert configuration.read_env_file(tmp_path / "absent") == {}


def test_the_development_file_is_ignored_by_git() -> None:
    result = subprocess.run(
        ["git", "check-ignore", "-q", ".env.development"],  # noqa: S607 - git from PATH
        cwd=ROOT,
        check=False,
    )
    assert result.returncode == 0


def test_production_keeps_database_connections_and_reads_sessions_from_the_shared_cache() -> None:
    code = (
        "import django; django.setup(); from django.conf import settings; "
        "d = settings.DATABASES['default']; "
        "print(d['CONN_MAX_AGE'], d['CONN_HEALTH_CHECKS'], settings.SESSION_ENGINE)"
    )
    kept = run_python(code, PRODUCTION)
    closed = run_python(code, {**PRODUCTION, "DATABASE_CONN_MAX_AGE": "0"})

    assert kept.stdout.split() == ["600", "True", "django.contrib.sessions.backends.cached_db"]
    assert closed.stdout.split()[0] == "0"


def test_with_a_cache_of_its_own_each_process_reads_sessions_from_the_database() -> None:
    code = (
        "import django; django.setup(); from django.conf import settings; "
        "print(settings.SESSION_ENGINE)"
    )
    local = run_python(code, {**PRODUCTION, "CACHE_URL": "locmemcache://"})

    # A logout in one worker must end the session in every worker, which a per-process cache
    # of sessions would not.
    assert local.stdout.split() == ["django.contrib.sessions.backends.db"]
