"""A real `manage.py db_worker` beside a real web process, on one SQLite file.

The worker syncs the case index (writing thousands of rows) from the sandbox served by runserver,
while another process writes sessions and rows in a loop, as the web process does for users.
With WAL, a busy timeout and immediate transactions (dashboard/settings.py) nobody meets
"database is locked".
"""

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
ORG_ID = "4d1b7a10-1c1e-4c8e-9a51-6b2c0e4d1a77"
CASES = 1500

# Runs in its own process: what the web process does for users, in a tight loop.
WRITER = """
import time
from django.contrib.sessions.backends.db import SessionStore
from django.db import OperationalError, transaction
from django.utils import timezone
from triage.models import WebhookEvent
errors = writes = 0
deadline = time.monotonic() + {seconds}
while time.monotonic() < deadline:
    try:
        with transaction.atomic():
            # Read, then write, in one transaction: the pattern that meets "database is locked"
            # when a deferred transaction cannot upgrade its read lock past a busy writer.
            WebhookEvent.objects.filter(event_type="CASE").count()
            time.sleep(0.002)
            session = SessionStore()
            session["n"] = writes
            session.create()
            WebhookEvent.objects.create(
                idempotency_key=f"w-{{writes}}", event_type="CASE", received_at=timezone.now()
            )
        writes += 1
    except OperationalError as error:
        errors += 1
        print("ERROR", error)
print(f"writes={{writes}} errors={{errors}}")
"""

REPORT = """
from django_tasks_db.models import DBTaskResult
from triage.models import CaseSummary
print("statuses", sorted(set(DBTaskResult.objects.values_list("status", flat=True))))
print("rows", CaseSummary.objects.count())
"""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def environment(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AUTOCOLLECT_", "PYTEST"))}
    env.update(
        DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}",
        DEBUG="true",
        SANDBOX_ENABLED="true",
        SECRET_KEY="worker-test-secret-key",
        PORT=str(_free_port()),
        CACHE_URL="locmemcache://",
    )
    return env


def _manage(env: dict[str, str], *args: str, stdin: str | None = None) -> str:
    done = subprocess.run(  # noqa: S603 - our own interpreter and manage.py
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


def _start(env: dict[str, str], *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(  # noqa: S603 - our own interpreter and manage.py
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


@pytest.fixture
def web_process(environment: dict[str, str]) -> Iterator[subprocess.Popen[str]]:
    _manage(environment, "migrate", "--noinput")
    _manage(environment, "seed_sandbox", "--org", f"{ORG_ID}=Worker AS", "--cases", str(CASES))
    _manage(
        environment,
        *("add_member", "--org-id", ORG_ID, "--org-name", "Worker AS"),
        *("--username", "worker-test", "--role", "agent", "--password-stdin"),
        stdin="a-long-password-123\n",
    )
    server = _start(environment, "runserver", "--noreload", f"127.0.0.1:{environment['PORT']}")
    try:
        _wait_for(f"http://127.0.0.1:{environment['PORT']}/healthz")
        yield server
    finally:
        server.terminate()
        server.wait(timeout=10)


def _wait_for(url: str) -> None:
    for _ in range(100):
        try:
            with urllib.request.urlopen(url, timeout=1):  # noqa: S310 - our own test server
                return
        except OSError:
            time.sleep(0.1)
    raise AssertionError(f"the web process did not start at {url}")


@pytest.mark.xdist_group("subprocess-servers")
def test_a_worker_and_the_web_process_write_one_sqlite_file_without_locking(
    environment: dict[str, str], web_process: subprocess.Popen[str]
) -> None:
    for _ in range(4):  # full refreshes: thousands of upserts in chunks, while the writer writes
        _manage(environment, "refresh_case_index", "--full", "--enqueue")
    worker = _start(
        environment, "db_worker", "--batch", "--no-reload", "--no-startup-delay", "--interval", "0"
    )
    writer = subprocess.run(  # noqa: S603 - our own interpreter and script
        [sys.executable, "manage.py", "shell", "-c", WRITER.format(seconds=6)],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    worker_output, _ = worker.communicate(timeout=180)

    assert writer.returncode == 0, writer.stderr[-3000:]
    assert "errors=0" in writer.stdout, writer.stdout[-3000:]
    assert int(writer.stdout.split("writes=")[1].split()[0]) > 50
    assert worker.returncode == 0, worker_output[-3000:]
    assert "locked" not in worker_output
    report = _manage(environment, "shell", "-c", REPORT)
    assert "statuses ['SUCCESSFUL']" in report, worker_output[-3000:]
    # Every open case and those closed within the retention period are indexed.
    assert CASES * 0.6 < int(report.split("rows ")[1].split()[0]) <= CASES, report
