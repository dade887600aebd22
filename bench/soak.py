"""Soak test: concurrent users for minutes while one upstream answer in ten fails (not a test).

Starts the sandbox as its own server with SANDBOX_FAULT_RATE (default 0.1: every fault kind,
500, 503, 429, timeout, malformed and expired-token, drawn at random for one collection-API
answer in ten) and the dashboard as production serves it (`make serve`, or its gunicorn
command), then runs --users threads, each a logged-in user of one of --organizations
organisations, for --duration seconds. Each asks, in turn, the list's HTMX partial and whole page
(a new query each time, so the upstream is asked), a case page, a debtor page and a one-customer
CSV export, and checks every answer:

    - the status is 200 or one of the friendly upstream errors (429, 502, 503, 504): never a
      500, nothing else;
    - a 200 is the page asked for (its results, its case number, its customer, a CSV header);
    - an error is the friendly in-page error (class="upstream-error"), with Retry-After on 429;
    - no answer carries a stack trace, and the dashboard's log has none either;
    - memory stays flat: the gunicorn workers' resident size (/proc) after a warm-up and at the
      end, and no worker was replaced (a killed worker shows as a new pid).

Prints the figures and exits non-zero when a check failed. Every process it starts is stopped at
the end; SQLite lives in a temporary directory, PostgreSQL in a database created for the run and
dropped after it (Redis database 13).

    .venv/bin/python bench/soak.py                          # 2 minutes, 32 users, SQLite
    .venv/bin/python bench/soak.py --database postgres --users 16 --duration 60
    .venv/bin/python bench/soak.py --fault-rate 0.3 --duration 30
"""

from __future__ import annotations

import argparse
import datetime
import random
import re
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.harness import (
    Database,
    Member,
    Server,
    Timings,
    cleanup,
    load_line,
    logged_in_client,
    postgres_database,
    prepare_members,
    rss_kib,
    sqlite_database,
    start_dashboard,
    start_sandbox,
)

CASES_PER_ORGANIZATION: Final = 500
UPSTREAM_TIMEOUT: Final = 3.0  # seconds: the timeout fault then costs 4 s, not 11
FRIENDLY_STATUSES: Final = frozenset({429, 502, 503, 504})
FRIENDLY_MARKER: Final = 'class="upstream-error"'
# What a stack trace or a technical error page shows; none of it may reach a user.
TRACE_MARKERS: Final = ("Traceback (most recent call last)", 'File "/', "Exception Value")
# Memory is flat if the workers together grew less than this after the warm-up: the first third
# of the run, in which bounded caches fill (the local-memory cache keeps up to 300 read entries
# per process, templates and formatters are compiled, connections opened).
RSS_GROWTH_LIMIT: Final = 0.10
WARM_UP_FRACTION: Final = 1 / 3
MEMORY_SAMPLE_SECONDS: Final = 5.0
HTMX_RESULTS: Final = {"HX-Request": "true", "HX-Target": "results"}
FIRST_MISS_DATE: Final = datetime.date(1990, 1, 1)
CUSTOMER_NUMBER: Final = re.compile(r'href="/debtors/([^"/]+)/"')


@dataclass(frozen=True)
class Ask:
    """One request a user makes and what its good answer contains."""

    page: str
    url: str
    headers: dict[str, str]
    expect: str


@dataclass
class Tally:
    statuses: Counter[tuple[str, int]] = field(default_factory=Counter)
    wrong: Counter[str] = field(default_factory=Counter)
    samples: dict[str, str] = field(default_factory=dict)
    timings: Timings = field(default_factory=Timings)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, ask: Ask, status: int, seconds: float, problem: str, body: str) -> None:
        with self.lock:
            self.statuses[(ask.page, status)] += 1
            self.timings.add(seconds)
            if problem:
                key = f"{ask.page}: {problem}"
                self.wrong[key] += 1
                self.samples.setdefault(key, f"{ask.url} -> {status}: {body[:300]!r}")


def check(ask: Ask, response: httpx.Response) -> str:
    """What is wrong with an answer, or "" if it is right."""
    body = response.text
    if any(marker in body for marker in TRACE_MARKERS):
        return "a stack trace in the answer"
    status = response.status_code
    if status == 200:
        return "" if ask.expect in body else "a 200 that is not the page"
    if status in FRIENDLY_STATUSES:
        if FRIENDLY_MARKER not in body:
            return f"a {status} without the friendly error"
        if status == 429 and "Retry-After" not in response.headers:
            return "a 429 without Retry-After"
        return ""
    return f"status {status}"


class Asks:
    """Each user's next request: pages in turn, list queries never repeated (so never cached)."""

    def __init__(self, members: list[Member], customers: dict[str, list[str]]) -> None:
        self.members = members
        self.customers = customers
        self._days = 0
        self._lock = threading.Lock()

    def _new_date(self) -> str:
        with self._lock:
            self._days += 1
            return (FIRST_MISS_DATE + datetime.timedelta(days=self._days)).isoformat()

    def next(self, member: Member, turn: int, draw: random.Random) -> Ask:
        kind = turn % 5
        if kind == 0:
            return Ask(
                "list partial", f"/cases/?from={self._new_date()}", HTMX_RESULTS, 'id="results"'
            )
        if kind == 1:
            return Ask("list page", f"/cases/?from={self._new_date()}", {}, 'id="results"')
        if kind == 2:
            number = member.first_case_number + draw.randrange(member.cases)
            return Ask("case page", f"/cases/{number}/", {}, str(number))
        customer = draw.choice(self.customers[member.username])
        if kind == 3:
            return Ask("debtor page", f"/debtors/{customer}/", {}, customer)
        return Ask("export", f"/cases/export.csv?customer={customer}", {}, "Case number,Debtors")


def customer_numbers(client: httpx.Client, member: Member) -> list[str]:
    """Customer numbers linked from the first case pages (retried: one answer in ten fails)."""
    numbers: set[str] = set()
    for offset in range(60):
        case_number = member.first_case_number + offset % 20
        response = client.get(f"/cases/{case_number}/")
        if response.status_code == 200:
            numbers.update(CUSTOMER_NUMBER.findall(response.text))
        if len(numbers) >= 5:
            return sorted(numbers)
    raise SystemExit(f"no customer numbers in {member.organization_name}'s case pages")


def worker_memory(dashboard: Server) -> dict[int, int]:
    return {pid: rss_kib(pid) for pid in dashboard.worker_pids()}


def soak(
    members: list[Member], dashboard: Server, users: int, duration: float
) -> tuple[Tally, float, dict[int, int], dict[int, int]]:
    sessions = {
        member.username: logged_in_client(dashboard, member, timeout=30.0) for member in members
    }
    customers = {
        member.username: customer_numbers(sessions[member.username], member) for member in members
    }
    asks = Asks(members, customers)
    tally = Tally()
    stop_at = time.monotonic() + duration
    memory: dict[str, dict[int, int]] = {}
    series: list[int] = []  # the workers' total RSS every few seconds

    def user_loop(user: int) -> None:
        member = members[user % len(members)]
        draw = random.Random(user)  # which page to ask: no secret
        with httpx.Client(base_url=dashboard.base_url, timeout=30.0) as client:
            client.cookies = httpx.Cookies(sessions[member.username].cookies)
            turn = user
            while time.monotonic() < stop_at:
                ask = asks.next(member, turn, draw)
                turn += 1
                started = time.perf_counter()
                try:
                    response = client.get(ask.url, headers=ask.headers)
                except httpx.HTTPError as error:
                    tally.record(ask, 0, time.perf_counter() - started, type(error).__name__, "")
                    continue
                problem = check(ask, response)
                tally.record(
                    ask, response.status_code, time.perf_counter() - started, problem, response.text
                )

    def sample_memory() -> None:
        warm_until = time.monotonic() + duration * WARM_UP_FRACTION
        while time.monotonic() < stop_at:
            time.sleep(min(MEMORY_SAMPLE_SECONDS, max(0.0, stop_at - time.monotonic())))
            sample = worker_memory(dashboard)
            series.append(sum(sample.values()))
            if "start" not in memory and time.monotonic() >= warm_until:
                memory["start"] = sample

    threads = [threading.Thread(target=user_loop, args=(user,)) for user in range(users)]
    sampler = threading.Thread(target=sample_memory)
    started = time.perf_counter()
    for thread in [*threads, sampler]:
        thread.start()
    for thread in [*threads, sampler]:
        thread.join()
    elapsed = time.perf_counter() - started
    memory["end"] = worker_memory(dashboard)
    for client in sessions.values():
        client.close()
    print("  workers' RSS every 5 s (MiB): " + " ".join(f"{kib / 1024:.0f}" for kib in series))
    return tally, elapsed, memory.get("start", memory["end"]), memory["end"]


def report(
    tally: Tally, elapsed: float, start: dict[int, int], end: dict[int, int], dashboard: Server
) -> bool:
    total = sum(tally.statuses.values())
    print(
        f"\n  {total:,} requests in {elapsed:.0f} s ({total / elapsed:.1f}/s), "
        f"median {tally.timings.median_ms:.0f} ms, p95 {tally.timings.p95_ms:.0f} ms"
    )
    pages = sorted({page for page, _ in tally.statuses})
    for page in pages:
        counts = {status: n for (name, status), n in sorted(tally.statuses.items()) if name == page}
        answered = sum(counts.values())
        errors = answered - counts.get(200, 0)
        print(f"  {page:<14}{answered:>7,}  friendly errors {errors / answered:6.1%}  {counts}")
    ok = True
    if tally.wrong:
        ok = False
        print("\n  WRONG ANSWERS:")
        for problem, count in tally.wrong.most_common():
            print(f"    {count:>6}  {problem}\n            e.g. {tally.samples[problem]}")
    else:
        print("\n  every answer was the page asked for or a friendly error: no 500, no stack trace")
    traces = dashboard.log.read_text(errors="replace").count("Traceback")
    if traces:
        ok = False
        print(f"  the dashboard's log holds {traces} stack trace(s): see {dashboard.log}")
    else:
        print("  the dashboard's log holds no stack trace")
    before, after = sum(start.values()), sum(end.values())
    replaced = set(start) != set(end)
    growth = (after - before) / before if before else 0.0
    print(
        f"  worker memory (RSS, {len(end)} workers): {before / 1024:.1f} MiB after the warm-up "
        f"(the first third), "
        f"{after / 1024:.1f} MiB at the end ({growth:+.1%})"
        + ("; WORKERS WERE REPLACED" if replaced else "")
    )
    if replaced or growth > RSS_GROWTH_LIMIT:
        ok = False
    print(f"\n  {'PASSED' if ok else 'FAILED'}")
    return ok


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--database", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--users", type=int, default=32, help="concurrent users (default 32)")
    parser.add_argument("--duration", type=float, default=120.0, help="seconds (default 120)")
    parser.add_argument("--fault-rate", type=float, default=0.1, help="default 0.1")
    parser.add_argument("--latency-ms", type=int, default=20, help="the sandbox's (default 20)")
    parser.add_argument("--organizations", type=int, default=4, help="the users' organisations")
    parser.add_argument("--workers", type=int, default=2, help="dashboard worker processes")
    parser.add_argument("--threads", type=int, default=8, help="threads per worker")
    options = parser.parse_args()
    if not 0 <= options.fault_rate <= 1 or options.users < 1 or options.organizations < 1:
        parser.error("--fault-rate must be between 0 and 1; --users and --organizations >= 1")

    print(f"{' '.join(['bench/soak.py', *sys.argv[1:]])}\n{load_line()}")
    with tempfile.TemporaryDirectory(prefix="soak-") as work:
        database: Database = (
            postgres_database("soak_bench")
            if options.database == "postgres"
            else sqlite_database(Path(work), "soak.sqlite3")
        )
        servers: list[Server] = []
        with cleanup(servers, [database]):
            print(f"{database.label}: preparing the database ...", flush=True)
            organizations = [
                (f"Soak {index} AS", CASES_PER_ORGANIZATION)
                for index in range(options.organizations)
            ]
            members = prepare_members(database, organizations)
            sandbox = start_sandbox(
                database, Path(work), latency_ms=options.latency_ms,
                fault_rate=options.fault_rate, upstream_timeout=UPSTREAM_TIMEOUT,
            )  # fmt: skip
            servers.append(sandbox)
            dashboard = start_dashboard(
                database, sandbox, Path(work),
                {
                    "WEB_CONCURRENCY": str(options.workers),
                    "GUNICORN_THREADS": str(options.threads),
                    "AUTOCOLLECT_TIMEOUT": str(UPSTREAM_TIMEOUT),
                },
            )  # fmt: skip
            servers.append(dashboard)
            print(
                f"{database.label}: {options.users} users over {options.organizations} "
                f"organisations for {options.duration:.0f} s, {options.fault_rate:.0%} of upstream "
                f"answers failing, sandbox latency {options.latency_ms} ms, "
                f"{options.workers} workers x {options.threads} threads",
                flush=True,
            )
            tally, elapsed, start, end = soak(members, dashboard, options.users, options.duration)
            ok = report(tally, elapsed, start, end, dashboard)
            print(load_line())
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
