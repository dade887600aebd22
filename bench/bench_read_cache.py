"""Benchmark the AutoCollect read cache (not part of the test suite).

Against the same in-process sandbox as bench_case_list.py (seeded with --cases cases in the
database DATABASE_URL names, default a SQLite file under /tmp), prints medians and p95 of:

- list_cases on a miss (fresh=True: the upstream is asked, the answer parsed and stored) and on a
  hit (one cache round trip and an unpickle), at the client, for 25 and 100 cases a page;
- what a hit saves and costs: parsing the upstream's JSON for a page against unpickling the
  parsed page, the cache's part of the choice "store parsed objects or raw bytes";
- the HTMX partial of /cases/ (25 rows) on a miss (?refresh=1) and on a hit: the whole request.

The cache is the one CACHE_URL names (default local memory); for Redis:

    DEBUG=true .venv/bin/python bench/bench_read_cache.py
    CACHE_URL=redis://127.0.0.1:6379/13 DEBUG=true .venv/bin/python bench/bench_read_cache.py
"""

import argparse
import logging
import os
import pickle
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402
from django.conf import settings  # noqa: E402

from bench import bench_case_list  # noqa: E402  (sets up Django and the sandbox environment)
from cases import autocollect  # noqa: E402
from cases.autocollect.parsing import json_body, parse_case_page  # noqa: E402
from tests.support.transport import in_process_sandbox  # noqa: E402

HTMX_HEADERS = bench_case_list.HTMX_HEADERS


def timed(action: Callable[[], object], repeats: int) -> list[float]:
    for _ in range(3):
        action()
    seconds = []
    for _ in range(repeats):
        started = time.perf_counter()
        action()
        seconds.append(time.perf_counter() - started)
    return seconds


def report(name: str, seconds: list[float]) -> None:
    median = statistics.median(seconds) * 1000
    p95 = bench_case_list.percentile(seconds, 0.95) * 1000
    print(f"{name:<44}{median:>9.2f}{p95:>9.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=3000)
    parser.add_argument("--requests", type=int, default=50)
    args = parser.parse_args()
    logging.disable(logging.INFO)

    client = bench_case_list.prepare(args.cases)
    transport = bench_case_list.TimedTransport(in_process_sandbox())
    autocollect.use_transport(transport)
    org = bench_case_list.BENCH_ORG
    cache_url = os.environ.get("CACHE_URL", "locmemcache://")
    print(f"Read cache on {cache_url}, {args.cases} cases, {args.requests} repeats (ms)")
    print(f"{'measure':<44}{'median':>9}{'p95':>9}")

    for size in (25, 100):

        def miss(size: int = size) -> object:
            return autocollect.list_cases(organization_id=org, page_size=size, fresh=True)

        def hit(size: int = size) -> object:
            return autocollect.list_cases(organization_id=org, page_size=size)

        report(f"list_cases, {size} cases: miss (upstream)", timed(miss, args.requests))
        report(f"list_cases, {size} cases: hit", timed(hit, args.requests))

        answer = transport.inner.handle_request(
            httpx.Request(
                "GET",
                f"{settings.AUTOCOLLECT_API_URL}/orgs/{org}/cases",
                params={"PageSize": str(size)},
                headers={"Authorization": f"Bearer {_token()}"},
            )
        )
        content = answer.read()
        page = parse_case_page(json_body(content))
        pickled = pickle.dumps(page, pickle.HIGHEST_PROTOCOL)

        def parse(content: bytes = content) -> object:
            return parse_case_page(json_body(content))

        def unpickle(pickled: bytes = pickled) -> object:
            return pickle.loads(pickled)  # noqa: S301 - our own bytes, just made

        report(
            f"  parse JSON ({len(content) // 1024} KiB) into a page", timed(parse, args.requests)
        )
        report(
            f"  unpickle the parsed page ({len(pickled) // 1024} KiB)",
            timed(unpickle, args.requests),
        )

    report(
        "/cases/ partial (25 rows): miss (?refresh=1)",
        timed(lambda: client.get("/cases/?refresh=1", headers=HTMX_HEADERS), args.requests),
    )
    report(
        "/cases/ partial (25 rows): hit",
        timed(lambda: client.get("/cases/", headers=HTMX_HEADERS), args.requests),
    )
    autocollect.use_transport(None)


def _token() -> str:
    from cases.autocollect.auth import access_token
    from cases.autocollect.transport import Deadline

    return access_token(Deadline.start())


if __name__ == "__main__":
    main()
