"""The sandbox's own data: a seeded copy of what Amili AutoCollect holds for its organisations.

Nothing here is shared with the dashboard's models: the sandbox plays the upstream, and the
dashboard only ever reaches it over HTTP. Amounts are Decimal (NOK, two places); datetimes are
stored to the millisecond because the upstream writes them as "2019-08-24T14:15:22.123Z".
"""

import uuid

from django.db import models
from django.utils.translation import gettext_lazy as _

from sandbox.search import fold_for_search


class Fault(models.TextChoices):
    """Ways an answer can be made to fail (see sandbox.faults)."""

    SERVER_ERROR = "500", "500 Internal Server Error"
    UNAVAILABLE = "503", "503 Service Unavailable (Retry-After)"
    RATE_LIMITED = "429", "429 Too Many Requests (Retry-After)"
    TIMEOUT = "timeout", _("timeout (answers after the client has given up)")
    MALFORMED = "malformed", _("malformed (200 with a body that is not JSON)")
    EXPIRED_TOKEN = "expired-token", _("expired token (401)")


class CaseStatus(models.TextChoices):
    OPEN = "OPEN"
    PAUSED = "PAUSED"
    CLOSED = "CLOSED"
    WITHDRAWN = "WITHDRAWN"


class CaseSubStatus(models.TextChoices):
    NONE = "NONE"
    DEBT_COLLECTION_LIST_MANUAL = "DEBT_COLLECTION_LIST_MANUAL"
    EVICTION_REQUEST_MANUAL = "EVICTION_REQUEST_MANUAL"
    EVICTION_CONFIRMATION_MANUAL = "EVICTION_CONFIRMATION_MANUAL"


class CaseType(models.TextChoices):
    PAYMENT_REMINDER = "PAYMENT_REMINDER"
    COLLECTION_NOTICE = "COLLECTION_NOTICE"
    DEBT_COLLECTION = "DEBT_COLLECTION"
    LEGAL_COLLECTION = "LEGAL_COLLECTION"


class DebtorType(models.TextChoices):
    PRIVATE = "PRIVATE"
    COMPANY = "COMPANY"


class ClaimType(models.TextChoices):
    PRINCIPAL = "PRINCIPAL"
    INTEREST = "INTEREST"
    REMINDER_FEE = "REMINDER_FEE"
    COLLECTION_FEE = "COLLECTION_FEE"
    LEGAL_COST = "LEGAL_COST"


class AccountType(models.TextChoices):
    UNKNOWN = "UNKNOWN"
    BBAN = "BBAN"
    IBAN = "IBAN"


class InvoiceType(models.TextChoices):
    """[ours] The docs name the invoice `type` filter but not its values."""

    INVOICE = "INVOICE"
    INSTALMENT = "INSTALMENT"


class InvoiceStatus(models.TextChoices):
    """[ours] The docs name the invoice `status` filter but not its values."""

    OPEN = "OPEN"
    PAID = "PAID"
    CREDITED = "CREDITED"
    CLOSED = "CLOSED"


class BatchStatus(models.TextChoices):
    QUEUED = "QUEUED"
    SUCCESS = "SUCCESS"
    PARTIAL = "PARTIAL"
    FAILED = "FAILED"


class SandboxOrganization(models.Model):
    """An Amili organisation (creditor) the sandbox credential may read."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4)
    name = models.CharField(_("name"), max_length=200)
    organization_number = models.CharField(_("organisation number"), max_length=9, blank=True)
    creditor_id = models.UUIDField(_("creditor id"), default=uuid.uuid4)
    creditor_number = models.CharField(_("creditor number"), max_length=20, blank=True)
    fault = models.CharField(
        _("fault"),
        max_length=20,
        choices=Fault.choices,
        blank=True,
        help_text=_("Every API answer for this organisation fails this way. Blank: none."),
    )

    class Meta:
        ordering = ["name"]
        verbose_name = _("sandbox organisation")
        verbose_name_plural = _("sandbox organisations")

    def __str__(self) -> str:
        return self.name


class Case(models.Model):
    """A debt-collection case. `search_text` is a casefolded copy of what SearchTerm looks at."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4)  # the upstream's caseId
    # Its own (tiny, deduplicated) index makes a whole organisation's COUNT(*) an index-only scan.
    organization = models.ForeignKey(
        SandboxOrganization, on_delete=models.CASCADE, related_name="cases"
    )
    case_number = models.BigIntegerField(_("case number"), unique=True)
    creditor_id = models.UUIDField()
    creditor_number = models.CharField(max_length=20, blank=True)
    status = models.CharField(max_length=40, choices=CaseStatus.choices, default=CaseStatus.OPEN)
    sub_status = models.CharField(
        max_length=40, choices=CaseSubStatus.choices, default=CaseSubStatus.NONE
    )
    type = models.CharField(max_length=40, choices=CaseType.choices)
    description = models.CharField(max_length=500, blank=True)
    registered_at = models.DateTimeField()
    closed_at = models.DateTimeField(null=True, blank=True)
    remaining_amount = models.DecimalField(max_digits=14, decimal_places=2, default=0)
    remaining_principal = models.DecimalField(max_digits=14, decimal_places=2, default=0)
    account_type = models.CharField(
        max_length=20, choices=AccountType.choices, default=AccountType.BBAN
    )
    account_number = models.CharField(max_length=40, blank=True)
    payment_reference = models.CharField(_("KID"), max_length=30, blank=True)
    search_text = models.TextField(editable=False, default="")

    class Meta:
        ordering = ["-registered_at", "-case_number"]
        indexes = [
            # The list order. search_text rides along so that SQLite's SearchTerm scan reads this
            # index rather than the table; PostgreSQL also gets a trigram index (migration 0002).
            models.Index(
                fields=["organization", "registered_at", "case_number", "search_text"],
                name="sandbox_case_org_order",
            ),
            models.Index(
                fields=["organization", "status", "registered_at", "case_number"],
                name="sandbox_case_org_status",
            ),
            models.Index(
                fields=["organization", "type", "registered_at", "case_number"],
                name="sandbox_case_org_type",
            ),
            models.Index(
                fields=["organization", "status", "type", "registered_at", "case_number"],
                name="sandbox_case_org_status_type",
            ),
        ]

    def __str__(self) -> str:
        return str(self.case_number)

    def build_search_text(self) -> str:
        """What SearchTerm matches: case number, invoices, debtors (names, numbers, e-mail)."""
        parts = [str(self.case_number)]
        for invoice in self.invoices.all():
            parts += [invoice.invoice_number, invoice.unique_source_invoice_id]
        for debtor in self.debtors.all():
            parts += [debtor.full_name, debtor.customer_number, debtor.email]
        return search_text_of(parts)

    def refresh_search_text(self) -> None:
        self.search_text = self.build_search_text()
        self.save(update_fields=["search_text"])


def search_text_of(parts: list[str]) -> str:
    """Join searchable values with a separator no search term contains, then fold them."""
    return fold_for_search("\x1f".join(part for part in parts if part))


class Invoice(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4)  # invoiceId
    organization = models.ForeignKey(
        SandboxOrganization, on_delete=models.CASCADE, related_name="invoices"
    )
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="invoices")
    invoice_number = models.CharField(max_length=50)
    unique_source_invoice_id = models.CharField(max_length=100)
    type = models.CharField(max_length=20, choices=InvoiceType.choices, default=InvoiceType.INVOICE)
    status = models.CharField(
        max_length=20, choices=InvoiceStatus.choices, default=InvoiceStatus.OPEN
    )
    invoice_date = models.DateTimeField()
    due_date = models.DateTimeField()
    batch_id = models.UUIDField(default=uuid.uuid4)
    registered_at = models.DateTimeField()
    original_amount = models.DecimalField(max_digits=14, decimal_places=2, default=0)
    remaining_amount = models.DecimalField(max_digits=14, decimal_places=2, default=0)
    remaining_principal = models.DecimalField(max_digits=14, decimal_places=2, default=0)
    paid_amount = models.DecimalField(max_digits=14, decimal_places=2, default=0)
    credited_amount = models.DecimalField(max_digits=14, decimal_places=2, default=0)
    currency = models.CharField(max_length=3, default="NOK")
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["position"]
        indexes = [
            models.Index(
                fields=["organization", "registered_at", "id"], name="sandbox_inv_org_order"
            ),
            models.Index(
                fields=["organization", "unique_source_invoice_id"], name="sandbox_inv_org_source"
            ),
            models.Index(fields=["organization", "invoice_number"], name="sandbox_inv_org_number"),
            models.Index(
                fields=["organization", "status", "registered_at", "id"],
                name="sandbox_inv_org_status",
            ),
        ]

    def __str__(self) -> str:
        return self.invoice_number


class Debtor(models.Model):
    """A debtor on one case. The same person (customerNumber) can be a debtor on several cases."""

    organization = models.ForeignKey(  # leads the indexes below
        SandboxOrganization, on_delete=models.CASCADE, related_name="debtors", db_index=False
    )
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="debtors")
    debtor_id = models.UUIDField(default=uuid.uuid4)  # the same person keeps one debtorId
    type = models.CharField(max_length=20, choices=DebtorType.choices, default=DebtorType.PRIVATE)
    debtor_number = models.CharField(max_length=30, blank=True)
    customer_number = models.CharField(max_length=50, blank=True)
    first_name = models.CharField(max_length=100, blank=True)
    last_name = models.CharField(max_length=100, blank=True)
    full_name = models.CharField(max_length=200, blank=True)
    identification_number = models.CharField(max_length=20, blank=True)
    email = models.CharField(max_length=200, blank=True)
    phone = models.CharField(max_length=30, blank=True)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["position"]
        indexes = [
            models.Index(
                fields=["organization", "customer_number"], name="sandbox_debtor_org_customer"
            ),
        ]

    def __str__(self) -> str:
        return self.full_name


class Claim(models.Model):
    """One line of a case's claim breakdown: original = paid + credited + remaining."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="claims")
    invoice = models.ForeignKey(
        Invoice, on_delete=models.CASCADE, null=True, blank=True, related_name="claims"
    )
    type = models.CharField(max_length=30, choices=ClaimType.choices)
    original_amount = models.DecimalField(max_digits=14, decimal_places=2, default=0)
    current_amount = models.DecimalField(max_digits=14, decimal_places=2, default=0)
    remaining_amount = models.DecimalField(max_digits=14, decimal_places=2, default=0)
    paid_amount = models.DecimalField(max_digits=14, decimal_places=2, default=0)
    credited_amount = models.DecimalField(max_digits=14, decimal_places=2, default=0)
    currency = models.CharField(max_length=3, default="NOK")
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["position"]

    def __str__(self) -> str:
        return f"{self.type} {self.original_amount}"


class Batch(models.Model):
    """An asynchronous write: a case action is queued, then applied when `due_at` has passed."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4)
    organization = models.ForeignKey(  # leads the indexes below
        SandboxOrganization, on_delete=models.CASCADE, related_name="batches", db_index=False
    )
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="batches")
    action = models.CharField(max_length=40)
    type = models.CharField(max_length=40)
    reason = models.TextField(blank=True)
    status = models.CharField(
        max_length=10, choices=BatchStatus.choices, default=BatchStatus.QUEUED
    )
    created_at = models.DateTimeField()
    due_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    created_by = models.CharField(max_length=100, blank=True)
    succeeded = models.JSONField(default=list, blank=True)
    failed = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name_plural = "batches"
        indexes = [
            models.Index(fields=["organization", "status", "due_at"], name="sandbox_batch_due"),
        ]

    def __str__(self) -> str:
        return f"{self.type} {self.status}"


class IdempotencyRecord(models.Model):
    """The first answer to an Idempotency-Key, replayed for the same request."""

    organization = models.ForeignKey(  # leads the indexes below
        SandboxOrganization,
        on_delete=models.CASCADE,
        related_name="idempotency_records",
        db_index=False,
    )
    key = models.CharField(max_length=255)
    fingerprint = models.CharField(max_length=64)
    status_code = models.PositiveSmallIntegerField()
    body = models.JSONField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "key"], name="sandbox_one_answer_per_key"
            )
        ]

    def __str__(self) -> str:
        return self.key
