"""The local case index: sync from the sandbox, incremental reads, vanished rows, retention,
the refresh command and the queries the triage queues build on."""

import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.db import connection, transaction
from django.test import Client
from django.utils import timezone
from django_tasks_db.models import DBTaskResult
from pytest_django.fixtures import Settings

from cases import autocollect
from dashboard.models import Organization
from sandbox.models import SandboxOrganization
from tests.support.sandbox_data import add_case, add_debtor, add_invoice
from tests.support.transport import RecordingTransport
from triage import queries, sync, tasks
from triage.models import DECISION_SUB_STATUSES, CaseSummary, IndexedDebtor, SyncState, WebhookEvent

RECENT = datetime(2026, 1, 10, 9, 0, tzinfo=UTC)


@pytest.fixture
def immediate_tasks(settings: Settings) -> None:
    settings.TASKS = {"default": {"BACKEND": "django.tasks.backends.immediate.ImmediateBackend"}}


def _row(org: Organization, case_number: int) -> CaseSummary:
    return CaseSummary.objects.get(organization=org, case_number=case_number)


def test_a_full_refresh_indexes_every_case_with_what_triage_needs(
    org_a: Organization, sandbox_a: SandboxOrganization
) -> None:
    case = add_case(
        sandbox_a,
        5001,
        remaining="1250.50",
        principal="1000",
        sub_status="DEBT_COLLECTION_LIST_MANUAL",
        registered_at=RECENT,
    )
    add_invoice(
        case,
        "F-1",
        remaining_amount="1000",
        due_date=datetime(2025, 12, 31, 23, 30, tzinfo=UTC),  # 1 January in Oslo
    )
    add_invoice(case, "F-0", remaining_amount="0", due_date=datetime(2025, 6, 1, tzinfo=UTC))
    add_debtor(case)
    add_debtor(
        case, customer_number="K-2", full_name="Ola Nordmann", debtor_id=uuid.uuid4(), position=1
    )
    for number in range(5002, 5006):
        add_case(sandbox_a, number, registered_at=RECENT)

    report = sync.full_refresh(org_a)

    assert (report.cases_read, report.vanished) == (5, 0)
    row = _row(org_a, 5001)
    assert (row.status, row.sub_status, row.type) == (
        "OPEN",
        "DEBT_COLLECTION_LIST_MANUAL",
        "DEBT_COLLECTION",
    )
    assert (row.remaining_amount, row.remaining_principal) == (Decimal("1250.50"), Decimal(1000))
    assert row.currency == "NOK"
    assert row.earliest_due_date == date(2026, 1, 1)  # the paid invoice does not count
    assert row.debtor_names == "Kari Nordmann, Ola Nordmann"
    assert [(d.customer_number, d.display_name) for d in row.debtors.all()] == [
        ("K-1001", "Kari Nordmann"),
        ("K-2", "Ola Nordmann"),
    ]
    assert row.waiting_since is not None
    assert row.case_id == str(case.id)
    assert _row(org_a, 5002).waiting_since is None
    state = SyncState.objects.get(organization=org_a)
    assert state.last_full_sync_at is not None
    assert state.high_water_mark == RECENT
    assert state.cases_in_last_full_sync == 5


def test_no_identification_number_email_or_phone_is_stored(
    org_a: Organization, sandbox_a: SandboxOrganization
) -> None:
    add_debtor(add_case(sandbox_a, 5001))

    sync.full_refresh(org_a)

    stored = repr(list(CaseSummary.objects.values())) + repr(list(IndexedDebtor.objects.values()))
    for secret in ("01017012345", "kari@example.no", "+4791234567"):
        assert secret not in stored


def test_a_second_refresh_updates_rows_and_marks_the_ones_that_vanished(
    org_a: Organization, sandbox_a: SandboxOrganization
) -> None:
    kept = add_case(sandbox_a, 5001, remaining="100")
    gone = add_case(sandbox_a, 5002)
    sync.full_refresh(org_a)
    kept.remaining_amount, kept.status = Decimal("40"), "PAUSED"
    kept.save()
    gone.delete()

    report = sync.full_refresh(org_a)

    assert (report.cases_read, report.vanished) == (1, 1)
    assert (_row(org_a, 5001).remaining_amount, _row(org_a, 5001).status) == (Decimal(40), "PAUSED")
    assert _row(org_a, 5001).vanished_at is None
    assert _row(org_a, 5002).vanished_at is not None
    assert CaseSummary.objects.count() == 2  # kept until the retention period ends
    assert list(queries.indexed_cases(org_a).values_list("case_number", flat=True)) == [5001]


def test_a_refresh_that_fails_part_way_marks_nothing_vanished(
    org_a: Organization, sandbox_a: SandboxOrganization
) -> None:
    add_case(sandbox_a, 5001)
    sync.full_refresh(org_a)
    sandbox_a.fault = "503"
    sandbox_a.save()

    with pytest.raises(autocollect.UpstreamUnavailable):
        sync.full_refresh(org_a)

    assert _row(org_a, 5001).vanished_at is None
    state = SyncState.objects.get(organization=org_a)
    assert state.last_error.startswith("UpstreamUnavailable")
    assert state.last_error_at is not None


def test_waiting_since_is_kept_while_waiting_and_cleared_when_the_decision_is_made(
    org_a: Organization, sandbox_a: SandboxOrganization
) -> None:
    case = add_case(sandbox_a, 5001, sub_status="EVICTION_REQUEST_MANUAL")
    sync.full_refresh(org_a)
    first_seen = _row(org_a, 5001).waiting_since
    assert first_seen is not None
    assert _row(org_a, 5001).waiting_before_first_seen  # since when, the upstream does not say

    sync.full_refresh(org_a)
    assert _row(org_a, 5001).waiting_since == first_seen
    assert _row(org_a, 5001).waiting_before_first_seen

    case.sub_status = "EVICTION_CONFIRMATION_MANUAL"  # a new decision: a new wait
    case.save()
    sync.full_refresh(org_a)
    assert _row(org_a, 5001).waiting_since > first_seen  # type: ignore[operator]
    assert not _row(org_a, 5001).waiting_before_first_seen  # the index saw this one begin

    case.sub_status = "NONE"
    case.save()
    sync.full_refresh(org_a)
    assert _row(org_a, 5001).waiting_since is None
    assert not _row(org_a, 5001).waiting_before_first_seen


def test_an_incremental_sync_asks_only_for_cases_registered_since_the_newest_seen(
    org_a: Organization, sandbox_a: SandboxOrganization, sandbox_upstream: RecordingTransport
) -> None:
    for number in range(5001, 5011):
        add_case(sandbox_a, number, registered_at=RECENT - timedelta(days=30 + number % 7))
    add_case(sandbox_a, 5011, registered_at=RECENT)
    sync.full_refresh(org_a)
    add_case(sandbox_a, 5012, registered_at=RECENT + timedelta(days=2))
    sandbox_upstream.requests.clear()

    report = sync.sync_organization(org_a)

    assert not report.full
    assert report.cases_read == 2  # the new case and the one of the high-water mark's day
    [request] = sandbox_upstream.case_requests()
    assert request.url.params["FromCreatedAt"] == "2026-01-10"
    assert _row(org_a, 5012).status == "OPEN"
    state = SyncState.objects.get(organization=org_a)
    assert state.high_water_mark == RECENT + timedelta(days=2)
    assert state.last_incremental_sync_at is not None


def _planner_rows(table: str) -> float | None:
    """What the query planner's statistics say the table holds (None: never analysed)."""
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("SELECT name FROM sqlite_master WHERE name = 'sqlite_stat1'")
            if cursor.fetchone() is None:
                return None
            cursor.execute("SELECT stat FROM sqlite_stat1 WHERE tbl = %s LIMIT 1", [table])
            row = cursor.fetchone()
            return float(row[0].split()[0]) if row else None
        cursor.execute("SELECT reltuples FROM pg_class WHERE relname = %s", [table])
        tuples = cursor.fetchone()[0]
        return None if tuples < 0 else float(tuples)


def test_a_sync_that_wrote_many_rows_refreshes_the_planners_statistics(
    org_a: Organization, sandbox_a: SandboxOrganization, monkeypatch: pytest.MonkeyPatch
) -> None:
    table = CaseSummary._meta.db_table
    for number in range(5001, 5004):
        add_case(sandbox_a, number)
    sync.full_refresh(org_a)  # three rows: fewer than STATISTICS_AFTER_ROWS
    if connection.vendor == "sqlite":  # PostgreSQL keeps statistics past a rolled-back test
        assert _planner_rows(table) is None

    monkeypatch.setattr(sync, "STATISTICS_AFTER_ROWS", 3)
    sync.full_refresh(org_a)

    assert _planner_rows(table) == 3


def test_the_first_sync_of_an_organisation_is_a_full_refresh(
    org_a: Organization, sandbox_a: SandboxOrganization
) -> None:
    add_case(sandbox_a, 5001)
    assert sync.sync_organization(org_a).full


def test_one_case_is_refreshed_and_a_case_the_upstream_lost_is_marked_vanished(
    org_a: Organization, sandbox_a: SandboxOrganization
) -> None:
    case = add_case(sandbox_a, 5001)
    sync.full_refresh(org_a)
    case.status = "PAUSED"
    case.save()

    assert sync.refresh_case(org_a, case_number=5001)
    assert _row(org_a, 5001).status == "PAUSED"

    case.delete()
    assert not sync.refresh_case(org_a, case_number=5001)
    assert _row(org_a, 5001).vanished_at is not None


def test_rows_of_cases_closed_before_the_retention_period_are_purged_and_not_reindexed(
    org_a: Organization, sandbox_a: SandboxOrganization, settings: Settings
) -> None:
    settings.CASE_INDEX_RETENTION_DAYS = 90
    now = timezone.now()
    add_case(sandbox_a, 5001, status="CLOSED", closed_at=now - timedelta(days=10))
    add_case(sandbox_a, 5002, status="WITHDRAWN", closed_at=now - timedelta(days=10))
    add_case(sandbox_a, 5003, status="CLOSED", closed_at=now - timedelta(days=200))
    add_case(sandbox_a, 5004)
    sync.full_refresh(org_a)
    assert set(CaseSummary.objects.values_list("case_number", flat=True)) == {5001, 5002, 5004}
    CaseSummary.objects.filter(case_number=5002).update(closed_at=now - timedelta(days=91))
    WebhookEvent.objects.create(
        idempotency_key="old", event_type="CASE", received_at=now - timedelta(days=8)
    )
    WebhookEvent.objects.create(idempotency_key="new", event_type="CASE", received_at=now)

    report = sync.purge_expired()

    assert (report.closed_cases, report.vanished_cases, report.webhook_keys) == (1, 0, 1)
    assert set(CaseSummary.objects.values_list("case_number", flat=True)) == {5001, 5004}
    assert list(WebhookEvent.objects.values_list("idempotency_key", flat=True)) == ["new"]


def test_vanished_rows_are_purged_after_the_retention_period(
    org_a: Organization, sandbox_a: SandboxOrganization
) -> None:
    add_case(sandbox_a, 5001)
    sync.full_refresh(org_a)
    CaseSummary.objects.update(vanished_at=timezone.now() - timedelta(days=91))

    assert sync.purge_expired().vanished_cases == 1
    assert not CaseSummary.objects.exists()
    assert not IndexedDebtor.objects.exists()


# --- The command and the tasks --------------------------------------------------------------


def test_the_refresh_command_syncs_every_organisation_and_says_how_it_went(
    org_a: Organization, org_b: Organization, sandbox_a: SandboxOrganization
) -> None:
    add_case(sandbox_a, 5001)
    SandboxOrganization.objects.create(id=org_b.amili_id, name=org_b.name, fault="503")
    out, err = _Output(), _Output()

    with pytest.raises(CommandError, match="Tromsø Kraft AS"):
        call_command("refresh_case_index", "--full", stdout=out, stderr=err)

    assert "Bergen Boliger AS: full refresh, 1 case(s) read, 0 vanished" in out.text
    assert "Purged 0 closed" in out.text
    assert "Tromsø Kraft AS: failed" in err.text
    assert _row(org_a, 5001).status == "OPEN"


def test_the_refresh_command_names_an_unknown_organisation(org_a: Organization) -> None:
    with pytest.raises(CommandError, match="No organisation with the Amili id"):
        call_command("refresh_case_index", "--org", "00000000-0000-4000-8000-000000000000")


def test_the_refresh_command_can_hand_the_work_to_the_workers(
    org_a: Organization, sandbox_a: SandboxOrganization
) -> None:
    from django_tasks_db.models import DBTaskResult

    call_command("refresh_case_index", "--full", "--enqueue", stdout=_Output())

    queued = sorted(DBTaskResult.objects.values_list("task_path", flat=True))
    assert queued == ["triage.tasks.purge_case_index", "triage.tasks.sync_case_index"]
    assert not CaseSummary.objects.exists()  # nothing ran in this process


def test_the_sync_task_runs_a_sync(
    org_a: Organization, sandbox_a: SandboxOrganization, immediate_tasks: None
) -> None:
    add_case(sandbox_a, 5001)

    result = tasks.sync_case_index.enqueue(org_a.pk, True)

    assert result.return_value["cases_read"] == 1
    assert _row(org_a, 5001).status == "OPEN"


def test_a_sync_that_fails_for_a_passing_reason_is_tried_again_later(
    org_a: Organization, sandbox_a: SandboxOrganization
) -> None:
    from django_tasks_db.models import DBTaskResult

    sandbox_a.fault = "503"
    sandbox_a.save()

    with pytest.raises(autocollect.UpstreamUnavailable):
        tasks.sync_case_index.call(org_a.pk, False)

    retry = DBTaskResult.objects.get()
    assert retry.args_kwargs["args"] == [org_a.pk, False, 2]
    assert retry.run_after > timezone.now()


def test_a_page_enqueues_a_refresh_only_for_cases_the_index_shows_differently(
    org_a: Organization, sandbox_a: SandboxOrganization, immediate_tasks: None
) -> None:
    changed = add_case(sandbox_a, 5001)
    add_case(sandbox_a, 5002)
    sync.full_refresh(org_a)
    page = autocollect.list_cases(organization_id=org_a.amili_id)
    assert not tasks.enqueue_page_refresh(org_a, page.cases)  # nothing differs: no task

    changed.status = "PAUSED"
    changed.save()
    page = autocollect.list_cases(organization_id=org_a.amili_id, fresh=True)
    assert sync.cases_to_refresh(org_a, page.cases) == [5001]


def _queued_refreshes() -> list[list[object]]:
    """The case numbers of every refresh_indexed_cases task waiting for a worker."""
    return [
        result.args_kwargs["args"][1]
        for result in DBTaskResult.objects.filter(task_path__endswith="refresh_indexed_cases")
    ]


def test_the_case_list_hands_what_the_index_shows_differently_to_a_worker_once(
    org_a: Organization,
    sandbox_a: SandboxOrganization,
    client_a: Client,
    settings: Settings,
    django_capture_on_commit_callbacks: Callable[..., Any],
) -> None:
    settings.AUTOCOLLECT_CACHE_SECONDS = 60
    changed = add_case(sandbox_a, 5001)
    add_case(sandbox_a, 5002)
    sync.full_refresh(org_a)
    changed.status = "PAUSED"
    changed.save()

    with django_capture_on_commit_callbacks(execute=True):
        assert client_a.get("/cases/").status_code == 200  # read from the upstream
    assert _queued_refreshes() == [[5001]]

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        client_a.get("/cases/")  # the read cache's copy: nothing compared, nothing queued
        autocollect.forget_organization_reads(org_a.amili_id)
        client_a.get("/cases/")  # read again, within the interval: compared once already
    assert callbacks == []
    assert _queued_refreshes() == [[5001]]


def test_a_case_page_hands_its_case_to_a_worker_when_the_index_is_behind(
    org_a: Organization,
    sandbox_a: SandboxOrganization,
    client_a: Client,
    django_capture_on_commit_callbacks: Callable[..., Any],
) -> None:
    changed = add_case(sandbox_a, 5001)
    sync.full_refresh(org_a)
    changed.status = "PAUSED"
    changed.save()

    with django_capture_on_commit_callbacks(execute=True):
        assert client_a.get("/cases/5001/").status_code == 200

    assert _queued_refreshes() == [[5001]]


# --- Queries for the queues -----------------------------------------------------------------


def test_queues_count_filter_and_sort_from_the_index(
    org_a: Organization, org_b: Organization, sandbox_a: SandboxOrganization
) -> None:
    manual = "DEBT_COLLECTION_LIST_MANUAL"
    add_case(sandbox_a, 5001, sub_status=manual, remaining="300", registered_at=RECENT)
    add_case(sandbox_a, 5002, sub_status=manual, remaining="900", registered_at=RECENT)
    add_case(sandbox_a, 5003, sub_status=manual, status="PAUSED", remaining="10")
    add_case(sandbox_a, 5004, status="PAUSED")
    add_case(sandbox_a, 5005, sub_status="EVICTION_REQUEST_MANUAL")
    add_case(sandbox_a, 5006, status="CLOSED", closed_at=timezone.now())
    sync.full_refresh(org_a)
    CaseSummary.objects.filter(case_number=5002).update(
        waiting_since=timezone.now() - timedelta(days=3)
    )

    counts = queries.queue_counts(org_a)

    assert counts == {
        queries.Queue.DEBT_COLLECTION_LIST: 3,
        queries.Queue.EVICTION_REQUEST: 1,
        queries.Queue.EVICTION_CONFIRMATION: 0,
        queries.Queue.PAUSED: 2,
        queries.Queue.OPEN: 3,
    }
    approvals = queries.Queue.DEBT_COLLECTION_LIST

    def numbers(sort: queries.Sort, *, reverse: bool = False) -> list[int]:
        rows = queries.queue(org_a, approvals, sort, reverse=reverse)
        return [row.case_number for row in rows]

    assert numbers(queries.Sort.WAITING)[0] == 5002
    assert numbers(queries.Sort.AMOUNT) == [5002, 5001, 5003]
    assert numbers(queries.Sort.AMOUNT, reverse=True) == [5003, 5001, 5002]
    assert queries.queue_counts(org_b)[approvals] == 0  # another organisation's index is apart


def test_a_debtors_other_open_cases_come_from_the_index_by_customer_number(
    org_a: Organization, sandbox_a: SandboxOrganization
) -> None:
    deciding = add_case(sandbox_a, 5001, remaining="100")
    add_debtor(deciding)
    other = add_case(sandbox_a, 5002, remaining="250.25")
    add_debtor(other)
    closed = add_case(sandbox_a, 5003, remaining="999", status="CLOSED", closed_at=RECENT)
    add_debtor(closed)
    add_debtor(add_case(sandbox_a, 5004, remaining="7"), customer_number="K-9")
    sync.full_refresh(org_a)

    found = queries.debtors_other_open_cases(org_a, ["K-1001"], except_case_id=str(deciding.id))

    assert [case.case_number for case in found.cases] == [5002]
    assert found.total_remaining == Decimal("250.25")


def _summary(
    org: Organization, number: int, status: str, sub_status: str, **fields: object
) -> None:
    CaseSummary.objects.create(
        organization=org,
        case_id=f"case-{number}",
        case_number=number,
        status=status,
        sub_status=sub_status,
        type="DEBT_COLLECTION",
        remaining_amount=Decimal(number),
        remaining_principal=Decimal(number),
        currency="NOK",
        confirmed_at=timezone.now(),
        **fields,
    )


def test_the_grouped_counts_agree_with_each_queues_own_filter(org_a: Organization) -> None:
    statuses = ["OPEN", "PAUSED", "CLOSED", "WITHDRAWN", "SOMETHING_NEW"]
    sub_statuses = ["NONE", *DECISION_SUB_STATUSES, "ANOTHER_NEW_ONE"]
    number = 1
    for status in statuses:
        for sub_status in sub_statuses:
            for _ in range(number % 3 + 1):  # unequal groups, so a mix-up shows
                _summary(org_a, number, status, sub_status)
                number += 1
    _summary(org_a, number, "OPEN", "NONE", vanished_at=timezone.now())

    counts = queries.queue_counts(org_a)

    for which, condition in queries.QUEUE_FILTERS.items():
        assert counts[which] == queries.indexed_cases(org_a).filter(condition).count(), which


def test_cases_not_waiting_come_after_the_waiting_ones_and_first_when_reversed(
    org_a: Organization,
) -> None:
    now = timezone.now()
    _summary(org_a, 1, "OPEN", "NONE", registered_at=now - timedelta(days=9))
    _summary(org_a, 2, "OPEN", "DEBT_COLLECTION_LIST_MANUAL", waiting_since=now, registered_at=now)
    _summary(
        org_a,
        3,
        "OPEN",
        "EVICTION_REQUEST_MANUAL",
        waiting_since=now - timedelta(days=1),
        registered_at=now - timedelta(days=2),
    )
    _summary(org_a, 4, "OPEN", "NONE")  # no registration time: after those that have one

    def numbers(sort: queries.Sort, *, reverse: bool = False) -> list[int]:
        rows = queries.queue(org_a, queries.Queue.OPEN, sort, reverse=reverse)
        return [row.case_number for row in rows]

    assert numbers(queries.Sort.WAITING) == [3, 2, 1, 4]
    assert numbers(queries.Sort.WAITING, reverse=True) == [4, 1, 2, 3]
    assert numbers(queries.Sort.REGISTERED) == [1, 3, 2, 4]


@pytest.mark.parametrize("which", list(queries.Queue))
@pytest.mark.parametrize("sort", list(queries.Sort))
def test_every_queue_order_walks_an_index_instead_of_sorting(
    org_a: Organization, which: queries.Queue, sort: queries.Sort
) -> None:
    """At 200,000 cases a sort of the whole queue took seconds: each order must read its index
    in order (bench/bench_triage_queue.py measures the pages)."""
    rows = queries.queue(org_a, which, sort, reverse=sort == queries.Sort.AMOUNT)[50:75]
    leading = "status" if which in (queries.Queue.OPEN, queries.Queue.PAUSED) else "decision"
    with transaction.atomic():
        if connection.vendor == "postgresql":  # a few rows: make the planner show its way
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL enable_seqscan = off")
                cursor.execute("SET LOCAL enable_sort = off")
        plan = rows.explain()
    assert f"triage_{'bystatus' if leading == 'status' else leading}_{sort.value}" in plan
    assert "TEMP B-TREE" not in plan  # SQLite's sort
    assert "Sort Key" not in plan  # PostgreSQL's


class _Output:
    def __init__(self) -> None:
        self.text = ""

    def write(self, text: str) -> None:
        self.text += text

    def flush(self) -> None:
        pass
