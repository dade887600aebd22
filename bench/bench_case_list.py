"""Benchmark the case list's HTMX partial against the sandbox (not part of the test suite).

Seeds, if absent, one organisation with --cases cases (default 3000, as the demo) into the
database named by DATABASE_URL (default: a SQLite file under /tmp, never the development
database), then requests /cases/ as HTMX would (HX-Request, HX-Target: results) through Django's
test client, with the AutoCollect client routed into the in-process sandbox over a WSGI transport.
Every request is the whole server path: middleware, form, client (token from the cache), the
sandbox's query, JSON both ways, and the partial's render. Prints median and p95 per scenario and
how much of it the upstream (the sandbox) took.

    DEBUG=true .venv/bin/python bench/bench_case_list.py
    DEBUG=true .venv/bin/python bench/bench_case_list.py --requests 200 --cases 20000
"""

import argparse
import logging
import os
import statistics
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DATABASE_URL", "sqlite:////tmp/case_list_bench.sqlite3")
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
from django.contrib.auth.models import User  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.test import Client  # noqa: E402

from cases import autocollect  # noqa: E402
from dashboard.models import Membership, Organization, Role  # noqa: E402
from sandbox.models import Case  # noqa: E402
from sandbox.seeding import seed_organization  # noqa: E402
from tests.support.transport import in_process_sandbox  # noqa: E402

BENCH_ORG = uuid.UUID("b3c4e2a0-0000-4000-8000-00000000ca5e")
BENCH_USER = "case-list-bench"
HTMX_HEADERS = {
    "HX-Request": "true",
    "HX-Target": "results",
    "HX-Current-URL": "http://testserver/cases/",
}


@dataclass
class TimedTransport(httpx.BaseTransport):
    """The WSGI transport into the sandbox, remembering how long the upstream took."""

    inner: httpx.BaseTransport
    upstream_seconds: list[float] = field(default_factory=list)

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        started = time.perf_counter()
        response = self.inner.handle_request(request)
        response.read()
        self.upstream_seconds.append(time.perf_counter() - started)
        return response


def prepare(cases: int) -> Client:
    call_command("migrate", verbosity=0)
    if Case.objects.filter(organization_id=BENCH_ORG).count() != cases:
        print(f"Seeding {cases} cases ...", flush=True)
        seed_organization(BENCH_ORG, "Benchmark Bolig AS", cases, seed=11, reset=True)
    organization, _ = Organization.objects.get_or_create(
        amili_id=BENCH_ORG, defaults={"name": "Benchmark Bolig AS"}
    )
    user, _ = User.objects.get_or_create(username=BENCH_USER)
    Membership.objects.get_or_create(
        user=user, organization=organization, defaults={"role": Role.VIEWER}
    )
    client = Client(headers={"Accept-Language": "nb"})
    client.force_login(user)
    return client


def next_page_url(client: Client, url: str) -> str:
    """The URL of the second page, with the upstream's token, as the pager links to it."""
    html = client.get(url).content.decode()
    marker = 'rel="next" href="'
    start = html.index(marker) + len(marker)
    href = html[start : html.index('"', start)].replace("&amp;", "&")
    if not parse_qs(urlsplit(href).query).get("page"):
        raise SystemExit("the first page has no link to a second page")
    return href


def measure(
    client: Client, transport: TimedTransport, url: str, requests: int
) -> tuple[list[float], list[float]]:
    for _ in range(3):  # warm: templates compiled, token cached, connections open
        client.get(url, headers=HTMX_HEADERS)
    totals: list[float] = []
    upstream: list[float] = []
    for _ in range(requests):
        transport.upstream_seconds.clear()
        started = time.perf_counter()
        response = client.get(url, headers=HTMX_HEADERS)
        totals.append(time.perf_counter() - started)
        upstream.append(sum(transport.upstream_seconds))
        if response.status_code != 200:
            raise SystemExit(f"{url} answered {response.status_code}")
    return totals, upstream


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=3000)
    parser.add_argument("--requests", type=int, default=50)
    args = parser.parse_args()
    logging.disable(logging.INFO)  # request and client logs would dominate the output

    client = prepare(args.cases)
    # The tests' own in-process sandbox: a nested request that keeps the outer one's connection.
    transport = TimedTransport(in_process_sandbox())
    autocollect.use_transport(transport)

    scenarios = {
        "first page (25)": "/cases/",
        "status=OPEN": "/cases/?status=OPEN",
        "search q=hansen": "/cases/?q=hansen",
        "first page (100)": "/cases/?size=100",
    }
    scenarios["second page (token)"] = next_page_url(client, "/cases/")

    print(
        f"HTMX partial of /cases/ against the in-process sandbox, {args.cases} cases, "
        f"{args.requests} requests each (ms)"
    )
    print(f"{'scenario':<22}{'median':>9}{'p95':>9}{'upstream median':>18}{'ours median':>14}")
    medians: list[float] = []
    for name, url in scenarios.items():
        totals, upstream = measure(client, transport, url, args.requests)
        ours = [total - up for total, up in zip(totals, upstream, strict=True)]
        median = statistics.median(totals) * 1000
        medians.append(median)
        print(
            f"{name:<22}{median:>9.1f}{percentile(totals, 0.95) * 1000:>9.1f}"
            f"{statistics.median(upstream) * 1000:>18.1f}{statistics.median(ours) * 1000:>14.1f}"
        )
    autocollect.use_transport(None)


if __name__ == "__main__":
    main()
