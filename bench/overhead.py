"""What the dashboard adds to the upstream's time, measured over real HTTP (not a test).

Starts the sandbox as its own server with a fixed latency (default 50 ms) and the dashboard as
production serves it (`make serve`, or the gunicorn command it runs), pointed at the sandbox over
HTTP, on one database. Then, alternating request by request, it asks the same query directly of
the sandbox (with a bearer token) and through the dashboard (logged in through the login form):

    list partial   /cases/ as htmx swaps the results (HX-Request, HX-Target: results)
    list page      /cases/, the whole page
    case page      /cases/<number>/, the whole page

each as a cache miss and as a cache hit (the same query again, within AUTOCOLLECT_CACHE_SECONDS).
A miss of the partial is the page's Refresh control (refresh=1: the same upstream query, the
cache bypassed and refilled); of the whole list page, a registration-date lower bound no case is
older than, new on every request (a plain refresh there redirects); of the case page, a case not
asked for before. The direct call sends the same query each time.
It prints medians, p95, what the dashboard adds at the median and the ratio dashboard/direct;
then throughput, latency and error rate at --users concurrent users (threads, each with its own
connection; users spread over --organizations organisations, as in production) for misses, hits
and the sandbox alone; then the list partial on an organisation of 1,000 cases against one of
--large-cases (SQLite only: seeded once into --data-dir and reused; 150 to 450 s the first time).

Databases: SQLite (a file in --data-dir, local-memory cache) and PostgreSQL with Redis (a
database created for the run and dropped after it; Redis database 13). Every process the script
starts is stopped at the end, Ctrl-C included.

    .venv/bin/python bench/overhead.py                     # both databases, 50 ms upstream
    .venv/bin/python bench/overhead.py --database sqlite --requests 50 --large-cases 0
    .venv/bin/python bench/overhead.py --latency-ms 20 --users 16 --duration 5

Targets on the 2-core development machine (docs: README, Development): on a miss the dashboard
adds at most 5 ms at the median to the list partial and the case page (ratio <= 1.10 at 50 ms);
a hit takes under 5 ms; the list is as fast at 200,000 cases as at 1,000.
"""

from __future__ import annotations

import argparse
import datetime
import functools
import itertools
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable
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
    cpu_seconds,
    load_line,
    logged_in_client,
    percentile,
    postgres_database,
    prepare_members,
    sqlite_database,
    start_dashboard,
    start_sandbox,
    upstream_client,
)

PAGE_SIZE: Final = 25  # the case list's default, so the direct call asks what the page asks
SMALL_CASES: Final = 1000
# Lower bounds on the registration date that no seeded case is older than: each makes a new
# query (a miss) whose answer, and the upstream's work, is the same as the plain list's.
FIRST_MISS_DATE: Final = datetime.date(1990, 1, 1)
HTMX_RESULTS: Final = {"HX-Request": "true", "HX-Target": "results"}
TARGET_ADDED_MS: Final = 5.0
TARGET_RATIO: Final = 1.10
TARGET_HIT_MS: Final = 5.0


@dataclass(frozen=True)
class Exchange:
    """One query asked both ways: the sandbox's API and the dashboard's page."""

    upstream_params: dict[str, str]
    dashboard_url: str
    dashboard_headers: dict[str, str]
    expect: str  # text every good dashboard answer contains


@dataclass
class Scenario:
    name: str
    build: Callable[[], Exchange]  # the next request's exchange
    direct: Timings = field(default_factory=Timings)
    cpu_ms: float = 0.0  # the dashboard's workers' CPU time per request
    dashboard: Timings = field(default_factory=Timings)
    differences: list[float] = field(default_factory=list)


class Dates:
    """Registration-date lower bounds never used before in this run: each one is a miss."""

    def __init__(self) -> None:
        self._days = itertools.count()
        self._lock = threading.Lock()

    def next(self) -> str:
        with self._lock:
            return (FIRST_MISS_DATE + datetime.timedelta(days=next(self._days))).isoformat()


def list_exchange(
    member: Member, *, partial: bool, created_from: str | None = None, refresh: bool = False
) -> Exchange:
    """The case list, plain or narrowed to cases registered from a date; `refresh` asks the
    dashboard to bypass its cache (its Refresh control: the same upstream query, a miss)."""
    params = {"PageSize": str(PAGE_SIZE)}
    query = []
    if created_from:
        params["FromCreatedAt"] = created_from
        query.append(f"from={created_from}")
    if refresh:
        query.append("refresh=1")
    headers = dict(HTMX_RESULTS) if partial else {}
    return Exchange(
        upstream_params=params,
        dashboard_url="/cases/" + (f"?{'&'.join(query)}" if query else ""),
        dashboard_headers=headers,
        expect='id="results"',
    )


def list_miss(member: Member) -> Exchange:
    """The plain list's partial, fresh from the upstream (htmx's refresh is never redirected)."""
    return list_exchange(member, partial=True, refresh=True)


def case_exchange(member: Member, index: int) -> Exchange:
    number = member.first_case_number + index % member.cases
    return Exchange(
        upstream_params={"CaseNumber": str(number), "PageSize": "1"},
        dashboard_url=f"/cases/{number}/",
        dashboard_headers={},
        expect=f"{number}",
    )


def scenarios(member: Member, dates: Dates) -> list[Scenario]:
    """Misses never repeat a query (warming up included); hits always ask the same one."""
    # Case pages for misses and hits come from different halves, so a hit never was a miss.
    half = member.cases // 2
    case_misses = itertools.count()
    return [
        Scenario(
            "list partial, miss",
            lambda: list_miss(member),
        ),
        Scenario(
            "list partial, hit", lambda: list_exchange(member, partial=True, created_from=None)
        ),
        Scenario(
            "list page, miss",
            lambda: list_exchange(member, partial=False, created_from=dates.next()),
        ),
        Scenario("list page, hit", lambda: list_exchange(member, partial=False, created_from=None)),
        Scenario("case page, miss", lambda: case_exchange(member, next(case_misses) % half)),
        Scenario("case page, hit", lambda: case_exchange(member, half)),
    ]


def timed(call: Callable[[], httpx.Response]) -> tuple[float, httpx.Response]:
    started = time.perf_counter()
    response = call()
    return time.perf_counter() - started, response


def exchange_once(
    exchange: Exchange,
    member: Member,
    upstream: httpx.Client,
    dashboard: httpx.Client,
    *,
    direct_first: bool,
) -> tuple[float, float]:
    """Ask both ways, one after the other; the two times in seconds."""
    cases_path = f"/collection/v1/orgs/{member.organization_id}/cases"

    def direct() -> tuple[float, httpx.Response]:
        return timed(lambda: upstream.get(cases_path, params=exchange.upstream_params))

    def through() -> tuple[float, httpx.Response]:
        return timed(
            lambda: dashboard.get(exchange.dashboard_url, headers=exchange.dashboard_headers)
        )

    if direct_first:
        (direct_seconds, direct_answer), (our_seconds, our_answer) = direct(), through()
    else:
        (our_seconds, our_answer), (direct_seconds, direct_answer) = through(), direct()
    if direct_answer.status_code != 200:
        raise SystemExit(f"the sandbox answered {direct_answer.status_code} to {exchange}")
    if our_answer.status_code != 200 or exchange.expect not in our_answer.text:
        raise SystemExit(
            f"the dashboard answered {our_answer.status_code} to {exchange.dashboard_url}:\n"
            f"{our_answer.text[:500]}"
        )
    return direct_seconds, our_seconds


def measure(
    member: Member,
    upstream: httpx.Client,
    dashboard: httpx.Client,
    server: Server,
    requests: int,
    dates: Dates,
) -> list[Scenario]:
    """Each scenario in turn, direct and dashboard alternating (and which goes first, too).

    Also the CPU time the dashboard's workers spent per request: unlike the wall-clock figures,
    it hardly changes when other processes keep the machine busy.
    """
    measured = scenarios(member, dates)
    for scenario in measured:
        for _ in range(3):  # connections open, templates compiled, the hit's entry stored
            exchange_once(scenario.build(), member, upstream, dashboard, direct_first=True)
        cpu_before = cpu_seconds(server.worker_pids())
        for index in range(requests):
            direct_seconds, our_seconds = exchange_once(
                scenario.build(), member, upstream, dashboard, direct_first=index % 2 == 0
            )
            scenario.direct.add(direct_seconds)
            scenario.dashboard.add(our_seconds)
            scenario.differences.append(our_seconds - direct_seconds)
        scenario.cpu_ms = (cpu_seconds(server.worker_pids()) - cpu_before) / requests * 1000
    return measured


def verdict(scenario: Scenario) -> str:
    added = percentile(scenario.differences, 0.5) * 1000
    if scenario.name.endswith("hit"):
        return "ok" if scenario.dashboard.median_ms < TARGET_HIT_MS else "OVER"
    if scenario.name.startswith("list page"):
        return ""  # no target for the whole page
    ratio = scenario.dashboard.median_ms / scenario.direct.median_ms
    return "ok" if added <= TARGET_ADDED_MS and ratio <= TARGET_RATIO else "OVER"


def print_scenarios(measured: list[Scenario]) -> None:
    print(
        f"  {'':<20}{'direct':>16}{'dashboard':>18}{'added':>9}{'ratio':>7}{'CPU':>7}  target\n"
        f"  {'':<20}{'median / p95':>16}{'median / p95':>18}{'median':>9}{'':>7}{'ms':>7}"
    )
    for scenario in measured:
        direct, ours = scenario.direct, scenario.dashboard
        added = percentile(scenario.differences, 0.5) * 1000
        print(
            f"  {scenario.name:<20}{direct.median_ms:>8.1f} / {direct.p95_ms:<5.1f}"
            f"{ours.median_ms:>10.1f} / {ours.p95_ms:<5.1f}{added:>+9.1f}"
            f"{ours.median_ms / direct.median_ms:>7.2f}{scenario.cpu_ms:>7.1f}  {verdict(scenario)}"
        )


# --------------------------------------------------------------------------------------------
# Concurrent users
# --------------------------------------------------------------------------------------------


@dataclass
class Load:
    statuses: Counter[int] = field(default_factory=Counter)
    failures: Counter[str] = field(default_factory=Counter)
    timings: Timings = field(default_factory=Timings)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, seconds: float, status: int, failure: str = "") -> None:
        with self.lock:
            self.statuses[status] += 1
            self.timings.add(seconds)
            if failure:
                self.failures[failure] += 1


def run_users(
    users: int, duration: float, make_client: Callable[[int], httpx.Client],
    request: Callable[[httpx.Client, int], tuple[httpx.Response, str]],
) -> tuple[Load, float]:  # fmt: skip
    """`users` threads, each with its own client, asking as fast as answers come, for `duration`."""
    load = Load()
    clients = [make_client(user) for user in range(users)]
    start_together = threading.Barrier(users + 1)
    stop_at: list[float] = []

    def user_loop(user: int) -> None:
        client = clients[user]
        start_together.wait()
        while time.monotonic() < stop_at[0]:
            started = time.perf_counter()
            try:
                response, failure = request(client, user)
            except httpx.HTTPError as error:
                load.record(time.perf_counter() - started, 0, type(error).__name__)
                continue
            load.record(time.perf_counter() - started, response.status_code, failure)

    threads = [threading.Thread(target=user_loop, args=(user,)) for user in range(users)]
    for thread in threads:
        thread.start()
    stop_at.append(time.monotonic() + duration)
    started = time.perf_counter()
    start_together.wait()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    for client in clients:
        client.close()
    return load, elapsed


def print_load(name: str, load: Load, elapsed: float) -> None:
    total = sum(load.statuses.values())
    bad = total - load.statuses[200] + sum(load.failures.values())
    statuses = ", ".join(f"{status}: {count}" for status, count in sorted(load.statuses.items()))
    failures = f"; wrong answers: {dict(load.failures)}" if load.failures else ""
    print(
        f"  {name:<26}{total / elapsed:>8.1f} req/s  median {load.timings.median_ms:6.1f} ms  "
        f"p95 {load.timings.p95_ms:6.1f} ms  errors {bad / max(total, 1):6.2%}  "
        f"({statuses}){failures}"
    )


def concurrent_users(
    members: list[Member], sandbox: Server, dashboard: Server, users: int, duration: float,
    dates: Dates,
) -> None:  # fmt: skip
    # Logging in hashes a password: once per organisation's login, then the threads share it.
    sessions = {member.username: logged_in_client(dashboard, member) for member in members}

    def dashboard_client(user: int) -> httpx.Client:
        member = members[user % len(members)]
        client = httpx.Client(base_url=dashboard.base_url, timeout=30.0)
        client.cookies = httpx.Cookies(sessions[member.username].cookies)
        return client

    def page(miss: bool) -> Callable[[httpx.Client, int], tuple[httpx.Response, str]]:
        def ask(client: httpx.Client, user: int) -> tuple[httpx.Response, str]:
            exchange = list_exchange(
                members[user % len(members)], partial=True,
                created_from=dates.next() if miss else None,
            )  # fmt: skip
            response = client.get(exchange.dashboard_url, headers=exchange.dashboard_headers)
            good = response.status_code != 200 or exchange.expect in response.text
            return response, "" if good else "200 without the results"

        return ask

    def direct(client: httpx.Client, user: int) -> tuple[httpx.Response, str]:
        member = members[user % len(members)]
        response = client.get(
            f"/collection/v1/orgs/{member.organization_id}/cases",
            params={"PageSize": str(PAGE_SIZE), "FromCreatedAt": dates.next()},
        )
        return response, ""

    print(f"\n  {users} concurrent users over {len(members)} organisations, {duration:.0f} s each:")
    load, elapsed = run_users(
        users, duration, lambda user: upstream_client(sandbox, timeout=30.0), direct
    )
    print_load("direct (sandbox alone)", load, elapsed)
    load, elapsed = run_users(users, duration, dashboard_client, page(miss=True))
    print_load("dashboard, list misses", load, elapsed)
    load, elapsed = run_users(users, duration, dashboard_client, page(miss=False))
    print_load("dashboard, list hits", load, elapsed)
    for client in sessions.values():
        client.close()


# --------------------------------------------------------------------------------------------
# Runs
# --------------------------------------------------------------------------------------------


def run(database: Database, options: argparse.Namespace, log_dir: Path) -> None:
    servers: list[Server] = []
    with cleanup(servers, [database]):
        organizations = [
            (f"Benk {index} AS", SMALL_CASES) for index in range(options.organizations)
        ]
        large = options.large_cases if database.label == "SQLite" else 0
        if large:
            organizations.append(("Benk Stor AS", large))
        print(f"\n{database.label}: preparing the database ...", flush=True)
        members = prepare_members(database, organizations)
        small_members = [member for member in members if member.cases == SMALL_CASES]
        sandbox = start_sandbox(database, log_dir, latency_ms=options.latency_ms)
        servers.append(sandbox)
        dashboard = start_dashboard(
            database,
            sandbox,
            log_dir,
            {
                "WEB_CONCURRENCY": str(options.workers),
                "GUNICORN_THREADS": str(options.threads),
                "AUTOCOLLECT_CACHE_SECONDS": str(options.cache_seconds),
            },
        )
        servers.append(dashboard)
        dates = Dates()
        member = small_members[0]
        upstream = upstream_client(sandbox, timeout=30.0)
        ours = logged_in_client(dashboard, member, timeout=30.0)
        print(
            f"\n{database.label}: sandbox latency {options.latency_ms} ms, "
            f"{options.requests} requests per scenario, {options.workers} workers x "
            f"{options.threads} threads; {load_line()}"
        )
        print_scenarios(measure(member, upstream, ours, dashboard, options.requests, dates))
        if large:
            print(f"\n  list partial, miss: {SMALL_CASES:,} against {large:,} cases")
            big_member = next(m for m in members if m.cases == large)
            big = logged_in_client(dashboard, big_member, timeout=30.0)
            for who, client in ((member, ours), (big_member, big)):
                flat = Scenario(f"{who.cases:,} cases", functools.partial(list_miss, who))
                for index in range(options.requests):
                    direct_seconds, our_seconds = exchange_once(
                        flat.build(), who, upstream, client, direct_first=index % 2 == 0
                    )
                    flat.direct.add(direct_seconds)
                    flat.dashboard.add(our_seconds)
                    flat.differences.append(our_seconds - direct_seconds)
                print(
                    f"  {flat.name:<20} direct {flat.direct.median_ms:6.1f} / "
                    f"{flat.direct.p95_ms:5.1f} ms   dashboard {flat.dashboard.median_ms:6.1f} / "
                    f"{flat.dashboard.p95_ms:5.1f} ms"
                )
            big.close()
        upstream.close()
        ours.close()
        if options.users:
            concurrent_users(
                small_members, sandbox, dashboard, options.users, options.duration, dates
            )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--database", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--latency-ms", type=int, default=50, help="the sandbox's (default 50)")
    parser.add_argument("--requests", type=int, default=100, help="per scenario (default 100)")
    parser.add_argument("--users", type=int, default=32, help="concurrent users (0: skip)")
    parser.add_argument("--duration", type=float, default=10.0, help="seconds per load run")
    parser.add_argument("--organizations", type=int, default=8, help="the users' organisations")
    parser.add_argument(
        "--large-cases", type=int, default=200_000,
        help="the large organisation's cases, SQLite only (0: skip; default 200,000)",
    )  # fmt: skip
    parser.add_argument("--workers", type=int, default=2, help="dashboard worker processes")
    parser.add_argument("--threads", type=int, default=8, help="threads per worker")
    parser.add_argument(
        "--cache-seconds", type=int, default=20, help="AUTOCOLLECT_CACHE_SECONDS (default 20)"
    )
    parser.add_argument(
        "--data-dir", type=Path, default=Path(tempfile.gettempdir()) / "overhead-bench",
        help="where the SQLite database is kept between runs (default /tmp/overhead-bench)",
    )  # fmt: skip
    options = parser.parse_args()
    if options.requests < 2 or options.organizations < 1:
        parser.error("--requests must be at least 2 and --organizations at least 1")

    command = " ".join(["bench/overhead.py", *sys.argv[1:]])
    print(f"{command}\n{load_line()}")
    with tempfile.TemporaryDirectory(prefix="overhead-") as logs:
        if options.database in {"sqlite", "both"}:
            name = f"bench-{options.organizations}x{SMALL_CASES}-{options.large_cases}.sqlite3"
            run(sqlite_database(options.data_dir, name), options, Path(logs))
        if options.database in {"postgres", "both"}:
            run(postgres_database("overhead_bench"), options, Path(logs))


if __name__ == "__main__":
    main()
