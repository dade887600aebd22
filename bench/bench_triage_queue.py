"""Benchmark the triage queue page against a large case index (not part of the test suite).

Fills, if it does not hold --cases rows already, one organisation's case index with synthetic
summaries (statuses and sub-statuses in the demo's proportions, one debtor each) in the database
named by DATABASE_URL (default: a SQLite file under /tmp, never the development database), then
times /triage/ in process (Django's test client, a logged-in agent, no panel: the queue reads
only the index) for each queue and order: the whole page and the results partial a swap asks
for: the first page, the second and a deep one (the last, at most page 2,000). Prints median
and 95th percentile in milliseconds and the load average; --explain adds each query's plan.

    DEBUG=true .venv/bin/python bench/bench_triage_queue.py --cases 3000
    DEBUG=true .venv/bin/python bench/bench_triage_queue.py --cases 200000
    createdb -h 127.0.0.1 -U postgres bench_triage   # a database of the benchmark's own
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench_triage \
        DEBUG=true .venv/bin/python bench/bench_triage_queue.py --cases 200000 --explain
"""

import argparse
import logging
import os
import random
import statistics
import sys
import time
import uuid
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DATABASE_URL", "sqlite:////tmp/triage_queue_bench.sqlite3")
os.environ.setdefault("DEBUG", "true")
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dashboard.settings")

import django  # noqa: E402

django.setup()

from django.contrib.auth.models import User  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.utils import timezone  # noqa: E402

from bench.harness import load_line  # noqa: E402
from dashboard.models import Membership, Organization, Role  # noqa: E402
from triage import queries, sync  # noqa: E402
from triage.models import CaseSummary, IndexedDebtor  # noqa: E402
from triage.queries import Queue  # noqa: E402

BENCH_ORG = uuid.UUID("b3c4e2a0-0000-4000-8000-0000000007a1")
RUNS = 20
CHUNK = 5000
# (status, sub-status, share): about what the demo's seed gives.
MIX = (
    ("OPEN", "NONE", 0.55),
    ("OPEN", "DEBT_COLLECTION_LIST_MANUAL", 0.06),
    ("OPEN", "EVICTION_REQUEST_MANUAL", 0.01),
    ("OPEN", "EVICTION_CONFIRMATION_MANUAL", 0.01),
    ("PAUSED", "NONE", 0.07),
    ("CLOSED", "NONE", 0.25),
    ("WITHDRAWN", "NONE", 0.05),
)


def fill(organization: Organization, cases: int) -> None:
    CaseSummary.objects.filter(organization=organization).delete()
    rng = random.Random(7)  # synthetic data
    now = timezone.now()
    statuses = [(status, sub) for status, sub, _ in MIX]
    weights = [share for _, _, share in MIX]
    for start in range(0, cases, CHUNK):
        rows = []
        for number in range(start, min(start + CHUNK, cases)):
            status, sub_status = rng.choices(statuses, weights)[0]
            registered = now - timedelta(days=rng.randint(1, 900), minutes=rng.randint(0, 1440))
            amount = Decimal(rng.randint(10_000, 5_000_000)) / 100
            rows.append(
                CaseSummary(
                    organization=organization,
                    case_id=str(uuid.UUID(int=number + 1)),
                    case_number=1_000_000 + number,
                    status=status,
                    sub_status=sub_status,
                    type=rng.choice(["DEBT_COLLECTION", "COLLECTION_NOTICE", "REMINDER"]),
                    registered_at=registered,
                    remaining_amount=amount,
                    remaining_principal=amount * Decimal("0.9"),
                    currency="NOK",
                    earliest_due_date=(registered - timedelta(days=14)).date(),
                    debtor_names=f"Debtor {number % 50_000}",
                    waiting_since=(
                        registered + timedelta(days=rng.randint(0, 30))
                        if sub_status != "NONE"
                        else None
                    ),
                    confirmed_at=now,
                )
            )
        created = CaseSummary.objects.bulk_create(rows)
        IndexedDebtor.objects.bulk_create(
            IndexedDebtor(
                organization=organization,
                case=row,
                customer_number=f"K-{row.case_number % 50_000}",
                display_name=row.debtor_names,
            )
            for row in created
        )
        print(f"  {start + len(rows)} rows", flush=True)


def timed(client: Client, url: str, headers: dict[str, str]) -> tuple[float, float]:
    client.get(url, headers=headers)  # warm
    samples = []
    for _ in range(RUNS):
        started = time.perf_counter()
        response = client.get(url, headers=headers)
        samples.append((time.perf_counter() - started) * 1000)
        if response.status_code != 200:
            raise SystemExit(f"{url}: {response.status_code}")
    samples.sort()
    return statistics.median(samples), samples[int(len(samples) * 0.95) - 1]


def explain(client: Client, url: str, headers: dict[str, str]) -> None:
    """Each query of one request, its time and the database's plan for the index's ones."""
    connection = django.db.connection
    with CaptureQueriesContext(connection) as captured:
        client.get(url, headers=headers)
    prefix = "EXPLAIN QUERY PLAN " if connection.vendor == "sqlite" else "EXPLAIN ANALYZE "
    print(f"  {url}")
    for query in captured.captured_queries:
        if "triage_casesummary" not in query["sql"]:
            continue
        with connection.cursor() as cursor:
            cursor.execute(prefix + query["sql"])
            plan = [" ".join(str(part) for part in row[-1:]) for row in cursor.fetchall()]
        print(f"    {float(query['time']) * 1000:6.1f} ms  {query['sql'][:110]} ...")
        for line in plan:
            print(f"               {line}")


def main() -> None:
    logging.disable(logging.INFO)
    parser = argparse.ArgumentParser()
    parser.add_argument("--cases", type=int, default=3000)
    parser.add_argument(
        "--explain", action="store_true", help="print each index query's plan for a few pages"
    )
    args = parser.parse_args()
    call_command("migrate", verbosity=0)
    organization, _ = Organization.objects.get_or_create(
        amili_id=BENCH_ORG, defaults={"name": "Triage Bench AS"}
    )
    if CaseSummary.objects.filter(organization=organization).count() != args.cases:
        print(f"filling the index with {args.cases} cases ...", flush=True)
        fill(organization, args.cases)
    # What a sync that wrote this many rows does at its end (triage.sync).
    sync.refresh_statistics()
    user, _ = User.objects.get_or_create(username="triage-bench")
    Membership.objects.get_or_create(
        user=user, organization=organization, defaults={"role": Role.AGENT}
    )
    client = Client()
    client.force_login(user)
    vendor = django.db.connection.vendor
    counts = queries.queue_counts(organization)
    print(f"{vendor}, {args.cases} indexed cases, {RUNS} runs each (median / p95 ms)")
    print(f"  {load_line()}")
    print("  queue sizes: " + ", ".join(f"{which.value} {n}" for which, n in counts.items()))
    full: dict[str, str] = {}
    partial = {"HX-Request": "true", "HX-Target": "triage-results"}
    size = 25
    for queue in ("debt-collection-list", "open"):
        deep = max(1, min(2000, -(-counts[Queue(queue)] // size)))  # the last page, at most 2000
        for sort in ("amount", "waiting", "-amount", "-waiting", "due", "registered"):
            url = f"/triage/?queue={queue}&sort={sort}"
            page_median, page_p95 = timed(client, url, full)
            second_median, second_p95 = timed(client, url + "&page=2", partial)
            deep_median, deep_p95 = timed(client, url + f"&page={deep}", partial)
            print(
                f"  {queue:22} {sort:11} page 1 {page_median:6.1f} / {page_p95:6.1f}"
                f"   page 2 (partial) {second_median:6.1f} / {second_p95:6.1f}"
                f"   page {deep} (partial) {deep_median:6.1f} / {deep_p95:6.1f}"
            )
    median, p95 = timed(client, "/triage/?queue=open&q=Debtor%2012345", partial)
    print(f"  filter by name (open queue): {median:.1f} / {p95:.1f}")
    print(f"  ({load_line()})")
    if args.explain:
        for url in (
            "/triage/?queue=open&sort=amount&page=2000",
            "/triage/?queue=open&sort=waiting&page=2",
            "/triage/?queue=debt-collection-list&sort=-waiting&page=300",
        ):
            explain(client, url, partial)


if __name__ == "__main__":
    main()
