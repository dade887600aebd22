"""The decision queues, /triage/: what needs a decision first, and what the decision needs.

One page, one view, one render path (dashboard.htmx.render_page). The queue, its filters, order,
page and the selected case are all in the URL (triage.forms.QueueForm). Fragments of the same
template answer HTMX requests by the element they target:

    #triage-board      tabs with counts, the filter form, the table and the panel: a tab, a
                       filter chip, the queue after a decision
    #triage-results    the table and its pager: typing, a filter, an order, a page
    #triage-panel      the selected case: its claims, its debtor's other open cases, the actions
    #index-freshness   how fresh the case index is; polls itself while a refresh runs

The table reads the local case index (triage.queries); only the selected case is read from
AutoCollect, and only when the panel is rendered. The context holds lazy values, so a partial
computes only what it shows: typing never reads AutoCollect, selecting a case never counts
the queues.

A case on which an action was accepted here leaves every queue at once, before the index has
re-read it (a webhook or the next sync does that, and its real state takes over): staff never
see a case they have just decided as if it were still waiting.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from functools import cached_property
from typing import Any, Final

from django.core.cache import cache
from django.core.paginator import Page, Paginator
from django.db.models import Q, QuerySet
from django.http import Http404, HttpResponse, HttpResponseRedirect, QueryDict
from django.tasks import TaskResultStatus
from django.tasks.exceptions import TaskResultDoesNotExist
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_safe
from django.views.decorators.vary import vary_on_headers
from django_htmx.http import trigger_client_event

from cases import autocollect, links
from cases.actions import ActionSpec, available_actions
from cases.breakdown import Breakdown, CurrencyFigures, build_breakdown, invoice_totals
from cases.models import AuditEntry, AuditKind, Outcome
from cases.upstream_errors import UpstreamErrorInfo, describe_upstream_error
from dashboard.htmx import render_page
from dashboard.http import OrganizationRequest
from dashboard.models import Organization
from triage import tasks
from triage.forms import QUEUE_LABELS, REVERSED, SORT_LABELS, QueueForm
from triage.models import CaseSummary, IndexedDebtor, SyncState
from triage.queries import (
    DebtorCases,
    Queue,
    Sort,
    counts_of_groups,
    debtors_other_open_cases,
    freshness,
    indexed_cases,
    queue,
    state_counts,
)

logger = logging.getLogger(__name__)

TEMPLATE: Final = "triage/queue.html"
BOARD_ID: Final = "triage-board"
RESULTS_ID: Final = "triage-results"
PANEL_ID: Final = "triage-panel"
FRESHNESS_ID: Final = "index-freshness"
PARTIALS: Final = {BOARD_ID: "board", RESULTS_ID: "results", PANEL_ID: "panel"}
FRESHNESS_PARTIALS: Final = {FRESHNESS_ID: "freshness"}

# Actions accepted here that the index has not re-read since: the case is out of the queues. Past
# this age the index has surely been refreshed (a full refresh runs daily), and the row decides.
DECISION_MEMORY: Final = timedelta(days=2)
IN_FLIGHT_OUTCOMES: Final = (Outcome.ACCEPTED, Outcome.SUCCEEDED)

# The keyboard shortcut of each action in the panel (static/js/triage.js presses the button).
SHORTCUTS: Final = {
    "accept-debt-collection": "a",
    "accept-eviction-request": "a",
    "accept-eviction-confirmation": "a",
    "reject-debt-collection": "r",
    "reject-eviction-request": "r",
    "reject-eviction-confirmation": "r",
    "pause": "p",
    "resume": "u",
    "withdraw": "w",
}

# A refresh of the index in flight for an organisation: the task result's id, in the shared
# cache (every web process sees it), keyed by the organisation first.
REFRESH_MEMORY_SECONDS: Final = 15 * 60
REFRESH_POLL_SECONDS: Final = 2
REFRESHED_EVENT: Final = "caseIndexRefreshed"
UNFINISHED: Final = frozenset({TaskResultStatus.READY, TaskResultStatus.RUNNING})

OTHER_CASES_SHOWN: Final = 10  # the panel lists this many of a debtor's other cases; totals all


# --------------------------------------------------------------------------------------------
# The queue page
# --------------------------------------------------------------------------------------------


@require_safe
@never_cache
@vary_on_headers("HX-Request", "HX-Target")
def triage_queue(request: OrganizationRequest) -> HttpResponse:
    """A decision queue of the case index, with the selected case beside it."""
    form = QueueForm(request.GET)
    if not form.is_valid():
        # Nothing is queried; the form shows what was wrong, beside the fields, in the board.
        context = {"form": form, "view": None, **_freshness_context(request)}
        return render_page(
            request, TEMPLATE, context, partials={BOARD_ID: "board"}, default=BOARD_ID, status=400
        )
    selected = form.selected_case()
    summary: CaseSummary | None = None
    if selected is not None:
        # The organisation's own index decides whether the case exists: another organisation's
        # number is a 404 before anything is asked of AutoCollect.
        summary = indexed_cases(request.organization).filter(case_number=selected).first()
        if summary is None:
            raise Http404("No such case in this organisation's index")
    view = QueueView(request, form, summary)
    context = {"form": form, "view": view, **_freshness_context(request)}
    return render_page(request, TEMPLATE, context, partials=PARTIALS, default=RESULTS_ID)


@dataclass(frozen=True)
class Tab:
    queue: Queue
    label: str
    count: int
    current: bool


@dataclass(frozen=True)
class Row:
    """One case in the table, with the figures a decision needs worked out once."""

    summary: CaseSummary
    days_waiting: int | None
    # The case already waited when the index first saw it: days_waiting is a lower bound.
    waiting_at_least: bool
    days_past_due: int | None
    selected: bool
    select_url: str  # the queue's URL with this case selected


@dataclass(frozen=True)
class SortLink:
    """A column header's order link: the order it switches to and how the column is sorted."""

    value: str
    aria_sort: str  # "ascending", "descending" or "none" (the column as the rows show it)


class QueueView:
    """What the page shows, computed only when a template reads it."""

    def __init__(
        self, request: OrganizationRequest, form: QueueForm, summary: CaseSummary | None
    ) -> None:
        self.request = request
        self.organization = request.organization
        self.form = form
        self.summary = summary
        self.queue = form.queue_value()
        self.queue_label = QUEUE_LABELS[self.queue]
        self.sort, self.reversed = form.sort_value()
        self.sort_label = SORT_LABELS[form.cleaned_data["sort"]]
        self.can_act = request.membership.can_act
        self.today = timezone.localdate()

    # --- The URL state ----------------------------------------------------------------------

    @cached_property
    def query(self) -> QueryDict:
        """The parameters every generated link starts from: the cleaned state, defaults left
        out, so equal states have equal URLs."""
        data = self.form.cleaned_data
        query = QueryDict(mutable=True)
        query["queue"] = self.queue.value
        for name in ("q", "type"):
            if data.get(name):
                query[name] = data[name]
        if data["sort"] != self.form.fields["sort"].initial:
            query["sort"] = data["sort"]
        if data["size"] != self.form.fields["size"].initial:
            query["size"] = str(data["size"])
        if data.get("page") and data["page"] > 1:
            query["page"] = str(data["page"])
        if data.get("selected"):
            query["selected"] = str(data["selected"])
        return query

    @cached_property
    def url(self) -> str:
        encoded = self.query.urlencode()
        return reverse("triage:queue") + (f"?{encoded}" if encoded else "")

    @cached_property
    def has_filters(self) -> bool:
        return bool(self.form.cleaned_data.get("q") or self.form.cleaned_data.get("type"))

    # --- The tabs ---------------------------------------------------------------------------

    @cached_property
    def counts(self) -> dict[Queue, int]:
        return queue_counts_now(self.organization)

    @cached_property
    def tabs(self) -> list[Tab]:
        return [
            Tab(which, str(QUEUE_LABELS[which]), self.counts[which], which == self.queue)
            for which in Queue
        ]

    # --- The table --------------------------------------------------------------------------

    @cached_property
    def page(self) -> Page[CaseSummary]:
        rows = filtered(
            queue(self.organization, self.queue, self.sort, reverse=self.reversed),
            self.organization,
            text=self.form.cleaned_data.get("q") or "",
            case_type=self.form.cleaned_data.get("type") or "",
        )
        # The tabs counted this queue already when they were shown (the board renders them
        # first): without filters that is the paginator's count too, and a count of a large
        # queue is the page's largest query. A results swap has no tabs and counts the queue.
        known = self.__dict__.get("counts")
        paginator = CountedPaginator(
            without_decisions_in_flight(rows, self.organization),
            self.form.page_size(),
            count=known[self.queue] if known is not None and not self.has_filters else None,
        )
        # A page past the end (the last case of the last page was just decided) shows the last.
        return paginator.get_page(self.form.page_number())

    @cached_property
    def rows(self) -> list[Row]:
        selected = self.summary.case_number if self.summary else None
        # One encoded query for the page, not one {% querystring %} per row: the hot path.
        others = self.query.copy()
        others.pop("selected", None)
        prefix = f"{reverse('triage:queue')}?{others.urlencode()}&selected="
        return [
            Row(
                summary=summary,
                days_waiting=_days_since(summary.waiting_since, self.today),
                waiting_at_least=summary.waiting_before_first_seen
                and summary.waiting_since is not None,
                days_past_due=_days_past(summary.earliest_due_date, self.today),
                selected=summary.case_number == selected,
                select_url=f"{prefix}{summary.case_number}",
            )
            for summary in self.page.object_list
        ]

    @cached_property
    def some_waiting_at_least(self) -> bool:
        """Whether the table needs the note on days counted from first sight."""
        return any(row.waiting_at_least for row in self.rows)

    @cached_property
    def sort_links(self) -> dict[str, SortLink]:
        """Per sortable column: the order its header link sets, and its aria-sort."""
        # The default direction of each order, as its column reads: waiting and past due are
        # longest first (descending days), amount largest first, registration oldest first.
        natural = {
            Sort.WAITING: "descending",
            Sort.AMOUNT: "descending",
            Sort.DUE: "descending",
            Sort.REGISTERED: "ascending",
        }
        flipped = {"descending": "ascending", "ascending": "descending"}
        links_by_column = {}
        for sort in Sort:
            if sort == self.sort:
                direction = flipped[natural[sort]] if self.reversed else natural[sort]
                value = sort.value if self.reversed else REVERSED + sort.value
                links_by_column[sort.value] = SortLink(value, direction)
            else:
                links_by_column[sort.value] = SortLink(sort.value, "none")
        return links_by_column

    # --- The panel --------------------------------------------------------------------------

    @cached_property
    def panel(self) -> Panel | None:
        if self.summary is None:
            return None
        return build_panel(self.request, self.summary, can_act=self.can_act)


class CountedPaginator(Paginator[CaseSummary]):
    """A paginator that takes the number of rows when it is known, instead of counting them,
    and reads a page as its ids first, then those rows.

    An OFFSET reads every row it skips: page 2,000 of a queue of 125,000 fetched 50,000 rows
    from the table on PostgreSQL. The ids come from the queue's index alone (an index-only
    scan: the indexes end with id), and only the page's own rows are read from the table.
    """

    def __init__(
        self, object_list: QuerySet[CaseSummary], per_page: int, *, count: int | None
    ) -> None:
        super().__init__(object_list, per_page)
        self.rows = object_list
        if count is not None:
            self.__dict__["count"] = count  # Paginator.count is a cached_property

    def page(self, number: int | str) -> Page[CaseSummary]:
        number = self.validate_number(number)
        bottom = (number - 1) * self.per_page
        top = min(bottom + self.per_page, self.count)
        ids = list(self.rows.values_list("pk", flat=True)[bottom:top])
        found = self.rows.model.objects.in_bulk(ids)
        return Page([found[pk] for pk in ids if pk in found], number, self)


def _days_since(moment: datetime | None, today: date) -> int | None:
    if moment is None:
        return None
    return max((today - timezone.localdate(moment)).days, 0)


def _days_past(due: date | None, today: date) -> int | None:
    if due is None:
        return None
    return max((today - due).days, 0)


# --------------------------------------------------------------------------------------------
# Queries on top of triage.queries
# --------------------------------------------------------------------------------------------


def filtered(
    rows: QuerySet[CaseSummary], organization: Organization, *, text: str, case_type: str
) -> QuerySet[CaseSummary]:
    """The rows whose debtor name, case number or customer number matches, of the type."""
    if case_type:
        rows = rows.filter(type=case_type)
    text = text.strip()
    if not text:
        return rows
    # An uncorrelated IN: the customer's few cases are looked up once, not once per row.
    customer = IndexedDebtor.objects.filter(organization=organization, customer_number=text)
    matches = Q(debtor_names__icontains=text) | Q(pk__in=customer.values("case_id"))
    if text.isdigit() and len(text) <= 19:
        matches |= Q(case_number=int(text))
    return rows.filter(matches)


def decisions_in_flight(organization: Organization) -> set[int]:
    """Cases with an action accepted here that the index has not re-read since."""
    since = timezone.now() - DECISION_MEMORY
    decided: dict[int, datetime] = {}
    for case_number, created_at in AuditEntry.objects.filter(
        organization=organization,
        kind=AuditKind.ACTION,
        outcome__in=IN_FLIGHT_OUTCOMES,
        created_at__gte=since,
        case_number__isnull=False,
    ).values_list("case_number", "created_at"):
        if case_number is not None:
            decided[case_number] = max(created_at, decided.get(case_number, created_at))
    if not decided:
        return set()
    confirmed = CaseSummary.objects.filter(
        organization=organization, case_number__in=list(decided)
    ).values_list("case_number", "confirmed_at")
    return {number for number, at in confirmed if at < decided[number]}


def without_decisions_in_flight(
    rows: QuerySet[CaseSummary], organization: Organization
) -> QuerySet[CaseSummary]:
    in_flight = decisions_in_flight(organization)
    return rows.exclude(case_number__in=in_flight) if in_flight else rows


def queue_counts_now(organization: Organization) -> dict[Queue, int]:
    """How many cases each queue holds (triage.queries.queue_counts), decisions in flight left
    out: one grouped query over an index, and one over the few cases in flight."""
    groups = state_counts(indexed_cases(organization))
    in_flight = decisions_in_flight(organization)
    if in_flight:
        deciding = indexed_cases(organization).filter(case_number__in=in_flight)
        for state, count in state_counts(deciding).items():
            groups[state] -= count
    return counts_of_groups(groups)


# --------------------------------------------------------------------------------------------
# The panel: the selected case
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PanelAction:
    spec: ActionSpec
    shortcut: str
    url: str


@dataclass(frozen=True)
class Panel:
    """What the decision on one case needs."""

    summary: CaseSummary
    case_url: str
    case: autocollect.Case | None  # None when AutoCollect could not be read
    breakdown: Breakdown | None
    invoice_totals: tuple[CurrencyFigures, ...]
    upstream_error: UpstreamErrorInfo | None
    gone: bool  # AutoCollect no longer has the case the index lists
    actions: tuple[PanelAction, ...]
    other_cases: DebtorCases
    other_total: Decimal
    other_currency: str

    @property
    def other_cases_shown(self) -> tuple[CaseSummary, ...]:
        return self.other_cases.cases[:OTHER_CASES_SHOWN]

    @property
    def other_cases_hidden(self) -> int:
        return max(len(self.other_cases.cases) - OTHER_CASES_SHOWN, 0)


def build_panel(request: OrganizationRequest, summary: CaseSummary, *, can_act: bool) -> Panel:
    """Read the selected case from AutoCollect; its debtors' other cases from the index."""
    case: autocollect.Case | None = None
    error: UpstreamErrorInfo | None = None
    gone = False
    try:
        case = autocollect.get_case(
            organization_id=request.organization.amili_id, case_number=summary.case_number
        )
    except autocollect.NotFound:
        gone = True
    except autocollect.AutoCollectError as failure:
        error = describe_upstream_error(failure)
        logger.warning("triage panel: upstream %s", type(failure).__name__)
    customers = [debtor.customer_number for debtor in summary.debtors.all()]
    other = debtors_other_open_cases(
        request.organization, customers, except_case_id=summary.case_id
    )
    currencies = {row.currency for row in other.cases}
    actions: tuple[PanelAction, ...] = ()
    if can_act and case is not None:
        actions = tuple(
            PanelAction(spec, SHORTCUTS.get(spec.slug, ""), _action_url(summary, spec))
            # The decision the case waits for first, then pause, resume, withdraw.
            for spec in sorted(available_actions(case), key=lambda spec: not spec.sub_status)
        )
    return Panel(
        summary=summary,
        case_url=links.case_url(summary.case_number),
        case=case,
        breakdown=build_breakdown(case) if case is not None else None,
        invoice_totals=invoice_totals(case) if case is not None else (),
        upstream_error=error,
        gone=gone,
        actions=actions,
        other_cases=other,
        other_total=other.total_remaining,
        # Amounts in several currencies have no one total: the template says so instead.
        other_currency=currencies.pop() if len(currencies) == 1 else "",
    )


def _action_url(summary: CaseSummary, spec: ActionSpec) -> str:
    return reverse("cases:action", args=[summary.case_number, spec.slug])


# --------------------------------------------------------------------------------------------
# Freshness and the refresh control
# --------------------------------------------------------------------------------------------


def _refresh_key(organization: Organization) -> str:
    return f"org:{organization.pk}:triage:index-refresh"


def _refresh_status(organization: Organization) -> TaskResultStatus | None:
    """The status of the refresh this page started, or None when none is remembered."""
    result_id = cache.get(_refresh_key(organization))
    if not result_id:
        return None
    try:
        result = tasks.sync_case_index.get_result(str(result_id))
    except (TaskResultDoesNotExist, NotImplementedError):
        return TaskResultStatus.SUCCESSFUL  # gone from the backend: long finished
    return result.status


def _freshness_context(request: OrganizationRequest) -> dict[str, Any]:
    """The index's sync state, and whether a refresh started here is running or just ended.

    A refresh seen finished is forgotten at once: the answer that sees it says so (an event
    the page reloads its queue on), later ones do not.
    """
    organization = request.organization
    status = _refresh_status(organization)
    refreshing = status in UNFINISHED
    just_refreshed = status is not None and not refreshing
    if just_refreshed:
        cache.delete(_refresh_key(organization))
    state: SyncState | None = freshness(organization)
    synced = state.last_synced_at if state else None
    failed_since = bool(
        state
        and state.last_error
        and state.last_error_at
        and (not synced or state.last_error_at > synced)
    )
    return {
        "refresh_url": reverse("triage:freshness"),
        "sync_state": state,
        "index_error": state.last_error if state and failed_since else "",
        "index_empty": synced is None,
        "index_refreshing": refreshing,
        "index_refresh_failed": status == TaskResultStatus.FAILED,
        "index_just_refreshed": just_refreshed,
        "refresh_poll_seconds": REFRESH_POLL_SECONDS,
    }


@require_http_methods(["GET", "HEAD", "POST"])
@never_cache
@vary_on_headers("HX-Request", "HX-Target")
def index_freshness(request: OrganizationRequest) -> HttpResponse:
    """GET: how fresh the index is (#index-freshness polls it while a refresh runs).
    POST: re-read the organisation's cases from AutoCollect, a full refresh on a task worker.

    A full refresh, not an incremental sync: only it sees cases whose state changed upstream
    without a webhook reaching us. One at a time per organisation: a second press while one
    runs only shows that it runs. Nothing in the request names the organisation. Without htmx
    the answer is a redirect to the queue the page showed.
    """
    organization = request.organization
    if request.method == "POST" and _refresh_status(organization) not in UNFINISHED:
        result = tasks.sync_case_index.enqueue(organization.pk, True)
        # A backend that ran it already (the immediate one) leaves nothing to wait for.
        if result.status in UNFINISHED:
            cache.set(_refresh_key(organization), result.id, REFRESH_MEMORY_SECONDS)
        logger.info("case index: refresh of organisation %s requested", organization.pk)
    if not request.htmx:
        # The control's own URL carries no state (the queue's changes as the page is used):
        # without JavaScript the answer is the queues, which show that the refresh runs.
        return HttpResponseRedirect(reverse("triage:queue"), status=303)
    context = {"form": None, "view": None, **_freshness_context(request)}
    response = render_page(
        request, TEMPLATE, context, partials=FRESHNESS_PARTIALS, default=FRESHNESS_ID
    )
    if context["index_just_refreshed"]:
        trigger_client_event(response, REFRESHED_EVENT, {})
    return response
