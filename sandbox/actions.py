"""Case actions as asynchronous batches, their transitions, and Idempotency-Key replay.

An action is checked when it is requested (409 if the case cannot make that move), queued as a
batch, and applied when the batch falls due: at once by default, or SANDBOX_BATCH_DELAY_MS later.
Due batches are applied lazily whenever the organisation's data is read, so no worker is needed.
Applying re-checks the move, because another batch may have changed the case meanwhile; a move
that is no longer possible fails the batch instead.
"""

import hashlib
import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from sandbox import webhooks
from sandbox.models import (
    Batch,
    BatchStatus,
    Case,
    CaseStatus,
    CaseSubStatus,
    CaseType,
    IdempotencyRecord,
)

FINISHED_STATUSES = (CaseStatus.CLOSED, CaseStatus.WITHDRAWN)


@dataclass(frozen=True)
class Action:
    """One case action: its URL segment, batch type, precondition and effect."""

    slug: str
    batch_type: str
    refusal: Callable[[Case], str | None]  # why the case cannot take this action, or None
    apply: Callable[[Case, datetime], None]


class ActionRefused(Exception):
    """The case's state does not allow the action (409)."""


class IdempotencyMismatch(Exception):
    """The Idempotency-Key was first used with another request (422)."""


def _needs_status(*allowed: CaseStatus) -> Callable[[Case], str | None]:
    def refusal(case: Case) -> str | None:
        if case.status in allowed:
            return None
        needed = " or ".join(allowed)
        return (
            f"Case {case.case_number} is {case.status}; this action needs a case that is {needed}."
        )

    return refusal


def _needs_sub_status(waiting_on: CaseSubStatus, decision: str) -> Callable[[Case], str | None]:
    def refusal(case: Case) -> str | None:
        if case.status in FINISHED_STATUSES:
            return f"Case {case.case_number} is {case.status}; it waits on no {decision} decision."
        if case.sub_status != waiting_on:
            return (
                f"Case {case.case_number} is not waiting on a {decision} decision "
                f"(its subStatus is {case.sub_status}, not {waiting_on})."
            )
        return None

    return refusal


def _pause(case: Case, now: datetime) -> None:
    case.status = CaseStatus.PAUSED


def _resume(case: Case, now: datetime) -> None:
    case.status = CaseStatus.OPEN


def _withdraw(case: Case, now: datetime) -> None:
    case.status, case.sub_status, case.closed_at = CaseStatus.WITHDRAWN, CaseSubStatus.NONE, now


def _accept_debt_collection_list(case: Case, now: datetime) -> None:
    case.type, case.sub_status = CaseType.DEBT_COLLECTION, CaseSubStatus.NONE


def _reject_debt_collection_list(case: Case, now: datetime) -> None:
    case.status, case.sub_status, case.closed_at = CaseStatus.CLOSED, CaseSubStatus.NONE, now


def _accept_eviction_request(case: Case, now: datetime) -> None:
    case.sub_status = CaseSubStatus.EVICTION_CONFIRMATION_MANUAL  # now it waits for confirmation


def _clear_sub_status(case: Case, now: datetime) -> None:
    case.sub_status = CaseSubStatus.NONE


def _accept_eviction_confirmation(case: Case, now: datetime) -> None:
    case.type, case.sub_status = CaseType.LEGAL_COLLECTION, CaseSubStatus.NONE


_DEBT_LIST = _needs_sub_status(CaseSubStatus.DEBT_COLLECTION_LIST_MANUAL, "debt-collection-list")
_EVICTION_REQUEST = _needs_sub_status(CaseSubStatus.EVICTION_REQUEST_MANUAL, "eviction-request")
_EVICTION_CONFIRMATION = _needs_sub_status(
    CaseSubStatus.EVICTION_CONFIRMATION_MANUAL, "eviction-confirmation"
)

ACTIONS: dict[str, Action] = {
    action.slug: action
    for action in [
        Action("pause", "PAUSE_CASE", _needs_status(CaseStatus.OPEN), _pause),
        Action("resume", "RESUME_CASE", _needs_status(CaseStatus.PAUSED), _resume),
        Action(
            "withdraw",
            "WITHDRAW_CASE",
            _needs_status(CaseStatus.OPEN, CaseStatus.PAUSED),
            _withdraw,
        ),
        Action(
            "debt-collection-list/accept",
            "ACCEPT_DEBT_COLLECTION_LIST",
            _DEBT_LIST,
            _accept_debt_collection_list,
        ),
        Action(
            "debt-collection-list/reject",
            "REJECT_DEBT_COLLECTION_LIST",
            _DEBT_LIST,
            _reject_debt_collection_list,
        ),
        Action(
            "eviction-request/accept",
            "ACCEPT_EVICTION_REQUEST",
            _EVICTION_REQUEST,
            _accept_eviction_request,
        ),
        Action(
            "eviction-request/reject",
            "REJECT_EVICTION_REQUEST",
            _EVICTION_REQUEST,
            _clear_sub_status,
        ),
        Action(
            "eviction-confirmation/accept",
            "ACCEPT_EVICTION_CONFIRMATION",
            _EVICTION_CONFIRMATION,
            _accept_eviction_confirmation,
        ),
        Action(
            "eviction-confirmation/reject",
            "REJECT_EVICTION_CONFIRMATION",
            _EVICTION_CONFIRMATION,
            _clear_sub_status,
        ),
    ]
}


def queue_action(*, case: Case, action: Action, reason: str, created_by: str) -> Batch:
    """Check and queue `action` on `case`; apply it at once unless a batch delay is set."""
    why = action.refusal(case)
    if why:
        raise ActionRefused(why)
    now = timezone.now()
    delay_ms = int(getattr(settings, "SANDBOX_BATCH_DELAY_MS", 0) or 0)
    batch = Batch.objects.create(
        organization_id=case.organization_id,
        case=case,
        action=action.slug,
        type=action.batch_type,
        reason=reason,
        created_at=now,
        due_at=now + timedelta(milliseconds=max(delay_ms, 0)),
        created_by=created_by,
    )
    if delay_ms <= 0:
        _apply(batch)
    return batch


def apply_due_batches(organization_id: uuid.UUID) -> None:
    """Finish every queued batch of the organisation whose time has come, oldest first."""
    due = Batch.objects.filter(
        organization_id=organization_id, status=BatchStatus.QUEUED, due_at__lte=timezone.now()
    ).order_by("due_at", "created_at")
    if not due.exists():
        return
    with transaction.atomic():
        for batch in due.select_for_update(skip_locked=True):
            _apply(batch)


def _apply(batch: Batch) -> None:
    """Apply one batch's action to its case, or fail the batch if the case moved on."""
    with transaction.atomic():
        case = Case.objects.select_for_update().get(pk=batch.case_id)
        action = ACTIONS[batch.action]
        outcome = {"caseId": str(case.id), "caseNumber": case.case_number}
        why = action.refusal(case)
        if why:
            batch.status, batch.failed = BatchStatus.FAILED, [{**outcome, "error": why}]
        else:
            before = (case.status, case.sub_status, case.type)
            action.apply(case, batch.due_at)
            case.save(update_fields=["status", "sub_status", "type", "closed_at"])
            batch.status, batch.succeeded = BatchStatus.SUCCESS, [outcome]
            webhooks.case_updated(case, _changed_fields(before, case))
        batch.finished_at = batch.due_at
        batch.save(update_fields=["status", "succeeded", "failed", "finished_at"])
        webhooks.batch_completed(batch)  # sent once the transaction commits


def _changed_fields(before: tuple[str, str, str], case: Case) -> list[str]:
    """The contract's CASE_UPDATED `fields`: a sub-status change counts as `status`."""
    status, sub_status, case_type = before
    fields = []
    if (status, sub_status) != (case.status, case.sub_status):
        fields.append("status")
    if case_type != case.type:
        fields.append("type")
    return fields


# --- Idempotency ---------------------------------------------------------------------------------


def request_fingerprint(path: str, body: object) -> str:
    """The same action on the same case with the same JSON body (keys in any order) matches."""
    canonical = json.dumps([path, body], sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def find_replay(organization_id: uuid.UUID, key: str, fingerprint: str) -> IdempotencyRecord | None:
    """The first answer under `key`, if any; IdempotencyMismatch if it answered another request."""
    record = IdempotencyRecord.objects.filter(organization_id=organization_id, key=key).first()
    if record is not None and record.fingerprint != fingerprint:
        raise IdempotencyMismatch(
            "This Idempotency-Key was already used with a different request body or case."
        )
    return record


def remember_answer(
    organization_id: uuid.UUID, key: str, fingerprint: str, status_code: int, body: object
) -> None:
    IdempotencyRecord.objects.create(
        organization_id=organization_id,
        key=key,
        fingerprint=fingerprint,
        status_code=status_code,
        body=body,
    )
