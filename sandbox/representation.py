"""The upstream's JSON shapes: keys, order and formats exactly as the docs' example writes them."""

import uuid
from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sandbox.models import Batch, Case, Claim, Debtor, Invoice, SandboxOrganization

JSON = dict[str, Any]
# Rows of invoices, debtors and claims are read as named tuples (attribute access like a model,
# without building model instances): a page of 100 cases carries several hundred of them.
INVOICE_COLUMNS = [
    "id", "case_id", "invoice_number", "invoice_date", "due_date", "batch_id", "registered_at",
    "original_amount", "remaining_amount", "remaining_principal", "unique_source_invoice_id",
    "paid_amount", "credited_amount", "currency",
]  # fmt: skip
DEBTOR_COLUMNS = [
    "case_id", "debtor_id", "type", "debtor_number", "customer_number", "first_name", "last_name",
    "full_name", "identification_number", "email", "phone",
]  # fmt: skip
CLAIM_COLUMNS = [
    "case_id", "type", "original_amount", "current_amount", "remaining_amount", "paid_amount",
    "credited_amount", "currency", "invoice_id",
]  # fmt: skip


def iso(moment: datetime | None) -> str | None:
    """ "2019-08-24T14:15:22.123Z": UTC, milliseconds, a Z."""
    if moment is None:
        return None
    utc = moment.astimezone(UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"


def amount(value: Decimal) -> int | float:
    """A JSON number: whole kroner as integers, others with their øre."""
    return int(value) if value == value.to_integral_value() else float(value)


def cases_json(cases: Sequence[Case]) -> list[JSON]:
    """A page of cases with their invoices, debtors and claims: three queries, whatever the size."""
    case_ids = [case.id for case in cases]
    invoices = _by_case(Invoice.objects, case_ids, INVOICE_COLUMNS)
    debtors = _by_case(Debtor.objects, case_ids, DEBTOR_COLUMNS)
    claims = _by_case(Claim.objects, case_ids, CLAIM_COLUMNS)
    return [case_json(case, invoices[case.id], debtors[case.id], claims[case.id]) for case in cases]


def _by_case(
    manager: Any, case_ids: list[uuid.UUID], columns: list[str]
) -> dict[uuid.UUID, list[Any]]:
    rows = manager.filter(case_id__in=case_ids).order_by("case_id", "position")
    grouped: dict[uuid.UUID, list[Any]] = defaultdict(list)
    for row in rows.values_list(*columns, named=True):
        grouped[row.case_id].append(row)
    return grouped


def case_json(
    case: Case, invoices: Iterable[Any], debtors: Iterable[Any], claims: Iterable[Any]
) -> JSON:
    """One case with its invoices, debtors and claims (models or rows with the same names)."""
    return {
        "caseId": str(case.id),
        "caseNumber": case.case_number,
        "organizationId": str(case.organization_id),
        "creditorId": str(case.creditor_id),
        "creditorNumber": case.creditor_number,
        "status": case.status,
        "subStatus": case.sub_status,
        "type": case.type,
        "description": case.description,
        "registeredAt": iso(case.registered_at),
        "closedAt": iso(case.closed_at),
        "invoices": [invoice_json(invoice) for invoice in invoices],
        "debtors": [debtor_json(debtor) for debtor in debtors],
        "remainingAmount": amount(case.remaining_amount),
        "remainingPrincipal": amount(case.remaining_principal),
        "claims": [claim_json(claim) for claim in claims],
        "caseAccountDetails": {
            "bankAccountDetails": {
                "accountType": case.account_type,
                "accountNumber": case.account_number,
            },
            "paymentReference": case.payment_reference,
        },
    }


def invoice_json(invoice: Any) -> JSON:
    return {
        "invoiceId": str(invoice.id),
        "invoiceNumber": invoice.invoice_number,
        "caseId": str(invoice.case_id),
        "invoiceDate": iso(invoice.invoice_date),
        "dueDate": iso(invoice.due_date),
        "batchId": str(invoice.batch_id),
        "registeredAt": iso(invoice.registered_at),
        "originalAmount": amount(invoice.original_amount),
        "remainingAmount": amount(invoice.remaining_amount),
        "remainingPrincipal": amount(invoice.remaining_principal),
        "uniqueSourceInvoiceId": invoice.unique_source_invoice_id,
        "paidAmount": amount(invoice.paid_amount),
        "creditedAmount": amount(invoice.credited_amount),
        "currency": {"code": invoice.currency},  # an object here, a string on claims [ours]
    }


def debtor_json(debtor: Any) -> JSON:
    return {
        "debtorId": str(debtor.debtor_id),
        "type": debtor.type,
        "debtorNumber": debtor.debtor_number,
        "customerNumber": debtor.customer_number,
        "firstName": debtor.first_name or None,
        "lastName": debtor.last_name or None,
        "fullName": debtor.full_name,
        "identificationNumber": debtor.identification_number,
        "email": debtor.email or None,
        "phone": debtor.phone or None,
    }


def claim_json(claim: Any) -> JSON:
    return {
        "type": claim.type,
        "originalAmount": amount(claim.original_amount),
        "currentAmount": amount(claim.current_amount),
        "remainingAmount": amount(claim.remaining_amount),
        "paidAmount": amount(claim.paid_amount),
        "creditedAmount": amount(claim.credited_amount),
        "currency": claim.currency,
        "invoiceId": str(claim.invoice_id) if claim.invoice_id else None,
    }


def invoice_item_json(invoice: Invoice, organization: SandboxOrganization) -> JSON:
    """The invoices endpoints' item (§6): `id`, `organization`, ... then the invoice's details."""
    case = invoice.case
    debtors = list(case.debtors.all())
    return {
        "id": str(invoice.id),
        "organization": {
            "id": str(organization.id),
            "organizationNumber": organization.organization_number,
            "name": organization.name,
        },
        "invoiceNumber": invoice.invoice_number,
        "collectionCaseNumber": case.case_number,
        "type": invoice.type,
        "status": invoice.status,
        "createdAt": iso(invoice.registered_at),
        "caseId": str(case.id),
        "uniqueSourceInvoiceId": invoice.unique_source_invoice_id,
        "customerNumber": debtors[0].customer_number if debtors else None,
        "invoiceDate": iso(invoice.invoice_date),
        "dueDate": iso(invoice.due_date),
        "batchId": str(invoice.batch_id),
        "originalAmount": amount(invoice.original_amount),
        "remainingAmount": amount(invoice.remaining_amount),
        "remainingPrincipal": amount(invoice.remaining_principal),
        "paidAmount": amount(invoice.paid_amount),
        "creditedAmount": amount(invoice.credited_amount),
        "currency": {"code": invoice.currency},
    }


def batch_json(batch: Batch) -> JSON:
    return {
        "batchId": str(batch.id),
        "type": batch.type,
        "status": batch.status,
        "createdAt": iso(batch.created_at),
        "finishedAt": iso(batch.finished_at),
        "organizationId": str(batch.organization_id),
        "createdBy": batch.created_by,
        "succeeded": batch.succeeded,
        "failed": batch.failed,
    }
