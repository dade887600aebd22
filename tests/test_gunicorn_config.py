"""dashboard/gunicorn.conf.py: `make serve`'s server, configured from the environment.

The file is run as gunicorn runs it, with an environment and a deployment `.env` of the test's
own (dashboard/configuration.py's paths repointed to a temporary directory).
"""

import json
import logging
import os
import runpy
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings

from dashboard import configuration

ROOT = Path(__file__).resolve().parent.parent
CONFIG = ROOT / "dashboard" / "gunicorn.conf.py"
VARIABLES = (
    "GUNICORN_BIND",
    "PORT",
    "WEB_CONCURRENCY",
    "GUNICORN_THREADS",
    "AUTOCOLLECT_TIMEOUT",
    "LOG_FORMAT",
    "LOG_LEVEL",
    "DEBUG",
)

LoadConfig = Callable[..., dict[str, Any]]


@pytest.fixture
def load_config(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> LoadConfig:
    """Run the config file with these variables set (and the rest of ours unset)."""
    monkeypatch.setattr(configuration, "DEPLOYMENT_FILE", tmp_path / ".env")
    monkeypatch.setattr(configuration, "DEVELOPMENT_FILE", tmp_path / ".env.development")

    def load(dotenv: str = "", development: str = "", **variables: str) -> dict[str, Any]:
        for name in VARIABLES:
            monkeypatch.delenv(name, raising=False)
        for name, value in variables.items():
            monkeypatch.setenv(name, value)
        (tmp_path / ".env").write_text(dotenv)
        (tmp_path / ".env.development").write_text(development)
        return runpy.run_path(str(CONFIG))

    return load


def test_threads_not_processes_alone_since_requests_wait_on_the_upstream(
    load_config: LoadConfig,
) -> None:
    config = load_config(WEB_CONCURRENCY="3", GUNICORN_THREADS="12")

    assert config["worker_class"] == "gthread"
    assert (config["workers"], config["threads"]) == (3, 12)


def test_defaults_are_a_few_threaded_workers_on_the_local_port(load_config: LoadConfig) -> None:
    config = load_config()

    assert config["workers"] >= 2
    assert config["threads"] == 8
    assert config["bind"] == ["127.0.0.1:8000"]


def test_bind_comes_from_port_or_gunicorn_bind(load_config: LoadConfig) -> None:
    assert load_config(PORT="8123")["bind"] == ["127.0.0.1:8123"]
    assert load_config(dotenv="GUNICORN_BIND=\nPORT=8124\n")["bind"] == ["127.0.0.1:8124"]
    assert load_config(GUNICORN_BIND="0.0.0.0:9000, unix:/run/dashboard.sock")["bind"] == [
        "0.0.0.0:9000",
        "unix:/run/dashboard.sock",
    ]


def test_the_worker_timeout_stays_above_the_upstream_deadline(load_config: LoadConfig) -> None:
    for upstream_timeout, expected in (("10", 20), ("2.5", 13), ("45", 55)):
        config = load_config(AUTOCOLLECT_TIMEOUT=upstream_timeout)
        assert config["timeout"] == expected
        assert config["timeout"] > float(upstream_timeout)
        assert config["graceful_timeout"] == config["timeout"]


def test_the_default_timeout_follows_the_settings_default(load_config: LoadConfig) -> None:
    """Both default to the same upstream deadline (the suite does not set the variable)."""
    config = load_config()

    assert config["DEFAULT_UPSTREAM_TIMEOUT"] == settings.AUTOCOLLECT_TIMEOUT
    assert config["timeout"] > settings.AUTOCOLLECT_TIMEOUT


def test_the_deployment_file_fills_in_and_the_environment_wins(load_config: LoadConfig) -> None:
    dotenv = "AUTOCOLLECT_TIMEOUT=30\nWEB_CONCURRENCY=5\nGUNICORN_THREADS=\n"

    config = load_config(dotenv=dotenv, WEB_CONCURRENCY="2")

    assert config["timeout"] == 40  # from .env
    assert config["workers"] == 2  # the environment wins
    assert config["threads"] == 8  # empty counts as unset


def test_the_development_file_is_never_read(load_config: LoadConfig) -> None:
    config = load_config(development="DEBUG=true\nAUTOCOLLECT_TIMEOUT=99\nWEB_CONCURRENCY=7\n")

    assert config["timeout"] == 20
    assert config["workers"] != 7
    assert config["logconfig_dict"]["handlers"]["app"]["formatter"] == "json"


def test_reading_the_deployment_file_leaves_the_environment_alone(
    load_config: LoadConfig,
) -> None:
    """gunicorn re-reads this file on SIGHUP: a changed .env must then still count."""
    load_config(dotenv="GUNICORN_THREADS=3\n")

    assert "GUNICORN_THREADS" not in os.environ


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("WEB_CONCURRENCY", "many"),
        ("WEB_CONCURRENCY", "0"),
        ("GUNICORN_THREADS", "-1"),
        ("AUTOCOLLECT_TIMEOUT", "soon"),
        ("LOG_FORMAT", "xml"),
    ],
)
def test_a_bad_value_stops_start_up_naming_it(
    load_config: LoadConfig, name: str, value: str
) -> None:
    with pytest.raises(SystemExit) as stopped:
        load_config(**{name: value})

    assert name in str(stopped.value.code)


def test_gunicorns_access_log_is_off_and_its_own_lines_are_json(
    load_config: LoadConfig, tmp_path: Path
) -> None:
    config = load_config()
    assert config["accesslog"] is None
    assert config["control_socket_disable"] is True

    logging_config = config["logconfig_dict"]
    assert logging_config["loggers"]["gunicorn.access"]["handlers"] == ["null"]
    assert logging_config["loggers"]["gunicorn.error"]["handlers"] == ["app"]
    formatter = logging_config["formatters"]["json"]
    assert formatter == {"()": "dashboard.logs.JsonFormatter"}


def test_gunicorn_accepts_the_file() -> None:
    """gunicorn's own parser: every name in the file is one of its settings, every value valid
    (a stand-in application: printing the configuration loads one)."""
    result = subprocess.run(  # noqa: S603 - our own interpreter, a fixed command
        [
            sys.executable,
            "-m",
            "gunicorn",
            "-c",
            str(CONFIG),
            "--print-config",
            "dashboard.configuration:main",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
        env={"PATH": "/usr/bin:/bin", "WEB_CONCURRENCY": "3", "AUTOCOLLECT_TIMEOUT": "7"},
    )

    assert result.returncode == 0, result.stderr
    printed = dict(line.split("=", 1) for line in result.stdout.splitlines() if " = " in line)
    values = {name.strip(): value.strip() for name, value in printed.items()}
    assert values["worker_class"] == "gthread"
    assert values["workers"] == "3"
    assert values["timeout"] == "17"
    assert values["graceful_timeout"] == "17"
    assert values["accesslog"] == "None"


def test_gunicorns_lines_are_json_through_the_same_formatter(load_config: LoadConfig) -> None:
    config = load_config()
    record = logging.LogRecord("gunicorn.error", logging.INFO, "", 0, "Booting worker", (), None)
    formatter_class = config["logconfig_dict"]["formatters"]["json"]["()"]
    module_name, class_name = formatter_class.rsplit(".", 1)
    formatter = getattr(sys.modules[module_name], class_name)()

    entry = json.loads(formatter.format(record))

    assert (entry["logger"], entry["message"]) == ("gunicorn.error", "Booting worker")


def test_gunicorn_builds_no_access_log_lines_beside_the_dashboards_own(
    load_config: LoadConfig, monkeypatch: pytest.MonkeyPatch
) -> None:
    from gunicorn.config import Config  # type: ignore[import-untyped]  # no stubs

    config = load_config()
    gunicorn_config = Config()
    gunicorn_config.set("logconfig_dict", config["logconfig_dict"])
    logger = config["logger_class"](gunicorn_config)
    built: list[tuple[object, ...]] = []

    def atoms(*arguments: object) -> dict[str, str]:
        built.append(arguments)
        return {}

    monkeypatch.setattr(logger, "atoms", atoms)

    logger.access(object(), object(), {}, 0.01)

    assert built == []  # the request log (dashboard.logs) is the one line per request
