"""Links to the case and debtor pages, built from upstream values that may be anything.

A customer number comes from the upstream and may hold "/", "..", a newline or "%". Each link
carries it as exactly one path segment: the value is percent-encoded whole (a "/" becomes %2F), so
a browser cannot resolve it to another page, and the route (cases.urls) accepts every value these
functions produce. A value no single segment can carry gives no link: the page shows it as text.
"""

from functools import lru_cache
from typing import Final
from urllib.parse import quote

from django.conf import settings
from django.urls import get_script_prefix, get_urlconf, reverse

from cases.autocollect import MAX_CASE_NUMBER, MIN_CASE_NUMBER

# Browsers resolve these segments, percent-encoded or not, to the current or the parent folder.
_DOT_SEGMENTS: Final = frozenset({"", ".", ".."})
# Stand-ins reversed once; the real value replaces them. The customer number's also survives
# reverse() only as one segment, which a "/" in a real number would not.
_CUSTOMER_PLACEHOLDER: Final = "customer-number"
_CASE_PLACEHOLDER: Final = MAX_CASE_NUMBER  # digits no prefix or suffix of the route contains


def is_case_number(value: int) -> bool:
    """Can this number name a case page (the route's converter accepts it)?"""
    return MIN_CASE_NUMBER <= value <= MAX_CASE_NUMBER


def case_url(case_number: int) -> str:
    """The case page's URL, or "" for a number no case page can have."""
    if not is_case_number(case_number):
        return ""
    prefix, suffix = _route_around("cases:detail", _CASE_PLACEHOLDER, *_routing())
    return f"{prefix}{case_number}{suffix}"


def debtor_url(customer_number: str) -> str:
    """The debtor page's URL with the customer number as one segment, or "" if it cannot be."""
    if customer_number in _DOT_SEGMENTS:
        return ""
    prefix, suffix = _route_around("cases:debtor", _CUSTOMER_PLACEHOLDER, *_routing())
    return f"{prefix}{quote(customer_number, safe='')}{suffix}"


def _routing() -> tuple[str, str]:
    """What reverse() depends on besides the route: the script prefix and the URLconf."""
    return get_script_prefix(), str(get_urlconf() or settings.ROOT_URLCONF)


@lru_cache(maxsize=32)
def _route_around(name: str, placeholder: str | int, *routing: str) -> tuple[str, str]:
    """The route's URL on both sides of its one argument, reversed once per routing.

    A list page links every row: concatenating is much cheaper than a reverse() per row.
    """
    prefix, suffix = reverse(name, args=[placeholder]).rsplit(str(placeholder), 1)
    return prefix, suffix
