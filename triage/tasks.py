"""Background work on the case index, run by `manage.py db_worker` (Django's tasks framework).

Arguments are JSON: organisations travel as their primary key, cases as their numbers. A task
whose organisation has gone does nothing. Syncs that fail for a passing reason (the upstream
down, slow or rate-limiting) try again later, a few times, when the backend can defer work.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Final

from django.core.cache import cache
from django.db import transaction
from django.tasks import task
from django.utils import timezone

from cases import autocollect
from dashboard.models import Organization
from triage import sync

logger = logging.getLogger("triage.tasks")

SYNC_ATTEMPTS: Final = 3
RETRY_AFTER: Final = timedelta(seconds=30)  # times the attempt number
PASSING_FAILURES: Final = (
    autocollect.UpstreamUnavailable,
    autocollect.UpstreamTimeout,
    autocollect.RateLimited,
)
MAX_CASES_PER_TASK: Final = 100  # a page is at most 100 cases
# A page's rows are compared with the index at most once per this interval.
PAGE_REFRESH_INTERVAL_SECONDS: Final = 5 * 60


@task()
def sync_case_index(
    organization_pk: int, full: bool = False, attempt: int = 1
) -> dict[str, object]:
    """Bring one organisation's index up to date: a full refresh, or only new cases."""
    organization = Organization.objects.filter(pk=organization_pk).first()
    if organization is None:
        return {"skipped": "no such organisation"}
    try:
        report = sync.sync_organization(organization, full=full)
    except PASSING_FAILURES:
        _retry_later(organization_pk, full, attempt)
        raise
    return report.as_dict()


@task()
def refresh_indexed_cases(organization_pk: int, case_numbers: list[int]) -> dict[str, int]:
    """Re-read these cases from the upstream and update their rows (webhooks, pages)."""
    organization = Organization.objects.filter(pk=organization_pk).first()
    if organization is None:
        return {"found": 0, "gone": 0}
    found = gone = 0
    for case_number in dict.fromkeys(case_numbers[:MAX_CASES_PER_TASK]):
        if sync.refresh_case(organization, case_number=case_number):
            found += 1
        else:
            gone += 1
    return {"found": found, "gone": gone}


@task()
def refresh_cases_by_id(organization_pk: int, case_ids: list[str]) -> dict[str, int]:
    """Re-read cases named by id (a batch, an event without a number).

    The upstream finds cases by number only, so ids the index does not know yet mean new cases:
    an incremental sync reads those.
    """
    organization = Organization.objects.filter(pk=organization_pk).first()
    if organization is None:
        return {"found": 0, "gone": 0}
    numbers = sync.case_numbers_for_ids(organization, case_ids)
    result = refresh_indexed_cases.call(organization_pk, list(numbers.values()))
    if set(case_ids) - set(numbers):
        sync.incremental_sync(organization)
    return result


@task()
def refresh_cases_of_batch(organization_pk: int, batch_id: str) -> dict[str, int]:
    """A batch finished: re-read every case it touched, succeeded or failed."""
    organization = Organization.objects.filter(pk=organization_pk).first()
    if organization is None:
        return {"found": 0, "gone": 0}
    batch = autocollect.get_batch(organization_id=organization.amili_id, batch_id=batch_id)
    case_ids = list(dict.fromkeys((*batch.succeeded, *batch.failed)))
    if not case_ids:
        return {"found": 0, "gone": 0}
    return refresh_cases_by_id.call(organization_pk, case_ids)


@task()
def purge_case_index() -> dict[str, int]:
    """Delete rows past their retention, and webhook keys past theirs."""
    report = sync.purge_expired()
    return {
        "closed_cases": report.closed_cases,
        "vanished_cases": report.vanished_cases,
        "webhook_keys": report.webhook_keys,
    }


def enqueue_page_refresh(
    organization: Organization,
    cases: Sequence[autocollect.Case],
    *,
    fetched_at: datetime | None = None,
    asked_at: datetime | None = None,
) -> bool:
    """Let a page the dashboard just read refresh the index rows it shows, off its own path.

    Cheap by construction, for the read path's speed: nothing at all when the page came from
    the client's read cache (fetched before it was asked for: the read that fetched it had its
    turn), then one cache.add per organisation and set of cases per PAGE_REFRESH_INTERVAL (a
    page looked at again within it adds nothing), one indexed SELECT, and only when the page
    shows something the index does not, one task (an INSERT, after the commit); the worker
    re-reads those cases. True if it enqueued one.
    """
    if not cases or (fetched_at and asked_at and fetched_at < asked_at):
        return False
    if not cache.add(_page_key(organization, cases), 1, PAGE_REFRESH_INTERVAL_SECONDS):
        return False
    stale = sync.cases_to_refresh(organization, cases)
    if not stale:
        return False
    transaction.on_commit(lambda: refresh_indexed_cases.enqueue(organization.pk, stale))
    return True


def _page_key(organization: Organization, cases: Sequence[autocollect.Case]) -> str:
    """The organisation first, then a digest of the page's case ids (never a search term)."""
    digest = hashlib.blake2b("\n".join(c.case_id for c in cases).encode(), digest_size=12)
    return f"org:{organization.pk}:triage:page-refresh:{digest.hexdigest()}"


def forget_upstream_reads(organization: Organization) -> None:
    """Drop the client's cached reads of this organisation: pages read after an event about it
    must not come from a cache older than the event."""
    autocollect.forget_organization_reads(organization.amili_id)


def _retry_later(organization_pk: int, full: bool, attempt: int) -> None:
    if attempt >= SYNC_ATTEMPTS or not sync_case_index.get_backend().supports_defer:
        return
    later = sync_case_index.using(run_after=timezone.now() + RETRY_AFTER * attempt)
    later.enqueue(organization_pk, full, attempt + 1)
    logger.info("case index: sync of organisation %s will be tried again", organization_pk)
