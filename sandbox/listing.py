"""Query parameters, filters and keyset paging for the list endpoints (cases and invoices).

Paging is keyset-based under opaque, signed page tokens: a token names the row a page starts
after (or before), the page number it leads to, and a fingerprint of the organisation, filters and
page size that produced it, so a token is refused with any other query. Keyset paging keeps deep
pages as fast as the first and never skips or repeats a row while cases change status.
"""

import hashlib
import json
import math
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.core import signing
from django.db.models import Model, Q, QuerySet
from django.http import QueryDict

from sandbox.models import (
    Case,
    CaseStatus,
    CaseType,
    Debtor,
    Invoice,
    InvoiceStatus,
    InvoiceType,
)
from sandbox.search import fold_for_search

OSLO = ZoneInfo("Europe/Oslo")
DEFAULT_PAGE_SIZE = 25
MAX_PAGE_SIZE = 100
MAX_SEARCH_TERM_LENGTH = 200
_TOKEN_SALT = "sandbox.page-token"  # noqa: S105 (a signing namespace, not a secret)


class InvalidQuery(Exception):
    """One or more query parameters are unusable; `errors` names them."""

    def __init__(self, errors: dict[str, list[str]]) -> None:
        super().__init__("invalid query")
        self.errors = errors


class QueryParams:
    """Query parameters looked up case-insensitively, as an ASP.NET upstream binds them.

    Each reader records a message per bad field instead of raising, so one 400 names them all.
    """

    def __init__(self, query: QueryDict) -> None:
        self._values: dict[str, tuple[str, str]] = {}
        for name, values in query.lists():
            present = [value for value in values if value.strip()]
            if present and name.lower() not in self._values:
                self._values[name.lower()] = (name, present[0].strip())
        self.errors: dict[str, list[str]] = {}

    def text(self, name: str, max_length: int = 200) -> str | None:
        value = self._raw(name)
        if value is not None and len(value) > max_length:
            self._error(name, f"{name} must be at most {max_length} characters.")
            return None
        if value is not None and "\x00" in value:  # PostgreSQL's text cannot hold it
            self._error(name, f"{name} must not contain NUL characters.")
            return None
        return value

    def choice(self, name: str, allowed: Sequence[str]) -> str | None:
        value = self._raw(name)
        if value is None:
            return None
        if value.upper() not in allowed:
            self._error(
                name,
                f"The value '{value}' is not valid for {name}; use one of {', '.join(allowed)}.",
            )
            return None
        return value.upper()

    def integer(self, name: str, *, low: int, high: int, message: str | None = None) -> int | None:
        value = self._raw(name)
        if value is None:
            return None
        if not (value.isascii() and value.lstrip("-").isdigit() and len(value) <= 19):
            self._error(name, f"The value '{value}' is not valid for {name}.")
            return None
        number = int(value)
        if not low <= number <= high:
            self._error(name, message or f"{name} must be between {low} and {high}.")
            return None
        return number

    def moment(self, name: str, *, end_of_range: bool) -> "Bound | None":
        """An ISO-8601 date (the whole day in Europe/Oslo) or date-time (naive = Oslo)."""
        value = self._raw(name)
        if value is None:
            return None
        try:
            bound = _parse_bound(value, end_of_range=end_of_range)
        except ValueError:
            self._error(name, f"The value '{value}' is not a valid ISO-8601 date or date-time.")
            return None
        except OverflowError:
            self._error(name, f"The value '{value}' is outside the range {name} accepts.")
            return None
        return bound

    def _raw(self, name: str) -> str | None:
        found = self._values.get(name.lower())
        return found[1] if found else None

    def _error(self, name: str, message: str) -> None:
        self.errors.setdefault(name, []).append(message)

    def raise_if_invalid(self) -> None:
        if self.errors:
            raise InvalidQuery(self.errors)


@dataclass(frozen=True)
class Bound:
    """One end of a date range: a moment, and whether the range includes it."""

    moment: datetime
    inclusive: bool

    def fingerprint(self) -> str:
        return f"{self.moment.isoformat()}{'=' if self.inclusive else ''}"


def _parse_bound(value: str, *, end_of_range: bool) -> Bound:
    """ValueError when `value` is no ISO-8601 date or date-time; OverflowError when it is one the
    database cannot store: the day after 9999-12-31, or a moment whose UTC time falls outside
    years 1-9999 (0001-01-01 in Oslo is 31 December of year 0 in UTC).
    """
    if len(value) == 10:
        day = date.fromisoformat(value)
        if end_of_range:
            next_day = datetime.combine(day + timedelta(days=1), time.min, tzinfo=OSLO)
            bound = Bound(next_day, inclusive=False)
        else:
            bound = Bound(datetime.combine(day, time.min, tzinfo=OSLO), inclusive=True)
    else:
        moment = datetime.fromisoformat(value.replace(" ", "+", 1) if "T" in value else value)
        bound = Bound(moment if moment.tzinfo else moment.replace(tzinfo=OSLO), inclusive=True)
    bound.moment.astimezone(UTC)  # what every backend does before storing: overflows at the edges
    return bound


@dataclass(frozen=True)
class PageRequest:
    size: int
    token: str | None


def read_page_request(params: QueryParams) -> PageRequest:
    size = params.integer(
        "PageSize",
        low=1,
        high=MAX_PAGE_SIZE,
        message=f"PageSize must be between 1 and {MAX_PAGE_SIZE}.",
    )
    return PageRequest(size=size or DEFAULT_PAGE_SIZE, token=params.text("PageToken", 4000))


# --- Filters -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CaseFilters:
    status: str | None = None
    type: str | None = None
    case_number: int | None = None
    customer_number: str | None = None
    unique_source_invoice_id: str | None = None
    search_term: str | None = None  # already folded
    from_created_at: Bound | None = None
    to_created_at: Bound | None = None


def read_case_filters(params: QueryParams) -> CaseFilters:
    term = params.text("SearchTerm", MAX_SEARCH_TERM_LENGTH)
    folded = fold_for_search(term.replace("\x1f", "")).strip() if term else ""
    return CaseFilters(
        status=params.choice("Status", CaseStatus.values),
        type=params.choice("Type", CaseType.values),
        case_number=params.integer("CaseNumber", low=0, high=2**62),
        customer_number=params.text("CustomerNumber"),
        unique_source_invoice_id=params.text("UniqueSourceInvoiceId"),
        search_term=folded or None,
        from_created_at=params.moment("FromCreatedAt", end_of_range=False),
        to_created_at=params.moment("ToCreatedAt", end_of_range=True),
    )


def filter_cases(organization_id: uuid.UUID, filters: CaseFilters) -> QuerySet[Case]:
    cases = Case.objects.filter(organization_id=organization_id)
    if filters.status:
        cases = cases.filter(status=filters.status)
    if filters.type:
        cases = cases.filter(type=filters.type)
    if filters.case_number is not None:
        cases = cases.filter(case_number=filters.case_number)
    if filters.customer_number:
        debtors = Debtor.objects.filter(
            organization_id=organization_id, customer_number=filters.customer_number
        )
        cases = cases.filter(id__in=debtors.values("case_id"))
    if filters.unique_source_invoice_id:
        invoices = Invoice.objects.filter(
            organization_id=organization_id,
            unique_source_invoice_id=filters.unique_source_invoice_id,
        )
        cases = cases.filter(id__in=invoices.values("case_id"))
    if filters.search_term:
        cases = cases.filter(search_text__contains=filters.search_term)
    return _in_range(cases, "registered_at", filters.from_created_at, filters.to_created_at)


@dataclass(frozen=True)
class InvoiceFilters:
    status: str | None = None
    type: str | None = None
    invoice_number: str | None = None
    unique_source_invoice_id: str | None = None
    customer_number: str | None = None
    created_from: Bound | None = None
    created_to: Bound | None = None


def read_invoice_filters(params: QueryParams) -> InvoiceFilters:
    return InvoiceFilters(
        status=params.choice("Status", InvoiceStatus.values),
        type=params.choice("Type", InvoiceType.values),
        invoice_number=params.text("InvoiceNumber"),
        unique_source_invoice_id=params.text("UniqueSourceInvoiceId"),
        customer_number=params.text("CustomerNumber"),
        created_from=params.moment("From", end_of_range=False),
        created_to=params.moment("To", end_of_range=True),
    )


def filter_invoices(organization_id: uuid.UUID, filters: InvoiceFilters) -> QuerySet[Invoice]:
    invoices = Invoice.objects.filter(organization_id=organization_id)
    if filters.status:
        invoices = invoices.filter(status=filters.status)
    if filters.type:
        invoices = invoices.filter(type=filters.type)
    if filters.invoice_number:
        invoices = invoices.filter(invoice_number=filters.invoice_number)
    if filters.unique_source_invoice_id:
        invoices = invoices.filter(unique_source_invoice_id=filters.unique_source_invoice_id)
    if filters.customer_number:
        debtors = Debtor.objects.filter(
            organization_id=organization_id, customer_number=filters.customer_number
        )
        invoices = invoices.filter(case_id__in=debtors.values("case_id"))
    return _in_range(invoices, "registered_at", filters.created_from, filters.created_to)


def _in_range[M: Model](
    rows: QuerySet[M], field_name: str, start: Bound | None, end: Bound | None
) -> QuerySet[M]:
    if start:
        rows = rows.filter(**{f"{field_name}__{'gte' if start.inclusive else 'gt'}": start.moment})
    if end:
        rows = rows.filter(**{f"{field_name}__{'lte' if end.inclusive else 'lt'}": end.moment})
    return rows


def fingerprint(kind: str, organization_id: uuid.UUID, filters: object, page_size: int) -> str:
    """What a page token is bound to: endpoint, organisation, every filter, the page size."""
    values = {
        name: value.fingerprint() if isinstance(value, Bound) else value
        for name, value in vars(filters).items()
    }
    canonical = json.dumps(
        [kind, str(organization_id), values, page_size], sort_keys=True, default=str
    )
    return hashlib.sha256(canonical.encode()).hexdigest()[:32]


# --- Keyset paging -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Keyset:
    """A total order, newest first: a timestamp, then a unique tie-breaker (both descending)."""

    time_field: str
    tie_field: str
    decode_tie: Callable[[Any], Any]

    def ordered(self, rows: QuerySet[Any], *, newest_first: bool) -> QuerySet[Any]:
        sign = "-" if newest_first else ""
        return rows.order_by(f"{sign}{self.time_field}", f"{sign}{self.tie_field}")

    def key_of(self, row: Any) -> list[Any]:
        return [getattr(row, self.time_field).isoformat(), str(getattr(row, self.tie_field))]

    def beyond(self, key: list[Any], *, older: bool) -> Q:
        """Rows strictly older (or newer) than `key`; the first clause lets an index seek."""
        moment, tie = datetime.fromisoformat(key[0]), self.decode_tie(key[1])
        op = "lt" if older else "gt"
        return Q(**{f"{self.time_field}__{op}e": moment}) & (
            Q(**{f"{self.time_field}__{op}": moment})
            | Q(**{self.time_field: moment, f"{self.tie_field}__{op}": tie})
        )


CASE_KEYSET = Keyset("registered_at", "case_number", int)
INVOICE_KEYSET = Keyset("registered_at", "id", uuid.UUID)


@dataclass
class Page:
    rows: list[Any]
    number: int
    size: int
    total_count: int
    next_token: str | None = None
    previous_token: str | None = None
    has_next: bool = False
    has_previous: bool = False

    def summaries(self) -> dict[str, dict[str, Any]]:
        """`skipSummary` and `cursorSummary`, both on every page."""
        return {
            "skipSummary": {
                "status": "SUCCESS",
                "totalCount": self.total_count,
                "currentPage": self.number,
                "pageSize": self.size,
                "totalPages": math.ceil(self.total_count / self.size),
                "hasNextPage": self.has_next,
                "hasPreviousPage": self.has_previous,
            },
            "cursorSummary": {
                "status": "SUCCESS",
                "nextPageToken": self.next_token,
                "previousPageToken": self.previous_token,
            },
        }


def paginate(rows: QuerySet[Any], keyset: Keyset, page: PageRequest, bound_to: str) -> Page:
    """One page of `rows` in keyset order, with its neighbours' tokens (InvalidQuery if forged)."""
    position = _read_token(page.token, bound_to, page.size) if page.token else None
    size, total = page.size, rows.count()
    if position is not None and position["d"] == "prev":
        newer = rows.filter(keyset.beyond(position["k"], older=False))
        window = list(keyset.ordered(newer, newest_first=False)[: size + 1])
        if len(window) > size:
            found = list(reversed(window[:size]))
            number = max(int(position["n"]), 2)
            return _page(
                found, number, size, total, keyset, bound_to, has_previous=True, has_next=True
            )
        position = None  # walked back to the start: that is simply the first page
    older = rows.filter(keyset.beyond(position["k"], older=True)) if position else rows
    window = list(keyset.ordered(older, newest_first=True)[: size + 1])
    number = int(position["n"]) if position else 1
    return _page(
        window[:size],
        number,
        size,
        total,
        keyset,
        bound_to,
        has_previous=position is not None,
        has_next=len(window) > size,
    )


def _page(
    found: list[Any],
    number: int,
    size: int,
    total: int,
    keyset: Keyset,
    bound_to: str,
    *,
    has_previous: bool,
    has_next: bool,
) -> Page:
    """A page and its neighbours' tokens; an empty page (the data moved away) has neither."""
    result = Page(rows=found, number=number, size=size, total_count=total)
    if found and has_next:
        result.has_next = True
        result.next_token = _write_token(
            bound_to, size, "next", keyset.key_of(found[-1]), number + 1
        )
    if found and has_previous:
        result.has_previous = True
        result.previous_token = _write_token(
            bound_to, size, "prev", keyset.key_of(found[0]), number - 1
        )
    return result


def _token_signer() -> signing.Signer:
    """No timestamp (unlike signing.dumps): the same page always gets the same token."""
    return signing.Signer(salt=_TOKEN_SALT)


def _write_token(bound_to: str, size: int, direction: str, key: list[Any], number: int) -> str:
    payload = {"b": bound_to, "s": size, "d": direction, "k": key, "n": number}
    return _token_signer().sign_object(payload, compress=True)


def _read_token(token: str, bound_to: str, size: int) -> dict[str, Any]:
    try:
        payload = _token_signer().unsign_object(token)
    except signing.BadSignature as error:
        raise InvalidQuery({"PageToken": ["The page token is not valid."]}) from error
    if not isinstance(payload, dict) or payload.get("b") != bound_to or payload.get("s") != size:
        raise InvalidQuery(
            {"PageToken": ["The page token belongs to other filters or another page size."]}
        )
    return payload
