"""Benchmark the case index's sync against the sandbox (not part of the test suite).

Seeds, if absent, one organisation with --cases cases into the database named by DATABASE_URL
(default: a SQLite file under /tmp, never the development database), then times a full refresh
into an empty index, a second full refresh over it, and an incremental sync, with the client
routed into the in-process sandbox over a WSGI transport. Prints seconds and upstream requests
of each, and how much of the time the upstream (the sandbox) took.

    DEBUG=true .venv/bin/python bench/bench_case_index.py --cases 3000
    DEBUG=true .venv/bin/python bench/bench_case_index.py --cases 200000
"""

import argparse
import logging
import os
import sys
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


def main() -> None:
    logging.disable(logging.INFO)  # one line per upstream call would drown the figures
    parser = argparse.ArgumentParser()
    parser.add_argument("--cases", type=int, default=3000)
    args = parser.parse_args()
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
    print(f"{args.cases} cases, {engine}")
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
    print(f"  rows in the index: {rows}")


if __name__ == "__main__":
    main()
