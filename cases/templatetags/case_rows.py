"""The case list's rows, ready to print: `{% load case_rows %}`.

``{% for row in rows|case_rows %}``
    One CaseRow (a dict) per case, every cell already formatted in the active language and time
    zone, exactly as the filters of `{% load collection links %}` would format it in the template.

Why: the list renders 25 to 100 rows of seven cells, and in Django's template engine each filter,
lookup and include in a loop costs microseconds that add up to milliseconds per page. Formatting
a row in one function call and printing plain dict values renders the same HTML in about half
the time. The markup stays in the template.
"""

from collections.abc import Iterable
from typing import TypedDict

from django import template
from django.template.defaultfilters import date as date_filter
from django.utils import timezone

from cases.autocollect import Case
from cases.links import case_url
from cases.templatetags.collection import enum_label, money, number, status_badge_class

register = template.Library()

NO_SUB_STATUS = "NONE"  # the upstream's way of saying a case has no sub-status


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
    remaining: str
    invoices: str


@register.filter
def case_rows(cases: Iterable[Case]) -> list[CaseRow]:
    """The cases as CaseRows, in order."""
    return [_row(case) for case in cases]


def _row(case: Case) -> CaseRow:
    registered = timezone.localtime(case.registered_at) if case.registered_at else None
    sub_status = case.sub_status if case.sub_status != NO_SUB_STATUS else ""
    return {
        "href": case_url(case.case_number),
        "number": case.case_number,
        "debtors": [debtor.display_name for debtor in case.debtors],
        "type": enum_label(case.type),
        "status": enum_label(case.status),
        "status_class": status_badge_class(case.status),
        "sub_status": enum_label(sub_status) if sub_status else "",
        "sub_status_class": status_badge_class(sub_status) if sub_status else "",
        "registered_iso": date_filter(registered, "c") if registered else "",
        "registered": date_filter(registered, "SHORT_DATE_FORMAT") if registered else "",
        "remaining": money(case.remaining_amount, case.currency),
        "invoices": number(len(case.invoices)),
    }
