"""The case list's rows, ready to print: `{% load case_rows %}`.

``{% for row in rows|case_rows %}``
    One CaseRow (a dict) per case, every cell already formatted in the active language and time
    zone, exactly as the filters of `{% load collection links %}` would format it in the template.

``{% case_table_rows rows %}``
    The list's whole table body: one ``<tr>`` per case, the CaseRows printed by plain string
    building (every value escaped with html.escape, as django.utils.html.escape does, minus its
    lazy-string wrapper, which cost more than the escaping), the cells' data-labels (the phone
    layout's captions) translated once.

Why: the list renders 25 to 100 rows of ten cells. In Django's template engine each variable,
tag and filter in a loop costs microseconds (a node, a context lookup, an escape check) that add
up to milliseconds per page: printing 25 rows through a template loop took about 1.7 ms of the
request's CPU, the same rows built as one string about 0.3 ms (bench/request_cpu.py). The
markup is the template loop's, kept next to it in tests/test_case_rows.py, which checks that
both print the same cells.
"""

from collections.abc import Iterable, Sequence
from datetime import date
from decimal import Decimal
from functools import lru_cache
from html import escape  # what django.utils.html.escape calls, without its lazy-string wrapper
from typing import Final, TypedDict

from django import template
from django.template.defaultfilters import date as date_filter
from django.utils import timezone
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language, gettext

from cases.autocollect import Case
from cases.links import case_url
from cases.templatetags.collection import (
    MISSING,
    enum_label,
    money,
    number,
    status_badge_class,
)

register = template.Library()

NO_SUB_STATUS = "NONE"  # the upstream's way of saying a case has no sub-status
# Labels and dates are memoised per language (amounts in collection.py): a page shown again (a
# cache hit, the next keystroke's same answer) prints the same cells, and looking one up is far
# cheaper than formatting it again through gettext or Django's date format. Bounded, because
# the values come from the upstream.
CELL_CACHE_SIZE: Final = 8192


class CaseRow(TypedDict):
    href: str  # "" when no case page can have the number
    number: int
    debtors: list[str]  # display names; "" where a debtor has none
    type: str
    status: str
    status_class: str
    sub_status: str  # "" when the case has none
    sub_status_class: str
    registered_iso: str  # "" when unknown
    registered: str
    due_iso: str  # the earliest unpaid invoice's due date, ISO; "" when none is unpaid
    due: str
    days_past_due: str  # "0" before the due date, MISSING without one
    original: str  # the invoices' original amounts (the principal), in the case's currency
    remaining: str
    invoices: str


def earliest_unpaid_due_date(case: Case) -> date | None:
    """The due date (in the active time zone) of the earliest invoice with something left to pay.

    The same rule as the case index's (triage.sync), so the list and the triage queues agree.
    """
    due = [i.due_date for i in case.invoices if i.due_date and i.remaining_amount > 0]
    return timezone.localdate(min(due)) if due else None


def days_past_due(due: date | None, today: date) -> int | None:
    """Whole days since the due date; 0 on or before it; None without one."""
    return max((today - due).days, 0) if due else None


def original_amount(case: Case) -> Decimal:
    """What the case's invoices were for (the principal), in the case's currency.

    An invoice in another currency than the case's is left out rather than added to it.
    """
    currency = case.currency
    return sum(
        (i.original_amount for i in case.invoices if i.currency in ("", currency)), Decimal(0)
    )


@register.filter
def case_rows(cases: Iterable[Case]) -> list[CaseRow]:
    """The cases as CaseRows, in order."""
    return rows_as_of(cases, timezone.localdate())


def rows_as_of(cases: Iterable[Case], today: date) -> list[CaseRow]:
    """The cases as CaseRows, days past due counted to `today`."""
    return [_row(case, today) for case in cases]


def _row(case: Case, today: date) -> CaseRow:
    language = get_language() or ""
    registered = timezone.localtime(case.registered_at) if case.registered_at else None
    sub_status = case.sub_status if case.sub_status != NO_SUB_STATUS else ""
    due = earliest_unpaid_due_date(case)
    currency = case.currency
    return {
        "href": case_url(case.case_number),
        "number": case.case_number,
        "debtors": [debtor.display_name for debtor in case.debtors],
        "type": _label(language, case.type),
        "status": _label(language, case.status),
        "status_class": status_badge_class(case.status),
        "sub_status": _label(language, sub_status) if sub_status else "",
        "sub_status_class": status_badge_class(sub_status) if sub_status else "",
        # Django's "c" format is isoformat(); calling it directly skips the format machinery.
        "registered_iso": registered.isoformat() if registered else "",
        "registered": _short_date(language, registered.date()) if registered else "",
        "due_iso": due.isoformat() if due else "",
        "due": _short_date(language, due) if due else "",
        "days_past_due": number(days_past_due(due, today)),
        "original": money(original_amount(case), currency),  # memoised in collection.py
        "remaining": money(case.remaining_amount, currency),
        "invoices": number(len(case.invoices)),
    }


# The language is part of each key: the functions below read the active one, so the key says it.


@lru_cache(maxsize=CELL_CACHE_SIZE)
def _label(language: str, value: str) -> str:
    return enum_label(value)


@lru_cache(maxsize=CELL_CACHE_SIZE)
def _short_date(language: str, day: date) -> str:
    return date_filter(day, "SHORT_DATE_FORMAT")


@register.simple_tag
def case_table_rows(cases: Iterable[Case]) -> SafeString:
    """The table body's rows for these cases, as one safe string (see the module's docstring)."""
    labels = _cell_labels()
    return mark_safe("".join(_row_html(row, labels) for row in case_rows(cases)))  # noqa: S308 - every value below is escaped


def _cell_labels() -> Sequence[str]:
    """The data-label of each cell after the first, escaped, in the active language."""
    return [
        escape(gettext(text))
        for text in (
            "Debtor",
            "Type",
            "Status",
            "Registered",
            "Due date",
            "Days past due",
            "Original",
            "Remaining",
            "Invoices",
        )
    ]


def _row_html(row: CaseRow, labels: Sequence[str]) -> str:
    debtor, type_, status, registered, due, overdue, original, remaining, invoices = labels
    href = escape(row["href"])
    number_ = escape(str(row["number"]))
    names = "".join(
        f'<span class="case-table__debtor">{escape(name or MISSING)}</span>'
        for name in row["debtors"]
    )
    badges = f'<span class="badge {escape(row["status_class"])}">{escape(row["status"])}</span>'
    if row["sub_status"]:
        badges += (
            f' <span class="badge {escape(row["sub_status_class"])}">'
            f"{escape(row['sub_status'])}</span>"
        )
    return (
        (f'<tr data-href="{href}">' if href else "<tr>")
        + (
            f'<th scope="row"><a href="{href}">{number_}</a></th>'
            if href
            else f'<th scope="row">{number_}</th>'
        )
        + f'<td data-label="{debtor}">{names or MISSING}</td>'
        + f'<td data-label="{type_}">{escape(row["type"])}</td>'
        + f'<td data-label="{status}">{badges}</td>'
        + f'<td data-label="{registered}">{_time(row["registered_iso"], row["registered"])}</td>'
        + f'<td data-label="{due}">{_time(row["due_iso"], row["due"])}</td>'
        + f'<td class="num" data-label="{overdue}">{escape(row["days_past_due"])}</td>'
        + f'<td class="num" data-label="{original}">{escape(row["original"])}</td>'
        + f'<td class="num" data-label="{remaining}">{escape(row["remaining"])}</td>'
        + f'<td class="num" data-label="{invoices}">{escape(row["invoices"])}</td>'
        + "</tr>"
    )


def _time(iso: str, shown: str) -> str:
    return f'<time datetime="{escape(iso)}">{escape(shown)}</time>' if iso else MISSING
