"""The decision queues, /triage/: counts, filters, sorting, paging and URL state, the panel,
roles, isolation, decisions leaving the queue, and the index's freshness and refresh.

The case index is filled by a real full refresh from the in-process sandbox (triage.sync), so
the counts and orders asserted are the sandbox's own data.
"""

import re
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from cases.models import AuditEntry
from dashboard.models import Organization, Role
from sandbox.models import Case as SandboxCase
from sandbox.models import SandboxOrganization
from sandbox.seeding import seed_organization
from tests.support.pages import nok, text_of
from tests.support.people import logged_in
from tests.support.sandbox_data import add_case, add_debtor, add_invoice, sandbox_organization
from tests.support.transport import RecordingTransport
from tests.test_case_list import apply_swap, body, element, main_of
from tests.test_case_list import normalise as normalise_markup
from triage import sync
from triage.forms import SORT_LABELS
from triage.models import CaseSummary, SyncState
from triage.queries import Queue

URL = "/triage/"
SEEDED = 160
OPEN_STATUSES = ("OPEN", "PAUSED")
SANDBOX_QUEUES: dict[Queue, dict[str, Any]] = {
    Queue.DEBT_COLLECTION_LIST: {
        "sub_status": "DEBT_COLLECTION_LIST_MANUAL",
        "status__in": OPEN_STATUSES,
    },
    Queue.EVICTION_REQUEST: {"sub_status": "EVICTION_REQUEST_MANUAL", "status__in": OPEN_STATUSES},
    Queue.EVICTION_CONFIRMATION: {
        "sub_status": "EVICTION_CONFIRMATION_MANUAL",
        "status__in": OPEN_STATUSES,
    },
    Queue.PAUSED: {"status": "PAUSED"},
    Queue.OPEN: {"status": "OPEN"},
}


def normalise(markup: str) -> str:
    """Markup compared as the case list's tests do, each render's own CSRF token left out."""
    return normalise_markup(re.sub(r'name="csrfmiddlewaretoken" value="[^"]*"', "", markup))


def htmx(target: str) -> dict[str, str]:
    return {"HX-Request": "true", "HX-Target": target}


@pytest.fixture
def seeded(org_a: Organization, sandbox_upstream: RecordingTransport) -> Organization:
    """Organisation A with SEEDED sandbox cases, indexed by a full refresh."""
    seed_organization(uuid.UUID(str(org_a.amili_id)), org_a.name, cases=SEEDED, seed=5)
    sync.full_refresh(org_a)
    return org_a


@pytest.fixture
def english_agent(org_a: Organization) -> Client:
    client = logged_in(org_a, Role.AGENT)
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


def case_numbers(html: str) -> list[int]:
    return [int(n) for n in re.findall(r'<tr class="triage-row" data-case-number="(\d+)"', html)]


def tab_counts(html: str) -> dict[str, int]:
    """Each tab's count, by the queue its link names."""
    found = re.findall(
        r'<a href="/triage/\?queue=([a-z-]+)[^"]*"[^>]*>[^<]*<span class="triage-tabs__count">'
        r"([\d,]+)</span>",
        html,
    )
    return {queue: int(count.replace(",", "")) for queue, count in found}


def sandbox_numbers(org: Organization, **lookups: Any) -> list[int]:
    return list(
        SandboxCase.objects.filter(organization_id=org.amili_id, **lookups).values_list(
            "case_number", flat=True
        )
    )


# --- Counts and queues ------------------------------------------------------------------------


def test_the_counts_match_the_sandboxs_data_after_a_sync(
    english_agent: Client, seeded: Organization
) -> None:
    response = english_agent.get(URL)

    assert response.status_code == 200
    expected = {
        which.value: len(sandbox_numbers(seeded, **lookups))
        for which, lookups in SANDBOX_QUEUES.items()
    }
    assert tab_counts(body(response)) == expected
    assert expected[Queue.DEBT_COLLECTION_LIST.value] > 0, "the seed gives no approvals"


@pytest.mark.parametrize("which", list(Queue))
def test_each_queue_lists_exactly_its_cases(
    english_agent: Client, seeded: Organization, which: Queue
) -> None:
    response = english_agent.get(URL, {"queue": which.value, "size": "100"})

    assert sorted(case_numbers(body(response))) == sorted(
        sandbox_numbers(seeded, **SANDBOX_QUEUES[which])
    )


def test_the_approvals_queue_is_the_default(english_agent: Client, seeded: Organization) -> None:
    html = body(english_agent.get(URL))

    assert 'aria-current="page">Debt-collection approvals' in html
    assert sorted(case_numbers(html)) == sorted(
        sandbox_numbers(seeded, **SANDBOX_QUEUES[Queue.DEBT_COLLECTION_LIST])
    )


def test_counts_never_include_another_organisations_rows(
    english_agent: Client, seeded: Organization, org_b: Organization
) -> None:
    before = tab_counts(body(english_agent.get(URL)))
    for number, row in enumerate(CaseSummary.objects.filter(organization=seeded)[:40]):
        row.pk = None
        row.organization = org_b
        row.case_id = f"b-{number}"
        row.case_number = 9_000_000 + number
        row.save()

    html = body(english_agent.get(URL, {"queue": "open", "size": "100"}))

    assert tab_counts(html) == before
    assert not any(number >= 9_000_000 for number in case_numbers(html))


# --- Filters ----------------------------------------------------------------------------------


def test_the_filter_finds_a_debtor_by_name_case_number_and_customer_number(
    english_agent: Client, seeded: Organization
) -> None:
    row = CaseSummary.objects.filter(organization=seeded, status="OPEN").first()
    assert row is not None
    debtor = row.debtors.first()
    assert debtor is not None

    by_name = case_numbers(
        body(english_agent.get(URL, {"queue": "open", "q": debtor.display_name}))
    )
    by_number = case_numbers(
        body(english_agent.get(URL, {"queue": "open", "q": str(row.case_number)}))
    )
    by_customer = case_numbers(
        body(english_agent.get(URL, {"queue": "open", "q": debtor.customer_number}))
    )

    assert row.case_number in by_name
    assert by_number == [row.case_number]
    assert row.case_number in by_customer
    expected = {
        case.case_number
        for case in CaseSummary.objects.filter(
            organization=seeded, status="OPEN", debtors__customer_number=debtor.customer_number
        )
    }
    assert set(by_customer) >= expected


def test_the_type_filter_narrows_the_queue(english_agent: Client, seeded: Organization) -> None:
    html = body(english_agent.get(URL, {"queue": "open", "type": "DEBT_COLLECTION", "size": "100"}))

    assert sorted(case_numbers(html)) == sorted(
        sandbox_numbers(seeded, status="OPEN", type="DEBT_COLLECTION")
    )


def test_a_filter_that_matches_nothing_says_so_and_offers_to_clear_it(
    english_agent: Client, seeded: Organization
) -> None:
    html = body(english_agent.get(URL, {"q": "no such debtor anywhere"}))

    assert "No case in this queue matches the filters." in html
    assert 'href="/triage/?queue=debt-collection-list"' in html


@pytest.mark.parametrize(
    "query",
    [
        {"queue": "everything"},
        {"sort": "name"},
        {"page": "0"},
        {"page": "x"},
        {"size": "1000"},
        {"selected": "-4"},
        {"q": "x" * 101},
    ],
)
def test_invalid_input_is_a_400_that_asks_nothing_upstream(
    english_agent: Client,
    seeded: Organization,
    sandbox_upstream: RecordingTransport,
    query: dict[str, str],
) -> None:
    sandbox_upstream.requests.clear()

    response = english_agent.get(URL, query)

    assert response.status_code == 400
    assert "Check the filters" in body(response)
    assert not sandbox_upstream.requests


# --- Sorting ----------------------------------------------------------------------------------


def _oslo_day(moment: datetime | None) -> Any:
    return timezone.localdate(moment) if moment else None


SORT_KEYS: dict[str, Callable[[CaseSummary], Any]] = {
    "amount": lambda row: row.remaining_amount,
    "due": lambda row: row.earliest_due_date,
    "registered": lambda row: row.registered_at,
    "waiting": lambda row: row.waiting_since,
}


@pytest.mark.parametrize("sort", list(SORT_LABELS))
def test_every_order_sorts_the_whole_queue_both_ways(
    english_agent: Client, seeded: Organization, sort: str
) -> None:
    response = english_agent.get(URL, {"queue": "open", "sort": sort, "size": "100"})
    shown = case_numbers(body(response))
    rows = {row.case_number: row for row in CaseSummary.objects.filter(organization=seeded)}

    key = SORT_KEYS[sort.removeprefix("-")]
    values = [key(rows[number]) for number in shown]
    present = [value for value in values if value is not None]
    natural_descending = sort.removeprefix("-") == "amount"
    descending = natural_descending != sort.startswith("-")
    assert present == sorted(present, reverse=descending)
    assert str(SORT_LABELS[sort]).lower() in body(response)


def test_the_amount_header_toggles_the_order_and_says_how_it_is_sorted(
    english_agent: Client, seeded: Organization
) -> None:
    html = body(english_agent.get(URL, {"queue": "open", "sort": "amount"}))

    header = re.search(
        r'<th scope="col" class="num" aria-sort="descending"><a href="([^"]+)"', html
    )
    assert header is not None
    assert "sort=-amount" in header.group(1)
    reversed_html = body(english_agent.get(header.group(1).replace("&amp;", "&")))
    assert re.search(r'aria-sort="ascending"><a href="[^"]*sort=amount', reversed_html)


# --- Paging and the URL -----------------------------------------------------------------------


def test_paging_swap_applied_to_the_page_equals_a_full_render_of_the_pushed_url(
    english_agent: Client, seeded: Organization
) -> None:
    first = body(english_agent.get(URL, {"queue": "open", "sort": "-amount"}))
    next_url = re.search(r'rel="next" href="([^"]+)"', first)
    assert next_url is not None
    url = next_url.group(1).replace("&amp;", "&")
    assert "page=2" in url

    swapped = english_agent.get(url, headers=htmx("triage-results"))
    reloaded = english_agent.get(url)

    assert swapped.status_code == reloaded.status_code == 200
    assert body(swapped).strip().startswith('<section id="triage-results"')
    after_swap = apply_swap(first, "triage-results", body(swapped))
    assert normalise(main_of(after_swap)) == normalise(main_of(body(reloaded)))
    assert case_numbers(body(reloaded)) != case_numbers(first)


def test_selecting_a_case_swaps_the_panel_like_a_full_render_of_its_url(
    english_agent: Client, seeded: Organization
) -> None:
    page = body(english_agent.get(URL, {"queue": "open"}))
    link = re.search(r'class="triage-row__select" href="([^"]+)"', page)
    assert link is not None
    url = link.group(1).replace("&amp;", "&")

    swapped = english_agent.get(url, headers=htmx("triage-panel"))
    reloaded = body(english_agent.get(url))

    assert body(swapped).strip().startswith('<aside id="triage-panel"')
    after_swap = apply_swap(page, "triage-panel", body(swapped))
    # The row's selection mark and the form's hidden field follow the URL on a reload; the
    # script sets them in place on a swap, so compare the panels and the tables' rows.
    assert normalise(element(after_swap, "triage-panel")) == normalise(
        element(reloaded, "triage-panel")
    )
    assert case_numbers(after_swap) == case_numbers(reloaded)
    selected = re.search(r"selected=(\d+)", url)
    assert selected is not None
    assert f'data-case-number="{selected.group(1)}" data-case-url' in reloaded
    assert re.search(rf'data-case-number="{selected.group(1)}"[^>]*aria-current="true"', reloaded)


def test_a_tab_swaps_the_board_like_a_full_render(
    english_agent: Client, seeded: Organization
) -> None:
    page = body(english_agent.get(URL, {"q": "a"}))
    tab = re.search(r'<a href="(/triage/\?queue=paused[^"]*)"', page)
    assert tab is not None
    url = tab.group(1).replace("&amp;", "&")
    assert "q=a" in url  # the filter stays when the queue changes

    swapped = english_agent.get(url, headers=htmx("triage-board"))
    reloaded = english_agent.get(url)

    after_swap = apply_swap(page, "triage-board", body(swapped))
    assert normalise(main_of(after_swap)) == normalise(main_of(body(reloaded)))


def test_a_page_past_the_end_shows_the_last_page(
    english_agent: Client, seeded: Organization
) -> None:
    last = body(english_agent.get(URL, {"queue": "open", "page": "999"}))

    assert case_numbers(last)
    assert 'rel="next"' not in last


def test_a_full_page_counts_its_queue_once_for_the_tabs_and_the_pager(
    english_agent: Client, seeded: Organization
) -> None:
    open_cases = CaseSummary.objects.filter(organization=seeded, status="OPEN").count()
    pages = -(-open_cases // 25)
    with CaptureQueriesContext(connection) as full:
        html = body(english_agent.get(URL, {"queue": "open", "page": "2"}))
    with CaptureQueriesContext(connection) as swap:
        partial = body(
            english_agent.get(URL, {"queue": "open", "page": "2"}, headers=htmx("triage-results"))
        )

    def counts(queries: CaptureQueriesContext) -> int:
        return sum('AS "__count"' in query["sql"] for query in queries.captured_queries)

    assert tab_counts(html)["open"] == open_cases
    assert counts(full) == 0  # the tabs' grouped count serves the pager
    assert counts(swap) == 1  # no tabs: the queue is counted
    assert f"page 2 of {pages}" in html
    assert f"page 2 of {pages}" in partial


def test_responses_vary_on_htmx_and_are_never_stored(
    english_agent: Client, seeded: Organization
) -> None:
    response = english_agent.get(URL)

    assert "no-store" in response["Cache-Control"]
    assert {"HX-Request", "HX-Target"} <= {v.strip() for v in response["Vary"].split(",")}


def test_only_get_and_head_are_allowed(english_agent: Client, seeded: Organization) -> None:
    assert english_agent.post(URL).status_code == 405


# --- The panel --------------------------------------------------------------------------------


@pytest.fixture
def one_debtor_three_cases(
    org_a: Organization, sandbox_upstream: RecordingTransport
) -> SandboxOrganization:
    """Customer K-77 owes on three open cases and a closed one; case 7001 waits on approval."""
    sandbox = sandbox_organization(org_a)
    registered = datetime(2025, 5, 1, 9, 0, tzinfo=UTC)
    figures = [
        (7001, "1200.50", "OPEN", "DEBT_COLLECTION_LIST_MANUAL"),
        (7002, "300.25", "OPEN", "NONE"),
        (7003, "99.75", "PAUSED", "NONE"),
        (7004, "5000", "CLOSED", "NONE"),
    ]
    for number, remaining, status, sub_status in figures:
        case = add_case(
            sandbox,
            number,
            remaining=remaining,
            principal=remaining,
            status=status,
            sub_status=sub_status,
            registered_at=registered + timedelta(days=number - 7000),
        )
        add_invoice(case, f"F-{number}", remaining_amount=remaining)
        add_debtor(case, customer_number="K-77", full_name="Kari Nordmann")
    other = add_case(sandbox, 7005, remaining="10", principal="10", registered_at=registered)
    add_debtor(other, customer_number="K-88", full_name="Ola Hansen", debtor_id=uuid.uuid4())
    sync.full_refresh(org_a)
    return sandbox


def test_the_panel_shows_the_debtors_other_open_cases_and_their_total(
    english_agent: Client, one_debtor_three_cases: SandboxOrganization
) -> None:
    html = body(english_agent.get(URL, {"selected": 7001}, headers=htmx("triage-panel")))
    panel = text_of(html)

    assert "2 other open cases" in panel
    total = re.search(r"data-other-total>([^<]+)<", html)
    assert total is not None
    assert text_of(total.group(1)) == nok("400.00", "en")
    assert "/cases/7002/" in html
    assert "/cases/7003/" in html
    assert "/cases/7004/" not in html  # closed
    assert "/cases/7005/" not in html  # another debtor


def test_the_panel_shows_the_claims_and_the_decisions_for_an_agent(
    english_agent: Client, one_debtor_three_cases: SandboxOrganization
) -> None:
    html = body(english_agent.get(URL, {"selected": 7001}, headers=htmx("triage-panel")))

    assert 'data-shortcut="a"' in html
    assert "/cases/7001/actions/accept-debt-collection/" in html
    assert 'data-shortcut="r"' in html
    assert "/cases/7001/actions/reject-debt-collection/" in html
    assert 'data-shortcut="p"' in html
    assert 'data-shortcut="w"' in html
    assert 'data-shortcut="u"' not in html  # the case is open, not paused
    assert html.index("accept-debt-collection") < html.index("/actions/pause/")
    assert "Claims" in html


def test_a_viewer_sees_no_actions_and_no_shortcuts(
    org_a: Organization, one_debtor_three_cases: SandboxOrganization
) -> None:
    viewer = logged_in(org_a, Role.VIEWER)

    html = body(viewer.get(URL, {"selected": 7001}))

    assert "data-shortcut" not in html
    assert "/actions/" not in html
    assert 'data-can-act="false"' in html
    assert "Kari Nordmann" in html  # the viewer still reads the case


def test_an_upstream_failure_in_the_panel_shows_in_place_with_a_retry(
    english_agent: Client, one_debtor_three_cases: SandboxOrganization
) -> None:
    one_debtor_three_cases.fault = "503"
    one_debtor_three_cases.save()

    response = english_agent.get(URL, {"selected": 7001}, headers=htmx("triage-panel"))

    assert response.status_code == 200
    html = body(response)
    assert 'role="alert"' in html
    assert "Try again" in html
    assert "2 other open cases" in text_of(html)  # the index still answers


# --- Isolation --------------------------------------------------------------------------------


def test_another_organisations_case_number_in_selected_is_a_404_reaching_no_upstream(
    english_agent: Client,
    one_debtor_three_cases: SandboxOrganization,
    org_b: Organization,
    sandbox_upstream: RecordingTransport,
) -> None:
    foreign = CaseSummary.objects.get(
        organization__amili_id=one_debtor_three_cases.id, case_number=7005
    )
    foreign.pk, foreign.organization, foreign.case_id = None, org_b, "b-1"
    foreign.case_number = 8123
    foreign.save()
    sandbox_upstream.requests.clear()

    for headers in ({}, htmx("triage-panel"), htmx("triage-results")):
        response = english_agent.get(URL, {"selected": 8123}, headers=headers)
        assert response.status_code == 404

    assert not sandbox_upstream.requests


# --- Decisions leave the queue ----------------------------------------------------------------


def test_an_accepted_decision_takes_the_case_out_of_the_queue_at_once(
    org_a: Organization, one_debtor_three_cases: SandboxOrganization
) -> None:
    agent = logged_in(org_a, Role.AGENT)
    before = body(agent.get(URL))
    assert case_numbers(before) == [7001]
    assert tab_counts(before)["debt-collection-list"] == 1

    confirm = body(agent.get("/cases/7001/actions/accept-debt-collection/"))
    key = re.search(r'name="idempotency_key" value="([^"]+)"', confirm)
    assert key is not None
    response = agent.post(
        "/cases/7001/actions/accept-debt-collection/",
        {
            "organization": str(org_a.pk),
            "idempotency_key": key.group(1),
            "seen_state": "",
            "reason_code": "CLAIM_VERIFIED",
            "reason_text": "",
        },
        headers={"HX-Request": "true", "HX-Target": "action-panel"},
    )
    assert response.status_code == 200
    assert "caseDecided" in response["HX-Trigger"]

    after = body(agent.get(URL))
    assert case_numbers(after) == []
    assert tab_counts(after)["debt-collection-list"] == 0
    assert AuditEntry.objects.filter(case_number=7001, action="accept-debt-collection").exists()


def test_once_the_index_has_re_read_the_case_its_real_state_decides(
    org_a: Organization, one_debtor_three_cases: SandboxOrganization
) -> None:
    """A decision the upstream's batch later failed: the re-read row brings the case back."""
    row = CaseSummary.objects.get(organization=org_a, case_number=7001)
    AuditEntry.objects.create(
        organization=org_a,
        username="someone",
        kind="action",
        outcome="accepted",
        case_id=row.case_id,
        case_number=7001,
        action="accept-debt-collection",
    )
    agent = logged_in(org_a, Role.AGENT)
    assert case_numbers(body(agent.get(URL))) == []

    sync.refresh_case(org_a, case_number=7001)  # still waiting upstream: the batch failed

    assert case_numbers(body(agent.get(URL))) == [7001]


# --- Freshness and refresh --------------------------------------------------------------------


def test_an_empty_index_says_so_and_offers_to_read_the_cases(
    english_agent: Client, org_a: Organization
) -> None:
    html = body(english_agent.get(URL))

    assert "The case index is empty" in html
    assert "Read the cases now" in html


def test_the_page_says_when_the_index_was_updated(
    english_agent: Client, seeded: Organization
) -> None:
    html = body(english_agent.get(URL))

    assert "Index updated" in html
    assert "all cases read" in html


def test_a_refresh_enqueues_one_full_sync_for_the_members_organisation_only(
    english_agent: Client, org_a: Organization, org_b: Organization
) -> None:
    response = english_agent.post("/triage/freshness/", {"organization": str(org_b.pk)})

    assert response.status_code == 303
    assert response["Location"] == "/triage/"
    tasks = list(DBTaskResult.objects.all())
    assert len(tasks) == 1
    assert tasks[0].task_path == "triage.tasks.sync_case_index"
    assert tasks[0].args_kwargs["args"] == [org_a.pk, True]

    # Pressed again while it waits for a worker: nothing more is enqueued, the page says so.
    again = english_agent.post("/triage/freshness/", headers=htmx("index-freshness"))
    assert again.status_code == 200
    assert DBTaskResult.objects.count() == 1
    assert "Reading every case from AutoCollect" in body(again)
    assert 'hx-trigger="load delay:2s"' in body(again)


def test_the_freshness_stops_polling_and_tells_the_page_once_the_refresh_has_finished(
    english_agent: Client, seeded: Organization
) -> None:
    english_agent.post("/triage/freshness/", headers=htmx("index-freshness"))
    running = english_agent.get("/triage/freshness/", headers=htmx("index-freshness"))
    assert "hx-trigger" in body(running)
    assert "HX-Trigger" not in running

    DBTaskResult.objects.update(status="SUCCESSFUL", finished_at=timezone.now())
    finished = english_agent.get("/triage/freshness/", headers=htmx("index-freshness"))

    assert "hx-trigger" not in body(finished)
    assert "caseIndexRefreshed" in finished["HX-Trigger"]
    later = english_agent.get("/triage/freshness/", headers=htmx("index-freshness"))
    assert "HX-Trigger" not in later


def test_a_refresh_cannot_be_posted_without_the_csrf_token(
    org_a: Organization, agent_a: Any
) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(agent_a)

    assert client.post("/triage/freshness/").status_code == 403
    assert not DBTaskResult.objects.exists()


def test_the_last_sync_error_is_shown(english_agent: Client, seeded: Organization) -> None:
    SyncState.objects.filter(organization=seeded).update(
        last_error="AutoCollect did not answer in time", last_error_at=timezone.now()
    )

    html = body(english_agent.get(URL))

    assert "The last refresh failed: AutoCollect did not answer in time" in html


def test_days_waiting_and_past_due_are_counted_from_the_index(
    english_agent: Client, one_debtor_three_cases: SandboxOrganization, org_a: Organization
) -> None:
    today = timezone.localdate()
    CaseSummary.objects.filter(organization=org_a, case_number=7001).update(
        waiting_since=timezone.now() - timedelta(days=3),
        waiting_before_first_seen=False,  # a wait the index saw begin
        earliest_due_date=today - timedelta(days=40),
        remaining_amount=Decimal("1200.50"),
    )

    html = body(english_agent.get(URL))
    row = re.search(r'data-case-number="7001".*?</tr>', html, re.S)

    assert row is not None
    cells = re.findall(r'<td class="num"[^>]*>([^<]*)</td>', row.group(0))
    assert cells[2:] == ["3", "40"]


def test_days_of_a_case_already_waiting_when_first_seen_read_as_at_least(
    english_agent: Client, one_debtor_three_cases: SandboxOrganization, org_a: Organization
) -> None:
    CaseSummary.objects.filter(organization=org_a).update(waiting_before_first_seen=False)
    CaseSummary.objects.filter(organization=org_a, case_number=7001).update(
        waiting_since=timezone.now() - timedelta(days=3), waiting_before_first_seen=True
    )

    html = body(english_agent.get(URL))
    row = re.search(r'data-case-number="7001".*?</tr>', html, re.S)

    assert row is not None
    assert "≥ </span>" in row.group(0)
    assert "at least 3" in text_of(row.group(0))
    assert "already waiting when the dashboard first saw it" in html

    CaseSummary.objects.filter(organization=org_a).update(waiting_before_first_seen=False)
    html = body(english_agent.get(URL))
    assert "≥" not in html
    assert "first saw it" not in html
