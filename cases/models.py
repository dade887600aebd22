"""Local state that decorates the upstream's cases (docs/design.md, rule 6): the audit trail.

An AuditEntry records one thing a person did with an organisation's data: an action attempt on
a case (whatever came of it), an identification number shown, a CSV export. Entries are keyed
by organisation and case id, written by the views as the thing happens, and updated only to
record how it ended (a batch finishing, an export's last row).

What an entry never holds: tokens, and the identification number that was revealed (the entry
names the debtor instead). It does hold what staff typed as a reason and, for an export, the
filters it used, search term included: an audit trail that cannot say *whose* cases were exported
cannot answer the question it exists for. Those are shown only to the organisation's
administrators (/audit/), never logged and never put in a URL.
"""

from typing import Final

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from cases.actions import ACTIONS, action_label
from dashboard.models import Organization

REASON_CODE_MAX_LENGTH: Final = 40
REASON_TEXT_MAX_LENGTH: Final = 500
MESSAGE_MAX_LENGTH: Final = 1000


class AuditKind(models.TextChoices):
    ACTION = "action", _("Case action")
    REVEAL = "reveal", _("Identification number shown")
    EXPORT = "export", _("CSV export")
    AUDIT_EXPORT = "audit_export", _("Audit trail export")


class Outcome(models.TextChoices):
    # Case actions
    PENDING = "pending", _("Sending")  # written before the upstream call; stays if it never ended
    ACCEPTED = "accepted", _("Accepted, in progress")  # 202: the batch is running
    SUCCEEDED = "succeeded", _("Done")  # the batch finished and changed the case
    REFUSED = "refused", _("Refused")  # the upstream said no (409, 422, ...), or its batch failed
    FAILED = "failed", _("Failed")  # the upstream could not be reached: retry with the same key
    STALE = "stale", _("Not sent: the case had changed")  # the re-check refused it
    # Reveals
    SHOWN = "shown", _("Shown")
    # Exports
    STARTED = "started", _("Started")  # still streaming, or the process died while it did
    COMPLETE = "complete", _("Complete")
    INCOMPLETE = "incomplete", _("Incomplete: the upstream stopped")
    INTERRUPTED = "interrupted", _("Interrupted: the download was cancelled")


# Outcomes after which a repeated POST of the same form shows the same result, sending nothing.
SETTLED_ACTION_OUTCOMES: Final = frozenset(
    {Outcome.ACCEPTED, Outcome.SUCCEEDED, Outcome.REFUSED, Outcome.STALE}
)


class AuditEntry(models.Model):
    """One audited event in one organisation (see the module's docstring)."""

    organization = models.ForeignKey(
        Organization,
        on_delete=models.PROTECT,  # an audit trail does not vanish with a careless delete
        related_name="audit_entries",
        verbose_name=_("organisation"),
    )
    created_at = models.DateTimeField(_("time"), default=timezone.now, db_index=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("user"),
    )
    username = models.CharField(_("username"), max_length=150)  # kept if the user is deleted
    kind = models.CharField(_("kind"), max_length=12, choices=AuditKind.choices)
    outcome = models.CharField(_("outcome"), max_length=12, choices=Outcome.choices)

    # The case (blank for an export, which spans many).
    case_id = models.CharField(_("case id"), max_length=64, blank=True)
    case_number = models.BigIntegerField(_("case number"), null=True, blank=True)

    # Case actions
    action = models.CharField(_("action"), max_length=40, blank=True)  # cases.actions slug
    reason_code = models.CharField(_("reason"), max_length=REASON_CODE_MAX_LENGTH, blank=True)
    reason_text = models.CharField(_("explanation"), max_length=REASON_TEXT_MAX_LENGTH, blank=True)
    idempotency_key = models.UUIDField(_("idempotency key"), null=True, blank=True)
    upstream_status = models.PositiveSmallIntegerField(_("upstream status"), null=True, blank=True)
    batch_id = models.CharField(_("batch id"), max_length=100, blank=True)
    state_before = models.CharField(_("state before"), max_length=80, blank=True)
    state_after = models.CharField(_("state after"), max_length=80, blank=True)
    # What the person was told: why it was refused or failed, in words (never a token).
    message = models.CharField(_("message"), max_length=MESSAGE_MAX_LENGTH, blank=True)
    trace_id = models.CharField(_("upstream trace id"), max_length=100, blank=True)

    # Reveals: whose number was shown (never the number).
    debtor_id = models.CharField(_("debtor id"), max_length=64, blank=True)
    debtor_position = models.PositiveSmallIntegerField(_("debtor position"), null=True, blank=True)
    debtor_name = models.CharField(_("debtor name"), max_length=300, blank=True)
    customer_number = models.CharField(_("customer number"), max_length=100, blank=True)

    # Exports
    filters = models.JSONField(_("filters"), default=dict, blank=True)
    row_count = models.PositiveIntegerField(_("rows"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("audit entry")
        verbose_name_plural = _("audit entries")
        indexes = [
            models.Index(fields=["organization", "-created_at"], name="audit_org_time"),
            models.Index(fields=["organization", "case_id", "-created_at"], name="audit_org_case"),
            models.Index(fields=["organization", "case_number"], name="audit_org_case_number"),
        ]
        constraints = [
            # One attempt per form: a double click or a retried POST finds the first one.
            models.UniqueConstraint(
                fields=["organization", "idempotency_key"],
                condition=Q(idempotency_key__isnull=False),
                name="audit_one_entry_per_idempotency_key",
            ),
        ]

    def __str__(self) -> str:
        subject = f"case {self.case_number}" if self.case_number is not None else self.kind
        return f"{self.username}: {self.get_kind_display()} {subject} ({self.outcome})"

    @property
    def action_label(self) -> str:
        return str(action_label(self.action))

    @property
    def reason_label(self) -> str:
        spec = ACTIONS.get(self.action)
        return str(spec.reason_label(self.reason_code) if spec else self.reason_code)

    @property
    def is_settled_action(self) -> bool:
        return self.kind == AuditKind.ACTION and self.outcome in SETTLED_ACTION_OUTCOMES
