"""`POST /webhooks/autocollect/`: the upstream tells us a case or a batch changed.

Machine to machine: no login, no organisation, no CSRF token; the shared secret's signature is
the authentication. The answer never carries data: a status word at most. What arrives is only a
hint, never believed as data: an accepted event makes a task re-read the case from the upstream.

- body over AUTOCOLLECT_WEBHOOK_MAX_BYTES: 413, unread;
- no secret configured: 503 (the upstream retries later; the scheduled refresh still runs);
- a missing or wrong signature: 401, nothing changes and nothing is recorded;
- signed but unusable (not JSON, no idempotency key, no or a stale timeStamp): 400;
- a key seen before: 200 "duplicate", nothing done twice;
- otherwise 202 "accepted", whether or not the event concerns an organisation of ours (the
  sender learns nothing about who uses the dashboard).
The body is never logged or stored.
"""

from __future__ import annotations

import hmac
import json
import logging
import uuid
from dataclasses import dataclass
from datetime import UTC, timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.db import IntegrityError, transaction
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from cases.autocollect.contract import (
    WEBHOOK_BATCH_COMPLETED,
    WEBHOOK_CASE_EVENTS,
    WEBHOOK_EVENT_HEADER,
    WEBHOOK_IDEMPOTENCY_HEADER,
    WEBHOOK_ORGANIZATION_FIELDS,
    WEBHOOK_SIGNATURE_ALGORITHM,
    WEBHOOK_SIGNATURE_HEADER,
    WEBHOOK_TYPE_FIELDS,
)
from dashboard.middleware import organization_not_required
from dashboard.models import Organization
from triage import tasks
from triage.models import WebhookEvent

logger = logging.getLogger("triage.webhooks")

MAX_KEY_LENGTH = WebhookEvent._meta.get_field("idempotency_key").max_length or 255
KNOWN_EVENTS = frozenset({*WEBHOOK_CASE_EVENTS, WEBHOOK_BATCH_COMPLETED})


class BadEvent(Exception):
    """A signed body the dashboard cannot use (400); the message names no value from it."""


@dataclass(frozen=True, slots=True)
class Event:
    key: str
    type: str
    organization_id: uuid.UUID | None
    data: dict[str, Any]


@never_cache
@login_not_required
@organization_not_required
@csrf_exempt
@require_POST
def autocollect_webhook(request: HttpRequest) -> HttpResponse:
    """Verify, deduplicate and hand an upstream event to the workers."""
    secret = str(settings.AUTOCOLLECT_WEBHOOK_SECRET)
    if not secret:
        logger.warning("webhook refused: AUTOCOLLECT_WEBHOOK_SECRET is not set")
        return _answer(503, "webhooks are not configured")
    body = _bounded_body(request)
    if body is None:
        return _answer(413, "body too large")
    if not _signature_is_valid(body, request.headers.get(WEBHOOK_SIGNATURE_HEADER, ""), secret):
        logger.warning("webhook refused: bad or missing signature")
        return _answer(401, "bad signature")
    try:
        event = _parse_event(body, request.headers)
    except BadEvent as error:
        logger.warning("webhook refused: %s", error)
        return _answer(400, str(error))
    try:
        with transaction.atomic():
            WebhookEvent.objects.create(
                idempotency_key=event.key,
                event_type=event.type[:40],
                organization_id=event.organization_id,
                received_at=timezone.now(),
            )
            _dispatch(event)
    except IntegrityError:
        logger.info("webhook: duplicate %s ignored", _loggable_type(event.type))
        return _answer(200, "duplicate")
    logger.info("webhook: %s accepted", _loggable_type(event.type))
    return _answer(202, "accepted")


def _bounded_body(request: HttpRequest) -> bytes | None:
    """The raw body, or None when it is over the limit (refused before reading it all)."""
    limit = int(settings.AUTOCOLLECT_WEBHOOK_MAX_BYTES)
    try:
        declared = int(request.headers.get("Content-Length") or 0)
    except ValueError:
        declared = 0
    if declared > limit:
        return None
    body = request.read(limit + 1)
    return None if len(body) > limit else body


def _signature_is_valid(body: bytes, signature: str, secret: str) -> bool:
    expected = hmac.new(secret.encode(), body, WEBHOOK_SIGNATURE_ALGORITHM).hexdigest()
    # A sender may prefix the hex with the algorithm's name, as several webhook senders do.
    given = signature.strip().lower().removeprefix(f"{WEBHOOK_SIGNATURE_ALGORITHM}=")
    return hmac.compare_digest(expected.encode(), given.encode("ascii", "replace"))


def _parse_event(body: bytes, headers: Any) -> Event:
    try:
        envelope = json.loads(body)
    except (ValueError, UnicodeDecodeError) as error:
        raise BadEvent("body is not JSON") from error
    if not isinstance(envelope, dict):
        raise BadEvent("body is not a JSON object")
    key = str(headers.get(WEBHOOK_IDEMPOTENCY_HEADER) or envelope.get("id") or "").strip()
    if not key or len(key) > MAX_KEY_LENGTH:
        raise BadEvent(f"an idempotency key of 1 to {MAX_KEY_LENGTH} characters is required")
    _check_freshness(envelope.get("timeStamp"))
    event_type = (
        str(
            headers.get(WEBHOOK_EVENT_HEADER)
            or next((envelope[f] for f in WEBHOOK_TYPE_FIELDS if envelope.get(f)), "")
        )
        .strip()
        .upper()
    )
    if not event_type:
        raise BadEvent("the event type is missing")
    data = envelope.get("data")
    if not isinstance(data, dict):
        data = {}
    return Event(key=key, type=event_type, organization_id=_organization_id(data), data=data)


def _check_freshness(stamp: object) -> None:
    """An event older than the idempotency keys' memory, or from the future, is a replay."""
    moment = parse_datetime(stamp) if isinstance(stamp, str) else None
    if moment is None:
        raise BadEvent("timeStamp is missing or not an ISO-8601 moment")
    if timezone.is_naive(moment):
        moment = moment.replace(tzinfo=UTC)  # the contract's moments are UTC
    now = timezone.now()
    if moment < now - timedelta(seconds=settings.AUTOCOLLECT_WEBHOOK_MAX_AGE):
        raise BadEvent("the event is too old")
    if moment > now + timedelta(seconds=settings.AUTOCOLLECT_WEBHOOK_MAX_SKEW):
        raise BadEvent("the event's timeStamp is in the future")


def _organization_id(data: dict[str, Any]) -> uuid.UUID | None:
    for field in WEBHOOK_ORGANIZATION_FIELDS:
        try:
            return uuid.UUID(str(data[field]))
        except (KeyError, ValueError):
            continue
    return None


def _dispatch(event: Event) -> None:
    """Enqueue the re-read the event calls for; events about no organisation of ours do nothing.

    Runs inside the transaction that records the key, so with the database backend the task
    exists exactly when the key does.
    """
    if event.type not in KNOWN_EVENTS or event.organization_id is None:
        return
    organization = Organization.objects.filter(amili_id=event.organization_id).first()
    if organization is None:
        return
    # Pages read after this point must not be served from a cache older than the event.
    tasks.forget_upstream_reads(organization)
    if event.type == WEBHOOK_BATCH_COMPLETED:
        batch_id = str(event.data.get("batchId") or "")
        if batch_id:
            tasks.refresh_cases_of_batch.enqueue(organization.pk, batch_id)
        return
    case_number = _case_number(event.data.get("caseNumber"))
    if case_number is not None:
        tasks.refresh_indexed_cases.enqueue(organization.pk, [case_number])
    elif case_id := str(event.data.get("caseId") or ""):
        tasks.refresh_cases_by_id.enqueue(organization.pk, [case_id[:100]])


def _case_number(value: object) -> int | None:
    if isinstance(value, bool):
        return None
    try:
        number = int(str(value))
    except ValueError:
        return None
    return number if 1 <= number <= 2**62 else None


def _loggable_type(event_type: str) -> str:
    """Only names we know reach the log: a sender's text cannot forge a log line."""
    return event_type if event_type in KNOWN_EVENTS else "other event"


def _answer(status: int, word: str) -> JsonResponse:
    return JsonResponse({"status": word}, status=status)
