"""Reading the case index: queues, their counts and orders, a debtor's other cases, freshness.

Every query starts with the organisation (which comes from the user's membership, never from the
request) and leaves out rows the upstream no longer returns. Each queue order walks an index of
triage.models.CaseSummary.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

from django.db.models import Count, Q, QuerySet, Sum
from django.db.models.expressions import OrderBy

from dashboard.models import Organization
from triage.models import OPEN_STATUSES, SORT_KEYS, CaseSummary, SyncState


class Queue(StrEnum):
    """The triage queues; the value is what a URL may carry."""

    DEBT_COLLECTION_LIST = "debt-collection-list"
    EVICTION_REQUEST = "eviction-request"
    EVICTION_CONFIRMATION = "eviction-confirmation"
    PAUSED = "paused"
    OPEN = "open"


# What puts a case in each queue. A case waiting on a decision stays in its queue while paused:
# the decision can still be made.
QUEUE_FILTERS: dict[Queue, Q] = {
    Queue.DEBT_COLLECTION_LIST: Q(
        sub_status="DEBT_COLLECTION_LIST_MANUAL", status__in=OPEN_STATUSES
    ),
    Queue.EVICTION_REQUEST: Q(sub_status="EVICTION_REQUEST_MANUAL", status__in=OPEN_STATUSES),
    Queue.EVICTION_CONFIRMATION: Q(
        sub_status="EVICTION_CONFIRMATION_MANUAL", status__in=OPEN_STATUSES
    ),
    Queue.PAUSED: Q(status="PAUSED"),
    Queue.OPEN: Q(status="OPEN"),
}
# The same, as (statuses, sub-status or None for any) for counting grouped rows in Python; a test
# checks that both agree. Every queue holds open or paused cases only (state_counts relies on it).
QUEUE_STATES: dict[Queue, tuple[tuple[str, ...], str | None]] = {
    Queue.DEBT_COLLECTION_LIST: (OPEN_STATUSES, "DEBT_COLLECTION_LIST_MANUAL"),
    Queue.EVICTION_REQUEST: (OPEN_STATUSES, "EVICTION_REQUEST_MANUAL"),
    Queue.EVICTION_CONFIRMATION: (OPEN_STATUSES, "EVICTION_CONFIRMATION_MANUAL"),
    Queue.PAUSED: (("PAUSED",), None),
    Queue.OPEN: (("OPEN",), None),
}


class Sort(StrEnum):
    """Queue orders; each names its most useful direction first (see ORDERINGS)."""

    WAITING = "waiting"  # waiting longest first
    AMOUNT = "amount"  # largest remaining amount first
    DUE = "due"  # longest past due first
    REGISTERED = "registered"  # oldest registration first


# Each order with its tie-break (registration, then case number), so paging is stable; NULLs
# last in the named direction. The columns are those of the queue's index (triage.models).
ORDERINGS: dict[Sort, tuple[OrderBy, ...]] = {sort: SORT_KEYS[sort.value] for sort in Sort}


def indexed_cases(organization: Organization) -> QuerySet[CaseSummary]:
    """The organisation's rows the upstream still returns."""
    return CaseSummary.objects.filter(organization=organization, vanished_at__isnull=True)


def queue(
    organization: Organization, which: Queue, sort: Sort = Sort.WAITING, *, reverse: bool = False
) -> QuerySet[CaseSummary]:
    """The cases in a queue, in the order asked for (reverse turns it around)."""
    ordering = ORDERINGS[sort]
    if reverse:
        ordering = tuple(order.copy() for order in ordering)
        for order in ordering:
            order.reverse_ordering()
    return indexed_cases(organization).filter(QUEUE_FILTERS[which]).order_by(*ordering)


def queue_counts(organization: Organization) -> dict[Queue, int]:
    """How many cases each queue holds, in one grouped query."""
    return counts_of_groups(state_counts(indexed_cases(organization)))


def state_counts(rows: QuerySet[CaseSummary]) -> dict[tuple[str, str], int]:
    """How many open or paused rows have each (status, sub-status): one GROUP BY that reads
    the triage_live_counts index alone, and skips the finished cases no queue counts."""
    grouped = (
        rows.filter(status__in=OPEN_STATUSES)
        .order_by()
        .values_list("status", "sub_status")
        .annotate(rows=Count("*"))
    )
    return {(status, sub_status): count for status, sub_status, count in grouped}


def counts_of_groups(groups: dict[tuple[str, str], int]) -> dict[Queue, int]:
    """Sum (status, sub-status) counts into the queues ."""
    return {
        which: sum(
            count
            for (status, sub_status), count in groups.items()
            if in_queue(which, status, sub_status)
        )
        for which in Queue
    }


def in_queue(which: Queue, status: str, sub_status: str) -> bool:
    """Whether a case in this state is in the queue: QUEUE_FILTERS, in Python."""
    statuses, wanted = QUEUE_STATES[which]
    return status in statuses and (wanted is None or sub_status == wanted)


@dataclass(frozen=True, slots=True)
class DebtorCases:
    """A debtor's open cases in the organisation other than the one being decided."""

    cases: tuple[CaseSummary, ...]
    total_remaining: Decimal


def debtors_other_open_cases(
    organization: Organization, customer_numbers: Iterable[str], *, except_case_id: str = ""
) -> DebtorCases:
    """Open cases where any of these customers is a debtor, with their total remaining amount."""
    numbers = [number for number in customer_numbers if number]
    if not numbers:
        return DebtorCases(cases=(), total_remaining=Decimal(0))
    rows = (
        indexed_cases(organization)
        .filter(
            status__in=OPEN_STATUSES,
            debtors__organization=organization,
            debtors__customer_number__in=numbers,
        )
        .exclude(case_id=except_case_id)
        .distinct()
        .order_by("-registered_at", "-case_number")
    )
    cases = tuple(rows)
    total = sum((case.remaining_amount for case in cases), Decimal(0))
    return DebtorCases(cases=cases, total_remaining=total)


def open_total(organization: Organization) -> Decimal:
    """The remaining amount of every open or paused case."""
    total = (
        indexed_cases(organization)
        .filter(status__in=OPEN_STATUSES)
        .aggregate(total=Sum("remaining_amount"))["total"]
    )
    return Decimal(total or 0)


def freshness(organization: Organization) -> SyncState | None:
    """The organisation's sync state (last full and incremental sync, last error), if any."""
    return SyncState.objects.filter(organization=organization).first()
