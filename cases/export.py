"""The case list as CSV, streamed row by row while the client walks the upstream's pages.

Nothing here holds more than one case at a time: the rows come from a lazy iterator of cases and
leave as soon as they are written, so an export of a hundred thousand cases uses as much memory
as one of ten. Every file starts with a UTF-8 byte-order mark (Excel otherwise reads æøå as
mojibake) and has no cell a spreadsheet would run as a formula. Its layout follows the language
of the person exporting (a CsvLayout):

- English, for machines and spreadsheets alike: commas, stable English headers, the upstream's
  own values (OPEN, DEBT_COLLECTION), amounts as plain decimals with a dot, dates in ISO format,
  named cases-<date>.csv;
- Norwegian, for people who double-click it into Excel set up for Norway, which splits on ";"
  and reads "1234,50" as a number and "27.11.2026" as a date: semicolons, translated headers and
  labels, amounts with two decimals and a decimal comma, dates as dd.mm.yyyy, named after the
  organisation and the day.
"""

import csv
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Final, Protocol

from django.utils import timezone, translation
from django.utils.functional import Promise
from django.utils.text import slugify
from django.utils.translation import gettext, gettext_lazy, gettext_noop, pgettext

from cases.autocollect import (
    AccessDenied,
    AutoCollectError,
    Case,
    RateLimited,
    TooManyPages,
    UpstreamTimeout,
    UpstreamUnavailable,
)
from cases.vocabulary import ENUM_LABELS, humanise_enum

BYTE_ORDER_MARK: Final = "\ufeff"
LIST_SEPARATOR: Final = "; "
# A spreadsheet runs a cell beginning with one of these as a formula (OWASP "CSV injection").
FORMULA_TRIGGERS: Final = ("=", "+", "-", "@", "\t", "\r")

# The table's columns, then what only a file needs. Never identification numbers, e-mail or phone.
# English as written here; gettext_noop marks them for the Norwegian file's translated headers.
HEADER: Final = (
    gettext_noop("Case number"),
    gettext_noop("Debtors"),
    gettext_noop("Type"),
    gettext_noop("Status"),
    gettext_noop("Sub-status"),
    gettext_noop("Registered"),
    gettext_noop("Remaining amount"),
    gettext_noop("Currency"),
    gettext_noop("Invoices"),
    gettext_noop("Invoice numbers"),
    gettext_noop("Customer numbers"),
)

Cell = str | int | Decimal


class _Writer(Protocol):
    def writerow(self, row: Iterable[object], /) -> object: ...


class _LineBuffer:
    """A file-like object that hands back what csv.writer writes, instead of keeping it."""

    def write(self, text: str) -> str:
        return text


@dataclass(frozen=True)
class CsvLayout:
    """How one language's file is written: built once per export, before the file streams.

    Everything language-dependent is settled here (headers and labels translated up front), so
    writing rows never depends on which language the streaming thread has active.
    """

    language: str
    delimiter: str
    header: tuple[str, ...]
    labels: Mapping[str, str]  # upstream value -> label; empty: the value itself
    amount: Callable[[Decimal], str]
    day: Callable[[date], str]
    names_organization: bool  # the file name says whose cases these are

    def enum_text(self, value: str) -> str:
        """A status, sub-status or type as this file shows it."""
        if not self.labels or not value:
            return value
        return self.labels.get(value) or humanise_enum(value)


def _plain_decimal(amount: Decimal) -> str:
    # format "f": never "1E+3", always a dot, the sign kept; a negative amount is a number.
    return format(amount, "f")


def _decimal_comma(amount: Decimal) -> str:
    """1234.5 -> "1234,50": two decimals, no grouping (Excel would read "1 234,50" as text)."""
    return format(amount.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP), "f").replace(".", ",")


def _dotted_day(day: date) -> str:
    return f"{day.day:02d}.{day.month:02d}.{day.year:04d}"


ENGLISH_LAYOUT: Final = CsvLayout(
    language="en",
    delimiter=",",
    header=HEADER,
    labels={},
    amount=_plain_decimal,
    day=date.isoformat,
    names_organization=False,
)

# Languages whose users get a file laid out for their spreadsheet; every other gets English.
_SPREADSHEET_LANGUAGES: Final = frozenset({"nb"})


def csv_layout(language: str | None) -> CsvLayout:
    """The layout for the active language: Norwegian for "nb", English for anything else."""
    code = (language or "").lower().split("-")[0]
    if code not in _SPREADSHEET_LANGUAGES:
        return ENGLISH_LAYOUT
    with translation.override(code):
        return CsvLayout(
            language=code,
            delimiter=";",
            header=tuple(gettext(name) for name in HEADER),
            labels=_translated(ENUM_LABELS),
            amount=_decimal_comma,
            day=_dotted_day,
            names_organization=True,
        )


def _translated(labels: Mapping[str, Promise]) -> dict[str, str]:
    return {value: str(text) for value, text in labels.items()}


# Latin letters slugify() would drop (it keeps what NFKD reduces to ASCII, so å becomes a).
_ASCII_SPELLINGS: Final = str.maketrans({"æ": "ae", "Æ": "Ae", "ø": "o", "Ø": "O"})


def export_filename(layout: CsvLayout = ENGLISH_LAYOUT, organization_name: str = "") -> str:
    """cases-2026-11-27.csv in English; saker-bergen-boliger-as-2026-11-27.csv in Norwegian.

    The day in Europe/Oslo, ISO so that a folder of exports sorts by date. The organisation's
    name only in ASCII letters, digits and dashes: safe in the header and on every file system.
    """
    day = timezone.localdate().isoformat()
    if not layout.names_organization:
        return f"cases-{day}.csv"
    with translation.override(layout.language):
        stem = pgettext("the start of an exported file's name", "cases")
    organization = slugify(organization_name.translate(_ASCII_SPELLINGS))
    return "-".join(part for part in (stem, organization, day) if part) + ".csv"


def neutralise(text: str) -> str:
    """Text a spreadsheet would evaluate gets a leading quote, so it stays text."""
    return "'" + text if text.startswith(FORMULA_TRIGGERS) else text


def _local_day(moment: datetime) -> date:
    """The day in Europe/Oslo. The client keeps only moments every zone can show; one built
    elsewhere that cannot be shown in Oslo keeps its own day rather than ending the file."""
    try:
        return timezone.localtime(moment).date()
    except OverflowError:
        return moment.date()


def _joined(values: Iterable[str]) -> str:
    unique = dict.fromkeys(value for value in values if value)  # keeps order, drops repeats
    return LIST_SEPARATOR.join(unique)


def case_row(case: Case, layout: CsvLayout = ENGLISH_LAYOUT) -> list[str]:
    """One case as CSV cells. Upstream text is neutralised; numbers we format are left alone."""
    text_cells = {
        "debtors": _joined(debtor.display_name for debtor in case.debtors),
        "type": layout.enum_text(case.type),
        "status": layout.enum_text(case.status),
        "sub_status": layout.enum_text(case.sub_status),
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
        layout.day(_local_day(case.registered_at)) if case.registered_at else "",
        layout.amount(case.remaining_amount),
        safe["currency"],
        str(len(case.invoices)),
        safe["invoice_numbers"],
        safe["customer_numbers"],
    ]


def incomplete_reason(error: AutoCollectError) -> str | Promise:
    """Why the upstream stopped, in words for the last line of a cut-short file."""
    match error:
        case TooManyPages():
            return gettext_lazy("the export stopped at its limit of %(limit)s pages of cases") % {
                "limit": error.limit
            }
        case UpstreamTimeout():
            return gettext_lazy("the collection service timed out")
        case RateLimited():
            return gettext_lazy("the collection service asked us to slow down")
        case AccessDenied():
            return gettext_lazy("the collection service refused access")
        case UpstreamUnavailable():
            return gettext_lazy(
                "the collection service was unavailable or answered something unreadable"
            )
        case _:
            return gettext_lazy("the collection service refused a request")


def incomplete_line(error: AutoCollectError, written: int, layout: CsvLayout) -> str:
    """The last line of a cut-short file, in the file's language."""
    with translation.override(layout.language):
        return gettext("# EXPORT INCOMPLETE: %(reason)s after %(rows)s rows") % {
            "reason": incomplete_reason(error),
            "rows": written,
        }


def csv_lines(cases: Iterable[Case], layout: CsvLayout = ENGLISH_LAYOUT) -> Iterator[str]:
    """The file, one line per chunk: BOM and header, a row per case, and a last line if cut short.

    Consumes ``cases`` lazily. An upstream failure part-way ends the file with a line that says
    it is incomplete and why; the rows already sent stay correct.
    """
    writer: _Writer = csv.writer(_LineBuffer(), delimiter=layout.delimiter, lineterminator="\r\n")
    yield BYTE_ORDER_MARK + str(writer.writerow(layout.header))
    written = 0
    try:
        for case in cases:
            yield str(writer.writerow(case_row(case, layout)))
            written += 1
    except AutoCollectError as error:
        yield str(writer.writerow([incomplete_line(error, written, layout)]))
