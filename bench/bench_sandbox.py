"""Benchmark the sandbox's case list on a large organisation (not part of the test suite).

Seeds, if absent, one organisation with 200,000 cases into the database named by DATABASE_URL
(default: a SQLite file under /tmp, never the development database), then times the cases
endpoint through Django's test client (middleware, token check and JSON included): the first
page, each exact filter, SearchTerm and a deep page. Prints median and p95 per query against the
budget (100 ms for pages and exact filters, 500 ms for SearchTerm).

    DEBUG=true .venv/bin/python bench/bench_sandbox.py
    createdb -h 127.0.0.1 -U postgres sandbox_bench
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/sandbox_bench \
        .venv/bin/python bench/bench_sandbox.py
"""

import argparse
import logging
import os
import statistics
import sys
import time
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DATABASE_URL", "sqlite:////tmp/sandbox_bench.sqlite3")
os.environ.setdefault("DEBUG", "true")
os.environ["SANDBOX_ENABLED"] = "true"
for knob in ("SANDBOX_FAULT", "SANDBOX_LATENCY_MS", "SANDBOX_BATCH_DELAY_MS"):
    os.environ.pop(knob, None)
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dashboard.settings")

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.db.models import Count  # noqa: E402
from django.test import Client  # noqa: E402

from sandbox.models import Case, Debtor, Invoice  # noqa: E402
from sandbox.seeding import seed_organization  # noqa: E402
from tests.support.sandbox import SandboxApi  # noqa: E402

BENCH_ORG = uuid.UUID("b3c4e2a0-0000-4000-8000-000000200000")
PAGE_BUDGET_MS = 100.0
SEARCH_BUDGET_MS = 500.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=200_000)
    parser.add_argument("--requests", type=int, default=50, help="timed requests per query")
    parser.add_argument(
        "--reseed", action="store_true", help="delete and seed the organisation again"
    )
    options = parser.parse_args()
    logging.getLogger(
        "dashboard.requests"
    ).disabled = True  # one line per request would swamp the table

    database = connection.settings_dict
    print(f"Database: {connection.vendor} {database['NAME']}")
    call_command("migrate", verbosity=0)
    started = time.perf_counter()
    created = seed_organization(
        BENCH_ORG, "Benk Eiendom AS", options.cases, seed=2024, reset=options.reseed
    )
    if created:
        print(f"Seeded {created:,} cases in {time.perf_counter() - started:.1f} s")
    total = Case.objects.filter(organization_id=BENCH_ORG).count()
    print(f"Organisation {BENCH_ORG} holds {total:,} cases")
    # Other processes on the machine inflate the tail; say how busy it was.
    print(f"Load average before timing: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs\n")

    api = SandboxApi(Client(), BENCH_ORG)
    queries = _queries(api)
    print(f"{'query':<44} {'rows':>7} {'median ms':>10} {'p95 ms':>8} {'budget':>7}  ok")
    failures = 0
    for label, params, budget in queries:
        rows, timings = _measure(api, params, options.requests)
        median, p95 = statistics.median(timings), _percentile(timings, 95)
        ok = p95 < budget
        failures += not ok
        verdict = "yes" if ok else "NO"
        print(f"{label:<44} {rows:>7,} {median:>10.1f} {p95:>8.1f} {budget:>7.0f}  {verdict}")
    print(f"\nLoad average after timing: {os.getloadavg()[0]:.1f}")
    sys.exit(1 if failures else 0)


def _queries(api: SandboxApi) -> list[tuple[str, dict[str, Any], float]]:
    """Realistic lookups, with the values taken from the seeded data."""
    cases = Case.objects.filter(organization_id=BENCH_ORG)
    middle = cases.order_by("case_number")[cases.count() // 2]
    busiest_debtor = (
        Debtor.objects.filter(organization_id=BENCH_ORG)
        .values("customer_number")
        .annotate(cases=Count("case"))
        .order_by("-cases")
        .first()
    )
    invoice = Invoice.objects.filter(case=middle).first()
    if invoice is None or busiest_debtor is None:
        raise SystemExit("The bench organisation has no invoices or debtors: run with --reseed.")
    reused_customer = busiest_debtor["customer_number"]
    deep_token = _token_for_page(api, 200)
    return [
        ("first page (25)", {}, PAGE_BUDGET_MS),
        ("first page (100)", {"PageSize": 100}, PAGE_BUDGET_MS),
        ("page 200 (via PageToken)", {"PageToken": deep_token}, PAGE_BUDGET_MS),
        ("CaseNumber", {"CaseNumber": middle.case_number}, PAGE_BUDGET_MS),
        (
            "CustomerNumber (the debtor with most cases)",
            {"CustomerNumber": reused_customer},
            PAGE_BUDGET_MS,
        ),
        (
            "UniqueSourceInvoiceId",
            {"UniqueSourceInvoiceId": invoice.unique_source_invoice_id},
            PAGE_BUDGET_MS,
        ),
        ("Status=OPEN", {"Status": "OPEN"}, PAGE_BUDGET_MS),
        ("Status=WITHDRAWN", {"Status": "WITHDRAWN"}, PAGE_BUDGET_MS),
        ("Type=LEGAL_COLLECTION", {"Type": "LEGAL_COLLECTION"}, PAGE_BUDGET_MS),
        (
            "Status=OPEN&Type=DEBT_COLLECTION",
            {"Status": "OPEN", "Type": "DEBT_COLLECTION"},
            PAGE_BUDGET_MS,
        ),
        (
            "FromCreatedAt..ToCreatedAt (one month)",
            {"FromCreatedAt": "2026-01-01", "ToCreatedAt": "2026-01-31"},
            PAGE_BUDGET_MS,
        ),
        ("SearchTerm=hansen (common)", {"SearchTerm": "hansen"}, SEARCH_BUDGET_MS),
        ("SearchTerm=SÆTHER (æøå, upper case)", {"SearchTerm": "SÆTHER"}, SEARCH_BUDGET_MS),
        ("SearchTerm=åse kløvstad (rare)", {"SearchTerm": "åse kløvstad"}, SEARCH_BUDGET_MS),
        ("SearchTerm=<case number>", {"SearchTerm": str(middle.case_number)}, SEARCH_BUDGET_MS),
        ("SearchTerm=zzzz (no match)", {"SearchTerm": "zzzz"}, SEARCH_BUDGET_MS),
        ("SearchTerm=epost (nearly every case)", {"SearchTerm": "epost"}, SEARCH_BUDGET_MS),
        ("SearchTerm=a (one letter)", {"SearchTerm": "a"}, SEARCH_BUDGET_MS),
        (
            "SearchTerm=hansen&Status=PAUSED",
            {"SearchTerm": "hansen", "Status": "PAUSED"},
            SEARCH_BUDGET_MS,
        ),
    ]


def _token_for_page(api: SandboxApi, number: int) -> str:
    """Walk to page `number` once, so the deep-page query starts from a genuine token."""
    page = api.cases()
    for _ in range(number - 1):
        page = api.cases(PageToken=page["cursorSummary"]["nextPageToken"])
    return str(page["cursorSummary"]["nextPageToken"])


def _measure(api: SandboxApi, params: dict[str, Any], requests: int) -> tuple[int, list[float]]:
    rows = int(api.cases(**params)["skipSummary"]["totalCount"])  # warm-up, not timed
    timings = []
    for _ in range(requests):
        started = time.perf_counter()
        api.cases(**params)
        timings.append((time.perf_counter() - started) * 1000)
    return rows, timings


def _percentile(values: list[float], percent: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, round(percent / 100 * (len(ordered) - 1)))
    return ordered[index]


if __name__ == "__main__":
    main()
