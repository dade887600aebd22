"""Case actions: the confirmation step, every transition against the sandbox, refusals, retries.

The client talks to the in-process sandbox (sandbox_upstream); each test creates the sandbox
case it acts on, and reads the sandbox's own tables to see what the upstream did. Requests that
reach the upstream are recorded at the transport.
"""

import json
import re
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import httpx
import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse
from pytest_django.fixtures import Settings

from cases import autocollect
from cases.action_views import ActionForm
from cases.actions import ACTIONS, available_actions
from cases.models import AuditEntry, AuditKind, Outcome
from dashboard.models import Membership, Organization, Role
from sandbox.actions import ACTIONS as SANDBOX_ACTIONS
from sandbox.models import Batch as SandboxBatch
from sandbox.models import Case as SandboxCase
from sandbox.models import SandboxOrganization
from tests.support.pages import text_of
from tests.support.people import ORG_B_ID, make_member
from tests.support.sandbox_data import (
    DEBTOR_ID,
    NATIONAL_ID,
    add_case,
    add_debtor,
    sandbox_organization,
)
from tests.support.transport import RecordingTransport

if TYPE_CHECKING:  # the test client's response type exists only in django-stubs
    from django.test.client import _MonkeyPatchedWSGIResponse as Response
else:
    Response = Any

CASE_NUMBER = 5_100_001
STATUSES = ("OPEN", "PAUSED", "CLOSED", "WITHDRAWN")
SUB_STATUSES = (
    "NONE",
    "DEBT_COLLECTION_LIST_MANUAL",
    "EVICTION_REQUEST_MANUAL",
    "EVICTION_CONFIRMATION_MANUAL",
)

# action slug -> (the state it starts from, what the sandbox's case looks like afterwards)
TRANSITIONS: dict[str, tuple[dict[str, str], dict[str, str]]] = {
    "pause": ({"status": "OPEN"}, {"status": "PAUSED"}),
    "resume": ({"status": "PAUSED"}, {"status": "OPEN"}),
    "withdraw": ({"status": "PAUSED"}, {"status": "WITHDRAWN"}),
    "accept-debt-collection": (
        {"sub_status": "DEBT_COLLECTION_LIST_MANUAL", "type": "COLLECTION_NOTICE"},
        {"sub_status": "NONE", "type": "DEBT_COLLECTION", "status": "OPEN"},
    ),
    "reject-debt-collection": (
        {"sub_status": "DEBT_COLLECTION_LIST_MANUAL", "type": "COLLECTION_NOTICE"},
        {"sub_status": "NONE", "status": "CLOSED"},
    ),
    "accept-eviction-request": (
        {"sub_status": "EVICTION_REQUEST_MANUAL"},
        {"sub_status": "EVICTION_CONFIRMATION_MANUAL", "status": "OPEN"},
    ),
    "reject-eviction-request": (
        {"sub_status": "EVICTION_REQUEST_MANUAL"},
        {"sub_status": "NONE", "status": "OPEN"},
    ),
    "accept-eviction-confirmation": (
        {"sub_status": "EVICTION_CONFIRMATION_MANUAL"},
        {"sub_status": "NONE", "type": "LEGAL_COLLECTION"},
    ),
    "reject-eviction-confirmation": (
        {"sub_status": "EVICTION_CONFIRMATION_MANUAL"},
        {"sub_status": "NONE", "type": "DEBT_COLLECTION"},
    ),
}


# --- Helpers ----------------------------------------------------------------------------------


def new_case(sandbox: SandboxOrganization, **fields: str) -> SandboxCase:
    case = add_case(sandbox, CASE_NUMBER, remaining="1500.00", principal="1200.00", **fields)
    add_debtor(case)
    return case


def action_url(action: str, number: int = CASE_NUMBER) -> str:
    return reverse("cases:action", args=[number, action])


def hidden_fields(html: str) -> dict[str, str]:
    """The confirmation's hidden inputs: organisation, idempotency key, the state as shown."""
    found = re.findall(r'<input type="hidden" name="([a-z_]+)" value="([^"]*)"', html)
    return {name: value for name, value in found if name != "csrfmiddlewaretoken"}


def confirmation(client: Client, action: str, number: int = CASE_NUMBER) -> dict[str, str]:
    """GET the confirmation; its form's fields, as the browser would post them back."""
    response = client.get(action_url(action, number))
    assert response.status_code == 200, response.content
    fields = hidden_fields(response.content.decode())
    assert {"organization", "idempotency_key"} <= set(fields)
    return fields


def post(
    client: Client,
    action: str,
    fields: dict[str, str],
    *,
    number: int = CASE_NUMBER,
    code: str | None = None,
    text: str = "Checked with the debtor on the phone",
    htmx: bool = False,
) -> Response:
    spec = ACTIONS[action]
    data = {**fields, "reason_code": code or spec.reasons[0].code, "reason_text": text}
    headers = {"HX-Request": "true", "HX-Target": "action-panel"} if htmx else {}
    return client.post(action_url(action, number), data, headers=headers)


def action_posts(recorder: RecordingTransport) -> list[httpx.Request]:
    return [r for r in recorder.requests if r.method == "POST" and "/cases/" in r.url.path]


def sandbox_case(case: SandboxCase) -> SandboxCase:
    return SandboxCase.objects.get(pk=case.pk)


def only_entry(organization: Organization, kind: str = AuditKind.ACTION) -> AuditEntry:
    entries = list(AuditEntry.objects.filter(organization=organization, kind=kind))
    assert len(entries) == 1, entries
    return entries[0]


class Interfering(httpx.BaseTransport):
    """Runs `before` just before the first request `matches` picks reaches the upstream, and can
    lose the upstream's answer to it (the upstream acted, the dashboard never heard)."""

    def __init__(
        self,
        inner: httpx.BaseTransport,
        matches: Callable[[httpx.Request], bool],
        *,
        before: Callable[[], None] = lambda: None,
        lose_answer: bool = False,
    ) -> None:
        self.inner, self.matches, self.before, self.lose_answer = (
            inner,
            matches,
            before,
            lose_answer,
        )
        self.done = False

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if self.done or not self.matches(request):
            return self.inner.handle_request(request)
        self.done = True
        self.before()
        response = self.inner.handle_request(request)
        if self.lose_answer:
            raise httpx.ReadTimeout("the answer was lost", request=request)
        return response


def is_action_post(request: httpx.Request) -> bool:
    return request.method == "POST" and "/cases/" in request.url.path


def english(user: User) -> Client:
    """A browser session of `user` that asks for English, the language these tests read."""
    client = Client(headers={"Accept-Language": "en"})
    client.force_login(user)
    return client


@pytest.fixture
def agent(agent_a: User) -> Client:
    return english(agent_a)


# --- The catalogue follows the upstream's rules -----------------------------------------------


def _client_case(status: str, sub_status: str) -> autocollect.Case:
    return autocollect.Case(
        case_id=str(uuid.uuid4()),
        case_number=CASE_NUMBER,
        organization_id=str(uuid.uuid4()),
        creditor_id="",
        creditor_number="",
        status=status,
        sub_status=sub_status,
        type="DEBT_COLLECTION",
        description="",
        registered_at=None,
        closed_at=None,
        invoices=(),
        debtors=(),
        remaining_amount=Decimal(0),
        remaining_principal=Decimal(0),
        claims=(),
        account_details=None,
    )


@pytest.mark.parametrize("sub_status", SUB_STATUSES)
@pytest.mark.parametrize("status", STATUSES)
def test_the_actions_offered_are_those_the_sandbox_would_accept(
    status: str, sub_status: str
) -> None:
    offered = {spec.upstream.value for spec in available_actions(_client_case(status, sub_status))}
    upstream_case = SandboxCase(case_number=CASE_NUMBER, status=status, sub_status=sub_status)
    accepted = {
        slug for slug, action in SANDBOX_ACTIONS.items() if action.refusal(upstream_case) is None
    }
    assert offered == accepted


def test_every_upstream_action_has_one_confirmation() -> None:
    assert sorted(spec.upstream for spec in ACTIONS.values()) == sorted(autocollect.CaseAction)
    assert set(ACTIONS) == set(TRANSITIONS)


# --- Every action and transition --------------------------------------------------------------


@pytest.mark.parametrize("action", list(TRANSITIONS))
def test_each_action_changes_the_case_and_is_recorded(
    agent: Client,
    org_a: Organization,
    sandbox_a: SandboxOrganization,
    sandbox_upstream: RecordingTransport,
    action: str,
) -> None:
    before, after = TRANSITIONS[action]
    case = new_case(sandbox_a, **before)
    spec = ACTIONS[action]

    page = agent.get(action_url(action))
    assert page.status_code == 200
    assert str(spec.consequence) in text_of(page.content.decode())
    assert "Kari Nordmann" in page.content.decode()
    fields = hidden_fields(page.content.decode())

    response = post(agent, action, fields, text="Agreed with the debtor")

    assert response.status_code == 200
    assert "Accepted by AutoCollect" in text_of(response.content.decode())
    changed = sandbox_case(case)
    for name, value in after.items():
        assert getattr(changed, name) == value, name
    entry = only_entry(org_a)
    assert (entry.action, entry.outcome, entry.upstream_status) == (action, "accepted", 202)
    assert entry.batch_id == str(SandboxBatch.objects.get(case=case).pk)
    assert entry.case_id == str(case.pk)
    assert entry.case_number == CASE_NUMBER
    assert entry.reason_code == spec.reasons[0].code
    assert entry.reason_text == "Agreed with the debtor"
    assert str(entry.idempotency_key) == fields["idempotency_key"]
    assert entry.username == "agent-" + str(org_a.pk)
    sent = action_posts(sandbox_upstream)
    assert len(sent) == 1
    assert sent[0].url.path.endswith(f"/{spec.upstream.value}")
    assert sent[0].headers["Idempotency-Key"] == fields["idempotency_key"]
    assert json.loads(sent[0].content) == {
        "reason": f"{spec.reasons[0].code}: Agreed with the debtor"
    }

    status = agent.get(reverse("cases:action_batch", args=[CASE_NUMBER, entry.batch_id]))

    assert status.status_code == 200
    assert "Done: the case was" in text_of(status.content.decode())
    entry.refresh_from_db()
    assert entry.outcome == Outcome.SUCCEEDED
    assert entry.state_after


def test_the_confirmation_is_a_partial_for_htmx_and_says_what_happened(
    agent: Client, sandbox_a: SandboxOrganization
) -> None:
    new_case(sandbox_a)
    headers = {"HX-Request": "true", "HX-Target": "action-panel"}

    page = agent.get(action_url("pause"), headers=headers)

    html = page.content.decode()
    assert page.status_code == 200
    assert html.lstrip().startswith('<section id="action-panel"')
    assert "<html" not in html
    response = post(agent, "pause", hidden_fields(html), htmx=True)
    assert response.status_code == 200
    assert response.content.decode().lstrip().startswith('<section id="action-panel"')
    event = json.loads(response.headers["HX-Trigger"])
    assert event == {
        "caseDecided": {"caseNumber": CASE_NUMBER, "action": "pause", "outcome": "accepted"}
    }


def test_a_pending_batch_is_polled_until_it_finishes(
    agent: Client, org_a: Organization, sandbox_a: SandboxOrganization, settings: Settings
) -> None:
    settings.SANDBOX_BATCH_DELAY_MS = 60_000
    case = new_case(sandbox_a)
    response = post(agent, "pause", confirmation(agent, "pause"))
    entry = only_entry(org_a)
    batch_url = reverse("cases:action_batch", args=[CASE_NUMBER, entry.batch_id])
    html = response.content.decode()
    assert "Pending" in html
    assert f'hx-get="{batch_url}"' in html
    assert 'hx-trigger="load delay:1s"' in html

    pending = agent.get(batch_url, headers={"HX-Request": "true", "HX-Target": "batch-status"})
    assert pending.status_code == 200
    assert 'hx-trigger="load delay:1s"' in pending.content.decode()
    assert "HX-Trigger" not in pending.headers
    assert sandbox_case(case).status == "OPEN"

    SandboxBatch.objects.filter(case=case).update(due_at=datetime(2000, 1, 1, tzinfo=UTC))
    done = agent.get(batch_url, headers={"HX-Request": "true", "HX-Target": "batch-status"})

    assert "hx-trigger" not in done.content.decode()  # the polling ends
    assert "Done: the case was paused" in text_of(done.content.decode())
    assert json.loads(done.headers["HX-Trigger"])["caseActionFinished"]["outcome"] == "succeeded"
    entry.refresh_from_db()
    assert entry.outcome == Outcome.SUCCEEDED
    assert entry.state_after == "Paused"


def test_a_batch_that_fails_says_why(
    agent: Client, org_a: Organization, sandbox_a: SandboxOrganization, settings: Settings
) -> None:
    settings.SANDBOX_BATCH_DELAY_MS = 60_000
    case = new_case(sandbox_a)
    post(agent, "pause", confirmation(agent, "pause"))
    # Someone else withdraws the case in AutoCollect before the pause is carried out.
    SandboxCase.objects.filter(pk=case.pk).update(status="WITHDRAWN")
    SandboxBatch.objects.filter(case=case).update(due_at=datetime(2000, 1, 1, tzinfo=UTC))
    entry = only_entry(org_a)

    done = agent.get(reverse("cases:action_batch", args=[CASE_NUMBER, entry.batch_id]))

    text = text_of(done.content.decode())
    assert "could not carry out the action" in text
    assert f"Case {CASE_NUMBER} is WITHDRAWN" in text  # the upstream's reason, kept by the client
    entry.refresh_from_db()
    assert entry.outcome == Outcome.REFUSED
    assert "WITHDRAWN" in entry.message


def test_the_client_keeps_each_failed_batch_entrys_reason() -> None:
    from cases.autocollect.parsing import parse_batch

    batch = parse_batch(
        {
            "batchId": "b-1",
            "status": "FAILED",
            "succeeded": ["c-0"],
            "failed": [{"caseId": "c-1", "error": "Case 7 is CLOSED."}, "c-2", {"id": "c-3"}],
        }
    )

    assert batch.failed == ("c-1", "c-2", "c-3")
    assert [(f.entry_id, f.reason) for f in batch.failures] == [
        ("c-1", "Case 7 is CLOSED."),
        ("c-2", ""),
        ("c-3", ""),
    ]
    assert batch.failure_reason("c-1") == "Case 7 is CLOSED."
    assert batch.failure_reason("c-0") == ""


# --- What is offered, and to whom -------------------------------------------------------------


def test_the_case_page_offers_only_the_actions_its_state_allows(
    agent: Client, sandbox_a: SandboxOrganization
) -> None:
    new_case(sandbox_a, status="PAUSED", sub_status="EVICTION_REQUEST_MANUAL")

    html = agent.get(reverse("cases:detail", args=[CASE_NUMBER])).content.decode()

    offered = set(re.findall(rf'href="/cases/{CASE_NUMBER}/actions/([a-z-]+)/"', html))
    assert offered == {
        "resume",
        "withdraw",
        "accept-eviction-request",
        "reject-eviction-request",
    }


def test_viewers_are_offered_no_action(viewer_a: User, sandbox_a: SandboxOrganization) -> None:
    new_case(sandbox_a)
    client = english(viewer_a)

    html = client.get(reverse("cases:detail", args=[CASE_NUMBER])).content.decode()

    assert "/actions/" not in html
    assert 'id="case-actions"' not in html


@pytest.mark.parametrize("method", ["get", "post"])
def test_a_viewer_may_not_act_and_nothing_reaches_the_upstream(
    client: Client,
    org_a: Organization,
    viewer_a: User,
    sandbox_a: SandboxOrganization,
    sandbox_upstream: RecordingTransport,
    method: str,
) -> None:
    case = new_case(sandbox_a)
    client.force_login(viewer_a)
    forged = {
        "organization": str(org_a.pk),
        "idempotency_key": str(uuid.uuid4()),
        "reason_code": "PAYMENT_PLAN",
        "reason_text": "",
    }

    if method == "post":
        response = client.post(action_url("pause"), forged)
    else:
        response = client.get(action_url("pause"))

    assert response.status_code == 403
    assert sandbox_upstream.requests == []
    assert sandbox_case(case).status == "OPEN"
    assert not AuditEntry.objects.exists()


def test_an_action_the_state_does_not_allow_is_explained_not_offered(
    agent: Client, sandbox_a: SandboxOrganization
) -> None:
    new_case(sandbox_a, status="PAUSED")

    response = agent.get(action_url("pause"))

    html = response.content.decode()
    assert response.status_code == 200
    assert 'class="action-form' not in html
    assert "The case is paused, so it cannot be paused." in text_of(html)


def test_an_unknown_action_is_404(agent: Client, sandbox_a: SandboxOrganization) -> None:
    new_case(sandbox_a)
    assert agent.get(f"/cases/{CASE_NUMBER}/actions/delete/").status_code == 404


# --- The form ------------------------------------------------------------------------------------


@pytest.mark.parametrize("action", ["withdraw", "reject-debt-collection"])
def test_withdraw_and_reject_need_an_explanation(
    agent: Client,
    sandbox_a: SandboxOrganization,
    sandbox_upstream: RecordingTransport,
    action: str,
) -> None:
    new_case(sandbox_a, sub_status="DEBT_COLLECTION_LIST_MANUAL")
    fields = confirmation(agent, action)

    response = post(agent, action, fields, text="   ")

    assert response.status_code == 400
    assert "This field is required." in response.content.decode()
    assert hidden_fields(response.content.decode())["idempotency_key"] == fields["idempotency_key"]
    assert action_posts(sandbox_upstream) == []


def test_a_reason_code_from_outside_the_list_is_refused(
    agent: Client, sandbox_a: SandboxOrganization, sandbox_upstream: RecordingTransport
) -> None:
    new_case(sandbox_a)
    fields = confirmation(agent, "pause")

    response = post(agent, "pause", fields, code="BECAUSE")

    assert response.status_code == 400
    assert action_posts(sandbox_upstream) == []


def test_an_overlong_explanation_is_refused(
    agent: Client, sandbox_a: SandboxOrganization, sandbox_upstream: RecordingTransport
) -> None:
    new_case(sandbox_a)

    response = post(agent, "pause", confirmation(agent, "pause"), text="x" * 501)

    assert response.status_code == 400
    assert action_posts(sandbox_upstream) == []


@pytest.mark.parametrize("key", ["", "not-a-uuid", "1" * 40])
def test_a_form_without_a_valid_idempotency_key_sends_nothing(
    agent: Client,
    sandbox_a: SandboxOrganization,
    sandbox_upstream: RecordingTransport,
    key: str,
) -> None:
    new_case(sandbox_a)
    fields = {**confirmation(agent, "pause"), "idempotency_key": key}

    response = post(agent, "pause", fields)

    assert response.status_code == 400
    assert "This form is incomplete" in text_of(response.content.decode())
    assert action_posts(sandbox_upstream) == []


def test_each_confirmation_has_its_own_idempotency_key(
    agent: Client, sandbox_a: SandboxOrganization
) -> None:
    new_case(sandbox_a)
    first, second = confirmation(agent, "pause"), confirmation(agent, "pause")
    assert first["idempotency_key"] != second["idempotency_key"]
    assert uuid.UUID(first["idempotency_key"]).version == 4


def test_the_form_offers_each_actions_own_reasons() -> None:
    form = ActionForm(ACTIONS["withdraw"])
    codes = [code for code, _ in form.fields["reason_code"].choices]  # type: ignore[attr-defined]
    assert codes == ["", "PAID_DIRECTLY", "SETTLED", "CREDITED", "REGISTERED_IN_ERROR", "OTHER"]
    assert form.fields["reason_text"].required


# --- Posting once, twice, again ---------------------------------------------------------------


def test_a_double_submit_acts_once_and_shows_the_same_outcome(
    agent: Client,
    org_a: Organization,
    sandbox_a: SandboxOrganization,
    sandbox_upstream: RecordingTransport,
) -> None:
    case = new_case(sandbox_a)
    fields = confirmation(agent, "pause")

    first = post(agent, "pause", fields)
    second = post(agent, "pause", fields)

    assert first.status_code == second.status_code == 200
    batch = SandboxBatch.objects.get(case=case)
    for response in (first, second):
        assert str(batch.pk) in response.content.decode()
    assert len(action_posts(sandbox_upstream)) == 1
    assert SandboxBatch.objects.count() == 1
    assert only_entry(org_a).batch_id == str(batch.pk)


def test_a_twin_request_in_flight_is_sent_with_the_same_key_and_the_upstream_replays(
    agent: Client,
    org_a: Organization,
    agent_a: User,
    sandbox_a: SandboxOrganization,
    sandbox_upstream: RecordingTransport,
) -> None:
    """The double click's first request got its answer; the second arrived while the first was
    still waiting, found the form recorded but unanswered, and sent it again."""
    case = new_case(sandbox_a)
    fields = confirmation(agent, "pause")
    post(agent, "pause", fields)
    AuditEntry.objects.filter(organization=org_a).update(outcome=Outcome.PENDING, batch_id="")

    again = post(agent, "pause", fields)

    assert again.status_code == 200
    assert len(action_posts(sandbox_upstream)) == 2  # sent twice ...
    assert SandboxBatch.objects.filter(case=case).count() == 1  # ... acted once
    assert only_entry(org_a).batch_id == str(SandboxBatch.objects.get(case=case).pk)


def test_a_lost_answer_is_retried_with_the_same_key_and_acts_once(
    agent: Client,
    org_a: Organization,
    sandbox_a: SandboxOrganization,
    sandbox_upstream: RecordingTransport,
) -> None:
    case = new_case(sandbox_a)
    fields = confirmation(agent, "pause")
    autocollect.use_transport(Interfering(sandbox_upstream, is_action_post, lose_answer=True))

    failed = post(agent, "pause", fields, text="Agreed plan")

    html = failed.content.decode()
    assert failed.status_code == 504
    assert "Nothing is lost" in text_of(html)
    kept = hidden_fields(html)
    assert kept["idempotency_key"] == fields["idempotency_key"]
    assert "Agreed plan" in html
    assert only_entry(org_a).outcome == Outcome.FAILED
    assert sandbox_case(case).status == "PAUSED"  # the upstream did act

    retried = post(agent, "pause", kept, text="Agreed plan")

    assert retried.status_code == 200
    assert "Accepted by AutoCollect" in text_of(retried.content.decode())
    assert SandboxBatch.objects.filter(case=case).count() == 1
    entry = only_entry(org_a)
    assert entry.outcome == Outcome.ACCEPTED
    assert entry.batch_id == str(SandboxBatch.objects.get(case=case).pk)


def test_a_retry_with_another_reason_is_refused_by_the_upstream_as_422(
    agent: Client,
    org_a: Organization,
    sandbox_a: SandboxOrganization,
    sandbox_upstream: RecordingTransport,
) -> None:
    case = new_case(sandbox_a)
    fields = confirmation(agent, "pause")
    autocollect.use_transport(Interfering(sandbox_upstream, is_action_post, lose_answer=True))
    post(agent, "pause", fields, text="Agreed plan")

    response = post(agent, "pause", fields, text="Something else entirely")

    assert response.status_code == 422
    text = text_of(response.content.decode())
    assert "already received this form with different content" in text
    entry = only_entry(org_a)
    assert (entry.outcome, entry.upstream_status) == (Outcome.REFUSED, 422)
    assert SandboxBatch.objects.filter(case=case).count() == 1


def test_an_upstream_that_cannot_be_reached_sends_nothing_and_keeps_the_form(
    agent: Client,
    org_a: Organization,
    sandbox_a: SandboxOrganization,
    sandbox_upstream: RecordingTransport,
) -> None:
    case = new_case(sandbox_a)
    fields = confirmation(agent, "pause")
    sandbox_a.fault = "503"
    sandbox_a.save()

    response = post(agent, "pause", fields, text="Agreed plan")

    assert response.status_code == 503
    html = response.content.decode()
    assert hidden_fields(html)["idempotency_key"] == fields["idempotency_key"]
    assert "Agreed plan" in html
    assert action_posts(sandbox_upstream) == []
    entry = only_entry(org_a)
    assert entry.outcome == Outcome.FAILED
    assert entry.case_id == ""  # never got as far as sending

    sandbox_a.fault = ""
    sandbox_a.save()
    retried = post(agent, "pause", fields, text="Agreed plan")

    assert retried.status_code == 200
    assert sandbox_case(case).status == "PAUSED"
    assert only_entry(org_a).outcome == Outcome.ACCEPTED


# --- Re-check, refusals, organisations --------------------------------------------------------


def test_the_recheck_refuses_an_action_the_case_no_longer_allows(
    agent: Client,
    org_a: Organization,
    sandbox_a: SandboxOrganization,
    sandbox_upstream: RecordingTransport,
) -> None:
    case = new_case(sandbox_a)
    fields = confirmation(agent, "pause")
    SandboxCase.objects.filter(pk=case.pk).update(status="PAUSED")  # someone else paused it

    response = post(agent, "pause", fields, htmx=True)

    assert response.status_code == 409
    text = text_of(response.content.decode())
    assert "When you opened this form the case was open; it is now paused" in text
    assert "It can no longer be paused, so nothing was sent." in text
    assert action_posts(sandbox_upstream) == []
    entry = only_entry(org_a)
    assert (entry.outcome, entry.state_before) == (Outcome.STALE, "Paused")
    assert "caseActionRefused" in json.loads(response.headers["HX-Trigger"])


def test_a_conflict_the_upstream_finds_is_explained(
    agent: Client,
    org_a: Organization,
    sandbox_a: SandboxOrganization,
    sandbox_upstream: RecordingTransport,
) -> None:
    case = new_case(sandbox_a)
    fields = confirmation(agent, "pause")

    def someone_else_pauses() -> None:
        SandboxCase.objects.filter(pk=case.pk).update(status="PAUSED")

    autocollect.use_transport(
        Interfering(sandbox_upstream, is_action_post, before=someone_else_pauses)
    )

    response = post(agent, "pause", fields)

    assert response.status_code == 409
    text = text_of(response.content.decode())
    assert "AutoCollect refused the action" in text
    assert "state does not allow this action" in text
    assert f"Case {CASE_NUMBER} is PAUSED" in text  # the upstream's own words
    entry = only_entry(org_a)
    assert (entry.outcome, entry.upstream_status) == (Outcome.REFUSED, 409)
    assert not SandboxBatch.objects.exists()

    again = post(agent, "pause", fields)  # the same form again: the same refusal, not sent
    assert again.status_code == 409
    assert len(action_posts(sandbox_upstream)) == 1


def test_a_form_from_another_organisations_tab_is_refused(
    org_a: Organization,
    org_b: Organization,
    sandbox_a: SandboxOrganization,
    sandbox_upstream: RecordingTransport,
) -> None:
    user = make_member(org_a, Role.AGENT, username="two-tabs")
    Membership.objects.create(user=user, organization=org_b, role=Role.AGENT)
    client = english(user)
    client.post(reverse("switch_organization"), {"organization": org_a.pk})
    case = new_case(sandbox_a)
    fields = confirmation(client, "pause")  # tab 1, organisation A
    client.post(reverse("switch_organization"), {"organization": org_b.pk})  # tab 2 switches
    sandbox_upstream.requests.clear()

    response = post(client, "pause", fields)

    assert response.status_code == 409
    text = text_of(response.content.decode())
    assert "You have switched organisation since this form was opened" in text
    assert "Reload the case page" in text
    assert sandbox_upstream.requests == []
    assert sandbox_case(case).status == "OPEN"
    assert not AuditEntry.objects.exists()


def test_another_organisations_case_number_is_404_and_reaches_no_upstream_about_it(
    agent: Client,
    org_a: Organization,
    org_b: Organization,
    sandbox_a: SandboxOrganization,
    sandbox_upstream: RecordingTransport,
) -> None:
    sandbox_b = sandbox_organization(org_b)
    foreign = new_case(sandbox_b)
    fields = {
        "organization": str(org_a.pk),
        "idempotency_key": str(uuid.uuid4()),
        "reason_code": "PAYMENT_PLAN",
        "reason_text": "",
    }

    assert agent.get(action_url("pause")).status_code == 404
    assert agent.post(action_url("pause"), fields).status_code == 404

    assert sandbox_case(foreign).status == "OPEN"
    assert action_posts(sandbox_upstream) == []
    assert all(ORG_B_ID not in str(request.url) for request in sandbox_upstream.requests)
    assert not AuditEntry.objects.exists()


def test_a_batch_of_another_case_or_organisation_is_404_without_asking(
    agent: Client,
    org_a: Organization,
    org_b: Organization,
    sandbox_a: SandboxOrganization,
    sandbox_upstream: RecordingTransport,
) -> None:
    new_case(sandbox_a)
    post(agent, "pause", confirmation(agent, "pause"))
    entry = only_entry(org_a)
    AuditEntry.objects.create(
        organization=org_b, username="b", kind="action", outcome="accepted",
        case_number=CASE_NUMBER + 1, action="pause", batch_id="b-batch",
    )  # fmt: skip
    sandbox_upstream.requests.clear()

    other_case = reverse("cases:action_batch", args=[CASE_NUMBER + 1, entry.batch_id])
    other_org = reverse("cases:action_batch", args=[CASE_NUMBER + 1, "b-batch"])
    unknown = reverse("cases:action_batch", args=[CASE_NUMBER, str(uuid.uuid4())])

    for url in (other_case, other_org, unknown):
        assert agent.get(url).status_code == 404
    assert sandbox_upstream.requests == []


# --- The case page's timeline -----------------------------------------------------------------


@pytest.mark.parametrize("role", [Role.VIEWER, Role.AGENT, Role.ADMIN])
def test_the_case_page_shows_its_history_newest_first_to_everyone(
    agent: Client,
    org_a: Organization,
    sandbox_a: SandboxOrganization,
    role: str,
) -> None:
    new_case(sandbox_a)
    post(agent, "pause", confirmation(agent, "pause"), text="Plan agreed")
    agent.post(reverse("cases:detail", args=[CASE_NUMBER]), {"debtor": DEBTOR_ID})
    reader = english(make_member(org_a, role, username=f"reader-{role}"))

    html = reader.get(reverse("cases:detail", args=[CASE_NUMBER])).content.decode()

    timeline = re.search(r'<section id="case-timeline".*?</section>', html, re.S)
    assert timeline
    text = text_of(timeline.group(0))
    assert "Showed the identification number of Kari Nordmann" in text
    assert "Pause: Done" in text or "Pause: Accepted" in text
    assert "Payment plan agreed with the debtor: Plan agreed" in text
    assert text.index("Showed the identification number") < text.index("Pause:")
    assert NATIONAL_ID not in html
