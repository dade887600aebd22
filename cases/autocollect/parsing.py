"""Upstream JSON -> the client's types, checked and cleaned once, here.

Any shape we cannot read is UpstreamUnavailable ("malformed"), with the field's name and never
its value (values can name people). Values that are odd but readable are data: they are cleaned
(enum codes and currencies trimmed and upper-cased, moments put in UTC) and kept. Pure functions
over bytes: nothing here does I/O.
"""

import json
import math
import re
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from types import MappingProxyType
from typing import Any, Final, NoReturn, cast

from cases.autocollect.contract import (
    AMOUNT_LIMIT,
    BATCH_ENTRY_ID_FIELDS,
    BATCH_ENTRY_REASON_FIELDS,
    DEFAULT_TOKEN_LIFETIME,
    INVOICE_CURRENCY_CODE_FIELD,
    MAX_TOKEN_LIFETIME,
    PROBLEM_ERRORS_FIELD,
)
from cases.autocollect.errors import Problem, UpstreamUnavailable
from cases.autocollect.types import (
    AccountDetails,
    BankAccount,
    Batch,
    BatchFailure,
    Case,
    CasePage,
    Claim,
    CursorSummary,
    Debtor,
    Invoice,
    SkipSummary,
)

MALFORMED: Final = "AutoCollect sent a malformed answer"

# Moments are kept only when every time zone can show them: a day inside datetime's range on
# both sides, so converting to local time never overflows ("9999-12-31T23:59:59-05:00" would).
EARLIEST_MOMENT: Final = datetime(1, 1, 2, tzinfo=UTC)
LATEST_MOMENT: Final = datetime(9999, 12, 30, tzinfo=UTC)

# Whole numbers (case numbers, counts) fit a .NET long; "1E+5000" is no count, and Python would
# refuse to turn so many digits back into text.
WHOLE_NUMBER_LIMIT: Final = 2**63
_WHOLE_NUMBER: Final = re.compile(r"-?[0-9]{1,19}")


def malformed(where: str) -> NoReturn:
    raise UpstreamUnavailable(f"{MALFORMED} ({where})")


def _reject_constant(name: str) -> NoReturn:
    raise ValueError(f"non-finite number {name}")


def json_body(content: bytes) -> object:
    """The JSON of an answer; amounts as exact Decimals, never through a binary float."""
    try:
        return cast(
            object, json.loads(content, parse_float=Decimal, parse_constant=_reject_constant)
        )
    except (ValueError, RecursionError) as error:
        raise UpstreamUnavailable(f"{MALFORMED} (not JSON)") from error


# --- Field readers --------------------------------------------------------------------------


def _mapping(value: object, where: str) -> Mapping[str, object]:
    if not isinstance(value, dict):
        malformed(f"{where} is not an object")
    return cast(Mapping[str, object], value)


def _optional_mapping(data: Mapping[str, object], key: str) -> Mapping[str, object] | None:
    value = data.get(key)
    return None if value is None else _mapping(value, key)


def _list(data: Mapping[str, object], key: str) -> list[object]:
    value = data.get(key)
    if value is None:
        return []
    if not isinstance(value, list):
        malformed(f"{key} is not a list")
    return cast(list[object], value)


def _items(data: Mapping[str, object], key: str) -> list[Mapping[str, object]]:
    return [_mapping(item, key) for item in _list(data, key)]


def _text(data: Mapping[str, object], key: str) -> str:
    value = data.get(key)
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, int | Decimal) and not isinstance(value, bool):
        return str(value)
    malformed(f"{key} is not text")


def _optional_text(data: Mapping[str, object], key: str) -> str | None:
    return _text(data, key) or None


def _required_text(data: Mapping[str, object], key: str) -> str:
    value = _text(data, key)
    if not value:
        malformed(f"{key} is missing")
    return value


def _code(data: Mapping[str, object], key: str) -> str:
    """An enum value or currency code: " open " and "open" are the upstream's OPEN."""
    return _text(data, key).strip().upper()


def _organization_id(data: Mapping[str, object], key: str) -> str:
    """An organisation's UUID in its canonical form, so ownership is one string comparison."""
    text = _text(data, key).strip()
    try:
        return str(uuid.UUID(text))
    except ValueError:
        return text.lower()  # matches no organisation, so the case is dropped, not misread


def _int(data: Mapping[str, object], key: str, default: int = 0) -> int:
    value = data.get(key)
    if value is None:
        return default
    number: int | None = None
    if isinstance(value, int) and not isinstance(value, bool):
        number = value
    elif isinstance(value, Decimal) and value.is_finite() and value == value.to_integral_value():
        number = int(value) if abs(value) < WHOLE_NUMBER_LIMIT else None
    elif isinstance(value, str) and _WHOLE_NUMBER.fullmatch(value.strip()):
        number = int(value)
    if number is None or abs(number) >= WHOLE_NUMBER_LIMIT:
        malformed(f"{key} is not a whole number")
    return number


def _required_int(data: Mapping[str, object], key: str) -> int:
    if data.get(key) is None:
        malformed(f"{key} is missing")
    return _int(data, key)


def _bool(data: Mapping[str, object], key: str) -> bool:
    value = data.get(key)
    if value is None:
        return False
    if not isinstance(value, bool):
        malformed(f"{key} is not true or false")
    return value


def _amount(data: Mapping[str, object], key: str) -> Decimal:
    """An exact amount of a sane size; 1E+1000 is finite, but no debt is that large."""
    value = data.get(key)
    if value is None:
        return Decimal(0)
    if isinstance(value, bool) or not isinstance(value, int | Decimal | str):
        malformed(f"{key} is not an amount")
    try:
        amount = Decimal(value)
    except InvalidOperation:
        malformed(f"{key} is not an amount")
    if not amount.is_finite() or abs(amount) >= AMOUNT_LIMIT:
        malformed(f"{key} is not an amount")
    return amount


def _moment(data: Mapping[str, object], key: str) -> datetime | None:
    """A moment in UTC; None when absent, or too near the calendar's ends for local time."""
    value = data.get(key)
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        malformed(f"{key} is not a date")
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        malformed(f"{key} is not a date")
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)  # the upstream's own zone
    try:
        moment = moment.astimezone(UTC)
    except OverflowError:
        return None  # "0001-01-01T00:00:00+01:00" is before the first moment Python can hold
    return moment if EARLIEST_MOMENT <= moment <= LATEST_MOMENT else None


def _currency(value: object) -> str:
    """A currency code from an object {"code": "NOK"} [ours], a plain string, {} or null."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value.strip().upper()
    if isinstance(value, dict):
        code = cast(Mapping[str, object], value).get(INVOICE_CURRENCY_CODE_FIELD)
        return code.strip().upper() if isinstance(code, str) else ""
    malformed("currency is neither text nor an object")


def _lenient_text(value: object) -> str:
    return value if isinstance(value, str) else ""


# --- Cases ----------------------------------------------------------------------------------


def _invoice(data: Mapping[str, object], case_id: str) -> Invoice:
    return Invoice(
        invoice_id=_text(data, "invoiceId"),
        invoice_number=_text(data, "invoiceNumber"),
        case_id=_text(data, "caseId") or case_id,
        invoice_date=_moment(data, "invoiceDate"),
        due_date=_moment(data, "dueDate"),
        batch_id=_optional_text(data, "batchId"),
        registered_at=_moment(data, "registeredAt"),
        original_amount=_amount(data, "originalAmount"),
        remaining_amount=_amount(data, "remainingAmount"),
        remaining_principal=_amount(data, "remainingPrincipal"),
        unique_source_invoice_id=_text(data, "uniqueSourceInvoiceId"),
        paid_amount=_amount(data, "paidAmount"),
        credited_amount=_amount(data, "creditedAmount"),
        currency=_currency(data.get("currency")),
    )


def _debtor(data: Mapping[str, object]) -> Debtor:
    return Debtor(
        debtor_id=_text(data, "debtorId"),
        type=_code(data, "type"),
        debtor_number=_text(data, "debtorNumber"),
        customer_number=_text(data, "customerNumber"),
        first_name=_text(data, "firstName"),
        last_name=_text(data, "lastName"),
        full_name=_text(data, "fullName"),
        identification_number=_text(data, "identificationNumber"),
        email=_text(data, "email"),
        phone=_text(data, "phone"),
    )


def _claim(data: Mapping[str, object]) -> Claim:
    return Claim(
        type=_code(data, "type"),
        original_amount=_amount(data, "originalAmount"),
        current_amount=_amount(data, "currentAmount"),
        remaining_amount=_amount(data, "remainingAmount"),
        paid_amount=_amount(data, "paidAmount"),
        credited_amount=_amount(data, "creditedAmount"),
        currency=_currency(data.get("currency")),
        invoice_id=_optional_text(data, "invoiceId"),
    )


def _account_details(data: Mapping[str, object] | None) -> AccountDetails | None:
    if data is None:
        return None
    bank = _optional_mapping(data, "bankAccountDetails")
    return AccountDetails(
        bank_account=None
        if bank is None
        else BankAccount(
            account_type=_code(bank, "accountType"), account_number=_text(bank, "accountNumber")
        ),
        payment_reference=_text(data, "paymentReference"),
    )


def parse_case(data: Mapping[str, object]) -> Case:
    case_id = _required_text(data, "caseId")
    return Case(
        case_id=case_id,
        case_number=_required_int(data, "caseNumber"),
        organization_id=_organization_id(data, "organizationId"),
        creditor_id=_text(data, "creditorId"),
        creditor_number=_text(data, "creditorNumber"),
        status=_code(data, "status"),
        sub_status=_code(data, "subStatus"),
        type=_code(data, "type"),
        description=_text(data, "description"),
        registered_at=_moment(data, "registeredAt"),
        closed_at=_moment(data, "closedAt"),
        invoices=tuple(_invoice(item, case_id) for item in _items(data, "invoices")),
        debtors=tuple(_debtor(item) for item in _items(data, "debtors")),
        remaining_amount=_amount(data, "remainingAmount"),
        remaining_principal=_amount(data, "remainingPrincipal"),
        claims=tuple(_claim(item) for item in _items(data, "claims")),
        account_details=_account_details(_optional_mapping(data, "caseAccountDetails")),
    )


def parse_case_page(body: object) -> CasePage:
    """A GetCasesByOrganization answer, every case in it (the organisation check comes after)."""
    data = _mapping(body, "body")
    if "data" not in data:
        malformed("data is missing")
    skip = _optional_mapping(data, "skipSummary") or {}
    cursor = _optional_mapping(data, "cursorSummary") or {}
    return CasePage(
        cases=tuple(parse_case(item) for item in _items(data, "data")),
        skip=SkipSummary(
            status=_code(skip, "status"),
            total_count=_int(skip, "totalCount"),
            current_page=_int(skip, "currentPage"),
            page_size=_int(skip, "pageSize"),
            total_pages=_int(skip, "totalPages"),
            has_next_page=_bool(skip, "hasNextPage"),
            has_previous_page=_bool(skip, "hasPreviousPage"),
        ),
        cursor=CursorSummary(
            status=_code(cursor, "status"),
            next_page_token=_optional_text(cursor, "nextPageToken"),
            previous_page_token=_optional_text(cursor, "previousPageToken"),
        ),
    )


# --- Actions and batches --------------------------------------------------------------------


def envelope_data(body: object) -> Mapping[str, object]:
    """The `data` object of a {"summary": ..., "data": {...}} answer."""
    return _mapping(_mapping(body, "body").get("data"), "data")


def required_text(data: Mapping[str, object], key: str) -> str:
    return _required_text(data, key)


def text(data: Mapping[str, object], key: str) -> str:
    return _text(data, key)


def _batch_entry(value: object) -> str:
    # Entries name what succeeded or failed: a bare id, or an object carrying one [ours].
    if isinstance(value, str):
        return value
    if isinstance(value, dict):
        entry = cast(Mapping[str, Any], value)
        for key in BATCH_ENTRY_ID_FIELDS:
            if isinstance(entry.get(key), str):
                return cast(str, entry[key])
    malformed("batch entry is neither an id nor an object with one")


def _batch_failure(value: object) -> BatchFailure:
    """A failed entry with its reason; a bare id, or an object naming none, has reason ""."""
    reason = ""
    if isinstance(value, dict):
        entry = cast(Mapping[str, Any], value)
        reason = next(
            (entry[key] for key in BATCH_ENTRY_REASON_FIELDS if isinstance(entry.get(key), str)),
            "",
        )
    return BatchFailure(entry_id=_batch_entry(value), reason=reason.strip())


def parse_batch(data: Mapping[str, object]) -> Batch:
    failures = tuple(_batch_failure(item) for item in _list(data, "failed"))
    return Batch(
        batch_id=_required_text(data, "batchId"),
        type=_code(data, "type"),
        status=_code(data, "status"),
        created_at=_moment(data, "createdAt"),
        finished_at=_moment(data, "finishedAt"),
        organization_id=_organization_id(data, "organizationId"),
        created_by=_text(data, "createdBy"),
        succeeded=tuple(_batch_entry(item) for item in _list(data, "succeeded")),
        failed=tuple(failure.entry_id for failure in failures),
        failures=failures,
    )


# --- The token ------------------------------------------------------------------------------


def parse_token(body: object, *, now: float) -> tuple[str, float]:
    """The access token and how many seconds it lives, from a /token answer.

    An expiry we cannot believe ("inf", "nan", in the past, years away) counts as unknown:
    the token then lives DEFAULT_TOKEN_LIFETIME, and never longer than MAX_TOKEN_LIFETIME.
    """
    data = _mapping(body, "token")
    token = _required_text(data, "access_token")
    expires_on = _finite_number(data.get("expires_on"))
    expires_in = _finite_number(data.get("expires_in"))
    for lifetime in (
        None if expires_on is None else expires_on - now,
        expires_in,
    ):
        if lifetime is not None and lifetime > 0:
            return token, min(lifetime, MAX_TOKEN_LIFETIME)
    return token, DEFAULT_TOKEN_LIFETIME


def _finite_number(value: object) -> float | None:
    # Azure-style token endpoints send these as strings; others as numbers.
    if isinstance(value, bool) or not isinstance(value, int | Decimal | float | str):
        return None
    try:
        number = float(value)
    except (ValueError, OverflowError):
        return None
    return number if math.isfinite(number) else None


# --- Problems -------------------------------------------------------------------------------


def parse_problem(status: int, reason: str, content: bytes) -> Problem:
    """Why the upstream refused a request: its problem+json, or just the status if unreadable."""
    fallback = Problem(
        status=status, title=reason, detail="", errors=MappingProxyType({}), trace_id=""
    )
    try:
        body = json_body(content)
    except UpstreamUnavailable:
        return fallback
    if not isinstance(body, dict):
        return fallback
    data = cast(Mapping[str, object], body)
    errors: dict[str, tuple[str, ...]] = {}
    raw_errors = data.get(PROBLEM_ERRORS_FIELD)
    if isinstance(raw_errors, dict):
        for name, messages in raw_errors.items():
            if isinstance(messages, list):
                errors[str(name)] = tuple(str(m) for m in messages)
            elif messages is not None:
                errors[str(name)] = (str(messages),)
    stated = data.get("status")
    return Problem(
        status=stated if isinstance(stated, int) and not isinstance(stated, bool) else status,
        title=_lenient_text(data.get("title")) or reason,
        detail=_lenient_text(data.get("detail")),
        errors=MappingProxyType(errors),
        trace_id=_lenient_text(data.get("traceId")),
    )
