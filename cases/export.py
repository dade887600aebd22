"""The case list as CSV, streamed row by row while the client walks the upstream's pages.

Nothing here holds more than one case at a time: the rows come from a lazy iterator of cases and
leave as soon as they are written, so an export of a hundred thousand cases uses as much memory
as one of ten. The file is for machines and spreadsheets alike: a UTF-8 byte-order mark (Excel
otherwise reads æøå as mojibake), stable English headers, amounts as plain decimals with a dot,
dates in ISO format, and no cell a spreadsheet would run as a formula.
"""

import csv
from collections.abc import Iterable, Iterator
from datetime import datetime
from decimal import Decimal
from typing import Final, Protocol

from django.utils import timezone

from cases.autocollect import (
    AccessDenied,
    AutoCollectError,
    Case,
    RateLimited,
    TooManyPages,
    UpstreamTimeout,
    UpstreamUnavailable,
)

BYTE_ORDER_MARK: Final = "\ufeff"
LIST_SEPARATOR: Final = "; "
# A spreadsheet runs a cell beginning with one of these as a formula (OWASP "CSV injection").
FORMULA_TRIGGERS: Final = ("=", "+", "-", "@", "\t", "\r")

# The table's columns, then what only a file needs. Never identification numbers, e-mail or phone.
HEADER: Final = (
    "Case number",
    "Debtors",
    "Type",
    "Status",
    "Sub-status",
    "Registered",
    "Remaining amount",
    "Currency",
    "Invoices",
    "Invoice numbers",
    "Customer numbers",
)

Cell = str | int | Decimal


class _Writer(Protocol):
    def writerow(self, row: Iterable[object], /) -> object: ...


class _LineBuffer:
    """A file-like object that hands back what csv.writer writes, instead of keeping it."""

    def write(self, text: str) -> str:
        return text


def export_filename() -> str:
    """cases-2026-11-27.csv: the day in Europe/Oslo, nothing about the organisation."""
    return f"cases-{timezone.localdate().isoformat()}.csv"


def neutralise(text: str) -> str:
    """Text a spreadsheet would evaluate gets a leading quote, so it stays text."""
    return "'" + text if text.startswith(FORMULA_TRIGGERS) else text


def _plain_decimal(amount: Decimal) -> str:
    # format "f": never "1E+3", always a dot, the sign kept; a negative amount is a number.
    return format(amount, "f")


def _iso_date(moment: datetime | None) -> str:
    """The day in Europe/Oslo. The client keeps only moments every zone can show; one built
    elsewhere that cannot be shown in Oslo keeps its own day rather than ending the file."""
    if moment is None:
        return ""
    try:
        return timezone.localtime(moment).date().isoformat()
    except OverflowError:
        return moment.date().isoformat()


def _joined(values: Iterable[str]) -> str:
    unique = dict.fromkeys(value for value in values if value)  # keeps order, drops repeats
    return LIST_SEPARATOR.join(unique)


def case_row(case: Case) -> list[str]:
    """One case as CSV cells. Upstream text is neutralised; numbers we format are left alone."""
    text_cells = {
        "debtors": _joined(debtor.display_name for debtor in case.debtors),
        "type": case.type,
        "status": case.status,
        "sub_status": case.sub_status,
        "currency": case.currency,
        "invoice_numbers": _joined(invoice.invoice_number for invoice in case.invoices),
        "customer_numbers": _joined(debtor.customer_number for debtor in case.debtors),
    }
    safe = {name: neutralise(value) for name, value in text_cells.items()}
    return [
        str(case.case_number),
        safe["debtors"],
        safe["type"],
        safe["status"],
        safe["sub_status"],
        _iso_date(case.registered_at),
        _plain_decimal(case.remaining_amount),
        safe["currency"],
        str(len(case.invoices)),
        safe["invoice_numbers"],
        safe["customer_numbers"],
    ]


def incomplete_reason(error: AutoCollectError) -> str:
    """Why the upstream stopped, in words for the last line of a cut-short file."""
    match error:
        case TooManyPages():
            return f"the export stopped at its limit of {error.limit} pages of cases"
        case UpstreamTimeout():
            return "the collection service timed out"
        case RateLimited():
            return "the collection service asked us to slow down"
        case AccessDenied():
            return "the collection service refused access"
        case UpstreamUnavailable():
            return "the collection service was unavailable or answered something unreadable"
        case _:
            return "the collection service refused a request"


def csv_lines(cases: Iterable[Case]) -> Iterator[str]:
    """The file, one line per chunk: BOM and header, a row per case, and a last line if cut short.

    Consumes ``cases`` lazily. An upstream failure part-way ends the file with a line that says
    it is incomplete and why; the rows already sent stay correct.
    """
    writer: _Writer = csv.writer(_LineBuffer(), lineterminator="\r\n")
    yield BYTE_ORDER_MARK + str(writer.writerow(HEADER))
    written = 0
    try:
        for case in cases:
            yield str(writer.writerow(case_row(case)))
            written += 1
    except AutoCollectError as error:
        message = f"# EXPORT INCOMPLETE: {incomplete_reason(error)} after {written} rows"
        yield str(writer.writerow([message]))
