"""Rows in the in-process sandbox: created for a test, and read back to know what it holds.

The figures a test asserts are the figures it seeded (add_case, add_invoice, add_debtor,
add_claim), or what the seeded data holds (sandbox_cases, showcase_case).
"""

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from dashboard.models import Organization
from sandbox.models import Case as SandboxCase
from sandbox.models import Claim as SandboxClaim
from sandbox.models import Debtor as SandboxDebtor
from sandbox.models import DebtorType, SandboxOrganization
from sandbox.models import Invoice as SandboxInvoice

NATIONAL_ID = "01017012345"
DEBTOR_ID = "0e24973d-821c-4f49-b6cd-c5f93b86e51d"


# --- Created for a test ---------------------------------------------------------------------


def sandbox_organization(organization: Organization, **fields: str) -> SandboxOrganization:
    return SandboxOrganization.objects.create(
        id=organization.amili_id, name=organization.name, creditor_number="CR-778", **fields
    )


def add_case(
    organization: SandboxOrganization,
    case_number: int,
    *,
    remaining: str = "0",
    principal: str = "0",
    **fields: object,
) -> SandboxCase:
    values: dict[str, object] = {
        "status": "OPEN",
        "sub_status": "NONE",
        "type": "DEBT_COLLECTION",
        "description": "Husleie januar",
        "registered_at": datetime(2025, 2, 3, 9, 0, tzinfo=UTC),
        "account_type": "BBAN",
        "account_number": "15030012345",
        "payment_reference": "0042000172",
        **fields,
    }
    return SandboxCase.objects.create(
        organization=organization,
        case_number=case_number,
        creditor_id=organization.creditor_id,
        creditor_number=organization.creditor_number,
        remaining_amount=Decimal(remaining),
        remaining_principal=Decimal(principal),
        **values,
    )


def add_invoice(case: SandboxCase, number: str, **fields: object) -> SandboxInvoice:
    values: dict[str, object] = {
        "unique_source_invoice_id": f"SRC-{number}",
        "invoice_date": datetime(2025, 1, 1, 11, 0, tzinfo=UTC),
        "due_date": datetime(2025, 1, 15, 11, 0, tzinfo=UTC),
        "registered_at": datetime(2025, 2, 3, 9, 0, tzinfo=UTC),
        **fields,
    }
    amounts = {k: Decimal(str(v)) for k, v in values.items() if k.endswith("_amount")}
    values.update(amounts)
    return SandboxInvoice.objects.create(
        organization=case.organization, case=case, invoice_number=number, **values
    )


def add_debtor(case: SandboxCase, **fields: object) -> SandboxDebtor:
    values: dict[str, object] = {
        "debtor_id": DEBTOR_ID,
        "type": "PRIVATE",
        "debtor_number": "D-551",
        "customer_number": "K-1001",
        "first_name": "Kari",
        "last_name": "Nordmann",
        "full_name": "Kari Nordmann",
        "identification_number": NATIONAL_ID,
        "email": "kari@example.no",
        "phone": "+4791234567",
        **fields,
    }
    return SandboxDebtor.objects.create(organization=case.organization, case=case, **values)


def add_claim(
    case: SandboxCase,
    invoice: SandboxInvoice | None,
    claim_type: str,
    original: str,
    paid: str = "0",
    credited: str = "0",
    remaining: str | None = None,
    currency: str = "NOK",
) -> SandboxClaim:
    left = Decimal(original) - Decimal(paid) - Decimal(credited)
    return SandboxClaim.objects.create(
        case=case,
        invoice=invoice,
        type=claim_type,
        original_amount=Decimal(original),
        current_amount=Decimal(original) - Decimal(credited),
        paid_amount=Decimal(paid),
        credited_amount=Decimal(credited),
        remaining_amount=left if remaining is None else Decimal(remaining),
        currency=currency,
        position=SandboxClaim.objects.filter(case=case).count(),
    )


# --- Read from the seeded data ---------------------------------------------------------------


def sandbox_cases(organization_id: uuid.UUID, **lookups: Any) -> list[SandboxCase]:
    """The organisation's sandbox cases matching `lookups`, in the upstream's order."""
    return list(
        SandboxCase.objects.filter(organization_id=organization_id, **lookups)
        .distinct()
        .order_by("-registered_at", "-case_number")
    )


@dataclass(frozen=True)
class ShowcaseCase:
    """An open case with several invoices whose private debtor has other cases too."""

    case: SandboxCase
    debtor: SandboxDebtor


def showcase_case(organization_id: uuid.UUID) -> ShowcaseCase:
    for case in sandbox_cases(organization_id, status="OPEN"):
        debtors = list(case.debtors.all())
        if case.invoices.count() < 2 or len(debtors) != 1:
            continue
        debtor = debtors[0]
        if debtor.type != DebtorType.PRIVATE or not debtor.identification_number:
            continue
        if (
            SandboxDebtor.objects.filter(
                organization_id=organization_id, customer_number=debtor.customer_number
            ).count()
            >= 2
        ):
            return ShowcaseCase(case=case, debtor=debtor)
    raise AssertionError("the seed has no case fit for the case page flow; change SEED")
