"""Benchmark the case list's total from the case index at scale (not part of the test suite).

Fills, if needed, one organisation's case index with --cases synthetic rows (random status,
type and amount; registered a minute apart) in the database DATABASE_URL names (default a
SQLite file under /tmp, never the development database), then times the total's computation
(cases/list_totals.py, uncached) for a few filters: the median of five.

    DEBUG=true .venv/bin/python bench/bench_list_total.py --cases 200000
"""

import argparse
import os
import random
import statistics
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DATABASE_URL", "sqlite:////tmp/list_total_bench.sqlite3")
os.environ.setdefault("DEBUG", "true")
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dashboard.settings")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402

from cases.autocollect import CaseFilters  # noqa: E402
from cases.list_totals import _computed  # noqa: E402
from dashboard.models import Organization  # noqa: E402
from triage.models import CaseSummary, SyncState  # noqa: E402

BENCH_ORG = uuid.UUID("b3c4e2a0-0000-4000-8000-0000000070a1")


def prepare(cases: int) -> Organization:
    call_command("migrate", verbosity=0)
    organization, _ = Organization.objects.get_or_create(
        amili_id=BENCH_ORG, defaults={"name": "Total Bench AS"}
    )
    if CaseSummary.objects.filter(organization=organization).count() != cases:
        print(f"Indexing {cases} synthetic cases ...", flush=True)
        CaseSummary.objects.filter(organization=organization).delete()
        chosen, now = random.Random(1), datetime.now(UTC)
        CaseSummary.objects.bulk_create(
            (
                CaseSummary(
                    organization=organization,
                    case_id=f"bench-{number}",
                    case_number=number,
                    status=chosen.choice(["OPEN", "PAUSED", "CLOSED", "WITHDRAWN"]),
                    sub_status="NONE",
                    type=chosen.choice(["DEBT_COLLECTION", "PAYMENT_REMINDER"]),
                    registered_at=now - timedelta(minutes=number),
                    remaining_amount=Decimal(chosen.randint(0, 10_000_000)) / 100,
                    remaining_principal=Decimal(0),
                    currency="NOK",
                    confirmed_at=now,
                )
                for number in range(1, cases + 1)
            ),
            batch_size=5000,
        )
    SyncState.objects.get_or_create(
        organization=organization, defaults={"last_full_sync_at": datetime.now(UTC)}
    )
    return organization


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=200_000)
    args = parser.parse_args()
    settings.DEBUG = False  # no query log
    organization = prepare(args.cases)
    month_ago = (datetime.now(UTC) - timedelta(days=30)).date()
    filters = {
        "no filter": CaseFilters(),
        "status=OPEN": CaseFilters(status="OPEN"),
        "type": CaseFilters(type="PAYMENT_REMINDER"),
        "registered in the last 30 days": CaseFilters(created_from=month_ago),
    }
    print(f"The list's total from the case index, {args.cases} cases, uncached (median of 5)")
    for name, chosen in filters.items():
        seconds = []
        for _ in range(5):
            started = time.perf_counter()
            _computed(organization, chosen)
            seconds.append(time.perf_counter() - started)
        print(f"{name:<34}{statistics.median(seconds) * 1000:>8.1f} ms")


if __name__ == "__main__":
    main()
