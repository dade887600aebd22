"""The sandbox's webhooks: it tells a subscriber when a case changes or a batch completes.

Sent only when SANDBOX_WEBHOOK_URL and SANDBOX_WEBHOOK_SECRET are both set, after the change is
committed (a receiver that re-reads at once must see it), from a short-lived thread with a short
timeout, so the sandbox's own answer never waits on the subscriber. The sandbox stands in for an
outside API: it knows the wire format (docs/autocollect-api.md, section 8) and nothing of the
dashboard's code. One attempt per event; a failure is logged without the body.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import json
import logging
import threading
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, Final

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from sandbox.models import Batch, Case

logger = logging.getLogger("sandbox.webhooks")

TIMEOUT_SECONDS: Final = 3.0
SOURCE: Final = "COLLECTION"


@dataclass(frozen=True, slots=True)
class OutgoingWebhook:
    url: str
    body: bytes
    headers: dict[str, str]


def _post(webhook: OutgoingWebhook) -> None:
    """Deliver one webhook over HTTP (urllib: the sandbox shares no code with the client)."""
    request = urllib.request.Request(  # noqa: S310 - the URL is the operator's setting
        webhook.url, data=webhook.body, headers=webhook.headers, method="POST"
    )
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as answer:  # noqa: S310
            answer.read(1024)
    except urllib.error.HTTPError as error:
        logger.warning("sandbox webhook answered %s", error.code)
    except (urllib.error.URLError, TimeoutError, OSError) as error:
        logger.warning("sandbox webhook not delivered: %s", type(error).__name__)


# Tests replace this to deliver in-process and at once; the default sends from a thread.
Deliver = Callable[[OutgoingWebhook], None]


def _in_a_thread(webhook: OutgoingWebhook) -> None:
    threading.Thread(target=_post, args=(webhook,), daemon=True, name="sandbox-webhook").start()


deliver: Deliver = _in_a_thread


@contextlib.contextmanager
def delivered_at_once() -> Iterator[None]:
    """Deliver the events of the block before it ends, not from a thread.

    For a command: its process would end before a daemon thread had posted anything.
    """
    global deliver  # the module's one switch, as the tests use it
    previous, deliver = deliver, _post
    try:
        yield
    finally:
        deliver = previous


def case_updated(case: Case, fields: list[str]) -> None:
    """CASE_UPDATED: the case's status, type or amounts changed."""
    _send("CASE_UPDATED", {**_case_data(case), "fields": fields})


def case_created(case: Case) -> None:
    """CASE: a new case was registered."""
    _send("CASE", _case_data(case))


def batch_completed(batch: Batch) -> None:
    """BATCH_COMPLETED: a batch reached SUCCESS, PARTIAL or FAILED."""
    _send(
        "BATCH_COMPLETED",
        {
            "batchId": str(batch.id),
            "organizationId": str(batch.organization_id),
            "status": batch.status,
        },
    )


def is_configured() -> bool:
    return bool(settings.SANDBOX_WEBHOOK_URL and settings.SANDBOX_WEBHOOK_SECRET)


def signed(event_type: str, data: dict[str, Any], *, url: str, secret: str) -> OutgoingWebhook:
    """One event in the contract's envelope, with its headers and signature."""
    event_id = str(uuid.uuid4())
    envelope = {
        "id": event_id,
        "type": event_type,
        "eventType": event_type,
        "source": SOURCE,
        "timeStamp": timezone.now().isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        "data": data,
    }
    body = json.dumps(envelope, separators=(",", ":")).encode()
    signature = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    headers = {
        "Content-Type": "application/json",
        "X-Amili-Event": event_type,
        "IdempotencyKey": event_id,
        "X-Amili-Request-Id": str(uuid.uuid4()),
        "X-Webhook-Signature": signature,
    }
    return OutgoingWebhook(url=url, body=body, headers=headers)


def _send(event_type: str, data: dict[str, Any]) -> None:
    if not is_configured():
        return
    webhook = signed(
        event_type,
        data,
        url=str(settings.SANDBOX_WEBHOOK_URL),
        secret=str(settings.SANDBOX_WEBHOOK_SECRET),
    )
    # `deliver` is looked up when the transaction commits, so a test's replacement applies.
    transaction.on_commit(lambda: deliver(webhook))


def _case_data(case: Case) -> dict[str, Any]:
    return {
        "orgId": str(case.organization_id),
        "caseId": str(case.id),
        "caseNumber": case.case_number,
        "type": case.type,
        "status": case.status,
        "invoices": [
            {"invoiceId": str(invoice.id), "invoiceNumber": invoice.invoice_number}
            for invoice in case.invoices.all()
        ],
    }
