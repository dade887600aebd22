"""The local case index: one summary row per upstream case, kept fresh by sync and webhooks.

The upstream lists cases newest first only, cannot sort and has no sub-status filter, so queues,
counts, sorting and ageing read these rows instead. They hold what a decision needs to be found
and ordered, never identification numbers, e-mails or phones; the case page still reads the
upstream. Rows decorate the upstream's data and never replace it (docs/design.md, rule 6).
"""

from datetime import datetime

from django.db import models
from django.db.models import F, Q
from django.db.models.expressions import OrderBy
from django.db.models.lookups import IsNull
from django.utils.translation import gettext_lazy as _

from dashboard.models import Organization

# Sub-statuses in which a case waits for the creditor's decision (cases/autocollect/contract.py
# lists the values; these are the ones whose name says a person must decide).
DECISION_SUB_STATUSES = (
    "DEBT_COLLECTION_LIST_MANUAL",
    "EVICTION_REQUEST_MANUAL",
    "EVICTION_CONFIRMATION_MANUAL",
)
OPEN_STATUSES = ("OPEN", "PAUSED")  # cases still in collection: the rest are finished
MAX_DEBTOR_NAMES = 500


# Rows the queues read: the upstream still returns them.
_LIVE = Q(vanished_at__isnull=True)


def nulls_last(column: str, *, descending: bool = False) -> tuple[OrderBy, OrderBy]:
    """Order by a nullable column with its NULLs last, in a form an index can satisfy.

    `ORDER BY x ASC NULLS LAST` cannot walk a SQLite index (which keeps NULLs first), so a deep
    page of a large queue sorted everything; `x IS NULL, x` orders the same on every database and
    walks an index holding both expressions (queue_indexes). Reversed, NULLs come first.
    """
    null_first = IsNull(F(column), True)
    if descending:
        return null_first.asc(), F(column).desc()
    return null_first.asc(), F(column).asc()


# Ties fall back to registration and case number, so paging through a queue is stable.
TIE_BREAK: tuple[OrderBy, ...] = (*nulls_last("registered_at"), F("case_number").asc())
# The queue orders by name (triage.queries.Sort's values), each with its tie-break.
SORT_KEYS: dict[str, tuple[OrderBy, ...]] = {
    "waiting": (*nulls_last("waiting_since"), *TIE_BREAK),
    "amount": (F("remaining_amount").desc(), *TIE_BREAK),
    "due": (*nulls_last("earliest_due_date"), *TIE_BREAK),
    "registered": TIE_BREAK,
}


def queue_indexes() -> list[models.Index]:
    """One partial index per queue kind and order, its columns exactly the query's.

    Decision queues lead with the sub-status, the others with the status; both then walk the
    order, so a page, a later page and a deep page read only the rows they skip and show
    (bench/bench_triage_queue.py). The condition is `vanished_at IS NULL` alone: SQLite matches
    a partial index's condition only against literal terms, and the queries' `status IN (...)`
    arrives as bound parameters.
    """
    return [
        models.Index(
            F("organization"),
            F(leading),
            *SORT_KEYS[sort],
            # Trailing keys, after the order: a page's row ids (and the decision queues' status
            # filter) come from the index alone on PostgreSQL too, however deep the page
            # (triage.views.CountedPaginator). Not INCLUDE: SQLite has none and warns of it.
            *(F(column) for column in trailing),
            name=f"triage_{prefix}_{sort}",
            condition=_LIVE,
        )
        for leading, prefix, trailing in (
            ("sub_status", "decision", ("id", "status")),
            ("status", "bystatus", ("id",)),
        )
        for sort in SORT_KEYS
    ]


class CaseSummary(models.Model):
    """One case as the index knows it, for one organisation."""

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="case_summaries", db_index=False
    )
    case_id = models.CharField(_("case id"), max_length=64)
    case_number = models.BigIntegerField(_("case number"))
    status = models.CharField(_("status"), max_length=40)
    sub_status = models.CharField(_("sub-status"), max_length=40)
    type = models.CharField(_("type"), max_length=40)
    registered_at = models.DateTimeField(_("registered"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)
    remaining_amount = models.DecimalField(_("remaining amount"), max_digits=19, decimal_places=2)
    remaining_principal = models.DecimalField(
        _("remaining principal"), max_digits=19, decimal_places=2
    )
    currency = models.CharField(_("currency"), max_length=12)
    # The earliest due date (Europe/Oslo) among invoices with something left to pay: how long the
    # debt has been overdue.
    earliest_due_date = models.DateField(_("earliest unpaid due date"), null=True, blank=True)
    # Debtors' display names, comma-separated, for tables and search (customer numbers and names
    # per debtor are in IndexedDebtor, which the debtor panel queries).
    debtor_names = models.CharField(_("debtors"), max_length=MAX_DEBTOR_NAMES, blank=True)
    # When the index first saw the case waiting on its current decision: set when the sub-status
    # becomes one of DECISION_SUB_STATUSES (or changes to another), cleared when it leaves.
    waiting_since = models.DateTimeField(_("waiting since"), null=True, blank=True)
    # The case was already waiting when the index first saw it: the upstream does not say since
    # when (docs/autocollect-api.md has no such field), so waiting_since is a lower bound and the
    # queue shows its days as "at least".
    waiting_before_first_seen = models.BooleanField(
        _("already waiting when first seen"), default=False
    )
    confirmed_at = models.DateTimeField(_("last confirmed by AutoCollect"))
    vanished_at = models.DateTimeField(
        _("no longer returned by AutoCollect"), null=True, blank=True
    )

    class Meta:
        verbose_name = _("indexed case")
        verbose_name_plural = _("indexed cases")
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "case_id"], name="triage_one_row_per_case"
            )
        ]
        indexes = [
            # The live counts: one grouped query read from this index alone (vanished_at is in
            # it so that SQLite sees it covering; the condition keeps vanished rows out).
            models.Index(
                fields=["organization", "status", "sub_status", "vanished_at"],
                name="triage_live_counts",
                condition=_LIVE,
            ),
            *queue_indexes(),
            models.Index(fields=["organization", "case_number"], name="triage_case_number"),
            models.Index(fields=["organization", "confirmed_at"], name="triage_confirmed"),
        ]

    def __str__(self) -> str:
        return str(self.case_number)

    @property
    def is_waiting_on_decision(self) -> bool:
        return self.sub_status in DECISION_SUB_STATUSES


class IndexedDebtor(models.Model):
    """A debtor of an indexed case: who else owes what, by customer number."""

    organization = models.ForeignKey(  # leads the index below
        Organization, on_delete=models.CASCADE, related_name="+", db_index=False
    )
    case = models.ForeignKey(CaseSummary, on_delete=models.CASCADE, related_name="debtors")
    customer_number = models.CharField(_("customer number"), max_length=100, blank=True)
    display_name = models.CharField(_("name"), max_length=200, blank=True)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["position"]
        indexes = [
            models.Index(fields=["organization", "customer_number"], name="triage_debtor_customer")
        ]

    def __str__(self) -> str:
        return self.display_name or self.customer_number


class SyncState(models.Model):
    """How fresh one organisation's index is, and where the next incremental sync starts."""

    organization = models.OneToOneField(
        Organization, on_delete=models.CASCADE, related_name="case_index_state"
    )
    last_full_sync_at = models.DateTimeField(_("last full refresh"), null=True, blank=True)
    last_incremental_sync_at = models.DateTimeField(
        _("last incremental sync"), null=True, blank=True
    )
    # The newest registeredAt the index has seen: the next incremental sync asks from its day.
    high_water_mark = models.DateTimeField(_("newest registration seen"), null=True, blank=True)
    cases_in_last_full_sync = models.PositiveIntegerField(default=0)
    last_error = models.CharField(_("last error"), max_length=300, blank=True)
    last_error_at = models.DateTimeField(_("last error at"), null=True, blank=True)

    class Meta:
        verbose_name = _("case index state")
        verbose_name_plural = _("case index states")

    def __str__(self) -> str:
        return str(self.organization)

    @property
    def last_synced_at(self) -> datetime | None:
        """The later of the two syncs: how old the index's view of new cases is."""
        moments = [m for m in (self.last_full_sync_at, self.last_incremental_sync_at) if m]
        return max(moments) if moments else None


class WebhookEvent(models.Model):
    """An upstream event already received: a second delivery with the same key changes nothing.

    Keys are kept AUTOCOLLECT_WEBHOOK_KEY_DAYS, longer than AUTOCOLLECT_WEBHOOK_MAX_AGE, so a
    replay is refused either as a duplicate or as too old. The body is never stored.
    """

    idempotency_key = models.CharField(max_length=255, unique=True)
    event_type = models.CharField(max_length=40)
    organization_id = models.UUIDField(null=True, blank=True)
    received_at = models.DateTimeField(db_index=True)

    class Meta:
        verbose_name = _("webhook event")
        verbose_name_plural = _("webhook events")

    def __str__(self) -> str:
        return f"{self.event_type} {self.idempotency_key}"
