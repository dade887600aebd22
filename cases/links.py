"""Links to the case and debtor pages, built from upstream values that may be anything.

A customer number comes from the upstream and may hold "/", "..", a newline or "%". Each link
carries it as exactly one path segment: the value is percent-encoded whole (a "/" becomes %2F), so
a browser cannot resolve it to another page, and the route (cases.urls) accepts every value these
functions produce. A value no single segment can carry gives no link: the page shows it as text.
"""

from typing import Final
from urllib.parse import quote

from django.urls import reverse

from cases.autocollect import MAX_CASE_NUMBER, MIN_CASE_NUMBER

# Browsers resolve these segments, percent-encoded or not, to the current or the parent folder.
_DOT_SEGMENTS: Final = frozenset({"", ".", ".."})
# Replaced by the encoded segment after reverse(), which would keep a "/" as a separator.
_PLACEHOLDER: Final = "customer-number"


def is_case_number(value: int) -> bool:
    """Can this number name a case page (the route's converter accepts it)?"""
    return MIN_CASE_NUMBER <= value <= MAX_CASE_NUMBER


def case_url(case_number: int) -> str:
    """The case page's URL, or "" for a number no case page can have."""
    if not is_case_number(case_number):
        return ""
    return reverse("cases:detail", args=[case_number])


def debtor_url(customer_number: str) -> str:
    """The debtor page's URL with the customer number as one segment, or "" if it cannot be."""
    if customer_number in _DOT_SEGMENTS:
        return ""
    prefix, suffix = reverse("cases:debtor", args=[_PLACEHOLDER]).rsplit(_PLACEHOLDER, 1)
    return f"{prefix}{quote(customer_number, safe='')}{suffix}"
