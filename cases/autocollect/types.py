"""What the client hands out: frozen dataclasses, already checked and cleaned by parsing.

Enum values (statuses, types, ...) are trimmed and upper-cased, currencies too, moments are in
UTC and convertible to any local time, amounts are exact Decimals of a sane size. Code that uses
these types does not normalise them again.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

from cases.autocollect.contract import DEFAULT_CURRENCY, MAX_CASE_NUMBER, MIN_CASE_NUMBER


@dataclass(frozen=True, slots=True)
class Invoice:
    invoice_id: str
    invoice_number: str
    case_id: str
    invoice_date: datetime | None
    due_date: datetime | None
    batch_id: str | None
    registered_at: datetime | None
    original_amount: Decimal
    remaining_amount: Decimal
    remaining_principal: Decimal
    unique_source_invoice_id: str
    paid_amount: Decimal
    credited_amount: Decimal
    currency: str  # "" when the invoice names none


@dataclass(frozen=True, slots=True)
class Debtor:
    debtor_id: str
    type: str
    debtor_number: str
    customer_number: str  # as the upstream sent it: it may hold any character
    first_name: str
    last_name: str
    full_name: str
    identification_number: str
    email: str
    phone: str

    @property
    def display_name(self) -> str:
        return self.full_name or " ".join(n for n in (self.first_name, self.last_name) if n)


@dataclass(frozen=True, slots=True)
class Claim:
    type: str
    original_amount: Decimal
    current_amount: Decimal
    remaining_amount: Decimal
    paid_amount: Decimal
    credited_amount: Decimal
    currency: str  # "" when the claim names none
    invoice_id: str | None


@dataclass(frozen=True, slots=True)
class BankAccount:
    account_type: str
    account_number: str


@dataclass(frozen=True, slots=True)
class AccountDetails:
    bank_account: BankAccount | None
    payment_reference: str


@dataclass(frozen=True, slots=True)
class Case:
    case_id: str
    case_number: int  # as sent; zero or negative numbers are data, see is_linkable
    organization_id: str  # lower-case; parsing drops no case, the operations do
    creditor_id: str
    creditor_number: str
    status: str
    sub_status: str
    type: str
    description: str
    registered_at: datetime | None
    closed_at: datetime | None
    invoices: tuple[Invoice, ...]
    debtors: tuple[Debtor, ...]
    remaining_amount: Decimal
    remaining_principal: Decimal
    claims: tuple[Claim, ...]
    account_details: AccountDetails | None
    # When get_case's answer was fetched (it may come from the cache); None for a case inside a
    # page or a walk, whose page says it. Not part of equality: it is the read's, not the case's.
    fetched_at: datetime | None = field(default=None, compare=False)

    @property
    def currency(self) -> str:
        """The currency the case is kept in: the first its claims or invoices name, else NOK.

        The case's own remainingAmount carries no currency in the contract, so it takes this one.
        """
        named = (*(c.currency for c in self.claims), *(i.currency for i in self.invoices))
        return next((currency for currency in named if currency), DEFAULT_CURRENCY)

    @property
    def is_linkable(self) -> bool:
        """Whether get_case can find it by number, so a page for it can be linked."""
        return MIN_CASE_NUMBER <= self.case_number <= MAX_CASE_NUMBER


@dataclass(frozen=True, slots=True)
class SkipSummary:
    status: str
    total_count: int
    current_page: int
    page_size: int
    total_pages: int
    has_next_page: bool
    has_previous_page: bool


@dataclass(frozen=True, slots=True)
class CursorSummary:
    status: str
    next_page_token: str | None
    previous_page_token: str | None


@dataclass(frozen=True, slots=True)
class CasePage:
    cases: tuple[Case, ...]  # only the organisation's own: others are dropped at the boundary
    skip: SkipSummary
    cursor: CursorSummary
    # When the upstream was asked for it (the answer may come from the cache); list_cases always
    # sets it, a page parsed on its own has none. Not part of equality, like Case.fetched_at.
    fetched_at: datetime | None = field(default=None, compare=False)


@dataclass(frozen=True, slots=True)
class DebtorCases:
    """One customer's cases in an organisation: those where the customer really is a debtor."""

    customer_number: str
    debtor: Debtor  # the customer's details on the newest case
    cases: tuple[Case, ...]  # newest first, never empty
    truncated: bool  # the customer may have more cases than were read
    # When the walk over the customer's cases began (the answer may come from the cache).
    fetched_at: datetime = field(compare=False)


@dataclass(frozen=True, slots=True)
class CaseFilters:
    """What a case list is narrowed by; empty values are not sent."""

    status: str = ""
    type: str = ""
    case_number: int | None = None
    customer_number: str = ""
    unique_source_invoice_id: str = ""
    search_term: str = ""
    created_from: date | None = None
    created_to: date | None = None


@dataclass(frozen=True, slots=True)
class BatchFailure:
    """One entry a batch could not carry out, and why, in the upstream's words."""

    entry_id: str
    reason: str  # "" when the upstream gave none


@dataclass(frozen=True, slots=True)
class Batch:
    batch_id: str
    type: str
    status: str
    created_at: datetime | None
    finished_at: datetime | None
    organization_id: str
    created_by: str
    succeeded: tuple[str, ...]
    failed: tuple[str, ...]  # the ids of the failed entries, in order
    failures: tuple[BatchFailure, ...] = ()  # the same entries, each with its reason

    def failure_reason(self, entry_id: str) -> str:
        """Why the entry with this id failed, or "" if it did not or no reason was given."""
        return next((f.reason for f in self.failures if f.entry_id == entry_id), "")


@dataclass(frozen=True, slots=True)
class ActionReceipt:
    batch_id: str
    batch_url: str
