"""The dashboard's own CPU time per request, in one process (not part of the test suite).

Why CPU time: the machine this runs on is shared, and wall-clock figures swing with its load;
time.process_time counts only what this process spent. The upstream is the in-process sandbox
of bench_case_list.py (same database, same bootstrap), whose own CPU time is measured at the
transport and subtracted, so what is left is the dashboard's: middleware, form, client, parsing
or the cache, the template. Each request goes through Django's test client, logged in as a
viewer, Accept-Language nb.

The organisation's cases are indexed (triage's full refresh) once, so that the list's total
remaining amount (cases/list_totals.py) is computed from the index as in production.

Scenarios: the list's HTMX partial (25 rows) on a miss (the organisation's reads forgotten
before each request) and on a hit, the whole list page (hit), and the case page on a miss and a
hit. Prints per scenario the median and p95 CPU ms and the SQL queries per request.

    DEBUG=true .venv/bin/python bench/request_cpu.py
    DEBUG=true .venv/bin/python bench/request_cpu.py --requests 200
    DEBUG=true .venv/bin/python bench/request_cpu.py --profile "list partial, hit"

--profile runs cProfile over that scenario's requests and prints the 35 costliest functions by
cumulative and by own time (and writes the raw stats to /tmp/request_cpu.prof). DEBUG must be
on when Django starts, because the in-process sandbox is only installed then; it is switched
off before measuring, as in production.
"""

import argparse
import cProfile
import logging
import pstats
import statistics
import sys
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402
from django.conf import settings  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

from bench import bench_case_list  # noqa: E402  (sets up Django and the sandbox environment)
from cases import autocollect  # noqa: E402
from dashboard.models import Organization  # noqa: E402
from tests.support.transport import in_process_sandbox  # noqa: E402
from triage.models import SyncState  # noqa: E402
from triage.sync import full_refresh  # noqa: E402

HTMX_HEADERS = bench_case_list.HTMX_HEADERS
PROFILE_FILE = "/tmp/request_cpu.prof"  # noqa: S108 - a developer's own profile output


@dataclass
class UpstreamCpu(httpx.BaseTransport):
    """The in-process sandbox as the transport, counting the CPU time it spends answering."""

    inner: httpx.BaseTransport
    cpu_seconds: float = 0.0
    calls: list[float] = field(default_factory=list)

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        started = time.process_time()
        response = self.inner.handle_request(request)
        response.read()
        self.cpu_seconds += time.process_time() - started
        return response


@dataclass(frozen=True)
class Scenario:
    name: str
    url: str
    headers: dict[str, str]
    before_each: Callable[[], None]  # outside the timing: what makes it a miss


@dataclass
class Result:
    cpu_ms: list[float]
    queries: int


def measure(client: Client, upstream: UpstreamCpu, scenario: Scenario, requests: int) -> Result:
    for _ in range(3):  # warm: templates compiled, token cached, connections open
        scenario.before_each()
        client.get(scenario.url, headers=scenario.headers)
    cpu_ms: list[float] = []
    for _ in range(requests):
        scenario.before_each()
        upstream.cpu_seconds = 0.0
        started = time.process_time()
        response = client.get(scenario.url, headers=scenario.headers)
        spent = time.process_time() - started
        if response.status_code != 200:
            raise SystemExit(f"{scenario.name}: {scenario.url} answered {response.status_code}")
        cpu_ms.append((spent - upstream.cpu_seconds) * 1000)
    # Counted on one more request, untimed: capturing queries wraps every cursor.
    scenario.before_each()
    with CaptureQueriesContext(connection) as captured:
        client.get(scenario.url, headers=scenario.headers)
    # The sandbox's own queries run in this process too; the dashboard's are the rest.
    queries = len([q for q in captured.captured_queries if "sandbox_" not in q["sql"]])
    return Result(cpu_ms, queries)


def index_cases(amili_id: uuid.UUID) -> None:
    """Build the local case index once, so the list's total is computed as in production."""
    organization = Organization.objects.get(amili_id=amili_id)
    if not SyncState.objects.filter(organization=organization).exists():
        print("Indexing the cases (once) ...", flush=True)
        full_refresh(organization)


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def first_case_number(client: Client) -> int:
    html = client.get("/cases/", headers=HTMX_HEADERS).content.decode()
    marker = 'data-href="/cases/'
    start = html.index(marker) + len(marker)
    return int(html[start : html.index("/", start)])


def profile(client: Client, scenario: Scenario, requests: int) -> None:
    profiler = cProfile.Profile()
    for _ in range(requests):
        scenario.before_each()
        profiler.enable()
        client.get(scenario.url, headers=scenario.headers)
        profiler.disable()
    profiler.dump_stats(PROFILE_FILE)  # for pstats or snakeviz
    stats = pstats.Stats(profiler).strip_dirs()
    stats.sort_stats("cumulative").print_stats(35)
    stats.sort_stats("tottime").print_stats(35)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=3000)
    parser.add_argument("--requests", type=int, default=100)
    parser.add_argument("--profile", metavar="SCENARIO", help="profile this scenario instead")
    args = parser.parse_args()
    logging.disable(logging.CRITICAL)  # the log lines' formatting is measured, their output not

    client = bench_case_list.prepare(args.cases)
    # DEBUG is on only so that the sandbox is installed; off, as in production, the database
    # connections no longer record every query (a CursorDebugWrapper per query).
    settings.DEBUG = False
    # One process: its local-memory cache is shared by everything that could change a membership
    # here, so the membership cache may be on, as it is with Redis.
    settings.MEMBERSHIP_CACHE_SECONDS = 300
    upstream = UpstreamCpu(in_process_sandbox())
    autocollect.use_transport(upstream)
    organization = str(bench_case_list.BENCH_ORG)
    index_cases(bench_case_list.BENCH_ORG)

    def forget() -> None:
        autocollect.forget_organization_reads(organization)

    def nothing() -> None:
        pass

    case_page = f"/cases/{first_case_number(client)}/"
    scenarios = [
        Scenario("list partial, miss", "/cases/", HTMX_HEADERS, forget),
        Scenario("list partial, hit", "/cases/", HTMX_HEADERS, nothing),
        Scenario("full list page, hit", "/cases/", {}, nothing),
        Scenario("case page, miss", case_page, {}, forget),
        Scenario("case page, hit", case_page, {}, nothing),
    ]
    if args.profile:
        chosen = [s for s in scenarios if s.name == args.profile]
        if not chosen:
            raise SystemExit(f"no scenario {args.profile!r}: {[s.name for s in scenarios]}")
        profile(client, chosen[0], args.requests)
        return

    print(
        f"Dashboard CPU per request (upstream's CPU subtracted), {args.cases} cases, "
        f"{args.requests} requests each"
    )
    print(f"{'scenario':<22}{'median ms':>11}{'p95 ms':>9}{'queries':>9}")
    for scenario in scenarios:
        result = measure(client, upstream, scenario, args.requests)
        print(
            f"{scenario.name:<22}{statistics.median(result.cpu_ms):>11.2f}"
            f"{percentile(result.cpu_ms, 0.95):>9.2f}{result.queries:>9}"
        )
    autocollect.use_transport(None)


if __name__ == "__main__":
    main()
