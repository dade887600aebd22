"""The money on a case page and a debtor page, worked out once and checked.

Pure functions over the client's parsed types: nothing here does I/O, formats text or knows about
requests. All arithmetic is Decimal. Amounts in different currencies are never added together:
every total is per currency.

The claim breakdown is a matrix: claim types (rows) against original, paid, credited and remaining
(columns), grouped per invoice, with a total per group, a total per claim type across the groups and
a grand total. Upstream figures are not trusted blindly: `Breakdown.mismatches` lists every check
that failed, with the amounts, so the page can say which figures do not add up and by how much.

Values arrive cleaned by the client: claim types and currencies trimmed and upper-cased, and each
case knows its currency (`Case.currency`), so nothing here normalises them again.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from typing import Final

from cases.autocollect import Case, Claim, Invoice
from cases.vocabulary import CLOSED_STATUSES, claim_type_sort_key

ZERO: Final = Decimal(0)
PRINCIPAL: Final = "PRINCIPAL"


@dataclass(frozen=True, slots=True)
class Figures:
    """One row or total of the matrix: the four columns."""

    original: Decimal = ZERO
    paid: Decimal = ZERO
    credited: Decimal = ZERO
    remaining: Decimal = ZERO

    def __add__(self, other: Figures) -> Figures:
        return Figures(
            original=self.original + other.original,
            paid=self.paid + other.paid,
            credited=self.credited + other.credited,
            remaining=self.remaining + other.remaining,
        )

    @property
    def accounted_for(self) -> Decimal:
        """What has become of the original amount: paid, credited or still owed."""
        return self.paid + self.credited + self.remaining


def figures_of(claim: Claim) -> Figures:
    return Figures(
        original=claim.original_amount,
        paid=claim.paid_amount,
        credited=claim.credited_amount,
        remaining=claim.remaining_amount,
    )


def total_of(figures: Iterable[Figures]) -> Figures:
    return sum(figures, Figures())


@dataclass(frozen=True, slots=True)
class BreakdownRow:
    """All claims of one type (within a group, or across the whole case)."""

    claim_type: str
    figures: Figures
    claim_count: int


@dataclass(frozen=True, slots=True)
class ClaimGroup:
    """The claims of one invoice, or the case-level claims (invoice_id None)."""

    invoice_id: str | None
    label: str  # the invoice number; the invoice id if the case does not list that invoice
    invoice_known: bool
    rows: tuple[BreakdownRow, ...]
    total: Figures

    @property
    def is_case_level(self) -> bool:
        return self.invoice_id is None


@dataclass(frozen=True, slots=True)
class CurrencyBreakdown:
    """Everything in one currency: its groups, its totals per claim type, its grand total."""

    currency: str
    groups: tuple[ClaimGroup, ...]
    by_type: tuple[BreakdownRow, ...]
    total: Figures


class Check(StrEnum):
    """The consistency checks the breakdown runs."""

    CLAIM = "claim"  # a claim's original = paid + credited + remaining
    CASE_REMAINING = "case_remaining"  # the claims' remaining = the case's remainingAmount
    CASE_PRINCIPAL = "case_principal"  # principal claims' remaining = remainingPrincipal


@dataclass(frozen=True, slots=True)
class Mismatch:
    """A check that failed: `expected` is what the upstream stated, `actual` what adds up."""

    check: Check
    expected: Decimal
    actual: Decimal
    currency: str
    claim_type: str = ""
    group_label: str = ""

    @property
    def difference(self) -> Decimal:
        """How far apart the two figures are, always positive."""
        return abs(self.actual - self.expected)


@dataclass(frozen=True, slots=True)
class Breakdown:
    sections: tuple[CurrencyBreakdown, ...]
    mismatches: tuple[Mismatch, ...]

    @property
    def is_empty(self) -> bool:
        return not self.sections

    @property
    def has_mixed_currencies(self) -> bool:
        """Several currencies: each has its own totals and the case totals cannot be checked."""
        return len(self.sections) > 1

    @property
    def currencies(self) -> tuple[str, ...]:
        return tuple(section.currency for section in self.sections)


def build_breakdown(case: Case) -> Breakdown:
    """The claim breakdown of a case, grouped per currency and invoice, with its checks."""
    if not case.claims:
        return Breakdown(sections=(), mismatches=())
    invoices = {invoice.invoice_id: invoice for invoice in case.invoices if invoice.invoice_id}
    fallback_currency = case.currency
    by_currency: dict[str, list[Claim]] = {}
    for claim in case.claims:
        currency = _claim_currency(claim, invoices, fallback_currency)
        by_currency.setdefault(currency, []).append(claim)
    sections: list[CurrencyBreakdown] = []
    mismatches: list[Mismatch] = []
    for currency, claims in by_currency.items():
        section = _currency_section(currency, claims, case.invoices)
        labels = {group.invoice_id: group.label for group in section.groups}
        mismatches += [
            _claim_mismatch(claim, currency, labels[claim.invoice_id or None])
            for claim in claims
            if figures_of(claim).accounted_for != claim.original_amount
        ]
        sections.append(section)
    if len(sections) == 1:
        # With several currencies the case's own figures (which name none) cannot be compared.
        mismatches += _case_mismatches(case, sections[0])
    return Breakdown(sections=tuple(sections), mismatches=tuple(mismatches))


def claims_by_group(claims: Sequence[Claim]) -> dict[str | None, list[Claim]]:
    """Claims keyed by invoice id (None for case-level claims), in the order they came."""
    groups: dict[str | None, list[Claim]] = {}
    for claim in claims:
        groups.setdefault(claim.invoice_id or None, []).append(claim)
    return groups


def _claim_currency(claim: Claim, invoices: dict[str, Invoice], fallback: str) -> str:
    """A claim's currency; a claim that names none takes its invoice's, then the case's."""
    invoice = invoices.get(claim.invoice_id or "")
    return claim.currency or (invoice.currency if invoice is not None else "") or fallback


def _currency_section(
    currency: str, claims: Sequence[Claim], invoices: Sequence[Invoice]
) -> CurrencyBreakdown:
    grouped = claims_by_group(claims)
    groups = tuple(
        _group(invoice_id, grouped[invoice_id], invoices)
        for invoice_id in _group_order(grouped, invoices)
    )
    by_type = _rows(claims)
    return CurrencyBreakdown(
        currency=currency,
        groups=groups,
        by_type=by_type,
        total=total_of(row.figures for row in by_type),
    )


def _group_order(
    grouped: dict[str | None, list[Claim]], invoices: Sequence[Invoice]
) -> list[str | None]:
    """The case's invoices in its own order, then invoice ids it does not list, case-level last."""
    listed = [invoice.invoice_id for invoice in invoices if invoice.invoice_id in grouped]
    unlisted = [key for key in grouped if key is not None and key not in listed]
    case_level: list[str | None] = [None] if None in grouped else []
    return [*listed, *unlisted, *case_level]


def _group(
    invoice_id: str | None, claims: Sequence[Claim], invoices: Sequence[Invoice]
) -> ClaimGroup:
    invoice = next((i for i in invoices if invoice_id and i.invoice_id == invoice_id), None)
    rows = _rows(claims)
    return ClaimGroup(
        invoice_id=invoice_id,
        label=(invoice.invoice_number or invoice.invoice_id) if invoice else (invoice_id or ""),
        invoice_known=invoice is not None or invoice_id is None,
        rows=rows,
        total=total_of(row.figures for row in rows),
    )


def _rows(claims: Sequence[Claim]) -> tuple[BreakdownRow, ...]:
    """One row per claim type, summing claims of the same type."""
    by_type: dict[str, list[Claim]] = {}
    for claim in claims:
        by_type.setdefault(claim.type, []).append(claim)
    return tuple(
        BreakdownRow(
            claim_type=claim_type,
            figures=total_of(figures_of(claim) for claim in same_type),
            claim_count=len(same_type),
        )
        for claim_type, same_type in sorted(
            by_type.items(), key=lambda item: claim_type_sort_key(item[0])
        )
    )


def _claim_mismatch(claim: Claim, currency: str, group_label: str) -> Mismatch:
    """A claim whose original amount is not what was paid, credited and is still owed."""
    return Mismatch(
        check=Check.CLAIM,
        expected=claim.original_amount,
        actual=figures_of(claim).accounted_for,
        currency=currency,
        claim_type=claim.type,
        group_label=group_label,
    )


def _case_mismatches(case: Case, section: CurrencyBreakdown) -> list[Mismatch]:
    """The case's stated remaining and remaining principal against what its claims add up to."""
    mismatches = []
    if section.total.remaining != case.remaining_amount:
        mismatches.append(
            Mismatch(
                check=Check.CASE_REMAINING,
                expected=case.remaining_amount,
                actual=section.total.remaining,
                currency=section.currency,
            )
        )
    principal = sum(
        (row.figures.remaining for row in section.by_type if row.claim_type == PRINCIPAL), ZERO
    )
    if principal != case.remaining_principal:
        mismatches.append(
            Mismatch(
                check=Check.CASE_PRINCIPAL,
                expected=case.remaining_principal,
                actual=principal,
                currency=section.currency,
                claim_type=PRINCIPAL,
            )
        )
    return mismatches


@dataclass(frozen=True, slots=True)
class CurrencyFigures:
    currency: str
    figures: Figures


def invoice_totals(case: Case) -> tuple[CurrencyFigures, ...]:
    """The invoice table's totals, one per currency; an invoice naming none takes the case's."""
    totals: dict[str, Figures] = {}
    for invoice in case.invoices:
        currency = invoice.currency or case.currency
        totals[currency] = totals.get(currency, Figures()) + Figures(
            original=invoice.original_amount,
            paid=invoice.paid_amount,
            credited=invoice.credited_amount,
            remaining=invoice.remaining_amount,
        )
    return tuple(CurrencyFigures(currency, figures) for currency, figures in totals.items())


# --------------------------------------------------------------------------------------------
# Totals across a debtor's cases
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CurrencyTotal:
    currency: str
    remaining_amount: Decimal
    remaining_principal: Decimal


@dataclass(frozen=True, slots=True)
class CaseTotals:
    case_count: int
    open_count: int
    per_currency: tuple[CurrencyTotal, ...]


def is_open(case: Case) -> bool:
    """Not ended: OPEN, PAUSED and unknown statuses count, unless a closing date is set."""
    return case.status not in CLOSED_STATUSES and case.closed_at is None


def case_totals(cases: Sequence[Case]) -> CaseTotals:
    """How many cases, how many open, and what remains, per currency (never summed across)."""
    remaining: dict[str, Decimal] = {}
    principal: dict[str, Decimal] = {}
    for case in cases:
        currency = case.currency
        remaining[currency] = remaining.get(currency, ZERO) + case.remaining_amount
        principal[currency] = principal.get(currency, ZERO) + case.remaining_principal
    return CaseTotals(
        case_count=len(cases),
        open_count=sum(1 for case in cases if is_open(case)),
        per_currency=tuple(
            CurrencyTotal(
                currency=currency,
                remaining_amount=remaining[currency],
                remaining_principal=principal[currency],
            )
            for currency in remaining
        ),
    )
