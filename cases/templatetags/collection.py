"""Presentation helpers for collection data: `{% load collection %}`.

Filters (each is safe on None, "" and values it has never seen; none of them raises). MISSING is
an en dash, shown where a value is absent.

``{{ amount|money }}`` / ``{{ amount|money:invoice.currency }}``
    A Decimal in the active locale with its currency: nb "1 234,50 kr", en "NOK 1 234.50"
    (non-breaking spaces, so an amount never wraps). Exact: the value is never turned into a
    float. None → MISSING. The currency defaults to NOK.

``{{ count|number }}``
    A count or decimal in the active locale: nb "1 234", en "1,234". None → MISSING.

``{{ case.status|enum_label }}``
    The translated label of a known upstream enum value (case status, sub-status and type, debtor
    type, claim type, account type); an unknown value is humanised ("NEW_THING" → "New thing").
    None and "" → MISSING.

``{{ case.status|status_badge_class }}``
    The modifier class for a ``.badge``: "badge--open", "badge--paused", "badge--closed",
    "badge--withdrawn"; the sub-statuses that wait for the creditor's decision give
    "badge--waiting"; anything else "badge--unknown". Use it as ::

        <span class="badge {{ case.status|status_badge_class }}">
          {{ case.status|enum_label }}</span>

``{{ debtor.identification_number|mask_identifier }}``
    A national id or organisation number with all but the last two characters hidden
    ("•••••••••12"); a value of two characters or fewer is hidden entirely. None/"" → "".
"""

import re
from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from typing import Final

from babel import Locale, UnknownLocaleError
from babel.numbers import get_currency_symbol
from django import template
from django.conf import settings
from django.utils.translation import get_language, to_locale

from cases.vocabulary import DEFAULT_CURRENCY, ENUM_LABELS, badge_class, label

register = template.Library()

# ENUM_LABELS is re-exported for callers that imported it from here before cases.vocabulary.
__all__ = [
    "ENUM_LABELS",
    "MISSING",
    "enum_label",
    "mask_identifier",
    "money",
    "number",
    "register",
    "status_badge_class",
]

MISSING: Final = "\u2013"  # an en dash: shown where a value is absent
MASK_CHARACTER: Final = "•"
VISIBLE_IDENTIFIER_CHARACTERS: Final = 2
NBSP: Final = "\u00a0"
# Formatters are built once per locale and currency, not once per amount (a list page shows
# dozens). The currency comes from the upstream and could be anything, so the cache is bounded.
FORMATTER_CACHE_SIZE: Final = 128
# Amounts already formatted, per locale and currency (bounded: amounts come from the upstream).
MONEY_TEXT_CACHE_SIZE: Final = 8192
# Below this, a whole count of zero or more reads the same in every locale's Latin digits: no
# grouping, no sign, no decimals (so the babel call can be skipped).
UNGROUPED_LIMIT: Final = 1000


def _active_locale() -> str:
    """The babel locale for the language Django activated for this request."""
    return to_locale(get_language() or settings.LANGUAGE_CODE)


def _as_decimal(value: object) -> Decimal | None:
    """A Decimal for ints, Decimals and numeric strings; floats go through their repr, never
    binary arithmetic. Anything else is None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, Decimal):
        return value if value.is_finite() else None
    if isinstance(value, int | float | str):
        try:
            number = Decimal(str(value).strip())
        except InvalidOperation:
            return None
        return number if number.is_finite() else None
    return None


def _enum_text(value: object) -> str:
    """The raw text of an enum value, whether it arrives as a str or as an Enum member."""
    raw = getattr(value, "value", value)
    return "" if raw is None else str(raw).strip()


def _letter_symbol_spacer(symbol: str) -> Callable[[str], str]:
    """What separates a currency symbol that ends or starts with a letter from the digits.

    CLDR's currency-spacing rule, which babel does not apply: "NOK1,234.50" → "NOK 1,234.50",
    while "1 234,50 kr" and "€1,234.50" stay as they are.
    """
    if not symbol or not (symbol[0].isalpha() or symbol[-1].isalpha()):
        return str
    escaped = re.escape(symbol)
    literal = symbol.replace("\\", "\\\\")  # a replacement template, taken literally
    rules: list[tuple[re.Pattern[str], str]] = []
    if symbol[-1].isalpha():
        rules.append((re.compile(rf"{escaped}(?=\d)"), literal + NBSP))
    if symbol[0].isalpha():
        rules.append((re.compile(rf"(?<=\d){escaped}"), NBSP + literal))

    def spaced(formatted: str) -> str:
        for pattern, replacement in rules:
            formatted = pattern.sub(replacement, formatted)
        return formatted

    return spaced


def _babel_locale(locale: str) -> Locale:
    try:
        return Locale.parse(locale)
    except (UnknownLocaleError, ValueError):
        return Locale.parse("en")


@lru_cache(maxsize=FORMATTER_CACHE_SIZE)
def _money_formatter(locale: str, code: str) -> Callable[[Decimal], str]:
    """How amounts in this currency are written in this locale (babel's standard format)."""
    babel_locale = _babel_locale(locale)
    pattern = babel_locale.currency_formats["standard"]
    spaced = _letter_symbol_spacer(get_currency_symbol(code, locale=babel_locale))

    def formatted(amount: Decimal) -> str:
        return spaced(pattern.apply(amount, babel_locale, currency=code, currency_digits=True))

    return formatted


@lru_cache(maxsize=FORMATTER_CACHE_SIZE)
def _number_formatter(locale: str) -> Callable[[Decimal], str]:
    """How counts and decimals are written in this locale (babel's decimal format)."""
    babel_locale = _babel_locale(locale)
    pattern = babel_locale.decimal_formats[None]

    def formatted(amount: Decimal) -> str:
        return str(pattern.apply(amount, babel_locale))

    return formatted


@register.filter(is_safe=True)
def money(value: object, currency: object = DEFAULT_CURRENCY) -> str:
    """An amount with its currency in the active locale; exact, never via float. None → MISSING."""
    amount = _as_decimal(value)
    if amount is None:
        return MISSING if value is None or value == "" else str(value)
    code = (str(currency).strip() if currency else "") or DEFAULT_CURRENCY
    try:
        return _formatted_money(amount, code)
    except (InvalidOperation, OverflowError, ValueError):
        # Too large to round to cents: the client refuses such amounts, a template may not.
        return f"{code}{NBSP}{amount}"


def _formatted_money(amount: Decimal, code: str) -> str:
    return _money_text(_active_locale(), code, str(amount))


@lru_cache(maxsize=MONEY_TEXT_CACHE_SIZE)
def _money_text(locale: str, code: str, amount: str) -> str:
    """One amount's text, memoised: pages shown again (cache hits, the next keystroke) print the
    same amounts, and a lookup costs about a twentieth of babel's formatting. Keyed by the exact
    text, not the Decimal: Decimal("1.5") == Decimal("1.50"), and a key must not equate values
    that might print differently."""
    return _money_formatter(locale, code)(Decimal(amount))


@register.filter(is_safe=True)
def number(value: object) -> str:
    """A count or decimal in the active locale ("1 234"). None → MISSING."""
    amount = _as_decimal(value)
    if amount is None:
        return MISSING if value is None or value == "" else str(value)
    try:
        return _formatted_number(amount)
    except (InvalidOperation, OverflowError, ValueError):
        return str(amount)  # too large for the locale's rounding: the digits as they are


def _formatted_number(amount: Decimal) -> str:
    if not amount.is_signed() and amount < UNGROUPED_LIMIT and amount == amount.to_integral_value():
        return str(int(amount))  # a small count, the commonest case: no locale needed
    return _number_formatter(_active_locale())(amount)


@register.filter
def enum_label(value: object) -> str:
    """The translated label of an upstream enum value; unknown values humanised; None → MISSING."""
    raw = _enum_text(value)
    return str(label(raw)) if raw else MISSING


@register.filter
def status_badge_class(value: object) -> str:
    """The `.badge` modifier for a status or sub-status; "badge--unknown" for anything else."""
    return badge_class(_enum_text(value))


@register.filter
def mask_identifier(value: object) -> str:
    """A national id / organisation number showing only its last two characters."""
    raw = "" if value is None else re.sub(r"\s+", "", str(value))
    if not raw:
        return ""
    if len(raw) <= VISIBLE_IDENTIFIER_CHARACTERS:
        return MASK_CHARACTER * len(raw)
    hidden = len(raw) - VISIBLE_IDENTIFIER_CHARACTERS
    return MASK_CHARACTER * hidden + raw[hidden:]
