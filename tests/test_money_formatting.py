"""The money and number filters, built once per locale and currency, write what babel writes."""

from decimal import Decimal

import pytest
from babel.numbers import format_currency, format_decimal
from django.utils import translation

from cases.templatetags.collection import money, number

AMOUNTS = [Decimal("0"), Decimal("-0.5"), Decimal("12.345"), Decimal("1234567.891"), Decimal(-99)]
NBSP = "\u00a0"


@pytest.mark.parametrize("language", ["nb", "en"])
@pytest.mark.parametrize("currency", ["NOK", "EUR", "SEK", "JPY", "XYZ"])
def test_money_is_babels_standard_format_with_letter_symbols_spaced(
    language: str, currency: str
) -> None:
    with translation.override(language):
        written = [money(amount, currency) for amount in AMOUNTS]

    expected = [format_currency(amount, currency, locale=language) for amount in AMOUNTS]
    # babel writes "NOK1,234.50"; the filter separates a symbol of letters from the digits.
    assert [text.replace(NBSP, "").replace(" ", "") for text in written] == [
        text.replace(NBSP, "").replace(" ", "") for text in expected
    ]
    if language == "en" and currency in {"NOK", "SEK", "XYZ"}:
        assert all(f"{currency}{NBSP}" in text for text in written)


@pytest.mark.parametrize("language", ["nb", "en"])
def test_numbers_are_babels_decimal_format(language: str) -> None:
    values: list[int | Decimal] = [0, 7, 999, 1000, 1234567, Decimal("-3"), Decimal("1234.5")]
    with translation.override(language):
        written = [number(value) for value in values]

    assert written == [format_decimal(Decimal(value), locale=language) for value in values]


@pytest.mark.parametrize("currency", ["A\\B", "AB\\", "\\1"])
def test_a_currency_with_a_backslash_is_written_not_a_crash(currency: str) -> None:
    with translation.override("en"):
        assert "5.00" in money(5, currency)
