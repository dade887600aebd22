"""POST /webhooks/autocollect/: signature, freshness, duplicates, bad input, size, and the loop
sandbox action -> webhook -> task -> index row, run with the immediate task backend."""

import hashlib
import hmac
import io
import json
import logging
import threading
import uuid
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.test import Client
from django.utils import timezone
from pytest_django.fixtures import Settings

from dashboard.models import Organization, Role
from sandbox import webhooks as sandbox_webhooks
from sandbox.models import Case as SandboxCase
from sandbox.models import SandboxOrganization
from sandbox.seeding import add_new_cases, seed_organization
from tests.support.people import make_member
from tests.support.sandbox_data import add_case, add_debtor
from tests.support.transport import RecordingTransport
from triage import sync
from triage.models import CaseSummary, WebhookEvent

SECRET = "webhook-test-secret"
URL = "/webhooks/autocollect/"


@pytest.fixture(autouse=True)
def _webhook_settings(settings: Settings) -> None:
    settings.AUTOCOLLECT_WEBHOOK_SECRET = SECRET
    settings.TASKS = {"default": {"BACKEND": "django.tasks.backends.immediate.ImmediateBackend"}}


@pytest.fixture
def webhook_log(caplog: pytest.LogCaptureFixture) -> Iterator[pytest.LogCaptureFixture]:
    log = logging.getLogger("triage")
    log.addHandler(caplog.handler)
    caplog.set_level(logging.DEBUG, logger="triage")
    yield caplog
    log.removeHandler(caplog.handler)


def _envelope(event_type: str, data: dict[str, Any], **overrides: Any) -> dict[str, Any]:
    return {
        "id": str(uuid.uuid4()),
        "type": event_type,
        "source": "COLLECTION",
        "timeStamp": timezone.now().isoformat(),
        "data": data,
        **overrides,
    }


def _post(
    client: Client,
    body: bytes | dict[str, Any],
    *,
    secret: str = SECRET,
    key: str | None = None,
    signature: str | None = None,
) -> Any:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    headers = {
        "X-Webhook-Signature": signature
        if signature is not None
        else hmac.new(secret.encode(), raw, hashlib.sha256).hexdigest()
    }
    if key is not None:
        headers["IdempotencyKey"] = key
    return client.post(URL, raw, content_type="application/json", headers=headers)


@pytest.fixture
def indexed_case(org_a: Organization, sandbox_a: SandboxOrganization) -> CaseSummary:
    case = add_case(sandbox_a, 5001, sub_status="DEBT_COLLECTION_LIST_MANUAL")
    add_debtor(case)
    sync.full_refresh(org_a)
    return CaseSummary.objects.get(case_number=5001)


def _case_event(org: Organization, case_number: int = 5001, **data: Any) -> dict[str, Any]:
    return _envelope(
        "CASE_UPDATED",
        {"orgId": str(org.amili_id), "caseNumber": case_number, "fields": ["status"], **data},
    )


def test_a_signed_case_event_rereads_the_case_into_the_index(
    client: Client, org_a: Organization, indexed_case: CaseSummary
) -> None:
    from sandbox.models import Case

    Case.objects.filter(case_number=5001).update(status="PAUSED")

    response = _post(client, _case_event(org_a))

    assert response.status_code == 202
    assert response.json() == {"status": "accepted"}
    indexed_case.refresh_from_db()
    assert indexed_case.status == "PAUSED"


def test_the_event_is_only_a_hint_the_case_is_read_from_the_upstream(
    client: Client, org_a: Organization, indexed_case: CaseSummary
) -> None:
    _post(client, _case_event(org_a, status="WITHDRAWN", type="LEGAL_COLLECTION"))

    indexed_case.refresh_from_db()
    assert (indexed_case.status, indexed_case.type) == ("OPEN", "DEBT_COLLECTION")


@pytest.mark.parametrize(
    "signature",
    ["", "0" * 64, "not hex at all", "sha256=" + "a" * 64, "é" * 10],
    ids=["missing", "zeros", "garbage", "prefixed-wrong", "non-ascii"],
)
def test_a_bad_signature_is_401_and_changes_nothing(
    client: Client,
    org_a: Organization,
    indexed_case: CaseSummary,
    sandbox_upstream: RecordingTransport,
    signature: str,
) -> None:
    from sandbox.models import Case

    Case.objects.filter(case_number=5001).update(status="PAUSED")
    sandbox_upstream.requests.clear()

    response = _post(client, _case_event(org_a), signature=signature)

    assert response.status_code == 401
    assert not WebhookEvent.objects.exists()
    assert not sandbox_upstream.requests
    indexed_case.refresh_from_db()
    assert indexed_case.status == "OPEN"


def test_a_body_signed_with_another_secret_is_401(client: Client, org_a: Organization) -> None:
    assert _post(client, _case_event(org_a), secret="guess").status_code == 401


def test_the_signature_may_carry_the_algorithms_prefix(
    client: Client, org_a: Organization, indexed_case: CaseSummary
) -> None:
    raw = json.dumps(_case_event(org_a)).encode()
    signature = "sha256=" + hmac.new(SECRET.encode(), raw, hashlib.sha256).hexdigest().upper()
    assert _post(client, raw, signature=signature).status_code == 202


def test_a_second_delivery_with_the_same_key_does_nothing(
    client: Client,
    org_a: Organization,
    indexed_case: CaseSummary,
    sandbox_upstream: RecordingTransport,
) -> None:
    event = _case_event(org_a)
    assert _post(client, event, key="evt-1").status_code == 202
    sandbox_upstream.requests.clear()

    again = _post(client, event, key="evt-1")
    replay_with_a_new_id = _post(client, {**event, "id": "other"}, key="evt-1")

    assert again.status_code == replay_with_a_new_id.status_code == 200
    assert again.json() == {"status": "duplicate"}
    assert not sandbox_upstream.requests
    assert WebhookEvent.objects.count() == 1


def test_the_envelope_id_is_the_key_when_the_header_is_missing(
    client: Client, org_a: Organization, indexed_case: CaseSummary
) -> None:
    event = _case_event(org_a)
    assert _post(client, event).status_code == 202
    assert _post(client, event).status_code == 200
    assert WebhookEvent.objects.get().idempotency_key == event["id"]


@pytest.mark.parametrize(
    ("moment", "why"),
    [
        (lambda: timezone.now() - timedelta(days=2), "too old"),
        (lambda: timezone.now() + timedelta(hours=1), "in the future"),
        (lambda: None, "timeStamp is missing"),
        (lambda: "yesterday", "timeStamp is missing"),
    ],
    ids=["stale", "future", "missing", "not-a-moment"],
)
def test_an_old_or_undated_event_is_refused_as_a_replay(
    client: Client, org_a: Organization, moment: Any, why: str
) -> None:
    value = moment()
    stamp = value.isoformat() if hasattr(value, "isoformat") else value
    response = _post(client, _case_event(org_a) | {"timeStamp": stamp})

    assert response.status_code == 400
    assert why in response.json()["status"]
    assert not WebhookEvent.objects.exists()


@pytest.mark.parametrize(
    "body",
    [b"not json", b"[1, 2]", b"\xff\xfe", b'{"type": "CASE"}'],
    ids=["not-json", "not-an-object", "not-utf8", "no-key-no-stamp"],
)
def test_signed_nonsense_is_a_400_never_a_500(client: Client, db: None, body: bytes) -> None:
    response = _post(client, body)
    assert response.status_code == 400
    assert not WebhookEvent.objects.exists()


def test_an_overlong_key_is_a_400(client: Client, org_a: Organization) -> None:
    assert _post(client, _case_event(org_a), key="k" * 256).status_code == 400


def test_an_oversized_body_is_refused_unread(client: Client, settings: Settings) -> None:
    settings.AUTOCOLLECT_WEBHOOK_MAX_BYTES = 1024
    response = _post(client, b"{" + b" " * 2000 + b"}")
    assert response.status_code == 413


def test_without_a_secret_the_endpoint_is_unavailable(
    client: Client, settings: Settings, org_a: Organization
) -> None:
    settings.AUTOCOLLECT_WEBHOOK_SECRET = ""
    assert _post(client, _case_event(org_a), secret="").status_code == 503


def test_only_post_is_allowed(client: Client) -> None:
    assert client.get(URL).status_code == 405


@pytest.mark.parametrize(
    "data",
    [
        {"orgId": "00000000-0000-4000-8000-000000000000", "caseNumber": 5001},
        {"orgId": "not a uuid", "caseNumber": 5001},
        {"caseNumber": 5001},
    ],
    ids=["unknown-org", "bad-org", "no-org"],
)
def test_an_event_about_no_organisation_of_ours_is_acknowledged_and_ignored(
    client: Client, sandbox_upstream: RecordingTransport, data: dict[str, Any]
) -> None:
    response = _post(client, _envelope("CASE_UPDATED", data))

    assert response.status_code == 202
    assert not sandbox_upstream.requests


def test_unknown_event_types_are_acknowledged_and_ignored(
    client: Client, org_a: Organization, sandbox_upstream: RecordingTransport
) -> None:
    event = _envelope("SETTLEMENT_CREATED", {"orgId": str(org_a.amili_id)})
    assert _post(client, event).status_code == 202
    assert not sandbox_upstream.requests


def test_a_case_event_for_a_case_the_index_has_not_seen_adds_it(
    client: Client, org_a: Organization, indexed_case: CaseSummary, sandbox_a: SandboxOrganization
) -> None:
    new = add_case(sandbox_a, 5002)

    _post(client, _envelope("CASE", {"orgId": str(org_a.amili_id), "caseId": str(new.id)}))

    assert CaseSummary.objects.filter(case_number=5002).exists()


def test_the_webhook_never_reveals_data_even_to_a_logged_in_member(
    client: Client, org_a: Organization, indexed_case: CaseSummary
) -> None:
    client.force_login(make_member(org_a, Role.ADMIN))

    for response in (
        _post(client, _case_event(org_a)),
        _post(client, _case_event(org_a)),  # the duplicate
        _post(client, _case_event(org_a), signature="bad"),
        client.get(URL),
    ):
        text = response.content.decode()
        assert "5001" not in text
        assert "Kari" not in text
        assert "K-1001" not in text
        assert len(text) < 60


def test_the_body_is_never_logged(
    client: Client, org_a: Organization, indexed_case: CaseSummary, webhook_log: Any
) -> None:
    marker = "Kari-Nordmann-secret-marker"
    _post(client, _case_event(org_a, note=marker))
    _post(client, _case_event(org_a, note=marker), signature="bad")
    _post(client, b'{"note": "' + marker.encode() + b'"}')
    _post(client, _envelope(f"EVIL\n{marker}", {"orgId": str(org_a.amili_id)}))

    assert webhook_log.records
    assert marker not in webhook_log.text
    assert "\nEVIL" not in webhook_log.text


# --- The sandbox's side and the whole loop --------------------------------------------------


@pytest.fixture
def sandbox_posts_here(
    client: Client, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> list[Any]:
    """The sandbox sends its webhooks to this dashboard, through the test client, at once."""
    settings.SANDBOX_WEBHOOK_URL = "http://testserver" + URL
    settings.SANDBOX_WEBHOOK_SECRET = SECRET
    answers: list[Any] = []

    def deliver(webhook: sandbox_webhooks.OutgoingWebhook) -> None:
        answers.append(
            Client().post(
                URL, webhook.body, content_type="application/json", headers=webhook.headers
            )
        )

    monkeypatch.setattr(sandbox_webhooks, "deliver", deliver)
    return answers


def test_a_sandbox_action_reaches_the_index_through_a_webhook(
    org_a: Organization,
    sandbox_a: SandboxOrganization,
    sandbox_upstream: RecordingTransport,
    sandbox_posts_here: list[Any],
    django_capture_on_commit_callbacks: Any,
) -> None:
    from cases import autocollect

    case = add_case(sandbox_a, 5001, sub_status="DEBT_COLLECTION_LIST_MANUAL")
    sync.full_refresh(org_a)

    # The sandbox sends once its change is committed: here, when the block ends.
    with django_capture_on_commit_callbacks(execute=True):
        autocollect.perform_case_action(
            organization_id=org_a.amili_id,
            case_id=str(case.id),
            action=autocollect.CaseAction.ACCEPT_DEBT_COLLECTION_LIST,
            idempotency_key="loop-1",
        )
        assert not sandbox_posts_here

    assert [answer.status_code for answer in sandbox_posts_here] == [202, 202]
    row = CaseSummary.objects.get(case_number=5001)
    assert (row.type, row.sub_status, row.waiting_since) == ("DEBT_COLLECTION", "NONE", None)
    assert set(WebhookEvent.objects.values_list("event_type", flat=True)) == {
        "CASE_UPDATED",
        "BATCH_COMPLETED",
    }


def test_a_case_new_in_the_sandbox_reaches_the_index_through_a_case_event(
    org_a: Organization,
    sandbox_a: SandboxOrganization,
    sandbox_upstream: RecordingTransport,
    sandbox_posts_here: list[Any],
    django_capture_on_commit_callbacks: Any,
) -> None:
    add_case(sandbox_a, 5001)
    sync.full_refresh(org_a)

    with django_capture_on_commit_callbacks(execute=True):
        (new,) = add_new_cases(sandbox_a.id, 1, seed=3)

    assert [answer.status_code for answer in sandbox_posts_here] == [202]
    assert list(WebhookEvent.objects.values_list("event_type", flat=True)) == ["CASE"]
    row = CaseSummary.objects.get(organization=org_a, case_id=str(new.id))
    assert (row.case_number, row.status) == (new.case_number, "OPEN")


def test_seeding_sends_no_events(
    org_a: Organization, sandbox_posts_here: list[Any], django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        seed_organization(uuid.uuid4(), "Seeded AS", cases=20, seed=3)
    assert sandbox_posts_here == []


def test_the_seed_command_adds_cases_to_a_seeded_organisation_and_says_what_it_sent(
    org_a: Organization, sandbox_a: SandboxOrganization, sandbox_posts_here: list[Any]
) -> None:
    output = io.StringIO()
    call_command("seed_sandbox", "--org", f"{sandbox_a.id}=Any", "--add-cases", "2", stdout=output)
    assert "CASE events sent" in output.getvalue()
    assert SandboxCase.objects.filter(organization=sandbox_a).count() == 2
    with pytest.raises(CommandError, match="seed it first"):
        call_command("seed_sandbox", "--org", f"{uuid.uuid4()}=Nobody", "--add-cases", "1")


def test_the_sandbox_sends_nothing_unless_url_and_secret_are_set(
    org_a: Organization, sandbox_a: SandboxOrganization, settings: Settings
) -> None:
    settings.SANDBOX_WEBHOOK_URL = "http://127.0.0.1:9/"
    settings.SANDBOX_WEBHOOK_SECRET = ""
    assert not sandbox_webhooks.is_configured()


def test_the_sandboxs_signature_is_what_the_dashboard_checks() -> None:
    webhook = sandbox_webhooks.signed("CASE", {"caseNumber": 1}, url="http://x/", secret="s")
    expected = hmac.new(b"s", webhook.body, hashlib.sha256).hexdigest()
    assert webhook.headers["X-Webhook-Signature"] == expected
    envelope = json.loads(webhook.body)
    assert webhook.headers["IdempotencyKey"] == envelope["id"]
    assert envelope["type"] == envelope["eventType"] == webhook.headers["X-Amili-Event"] == "CASE"
    assert envelope["timeStamp"].endswith("Z")


@pytest.mark.django_db(transaction=True)  # commits as the command's own process does
def test_the_seed_command_delivers_its_events_before_it_ends(
    sandbox_a: SandboxOrganization, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A command's process ends as soon as it returns: events sent from a daemon thread, as the
    sandbox's server sends them, would die with it unsent."""
    settings.SANDBOX_WEBHOOK_URL = "http://127.0.0.1:9/webhooks/autocollect/"
    settings.SANDBOX_WEBHOOK_SECRET = SECRET
    posted: list[str] = []
    monkeypatch.setattr(
        sandbox_webhooks, "_post", lambda webhook: posted.append(threading.current_thread().name)
    )

    call_command("seed_sandbox", "--org", f"{sandbox_a.id}=Any", "--add-cases", "2")

    assert posted == [threading.current_thread().name] * 2  # here, not in another thread
    assert sandbox_webhooks.deliver is not sandbox_webhooks._post  # the server's way again
