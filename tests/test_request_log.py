"""The request log: one structured line per request, a request id on every line, no path, no query.

Each test applies the deployment's whole logging configuration (tests/support/logs.py) and reads
what an operator's log would hold.
"""

import http.client
import json
import logging
import os
import re
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client

from cases import autocollect
from dashboard.models import Organization, Role
from sandbox.models import SandboxOrganization
from tests.support.logs import CapturedLogs, deployment_logging
from tests.support.people import make_member
from tests.support.sandbox_data import add_case
from tests.support.transport import RecordingTransport

ROOT = Path(__file__).resolve().parent.parent
CASE_NUMBER = 4_242_017
CASE_ROUTE = "cases/<case_number:case_number>/"
GENERATED_ID = re.compile(r"[0-9a-f]{32}")
# Personal data a person may type into a search or find in an address.
E_MAIL = "kari.nordmann@example.no"
NATIONAL_ID = "01019012345"
CUSTOMER_NUMBER = "K-99812377"


@pytest.fixture
def logs(tmp_path: Path) -> Any:
    with deployment_logging(tmp_path) as captured:
        yield captured


@pytest.fixture
def agent(org_a: Organization) -> User:
    return make_member(org_a, Role.AGENT, "agent-logged")


@pytest.fixture
def agent_client(agent: User) -> Client:
    client = Client()
    client.force_login(agent)
    return client


@pytest.fixture
def a_case(sandbox_a: SandboxOrganization) -> None:
    add_case(sandbox_a, CASE_NUMBER, remaining="1500")


def the_request_line(logs: CapturedLogs, request_id: str) -> dict[str, Any]:
    (line,) = [entry for entry in logs.requests() if entry["request_id"] == request_id]
    return line


# --- One line per request -----------------------------------------------------------------------


def test_a_request_is_one_line_with_route_status_time_upstream_and_who(
    logs: CapturedLogs, agent_client: Client, agent: User, org_a: Organization, a_case: None
) -> None:
    response = agent_client.get(f"/cases/{CASE_NUMBER}/")

    assert response.status_code == 200
    line = the_request_line(logs, response["X-Request-ID"])
    assert line["message"] == "request"
    assert line["level"] == "INFO"
    assert line["stream"] == "app"
    assert line["method"] == "GET"
    assert line["route"] == CASE_ROUTE
    assert line["status"] == 200
    assert isinstance(line["duration_ms"], float)
    assert line["duration_ms"] > 0
    assert line["upstream_calls"] == 2  # the token, then the case
    assert isinstance(line["upstream_ms"], float)
    assert line["upstream_ms"] >= 0
    assert line["organization_id"] == org_a.pk
    assert line["user_id"] == agent.pk


def test_the_line_names_the_route_never_the_path(
    logs: CapturedLogs, agent_client: Client, a_case: None
) -> None:
    agent_client.get(f"/cases/{CASE_NUMBER}/")
    agent_client.get(f"/debtors/{CUSTOMER_NUMBER}/")

    assert [line["route"] for line in logs.requests() if line["route"].startswith("debtors")] == [
        "debtors/<customer_number:customer_number>/"
    ]
    for line in logs.all_lines():
        assert str(CASE_NUMBER) not in line
        assert CUSTOMER_NUMBER not in line


def test_a_path_no_route_matches_is_logged_as_unresolved(logs: CapturedLogs) -> None:
    response = Client().get(f"/no-such-page/{NATIONAL_ID}/")

    line = the_request_line(logs, response["X-Request-ID"])
    assert (line["route"], line["status"]) == ("<unresolved>", 404)
    assert line["user_id"] is None
    assert line["organization_id"] is None
    assert NATIONAL_ID not in logs.text()


def test_an_anonymous_redirect_to_login_costs_no_user_query_and_logs_no_user(
    logs: CapturedLogs,
) -> None:
    response = Client().get("/cases/")

    line = the_request_line(logs, response["X-Request-ID"])
    assert (line["route"], line["status"], line["user_id"]) == ("cases/", 302, None)


def test_a_streamed_export_is_logged_when_it_ends_with_its_upstream_calls(
    logs: CapturedLogs, agent_client: Client, a_case: None
) -> None:
    response = agent_client.get("/cases/export.csv")
    request_id = response["X-Request-ID"]
    assert logs.requests() == [] or all(
        line["request_id"] != request_id for line in logs.requests()
    )  # not yet: nothing has been sent

    body = b"".join(response.streaming_content)  # type: ignore[attr-defined]

    assert str(CASE_NUMBER).encode() in body
    line = the_request_line(logs, request_id)
    assert (line["route"], line["status"]) == ("cases/export.csv", 200)
    assert line["upstream_calls"] >= 2  # the token and at least one page, made while streaming
    client_lines = [e for e in logs.entries() if e["logger"] == "cases.autocollect"]
    assert client_lines
    assert {e["request_id"] for e in client_lines} == {request_id}


def test_successful_health_probes_are_quiet(logs: CapturedLogs) -> None:
    Client().get("/healthz")

    assert logs.requests() == []


# --- The request id -----------------------------------------------------------------------------


def test_every_line_a_request_causes_carries_its_id(
    logs: CapturedLogs, agent_client: Client, a_case: None
) -> None:
    response = agent_client.get(f"/cases/{CASE_NUMBER}/")

    request_id = response["X-Request-ID"]
    assert GENERATED_ID.fullmatch(request_id)
    client_lines = [e for e in logs.entries() if e["logger"] == "cases.autocollect"]
    assert len(client_lines) == 2  # the token and the case, logged by the client
    assert {line["request_id"] for line in client_lines} == {request_id}
    assert the_request_line(logs, request_id)["upstream_calls"] == len(client_lines)


def test_djangos_error_line_after_the_response_carries_the_requests_id(
    logs: CapturedLogs, agent_client: Client, monkeypatch: pytest.MonkeyPatch, sandbox_a: object
) -> None:
    """Django logs a 5xx answer once the middleware has returned, outside the request's context."""

    def too_slow(**kwargs: object) -> None:
        raise autocollect.UpstreamTimeout("AutoCollect did not answer in time")

    monkeypatch.setattr(autocollect, "list_cases", too_slow)

    response = agent_client.get("/cases/")

    assert response.status_code == 504
    (error,) = [e for e in logs.entries() if e["logger"] == "django.request"]
    assert error["message"] == "Gateway Timeout: cases/"
    assert error["request_id"] == response["X-Request-ID"]


def test_lines_outside_any_request_carry_no_id(logs: CapturedLogs) -> None:
    logging.getLogger("triage.sync").info("a background task's line")

    (entry,) = logs.entries()
    assert entry["request_id"] is None


def test_a_plain_incoming_request_id_is_kept(logs: CapturedLogs) -> None:
    response = Client().get("/accounts/login/", headers={"X-Request-ID": "proxy-7f3a.9_B"})

    assert response["X-Request-ID"] == "proxy-7f3a.9_B"
    assert the_request_line(logs, "proxy-7f3a.9_B")["route"] == "accounts/login/"


@pytest.mark.parametrize(
    "sent",
    [
        "",
        "two words",
        "x" * 65,
        "line\nbreak",
        'quote"d',
        "økonomi",
        "id;drop",
        f"{E_MAIL}",
    ],
)
def test_an_odd_incoming_request_id_is_replaced(logs: CapturedLogs, sent: str) -> None:
    response = Client().get("/accounts/login/", headers={"X-Request-ID": sent})

    request_id = response["X-Request-ID"]
    assert GENERATED_ID.fullmatch(request_id)
    assert the_request_line(logs, request_id)
    if sent:
        assert sent not in logs.text()


# --- No query string, anywhere ------------------------------------------------------------------


def test_no_log_line_holds_a_query_string(
    logs: CapturedLogs, agent_client: Client, a_case: None, sandbox_upstream: RecordingTransport
) -> None:
    agent_client.get("/cases/?q=Kari+Nordmann")  # sent upstream as a search term
    agent_client.get(f"/cases/?q={E_MAIL}", follow=True)  # kept in the session, then sent
    agent_client.get(f"/cases/?q={NATIONAL_ID}&status=OPEN", follow=True)
    agent_client.get(f"/cases/?from={NATIONAL_ID}")  # invalid: 400
    agent_client.get(f"/nowhere?q={E_MAIL}")  # 404
    Client().get(f"/cases/?q={E_MAIL}")  # to login, with the page in `next`

    assert any("SearchTerm" in str(r.url) for r in sandbox_upstream.requests)
    assert len(logs.requests()) >= 6
    for line in logs.all_lines():
        assert "kari" not in line.lower()
        assert "nordmann" not in line.lower()
        assert NATIONAL_ID not in line
        assert "?" not in line


def test_the_development_server_prints_no_query_string(tmp_path: Path) -> None:
    """`make run` (runserver) printed `"GET /path?query HTTP/1.1" 404` for every 4xx and 5xx,
    through logging's last-resort handler. A real runserver, in a process of its own: inside
    pytest its logging handlers would hide the last resort."""
    port = _free_port()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "DJANGO_"))},
        "DEBUG": "true",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        "PORT": str(port),
    }
    server = subprocess.Popen(  # noqa: S603 - our own interpreter and manage.py
        [
            sys.executable,
            "manage.py",
            "runserver",
            "--noreload",
            "--skip-checks",
            f"127.0.0.1:{port}",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        statuses = [
            _get(port, f"/nowhere?q={E_MAIL}"),
            _get(port, f"/healthz?q={E_MAIL}"),
            _get(port, f"/accounts/login/?next=/cases/%3Fq%3D{E_MAIL}"),
        ]
    finally:
        server.terminate()
        output, _ = server.communicate(timeout=10)

    assert statuses == [404, 200, 200]
    assert "route=<unresolved> status=404" in output  # the request log speaks instead
    assert E_MAIL not in output
    assert "?q=" not in output


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _get(port: int, path: str) -> int:
    deadline = time.monotonic() + 20
    while True:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
        try:
            connection.request("GET", path)
            return connection.getresponse().status
        except ConnectionRefusedError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)
        finally:
            connection.close()


def test_the_http_client_logs_no_url(logs: CapturedLogs) -> None:
    logging.getLogger("httpx").info('HTTP Request: GET https://api/x?SearchTerm=%s "200"', E_MAIL)

    assert logs.text() == ""


def test_an_error_names_the_route_not_the_path(
    logs: CapturedLogs, agent_client: Client, monkeypatch: pytest.MonkeyPatch, sandbox_a: object
) -> None:
    def broken(**kwargs: object) -> None:
        raise RuntimeError("a bug")

    monkeypatch.setattr(autocollect, "get_debtor_cases", broken)
    agent_client.raise_request_exception = False

    response = agent_client.get(f"/debtors/{CUSTOMER_NUMBER}/?q={E_MAIL}")

    assert response.status_code == 500
    (error,) = [e for e in logs.entries() if e["logger"] == "django.request"]
    assert error["level"] == "ERROR"
    assert error["message"] == "Internal Server Error: debtors/<customer_number:customer_number>/"
    assert "RuntimeError: a bug" in error["exception"]
    assert error["request_id"] == response["X-Request-ID"]
    assert CUSTOMER_NUMBER not in logs.text()
    assert E_MAIL not in logs.text()


# --- No input can forge a line ------------------------------------------------------------------

FORGED_AUDIT = (
    "2026-11-30T09:00:00.000Z INFO cases.audit [-] "
    "identification number revealed: user=demo organisation=1 case=1"
)
FORGED_JSON = '{"time":"2026-11-30T09:00:00.000Z","level":"INFO","logger":"cases.audit"}'
LINE_BREAKS = ["\n", "\r", "\r\n", "\x00", "\x0b", "\x0c", "\x1c", "\x85", "\u2028", "\u2029"]


def attack_paths() -> list[str]:
    return [
        f"/accounts/login/{separator}{forged}"
        for separator in ("%0a", "%0d", "%0d%0a", "%00", "%E2%80%A8", "%C2%85")
        for forged in (FORGED_AUDIT.replace(" ", "%20"), FORGED_JSON)
    ]


def test_a_path_cannot_forge_a_json_line(logs: CapturedLogs) -> None:
    for path in attack_paths():
        Client().get(path)
        Client().get(f"/debtors/x{path}")  # a route whose converter takes newlines

    assert logs.requests()
    for stream in ("app", "security", "audit"):
        for line in logs.lines(stream):
            entry = json.loads(line)
            assert isinstance(entry, dict)
            assert "time" in entry
    assert logs.lines("audit") == []


def test_a_path_cannot_forge_a_text_line(tmp_path: Path) -> None:
    with deployment_logging(tmp_path, log_format="text") as logs:
        for path in attack_paths():
            Client().get(path)
        logging.getLogger("dashboard.requests").warning("a message\n%s", FORGED_AUDIT)

    record_start = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z [A-Z]+ [\w.]+ \[")
    lines = logs.all_lines()
    assert lines
    for line in lines:
        assert record_start.match(line) or line.startswith("    | "), line
        assert not line.startswith("2026-11-30T09:00:00.000Z")
    assert logs.lines("audit") == []


def test_a_host_header_cannot_forge_a_security_line(logs: CapturedLogs) -> None:
    """Django logs a refused Host header on its security logger, quoted as sent."""
    response = Client().get("/accounts/login/", HTTP_HOST=f"evil.example\n{FORGED_AUDIT}")

    assert response.status_code == 400
    (entry,) = logs.entries("security")
    assert entry["logger"] == "django.security.DisallowedHost"
    assert entry["stream"] == "security"
    assert len(logs.lines("security")) == 1


@pytest.mark.parametrize("separator", LINE_BREAKS)
def test_any_line_break_in_a_message_stays_inside_one_json_line(
    logs: CapturedLogs, separator: str
) -> None:
    logging.getLogger("cases.views").warning("user typed %s", f"x{separator}{FORGED_JSON}")

    text = logs.text()
    assert text.endswith("\n")
    assert len(text.splitlines()) == 1  # splitlines breaks at every Unicode line boundary
    (entry,) = logs.entries()
    assert entry["message"] == f"user typed x{separator}{FORGED_JSON}"


def test_audit_and_security_lines_go_to_their_own_streams(logs: CapturedLogs) -> None:
    logging.getLogger("cases.audit").info("identification number revealed")
    logging.getLogger("dashboard.security").info("event=login_failed")
    logging.getLogger("django.security.csrf").warning("Forbidden (CSRF cookie not set.)")

    assert [e["stream"] for e in logs.entries("audit")] == ["audit"]
    assert [e["logger"] for e in logs.entries("security")] == [
        "dashboard.security",
        "django.security.csrf",
    ]
    assert logs.text() == ""  # none of them on the app stream
