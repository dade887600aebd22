"""The total remaining amount of the case list's current filter, from the local case index.

Why the index: the upstream pages through cases and gives no sums, and adding up every page of a
filter would ask it for thousands of cases per keystroke. The case index (triage.models:
CaseSummary, one row per case, kept fresh by sync and webhooks) holds each case's status, type,
registration time, remaining amount, currency and debtors' customer numbers, so one aggregate
answers the same filters. It is as fresh as the index, and says so: the total carries the time
of the index's last sync.

What the index cannot answer gives no total, never a wrong one: the free-text search (it runs
over names, identification numbers, e-mails and phones the index does not hold, by design) and
the source invoice id (not indexed). An index that has never synced gives none either.

Amounts in different currencies are not added together: one sum per currency.

Cost: one aggregate over the organisation's rows, narrowed by the indexed columns (organisation
and status lead CaseSummary's indexes): tens of milliseconds at 200,000 indexed cases, so the
list does not wait for it: it shows a placeholder that asks `cases:list_total` for the total
once the results are in (cases.views.case_list_total). The result goes through the read cache
(cases.autocollect.read_cache) like an upstream read: per organisation, keyed by an HMAC of the
filters (a customer number is never in a key), for AUTOCOLLECT_CACHE_SECONDS, dropped with the
organisation's other reads after an action, and recomputed by the Refresh control.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from enum import StrEnum

from django.db.models import Count, QuerySet, Sum
from django.utils import timezone

from cases.autocollect import CaseFilters
from cases.autocollect.read_cache import cached_read
from dashboard.models import Organization
from triage.models import CaseSummary, IndexedDebtor
from triage.queries import freshness, indexed_cases


class Unavailable(StrEnum):
    """Why a filter has no total."""

    SEARCH = "search"  # free text over personal data the index does not hold
    INVOICE = "invoice"  # the source invoice id is not indexed
    NO_INDEX = "no_index"  # the index has never synced for the organisation


@dataclass(frozen=True, slots=True)
class CurrencyTotal:
    currency: str
    remaining: Decimal


@dataclass(frozen=True, slots=True)
class ListTotal:
    """The remaining amount of the cases a filter matches, as the index knew them `as_of`."""

    amounts: tuple[CurrencyTotal, ...]  # one per currency, largest first; empty: no cases
    cases: int
    as_of: datetime | None  # the index's last sync
    unavailable: Unavailable | None = None  # set: no total (amounts empty)


def list_total(
    organization: Organization, filters: CaseFilters, *, fresh: bool = False
) -> ListTotal:
    """The total for the filters the case list sends upstream."""
    reason = unanswerable(filters)
    if reason is not None:
        return ListTotal(amounts=(), cases=0, as_of=None, unavailable=reason)
    # repr of the frozen filters names every field and value: a normalised query.
    query = f"case_list_total\n{filters!r}"
    return cached_read(
        str(organization.amili_id), query, lambda: _computed(organization, filters), fresh=fresh
    )


def unanswerable(filters: CaseFilters) -> Unavailable | None:
    """Why the index cannot total these filters, if it cannot (decided without a query)."""
    if filters.search_term:
        return Unavailable.SEARCH
    if filters.unique_source_invoice_id:
        return Unavailable.INVOICE
    return None


def _computed(organization: Organization, filters: CaseFilters) -> ListTotal:
    state = freshness(organization)
    as_of = state.last_synced_at if state is not None else None
    if as_of is None:
        return ListTotal(amounts=(), cases=0, as_of=None, unavailable=Unavailable.NO_INDEX)
    sums = (
        matching_cases(organization, filters)
        .values("currency")
        .annotate(remaining=Sum("remaining_amount"), count=Count("pk"))
        .order_by()
    )
    amounts = sorted(
        (CurrencyTotal(row["currency"], Decimal(row["remaining"] or 0)) for row in sums),
        key=lambda total: (-total.remaining, total.currency),
    )
    cases = sum(int(row["count"]) for row in sums)
    return ListTotal(amounts=tuple(amounts), cases=cases, as_of=as_of)


def matching_cases(organization: Organization, filters: CaseFilters) -> QuerySet[CaseSummary]:
    """The indexed cases the upstream would list for these filters (those the index can answer).

    The same meaning as the upstream's (docs/autocollect-api.md, the sandbox's filter_cases):
    exact status, type, case number and debtor customer number; the creation dates are whole
    days in the dashboard's time zone (Europe/Oslo), both ends included.
    """
    rows = indexed_cases(organization)
    if filters.status:
        rows = rows.filter(status=filters.status)
    if filters.type:
        rows = rows.filter(type=filters.type)
    if filters.case_number is not None:
        rows = rows.filter(case_number=filters.case_number)
    if filters.customer_number:
        debtors = IndexedDebtor.objects.filter(
            organization=organization, customer_number=filters.customer_number
        )
        rows = rows.filter(pk__in=debtors.values("case_id"))
    if filters.created_from:
        rows = rows.filter(registered_at__gte=_start_of(filters.created_from))
    if filters.created_to and filters.created_to < date.max:  # date.max: no end at all
        rows = rows.filter(registered_at__lt=_start_of(filters.created_to + timedelta(days=1)))
    return rows


def _start_of(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min), timezone.get_default_timezone())
