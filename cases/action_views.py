"""Case actions: the confirmation step, the action itself, and following its batch.

``/cases/<number>/actions/<action>/``
    GET renders the confirmation: the case, the action, its consequence in words, a reason
    (a code from a fixed list, and free text that withdraw and reject require), and hidden fields
    naming the organisation the page was rendered for, the case's state as shown, and an
    idempotency key made for this form. POST performs it.
``/cases/<number>/actions/batches/<batch id>/``
    How the action's batch is going: "pending" (htmx polls it), then the case's new state.

Both answer the whole page, or for htmx the partial rooted at ``#action-panel`` (or
``#batch-status``): the case page and the triage queues open the confirmation in place by
hx-getting the URL into their own ``<div id="action-panel">``.

Sending an action, in order; nothing reaches the upstream before the checks that can refuse it:
1. only agents and administrators (403 for a viewer, whatever the request);
2. the form: valid fields, and the organisation it was rendered for is the session's current one
   (two tabs, one switched: refused with a reload link);
3. a form already posted (same idempotency key) whose outcome is known shows that outcome again
   without sending; one that failed or never finished is sent again with the same key, and the
   upstream replays its first answer if it had one: a double click acts once;
4. on a first attempt, the case is re-read from the upstream (past any read cache); if its state
   no longer allows the action, nothing is sent and the person is told what changed;
5. the action is sent with the form's idempotency key; the answer (accepted with its batch,
   refused with the upstream's reason, or failed with the form kept as it was) is recorded in the
   audit trail and shown in place.

Events for the page around the panel (``HX-Trigger``, each with
``{"caseNumber": n, "action": slug, "outcome": ...}``): ``caseDecided`` when the upstream accepted
the action (a queue moves on to its next case), ``caseActionRefused`` when it was refused or
stale, ``caseActionFinished`` when its batch has finished.
"""

import logging
import re
import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Final, cast

from django import forms
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.http import Http404, HttpResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_safe
from django.views.decorators.vary import vary_on_headers
from django_htmx.http import trigger_client_event

from cases import autocollect, links
from cases.actions import ACTIONS, REASON_TEXT_MAX_LENGTH, ActionSpec, state_words
from cases.models import AuditEntry, AuditKind, Outcome
from cases.upstream_errors import describe_upstream_error, upstream_error_response, with_retry_after
from dashboard.htmx import render_page
from dashboard.http import OrganizationRequest

logger = logging.getLogger(__name__)

TEMPLATE: Final = "cases/action_confirm.html"
PANEL_ID: Final = "action-panel"
BATCH_STATUS_ID: Final = "batch-status"
PANEL_PARTIALS: Final = {PANEL_ID: "panel"}
BATCH_PARTIALS: Final = {BATCH_STATUS_ID: "batch_status"}

# Batch ids the batch-status URL can carry as one path segment (the sandbox's are UUIDs); for
# another the panel shows the reference without following it.
BATCH_ID_PATTERN: Final = r"[A-Za-z0-9._~-]{1,100}"
_BATCH_ID: Final = re.compile(BATCH_ID_PATTERN)

# After this long a batch still running stops being polled by itself; a button asks again.
BATCH_POLL_LIMIT: Final = timedelta(minutes=2)
BATCH_FINISHED_STATUSES: Final = frozenset({"SUCCESS", "PARTIAL", "FAILED"})
# Upstream statuses that refuse this form for good (a new form, with a new key, may succeed);
# anything else that is not a 2xx may pass and is "failed": the same form can be sent again.
RETRYABLE_REFUSALS: Final = frozenset({423})

DECIDED_EVENT: Final = "caseDecided"
REFUSED_EVENT: Final = "caseActionRefused"
FINISHED_EVENT: Final = "caseActionFinished"


# --------------------------------------------------------------------------------------------
# The form
# --------------------------------------------------------------------------------------------


class ActionForm(forms.Form):
    """The confirmation's fields; the reasons offered are the action's own."""

    organization = forms.IntegerField(widget=forms.HiddenInput, min_value=1, max_value=2**63 - 1)
    idempotency_key = forms.UUIDField(widget=forms.HiddenInput)
    seen_state = forms.CharField(widget=forms.HiddenInput, required=False, max_length=80)
    reason_code = forms.ChoiceField(label=_("Reason"))
    reason_text = forms.CharField(
        label=_("Explanation"),
        required=False,
        max_length=REASON_TEXT_MAX_LENGTH,
        strip=True,
        widget=forms.Textarea(attrs={"rows": 3, "maxlength": REASON_TEXT_MAX_LENGTH}),
    )

    def __init__(self, spec: ActionSpec, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.spec = spec
        code = cast(forms.ChoiceField, self.fields["reason_code"])
        code.choices = [("", _("Choose a reason")), *((r.code, r.label) for r in spec.reasons)]
        if not spec.default_reason:
            code.widget.attrs["data-autofocus"] = ""  # a choice to make: start there
        explanation = self.fields["reason_text"]
        if spec.needs_explanation:
            explanation.required = True
            explanation.widget.attrs["required"] = True
            explanation.help_text = _("Required: say why, for whoever reads the case later.")
        else:
            explanation.help_text = _("Optional, unless the reason is Other.")

    def clean(self) -> dict[str, Any] | None:
        data = super().clean()
        if data and data.get("reason_code") == "OTHER" and not data.get("reason_text"):
            self.add_error("reason_text", _("Explain the reason when you choose Other."))
        return data

    def upstream_reason(self) -> str:
        """What the upstream gets as the reason: the code, then the explanation."""
        code, text = self.cleaned_data["reason_code"], self.cleaned_data["reason_text"]
        return f"{code}: {text}" if text else code

    def key(self) -> uuid.UUID:
        """The idempotency key the form was rendered with; call only after is_valid()."""
        key: uuid.UUID = self.cleaned_data["idempotency_key"]
        return key


def _new_form(request: OrganizationRequest, spec: ActionSpec, case: autocollect.Case) -> ActionForm:
    """A fresh confirmation: its own idempotency key, this organisation, the state as shown."""
    return ActionForm(
        spec,
        initial={
            "organization": request.organization.pk,
            "idempotency_key": uuid.uuid4(),
            "seen_state": state_words(case),
            "reason_code": spec.default_reason,
        },
    )


# --------------------------------------------------------------------------------------------
# What the panel shows
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Notice:
    """A message in the panel in place of, or above, the form."""

    tone: str  # "info", "warning", "error", "success": the alert's modifier
    title: str | Promise
    text: str | Promise = ""
    reload: bool = False  # offer a link that reloads the case page


def _panel(
    request: OrganizationRequest,
    spec: ActionSpec,
    case_number: int,
    *,
    case: autocollect.Case | None = None,
    form: ActionForm | None = None,
    entry: AuditEntry | None = None,
    notice: Notice | None = None,
    status: int = 200,
) -> HttpResponse:
    context = {
        "spec": spec,
        "case_number": case_number,
        "case_url": links.case_url(case_number),
        "case": case,
        "debtor_names": _debtor_names(case),
        "form": form,
        "entry": entry,
        "notice": notice,
        "batch_url": _batch_url(case_number, entry),
        "polling": entry is not None and _still_polling(entry),
    }
    return render_page(
        request, TEMPLATE, context, partials=PANEL_PARTIALS, default=PANEL_ID, status=status
    )


def _debtor_names(case: autocollect.Case | None) -> str:
    """Whom the case is against, so nobody acts on the wrong person's case."""
    if case is None:
        return ""
    return ", ".join(debtor.display_name or str(_("Unnamed debtor")) for debtor in case.debtors)


def _batch_url(case_number: int, entry: AuditEntry | None) -> str:
    return batch_status_url(case_number, entry.batch_id) if entry is not None else ""


def batch_status_url(case_number: int, batch_id: str) -> str:
    """Where a batch of this case is followed, or "" for an id no URL segment can carry."""
    if not _BATCH_ID.fullmatch(batch_id) or batch_id in {".", ".."}:
        return ""
    return reverse("cases:action_batch", args=[case_number, batch_id])


def _still_polling(entry: AuditEntry) -> bool:
    return (
        entry.outcome == Outcome.ACCEPTED
        and bool(entry.batch_id)
        and bool(_BATCH_ID.fullmatch(entry.batch_id))
        and timezone.now() - entry.created_at < BATCH_POLL_LIMIT
    )


# --------------------------------------------------------------------------------------------
# The confirmation and the action
# --------------------------------------------------------------------------------------------


@require_http_methods(["GET", "HEAD", "POST"])
@never_cache
@vary_on_headers("HX-Request", "HX-Target")
def action_confirm(request: OrganizationRequest, case_number: int, action: str) -> HttpResponse:
    """GET: confirm one action on one case. POST: perform it (see the module's docstring)."""
    if not request.membership.can_act:
        raise PermissionDenied("Only agents and administrators may act on cases")
    spec = ACTIONS.get(action)
    if spec is None:
        raise Http404("No such action")
    if request.method == "POST":
        return _post(request, spec, case_number)

    try:
        case = autocollect.get_case(
            organization_id=request.organization.amili_id, case_number=case_number
        )
    except autocollect.NotFound:
        raise Http404("No such case in this organisation") from None
    except autocollect.AutoCollectError as error:
        return upstream_error_response(request, error, target_id=PANEL_ID)
    if not spec.allows(case):
        notice = Notice(
            "info",
            _("This action is not available now"),
            _not_allowed_text(spec, case),
        )
        return _panel(request, spec, case_number, case=case, notice=notice)
    return _panel(request, spec, case_number, case=case, form=_new_form(request, spec, case))


def _post(request: OrganizationRequest, spec: ActionSpec, case_number: int) -> HttpResponse:
    form = ActionForm(spec, request.POST)
    if not form.is_valid():
        if form.has_error("organization") or form.has_error("idempotency_key"):
            notice = Notice(
                "error",
                _("This form is incomplete"),
                _("Nothing was sent. Reload the case and start again."),
                reload=True,
            )
            return _panel(request, spec, case_number, notice=notice, status=400)
        return _panel(request, spec, case_number, form=form, status=400)

    if form.cleaned_data["organization"] != request.organization.pk:
        # Another tab switched organisation since this form was rendered: the case number in
        # the URL belongs to the organisation the form was for, not necessarily this one.
        notice = Notice(
            "warning",
            _("You have switched organisation since this form was opened"),
            _(
                "Nothing was sent. The page was opened for another organisation than the one "
                "you are working in now (%(organization)s). Reload the page to act in it."
            )
            % {"organization": request.organization.name},
            reload=True,
        )
        return _panel(request, spec, case_number, notice=notice, status=409)

    entry = AuditEntry.objects.filter(
        organization=request.organization, idempotency_key=form.key()
    ).first()
    if entry is not None:
        return _post_again(request, spec, case_number, form, entry)
    return _first_attempt(request, spec, case_number, form)


def _post_again(
    request: OrganizationRequest,
    spec: ActionSpec,
    case_number: int,
    form: ActionForm,
    entry: AuditEntry,
) -> HttpResponse:
    """The same form posted again: its known outcome, or one more try with the same key."""
    if (
        entry.kind != AuditKind.ACTION
        or entry.case_number != case_number
        or entry.action != spec.slug
    ):
        notice = Notice(
            "error",
            _("This form was already used for another action"),
            _("Nothing was sent. Reload the case and start again."),
            reload=True,
        )
        return _panel(request, spec, case_number, notice=notice, status=400)
    if entry.is_settled_action:
        return _outcome_response(request, spec, case_number, form, entry)
    if not entry.case_id:
        # The earlier try failed before the case was re-read: nothing was sent, start over.
        return _first_attempt(request, spec, case_number, form, entry)
    # It was sent (or was being sent) and no answer is known: send it again under the same
    # key; the upstream answers as it did the first time, if there was a first time.
    return _send(request, spec, case_number, form, entry)


def _first_attempt(
    request: OrganizationRequest,
    spec: ActionSpec,
    case_number: int,
    form: ActionForm,
    entry: AuditEntry | None = None,
) -> HttpResponse:
    """Re-read the case, check the action still fits, record the attempt, send it.

    ``entry`` is the record of an earlier try of the same form that failed before anything was
    sent (the re-read itself failed): this try continues it.
    """
    if entry is None:
        entry = AuditEntry(
            organization=request.organization,
            user=request.user,
            username=request.user.get_username(),
            kind=AuditKind.ACTION,
            case_number=case_number,
            action=spec.slug,
            idempotency_key=form.key(),
        )
    entry.reason_code = form.cleaned_data["reason_code"]
    entry.reason_text = form.cleaned_data["reason_text"]
    try:
        case = _reread_case(request, case_number)
    except autocollect.NotFound:
        raise Http404("No such case in this organisation") from None
    except autocollect.AutoCollectError as error:
        # Nothing was sent; the form stays as it was, so trying again is one click.
        info = describe_upstream_error(error)
        entry.outcome = Outcome.FAILED
        entry.message = gettext("The case could not be re-read before sending: %(title)s.") % {
            "title": info.title
        }
        if _save_new(entry):
            notice = Notice(
                "error",
                info.title,
                gettext("Nothing was sent. %(advice)s") % {"advice": info.advice},
            )
            response = _panel(
                request, spec, case_number, form=form, notice=notice, status=info.status
            )
            return with_retry_after(response, info)
        return _follow_twin(request, spec, case_number, form)

    entry.case_id = case.case_id
    entry.state_before = state_words(case)
    entry.outcome = Outcome.PENDING
    if not spec.allows(case):
        entry.outcome = Outcome.STALE
        entry.message = _stale_text(spec, case, form.cleaned_data["seen_state"])
    if not _save_new(entry):
        return _follow_twin(request, spec, case_number, form)
    if entry.outcome == Outcome.STALE:
        return _outcome_response(request, spec, case_number, form, entry, case=case)
    return _send(request, spec, case_number, form, entry, case=case)


def _save_new(entry: AuditEntry) -> bool:
    """Save the attempt; False when a twin request recorded the same form a moment ago."""
    try:
        with transaction.atomic():
            entry.save()
    except IntegrityError:
        return False
    return True


def _follow_twin(
    request: OrganizationRequest,
    spec: ActionSpec,
    case_number: int,
    form: ActionForm,
) -> HttpResponse:
    """A double click's other request recorded this form first: answer as that one does."""
    twin = AuditEntry.objects.get(organization=request.organization, idempotency_key=form.key())
    return _post_again(request, spec, case_number, form, twin)


def _send(
    request: OrganizationRequest,
    spec: ActionSpec,
    case_number: int,
    form: ActionForm,
    entry: AuditEntry,
    *,
    case: autocollect.Case | None = None,
) -> HttpResponse:
    """Send the action under the form's key and record what the upstream answered."""
    entry.reason_code = form.cleaned_data["reason_code"]
    entry.reason_text = form.cleaned_data["reason_text"]
    failure_status = 503  # a refusal worth retrying (423): the upstream is busy, not gone
    try:
        receipt = autocollect.perform_case_action(
            organization_id=request.organization.amili_id,
            case_id=entry.case_id,
            action=spec.upstream,
            idempotency_key=str(entry.idempotency_key),
            reason=form.upstream_reason(),
        )
    except autocollect.Rejected as error:
        _record_refusal(entry, error)
    except (autocollect.NotFound, autocollect.AccessDenied) as error:
        entry.outcome = Outcome.REFUSED
        entry.upstream_status = 404 if isinstance(error, autocollect.NotFound) else 403
        entry.message = str(describe_upstream_error(error).explanation)
    except autocollect.AutoCollectError as error:
        info = describe_upstream_error(error)
        entry.outcome = Outcome.FAILED
        entry.message = f"{info.title}. {info.explanation}"
        failure_status = info.status
        # Class name only: the reason the person typed is in the request, never in a log.
        logger.warning("case action %s failed: upstream %s", spec.slug, type(error).__name__)
    else:
        entry.outcome = Outcome.ACCEPTED
        entry.upstream_status = 202
        entry.batch_id = receipt.batch_id
        entry.message = ""
        _forget_cached_reads(request)
    entry.save()
    return _outcome_response(
        request, spec, case_number, form, entry, case=case, failure_status=failure_status
    )


def _record_refusal(entry: AuditEntry, error: autocollect.Rejected) -> None:
    problem = error.problem
    entry.upstream_status = problem.status
    entry.trace_id = problem.trace_id[:100]
    entry.outcome = Outcome.FAILED if problem.status in RETRYABLE_REFUSALS else Outcome.REFUSED
    said = problem.detail or problem.title
    words = str(_refusal_words(problem.status))
    if said:
        words = gettext("%(words)s AutoCollect said: “%(said)s”") % {"words": words, "said": said}
    entry.message = words[: AuditEntry._meta.get_field("message").max_length]


def _refusal_words(status: int) -> Promise:
    match status:
        case 409:
            return _(
                "AutoCollect refused: the case's state does not allow this action. Someone may "
                "have changed the case a moment ago."
            )
        case 422:
            return _(
                "AutoCollect had already received this form with different content (another "
                "reason, say), so it did not act again. Reload the case to see its state."
            )
        case 423:
            return _("AutoCollect is busy with another change to this case. Try again in a moment.")
        case 400:
            return _("AutoCollect found the request invalid.")
        case _:
            return _("AutoCollect refused the request.")


def _outcome_response(
    request: OrganizationRequest,
    spec: ActionSpec,
    case_number: int,
    form: ActionForm,
    entry: AuditEntry,
    *,
    case: autocollect.Case | None = None,
    failure_status: int = 503,
) -> HttpResponse:
    """The panel after a POST: the outcome, and the form again only when retrying can help."""
    if entry.outcome == Outcome.FAILED:
        notice = Notice(
            "error",
            _("The action could not be sent"),
            _(
                "%(message)s Nothing is lost: the form below is kept as it was, and sending it "
                "again cannot act twice."
            )
            % {"message": entry.message},
        )
        return _panel(
            request,
            spec,
            case_number,
            case=case,
            form=form,
            entry=entry,
            notice=notice,
            status=failure_status,
        )
    status = 409 if entry.outcome in {Outcome.REFUSED, Outcome.STALE} else 200
    if entry.outcome == Outcome.REFUSED and entry.upstream_status == 422:
        status = 422
    response = _panel(request, spec, case_number, case=case, entry=entry, status=status)
    event = DECIDED_EVENT if status == 200 else REFUSED_EVENT
    return _with_event(response, event, entry)


def _with_event(response: HttpResponse, event: str, entry: AuditEntry) -> HttpResponse:
    detail = {"caseNumber": entry.case_number, "action": entry.action, "outcome": entry.outcome}
    return trigger_client_event(response, event, detail)


def _not_allowed_text(spec: ActionSpec, case: autocollect.Case) -> str:
    return gettext("The case is %(state)s, so it cannot be %(done)s.") % {
        "state": state_words(case).lower(),
        "done": spec.done,
    }


def _stale_text(spec: ActionSpec, case: autocollect.Case, seen_state: str) -> str:
    """What changed between the form being shown and the re-check, in words."""
    now = state_words(case)
    if seen_state and seen_state != now:
        return gettext(
            "When you opened this form the case was %(before)s; it is now %(now)s: someone "
            "else may have changed it. It can no longer be %(done)s, so nothing was sent."
        ) % {"before": seen_state.lower(), "now": now.lower(), "done": spec.done}
    return gettext("The case is %(now)s, so it cannot be %(done)s. Nothing was sent.") % {
        "now": now.lower(),
        "done": spec.done,
    }


# --------------------------------------------------------------------------------------------
# The batch
# --------------------------------------------------------------------------------------------


@require_safe
@never_cache
@vary_on_headers("HX-Request", "HX-Target")
def action_batch(request: OrganizationRequest, case_number: int, batch_id: str) -> HttpResponse:
    """How an action's batch is going; once it has finished, the case's new state."""
    # Only a batch this organisation started on this case, as the audit trail says, is asked
    # about: a batch id from anywhere else is a 404 that reaches no upstream.
    entry = (
        AuditEntry.objects.filter(
            organization=request.organization,
            kind=AuditKind.ACTION,
            case_number=case_number,
            batch_id=batch_id,
        )
        .order_by("-created_at")
        .first()
    )
    if entry is None:
        raise Http404("No such action on this case")
    spec = ACTIONS.get(entry.action)
    if spec is None:
        raise Http404("No such action")
    case: autocollect.Case | None = None
    finished_now = False
    if entry.outcome == Outcome.ACCEPTED:
        try:
            batch = autocollect.get_batch(
                organization_id=request.organization.amili_id, batch_id=batch_id
            )
        except autocollect.AutoCollectError as error:
            return upstream_error_response(request, error, target_id=BATCH_STATUS_ID)
        if batch.organization_id and batch.organization_id != str(request.organization.amili_id):
            raise Http404("No such batch in this organisation")
        if batch.status in BATCH_FINISHED_STATUSES:
            case = _record_batch_end(request, entry, batch)
            finished_now = True
    context = {
        "spec": spec,
        "case_number": case_number,
        "case_url": links.case_url(case_number),
        "case": case,
        "debtor_names": _debtor_names(case),
        "entry": entry,
        "batch_url": batch_status_url(case_number, batch_id),
        "polling": _still_polling(entry),
        "form": None,
        "notice": None,
    }
    response = render_page(
        request, TEMPLATE, context, partials=BATCH_PARTIALS, default=BATCH_STATUS_ID
    )
    return _with_event(response, FINISHED_EVENT, entry) if finished_now else response


def _record_batch_end(
    request: OrganizationRequest, entry: AuditEntry, batch: autocollect.Batch
) -> autocollect.Case | None:
    """The batch has finished: record how, and read the case's new state."""
    own_failure = entry.case_id in batch.failed or (batch.status == "FAILED")
    if own_failure and entry.case_id not in batch.succeeded:
        entry.outcome = Outcome.REFUSED
        reason = batch.failure_reason(entry.case_id) or next(
            (failure.reason for failure in batch.failures if failure.reason), ""
        )
        entry.message = (
            gettext("AutoCollect could not carry out the action: %(reason)s") % {"reason": reason}
            if reason
            else gettext("AutoCollect could not carry out the action.")
        )[:1000]
    else:
        entry.outcome = Outcome.SUCCEEDED
    case: autocollect.Case | None = None
    try:
        case = _reread_case(request, entry.case_number or 0)
    except autocollect.AutoCollectError as error:
        # The outcome stands; only the new state is missing from the page.
        logger.warning("case action: the case could not be re-read (%s)", type(error).__name__)
    else:
        entry.state_after = state_words(case)
    entry.save(update_fields=["outcome", "message", "state_after", "updated_at"])
    _forget_cached_reads(request)
    return case


# --------------------------------------------------------------------------------------------
# The client's read cache
# --------------------------------------------------------------------------------------------


def _reread_case(request: OrganizationRequest, case_number: int) -> autocollect.Case:
    """The case as the upstream holds it now: a decision must not rest on a cached read."""
    return autocollect.get_case(
        organization_id=request.organization.amili_id, case_number=case_number, fresh=True
    )


def _forget_cached_reads(request: OrganizationRequest) -> None:
    """The organisation's cached pages now show the old state: let the next read ask again."""
    autocollect.forget_organization_reads(request.organization.amili_id)
