"""Benchmark the case index's sync against the sandbox (not part of the test suite).

Seeds, if absent, one organisation with --cases cases into the database named by DATABASE_URL
(default: a SQLite file under /tmp, never the development database), then times a full refresh
into an empty index, a second full refresh over it, and an incremental sync, with the client
routed into the in-process sandbox over a WSGI transport. Prints seconds and upstream requests
of each, and how much of the time the upstream (the sandbox) took.

    DEBUG=true .venv/bin/python bench/bench_case_index.py --cases 3000
    DEBUG=true .venv/bin/python bench/bench_case_index.py --cases 200000

--webhook-loop N measures the loop instead, with real servers (bench/harness.py): the sandbox as
its own gunicorn sending webhooks to the dashboard under `make serve` (gunicorn and its task
worker), on one SQLite file. N times it accepts a debt-collection-list approval on the sandbox's
API directly, as another system would, and polls the dashboard's approvals queue until the case
has left it: sandbox change -> CASE_UPDATED / BATCH_COMPLETED -> task -> index row -> queue.

    DEBUG=true .venv/bin/python bench/bench_case_index.py --webhook-loop 15
"""

import argparse
import logging
import os
import re
import secrets
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DATABASE_URL", "sqlite:////tmp/case_index_bench.sqlite3")
os.environ.setdefault("DEBUG", "true")
os.environ["SANDBOX_ENABLED"] = "true"
os.environ["AUTOCOLLECT_API_URL"] = "http://testserver/sandbox/collection/v1"
os.environ["AUTOCOLLECT_TOKEN_URL"] = "http://testserver/sandbox/token"  # noqa: S105 - a URL
os.environ["AUTOCOLLECT_CLIENT_ID"] = "sandbox"
os.environ["AUTOCOLLECT_CLIENT_SECRET"] = "sandbox"  # noqa: S105 - the sandbox's own
for knob in ("SANDBOX_FAULT", "SANDBOX_LATENCY_MS", "SANDBOX_BATCH_DELAY_MS"):
    os.environ.pop(knob, None)
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dashboard.settings")

import django  # noqa: E402

django.setup()

import httpx  # noqa: E402
from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402

from bench import harness  # noqa: E402
from cases import autocollect  # noqa: E402
from dashboard.models import Organization  # noqa: E402
from sandbox.models import Case  # noqa: E402
from sandbox.seeding import seed_organization  # noqa: E402
from tests.support.transport import in_process_sandbox  # noqa: E402
from triage import sync  # noqa: E402
from triage.models import CaseSummary  # noqa: E402

BENCH_ORG = uuid.UUID("b3c4e2a0-0000-4000-8000-0000000001d5")


@dataclass
class CountingTransport(httpx.BaseTransport):
    inner: httpx.BaseTransport
    requests: int = 0
    upstream_seconds: list[float] = field(default_factory=list)

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        started = time.perf_counter()
        response = self.inner.handle_request(request)
        response.read()
        self.requests += 1
        self.upstream_seconds.append(time.perf_counter() - started)
        return response


LOOP_CASES = 3000
LOOP_POLL_SECONDS = 0.02
LOOP_TIMEOUT_SECONDS = 30.0
APPROVALS = "/triage/?queue=debt-collection-list&size=100"


def webhook_loop(rounds: int) -> None:
    """Time sandbox change -> webhook -> worker -> the queue without the case, `rounds` times."""
    work_dir = Path(tempfile.gettempdir()) / "bench_webhook_loop"
    log_dir = work_dir / "logs"
    log_dir.mkdir(parents=True, exist_ok=True)
    database = harness.sqlite_database(work_dir, "loop.sqlite3")
    servers: list[harness.Server] = []
    with harness.cleanup(servers, []):
        (member,) = harness.prepare_members(database, [("Loop Bench AS", LOOP_CASES)])
        secret = secrets.token_urlsafe(32)
        dashboard_port = harness.free_port()
        webhook_url = f"http://127.0.0.1:{dashboard_port}/webhooks/autocollect/"
        sandbox = harness.start_sandbox(
            database,
            log_dir,
            latency_ms=0,
            extra={"SANDBOX_WEBHOOK_URL": webhook_url, "SANDBOX_WEBHOOK_SECRET": secret},
        )
        servers.append(sandbox)
        settings_for_dashboard = {"AUTOCOLLECT_WEBHOOK_SECRET": secret}
        env = harness.dashboard_environment(
            database, sandbox, dashboard_port, settings_for_dashboard
        )
        full = subprocess.run(  # noqa: S603 - our own interpreter and manage.py
            [harness.PYTHON, "manage.py", "refresh_case_index", "--full"],
            cwd=harness.ROOT,
            env={**os.environ, **env},
            capture_output=True,
            text=True,
            check=False,
        )
        if full.returncode != 0:
            raise SystemExit(f"the first full refresh failed:\n{full.stderr[-2000:]}")
        # `make serve` runs gunicorn and a task worker (db_worker's default 1 s poll).
        servers.append(
            harness.start_dashboard(
                database, sandbox, log_dir, settings_for_dashboard, port=dashboard_port
            )
        )
        dashboard = servers[-1]
        timings = harness.Timings()
        # Both clients have made requests already: closed here, not opened by `with`.
        browser = harness.logged_in_client(dashboard, member, timeout=30.0)
        upstream = harness.upstream_client(sandbox, timeout=30.0)
        try:
            waiting = _queue_numbers(browser)
            if len(waiting) < rounds:
                raise SystemExit(f"only {len(waiting)} approvals to accept; ask for fewer")
            print(f"webhook loop, {rounds} approvals, {harness.load_line()}", flush=True)
            for number in waiting[:rounds]:
                timings.add(_one_loop(browser, upstream, member, number))
        finally:
            browser.close()
            upstream.close()
        print(
            f"  sandbox change -> queue without the case: median {timings.median_ms:.0f} ms, "
            f"p95 {timings.p95_ms:.0f} ms, max {max(timings.seconds) * 1000:.0f} ms "
            f"({harness.load_line()})"
        )


def _queue_numbers(browser: httpx.Client) -> list[int]:
    page = browser.get(APPROVALS, headers={"HX-Request": "true", "HX-Target": "triage-results"})
    page.raise_for_status()
    return [int(n) for n in re.findall(r'data-case-number="(\d+)"', page.text)]


def _one_loop(
    browser: httpx.Client, upstream: httpx.Client, member: harness.Member, number: int
) -> float:
    cases_url = f"/collection/v1/orgs/{member.organization_id}/cases"
    found = upstream.get(cases_url, params={"CaseNumber": number, "PageSize": 1})
    found.raise_for_status()
    case_id = found.json()["data"][0]["caseId"]
    started = time.perf_counter()
    accepted = upstream.post(
        f"{cases_url}/{case_id}/debt-collection-list/accept",
        json={"reason": "bench"},
        headers={"Idempotency-Key": str(uuid.uuid4())},
    )
    accepted.raise_for_status()
    while number in _queue_numbers(browser):
        if time.perf_counter() - started > LOOP_TIMEOUT_SECONDS:
            raise SystemExit(f"case {number} still in the queue after {LOOP_TIMEOUT_SECONDS} s")
        time.sleep(LOOP_POLL_SECONDS)
    return time.perf_counter() - started


def main() -> None:
    logging.disable(logging.INFO)  # one line per upstream call would drown the figures
    parser = argparse.ArgumentParser()
    parser.add_argument("--cases", type=int, default=3000)
    parser.add_argument("--webhook-loop", type=int, default=0, metavar="N")
    args = parser.parse_args()
    if args.webhook_loop:
        webhook_loop(args.webhook_loop)
        return
    call_command("migrate", verbosity=0)
    if Case.objects.filter(organization_id=BENCH_ORG).count() != args.cases:
        Case.objects.filter(organization_id=BENCH_ORG).delete()
        print(f"seeding {args.cases} cases ...", flush=True)
        seed_organization(BENCH_ORG, "Index Bench AS", cases=args.cases, seed=3)
    organization, _ = Organization.objects.get_or_create(
        amili_id=BENCH_ORG, defaults={"name": "Index Bench AS"}
    )
    CaseSummary.objects.filter(organization=organization).delete()
    settings.AUTOCOLLECT_MAX_PAGES = max(2000, args.cases // 100 + 2)
    settings.AUTOCOLLECT_TIMEOUT = 60.0
    transport = CountingTransport(in_process_sandbox())
    autocollect.use_transport(transport)
    engine = settings.DATABASES["default"]["ENGINE"].rsplit(".", 1)[-1]
    print(f"{args.cases} cases, {engine}, {harness.load_line()}")
    runs: list[tuple[str, Callable[[Organization], sync.SyncReport]]] = [
        ("full refresh, empty index", sync.full_refresh),
        ("full refresh, index filled", sync.full_refresh),
        ("incremental sync", sync.incremental_sync),
    ]
    for label, run in runs:
        transport.requests, transport.upstream_seconds = 0, []
        started = time.perf_counter()
        report = run(organization)
        seconds = time.perf_counter() - started
        upstream = sum(transport.upstream_seconds)
        print(
            f"  {label}: {seconds:.1f} s, {transport.requests} upstream requests "
            f"({upstream:.1f} s of it in the sandbox), {report.cases_read} cases read"
        )
    rows = CaseSummary.objects.filter(organization=organization).count()
    print(f"  rows in the index: {rows} ({harness.load_line()})")


if __name__ == "__main__":
    main()
