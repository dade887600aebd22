"""Keeping the case index fresh: full refreshes, incremental syncs, single cases, purges.

A full refresh walks every case of an organisation and marks the rows it did not see as vanished;
an incremental sync asks only for cases registered since the newest one seen (FromCreatedAt, from
that day on: the upstream has no "changed since"); a single case is re-read when a webhook or a
page says it changed. Each chunk is written in its own short transaction, so the web process is
never kept waiting on the database for a whole walk.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from itertools import batched
from typing import Final

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from cases import autocollect
from dashboard.models import Organization
from triage.models import (
    DECISION_SUB_STATUSES,
    MAX_DEBTOR_NAMES,
    OPEN_STATUSES,
    CaseSummary,
    IndexedDebtor,
    SyncState,
    WebhookEvent,
)

logger = logging.getLogger("triage.sync")

CHUNK_SIZE: Final = 500  # cases written per transaction: short locks, bounded memory
# A sync that wrote this many rows (or marked them vanished) refreshes the planner's statistics:
# the queue queries pick their index by them (a first sync of 200,000 cases without them sorted
# a whole queue for each page).
STATISTICS_AFTER_ROWS: Final = 1000
SQLITE_ANALYSIS_LIMIT: Final = 1000  # rows per index SQLite samples: milliseconds at any size
MAX_CASE_ID_LENGTH: Final = CaseSummary._meta.get_field("case_id").max_length or 64
BIGINT_LIMIT: Final = 2**63
# Written on every upsert; the rest of a row (organisation, case id) is its identity.
UPDATED_FIELDS: Final = (
    "case_number",
    "status",
    "sub_status",
    "type",
    "registered_at",
    "closed_at",
    "remaining_amount",
    "remaining_principal",
    "currency",
    "earliest_due_date",
    "debtor_names",
    "waiting_since",
    "waiting_before_first_seen",
    "confirmed_at",
    "vanished_at",
)


@dataclass(frozen=True, slots=True)
class SyncReport:
    """What one sync of one organisation did."""

    full: bool
    cases_read: int
    vanished: int
    seconds: float

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


@dataclass(frozen=True, slots=True)
class PurgeReport:
    closed_cases: int
    vanished_cases: int
    webhook_keys: int


# --------------------------------------------------------------------------------------------
# Syncs
# --------------------------------------------------------------------------------------------


def sync_organization(organization: Organization, *, full: bool = False) -> SyncReport:
    """A full refresh, or an incremental sync when the index already has a starting point."""
    state = sync_state(organization)
    if full or state.high_water_mark is None:
        return full_refresh(organization)
    return incremental_sync(organization)


def full_refresh(organization: Organization) -> SyncReport:
    """Walk every case: upsert them all, then mark the rows the upstream no longer returns."""
    started, clock = timezone.now(), time.perf_counter()
    try:
        cases_read, newest = _upsert_walk(organization, autocollect.CaseFilters())
    except autocollect.AutoCollectError as error:
        _record_error(organization, error)
        raise  # nothing is marked vanished after a walk that did not finish
    vanished = CaseSummary.objects.filter(
        organization=organization, vanished_at__isnull=True, confirmed_at__lt=started
    ).update(vanished_at=timezone.now())
    _record_success(
        organization,
        newest=newest,
        last_full_sync_at=started,
        cases_in_last_full_sync=cases_read,
    )
    if cases_read + vanished >= STATISTICS_AFTER_ROWS:
        refresh_statistics()
    report = SyncReport(True, cases_read, vanished, time.perf_counter() - clock)
    logger.info(
        "case index: full refresh of organisation %s: %d cases read, %d vanished, %.1f s",
        organization.pk,
        report.cases_read,
        report.vanished,
        report.seconds,
    )
    return report


def incremental_sync(organization: Organization) -> SyncReport:
    """Read the cases registered since the newest one the index has seen (from that day on)."""
    state = sync_state(organization)
    if state.high_water_mark is None:
        return full_refresh(organization)
    started, clock = timezone.now(), time.perf_counter()
    # A bare date covers the whole day in Europe/Oslo, so a case registered a moment before the
    # mark, or by a clock a little behind ours, is read again rather than missed.
    since: date = timezone.localdate(state.high_water_mark)
    try:
        cases_read, newest = _upsert_walk(organization, autocollect.CaseFilters(created_from=since))
    except autocollect.AutoCollectError as error:
        _record_error(organization, error)
        raise
    _record_success(organization, newest=newest, last_incremental_sync_at=started)
    if cases_read >= STATISTICS_AFTER_ROWS:
        refresh_statistics()
    report = SyncReport(False, cases_read, 0, time.perf_counter() - clock)
    logger.info(
        "case index: incremental sync of organisation %s: %d cases read, %.1f s",
        organization.pk,
        report.cases_read,
        report.seconds,
    )
    return report


def refresh_case(organization: Organization, *, case_number: int) -> bool:
    """Re-read one case and upsert its row; a case the upstream no longer has is marked vanished.

    True when the upstream still has the case.
    """
    try:
        # fresh: past the client's short read cache, which may predate the change we heard of.
        case = autocollect.get_case(
            organization_id=organization.amili_id, case_number=case_number, fresh=True
        )
    except autocollect.NotFound:
        CaseSummary.objects.filter(
            organization=organization, case_number=case_number, vanished_at__isnull=True
        ).update(vanished_at=timezone.now())
        return False
    upsert_cases(organization, [case])
    return True


def case_numbers_for_ids(organization: Organization, case_ids: Iterable[str]) -> dict[str, int]:
    """The case numbers the index knows for these case ids (the upstream looks cases up by
    number only)."""
    rows = CaseSummary.objects.filter(organization=organization, case_id__in=list(case_ids))
    return dict(rows.values_list("case_id", "case_number"))


def cases_to_refresh(organization: Organization, cases: Sequence[autocollect.Case]) -> list[int]:
    """The numbers of the cases on a page the index does not have or shows differently.

    One indexed query: cheap enough for the read path. The caller hands the numbers to a task
    (triage.tasks.enqueue_page_refresh), so the request never writes the index itself.
    """
    if not cases:
        return []
    known = {
        row[0]: row[1:]
        for row in CaseSummary.objects.filter(
            organization=organization,
            case_id__in=[case.case_id for case in cases],
            vanished_at__isnull=True,
        ).values_list("case_id", "status", "sub_status", "type", "remaining_amount")
    }
    return [
        case.case_number
        for case in cases
        if case.is_linkable
        and known.get(case.case_id)
        != (case.status, case.sub_status, case.type, _money(case.remaining_amount))
    ]


# --------------------------------------------------------------------------------------------
# Upserts
# --------------------------------------------------------------------------------------------


def upsert_cases(organization: Organization, cases: Iterable[autocollect.Case]) -> int:
    """Insert or update the rows of these cases, CHUNK_SIZE per transaction; how many were read."""
    read = 0
    for chunk in batched(cases, CHUNK_SIZE, strict=False):
        _upsert_chunk(organization, chunk)
        read += len(chunk)
    return read


def _upsert_walk(
    organization: Organization, filters: autocollect.CaseFilters
) -> tuple[int, datetime | None]:
    """Upsert every case the filters match; how many were read and the newest registration."""
    newest: datetime | None = None

    def watched(cases: Iterator[autocollect.Case]) -> Iterator[autocollect.Case]:
        nonlocal newest
        for case in cases:
            if case.registered_at and (newest is None or case.registered_at > newest):
                newest = case.registered_at
            yield case

    walk = autocollect.iter_cases(
        organization_id=organization.amili_id,
        filters=filters,
        page_size=autocollect.MAX_PAGE_SIZE,
    )
    read = upsert_cases(organization, watched(walk))
    return read, newest


def _upsert_chunk(organization: Organization, chunk: Sequence[autocollect.Case]) -> None:
    now = timezone.now()
    retention_cutoff = now - timedelta(days=settings.CASE_INDEX_RETENTION_DAYS)
    # The last copy of a case wins; one statement must not name a row twice (PostgreSQL).
    cases = {
        case.case_id: case
        for case in chunk
        if _fits_the_index(case) and not _past_retention(case, retention_cutoff)
    }
    if not cases:
        return
    previous = {
        case_id: Wait(sub_status, waiting_since, before_seen)
        for case_id, sub_status, waiting_since, before_seen in CaseSummary.objects.filter(
            organization=organization, case_id__in=list(cases)
        ).values_list("case_id", "sub_status", "waiting_since", "waiting_before_first_seen")
    }
    rows = [
        _summary_row(organization, case, previous.get(case.case_id), now) for case in cases.values()
    ]
    with transaction.atomic():
        CaseSummary.objects.bulk_create(
            rows,
            update_conflicts=True,
            unique_fields=["organization", "case_id"],
            update_fields=list(UPDATED_FIELDS),
        )
        _replace_changed_debtors(organization, cases)


def _replace_changed_debtors(
    organization: Organization, cases: dict[str, autocollect.Case]
) -> None:
    """Rewrite the debtor rows of the cases whose debtors changed (usually none)."""
    summary_ids = dict(
        CaseSummary.objects.filter(organization=organization, case_id__in=list(cases)).values_list(
            "case_id", "pk"
        )
    )
    stored: dict[int, list[tuple[str, str]]] = {pk: [] for pk in summary_ids.values()}
    for case_pk, customer_number, display_name in (
        IndexedDebtor.objects.filter(case_id__in=list(summary_ids.values()))
        .order_by("case_id", "position")
        .values_list("case_id", "customer_number", "display_name")
    ):
        stored[case_pk].append((customer_number, display_name))
    changed: dict[int, list[tuple[str, str]]] = {}
    for case_id, case in cases.items():
        wanted = [(_fit(d.customer_number, 100), _fit(d.display_name, 200)) for d in case.debtors]
        if stored[summary_ids[case_id]] != wanted:
            changed[summary_ids[case_id]] = wanted
    if not changed:
        return
    IndexedDebtor.objects.filter(case_id__in=list(changed)).delete()
    IndexedDebtor.objects.bulk_create(
        IndexedDebtor(
            organization=organization,
            case_id=case_pk,
            customer_number=customer_number,
            display_name=display_name,
            position=position,
        )
        for case_pk, debtors in changed.items()
        for position, (customer_number, display_name) in enumerate(debtors)
    )


def _summary_row(
    organization: Organization, case: autocollect.Case, previous: Wait | None, now: datetime
) -> CaseSummary:
    names = ", ".join(name for name in (d.display_name for d in case.debtors) if name)
    wait = _wait(case.sub_status, previous, now)
    return CaseSummary(
        organization=organization,
        case_id=case.case_id,
        case_number=case.case_number,
        status=_fit(case.status, 40),
        sub_status=_fit(case.sub_status, 40),
        type=_fit(case.type, 40),
        registered_at=case.registered_at,
        closed_at=case.closed_at,
        remaining_amount=_money(case.remaining_amount),
        remaining_principal=_money(case.remaining_principal),
        currency=_fit(case.currency, 12),
        earliest_due_date=_earliest_unpaid_due_date(case),
        debtor_names=_fit(names, MAX_DEBTOR_NAMES),
        waiting_since=wait.since,
        waiting_before_first_seen=wait.before_seen,
        confirmed_at=now,
        vanished_at=None,
    )


@dataclass(frozen=True, slots=True)
class Wait:
    """A row's decision state: its sub-status, since when it waits, whether it already waited
    when the index first saw it."""

    sub_status: str
    since: datetime | None
    before_seen: bool


def _wait(sub_status: str, previous: Wait | None, now: datetime) -> Wait:
    """Since when the case waits on its current decision, as far as the index has seen.

    The upstream says nothing of when a sub-status began (no such field in the contract), so a
    case first seen waiting waits "since now, at least"; a case the index saw change to a
    decision waits since the sync that saw it.
    """
    if sub_status not in DECISION_SUB_STATUSES:
        return Wait(sub_status, None, before_seen=False)
    if previous is not None and previous.sub_status == sub_status and previous.since is not None:
        return previous
    return Wait(sub_status, now, before_seen=previous is None)


def _earliest_unpaid_due_date(case: autocollect.Case) -> date | None:
    due = [i.due_date for i in case.invoices if i.due_date and i.remaining_amount > 0]
    return timezone.localdate(min(due)) if due else None


def _past_retention(case: autocollect.Case, cutoff: datetime) -> bool:
    """A finished case closed before the retention cutoff: not (re)indexed, purged if present."""
    return (
        case.status not in OPEN_STATUSES and case.closed_at is not None and case.closed_at < cutoff
    )


def _fits_the_index(case: autocollect.Case) -> bool:
    """Ids and numbers the columns can hold without truncation (which would merge cases)."""
    return (
        0 < len(case.case_id) <= MAX_CASE_ID_LENGTH
        and -BIGINT_LIMIT < case.case_number < BIGINT_LIMIT
    )


def _money(amount: Decimal) -> Decimal:
    return amount.quantize(Decimal("0.01"))


def _fit(value: str, length: int) -> str:
    return value[:length]


def refresh_statistics() -> None:
    """Tell the query planner what the index now holds, after a sync that changed many rows.

    PostgreSQL: VACUUM ANALYZE (the vacuum sets the visibility map, so the live counts are an
    index-only scan), or a plain ANALYZE inside a transaction, where VACUUM cannot run. SQLite:
    ANALYZE with a sampling limit. Not `PRAGMA optimize`: before SQLite 3.46 it analyses only
    tables this connection has queried, and a worker's connection has only written them.
    """
    tables = [model._meta.db_table for model in (CaseSummary, IndexedDebtor)]
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute(f"PRAGMA analysis_limit = {SQLITE_ANALYSIS_LIMIT}")
        vacuum = connection.vendor == "postgresql" and not connection.in_atomic_block
        for table in tables:
            cursor.execute(f"{'VACUUM ANALYZE' if vacuum else 'ANALYZE'} {quote(table)}")


# --------------------------------------------------------------------------------------------
# State and purges
# --------------------------------------------------------------------------------------------


def sync_state(organization: Organization) -> SyncState:
    state, _ = SyncState.objects.get_or_create(organization=organization)
    return state


def _record_success(
    organization: Organization, *, newest: datetime | None, **moments: object
) -> None:
    state = sync_state(organization)
    mark = state.high_water_mark
    if newest is not None and (mark is None or newest > mark):
        mark = newest
    SyncState.objects.filter(pk=state.pk).update(
        high_water_mark=mark, last_error="", last_error_at=None, **moments
    )


def _record_error(organization: Organization, error: autocollect.AutoCollectError) -> None:
    """Remember the failure for the freshness line; the client's messages name no person."""
    message = f"{type(error).__name__}: {error}"[:300]
    state = sync_state(organization)
    SyncState.objects.filter(pk=state.pk).update(last_error=message, last_error_at=timezone.now())
    logger.warning(
        "case index: sync of organisation %s failed: %s", organization.pk, type(error).__name__
    )


def purge_expired(now: datetime | None = None) -> PurgeReport:
    """Delete rows of cases closed or vanished before the retention period, and old webhook keys."""
    now = now or timezone.now()
    cutoff = now - timedelta(days=settings.CASE_INDEX_RETENTION_DAYS)
    finished = CaseSummary.objects.exclude(status__in=OPEN_STATUSES)
    _, closed = finished.filter(
        Q(closed_at__lt=cutoff) | Q(closed_at__isnull=True, registered_at__lt=cutoff)
    ).delete()
    _, vanished = CaseSummary.objects.filter(vanished_at__lt=cutoff).delete()
    key_cutoff = now - timedelta(days=settings.AUTOCOLLECT_WEBHOOK_KEY_DAYS)
    keys, _ = WebhookEvent.objects.filter(received_at__lt=key_cutoff).delete()
    # delete() counts every model it removed rows of (debtors too): count the summaries.
    label = CaseSummary._meta.label
    return PurgeReport(
        closed_cases=closed.get(label, 0), vanished_cases=vanished.get(label, 0), webhook_keys=keys
    )
