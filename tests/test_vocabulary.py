"""The upstream's vocabulary in one place, and the filters that show it (never crashing)."""

from decimal import Decimal

import pytest
from django.utils import translation

from cases import vocabulary
from cases.templatetags.collection import MISSING, enum_label, money, number, status_badge_class

ENUMS = {
    "case status": vocabulary.CASE_STATUSES,
    "case sub-status": vocabulary.CASE_SUB_STATUSES,
    "case type": vocabulary.CASE_TYPES,
    "debtor type": vocabulary.DEBTOR_TYPES,
    "claim type": vocabulary.CLAIM_TYPES,
    "account type": vocabulary.ACCOUNT_TYPES,
}


def test_every_known_value_has_a_label_and_every_label_a_known_value() -> None:
    known = [value for values in ENUMS.values() for value in values]

    assert sorted(known) == sorted(vocabulary.ENUM_LABELS)


def test_no_value_is_in_two_enums_so_one_label_mapping_serves_them_all() -> None:
    known = [value for values in ENUMS.values() for value in values]

    assert len(known) == len(set(known))


def test_badges_are_for_statuses_and_sub_statuses_only() -> None:
    badged = set(vocabulary.BADGE_CLASSES)

    assert badged <= {*vocabulary.CASE_STATUSES, *vocabulary.CASE_SUB_STATUSES}
    assert set(vocabulary.CASE_STATUSES) <= badged
    assert vocabulary.badge_class("ARCHIVED") == vocabulary.UNKNOWN_BADGE_CLASS


def test_closed_statuses_are_known_statuses() -> None:
    assert set(vocabulary.CLOSED_STATUSES) <= set(vocabulary.CASE_STATUSES)


def test_claim_types_sort_in_a_collectors_order_then_alphabetically() -> None:
    types = ["VAT", "LEGAL_COST", "ADMIN_FEE", "PRINCIPAL", "INTEREST"]

    assert sorted(types, key=vocabulary.claim_type_sort_key) == [
        "PRINCIPAL",
        "INTEREST",
        "LEGAL_COST",
        "ADMIN_FEE",
        "VAT",
    ]


def test_an_unknown_value_is_humanised() -> None:
    with translation.override("en"):
        assert str(vocabulary.label("OPEN")) == "Open"
        assert vocabulary.label("COURT_REVIEW") == "Court review"
        assert enum_label("COURT_REVIEW") == "Court review"
        assert enum_label(" ") == MISSING


def test_the_default_currency_is_the_clients() -> None:
    from cases import autocollect

    assert vocabulary.DEFAULT_CURRENCY == autocollect.DEFAULT_CURRENCY == "NOK"


@pytest.mark.parametrize("language", ["nb", "en", "xx"])
@pytest.mark.parametrize(
    "amount",
    [
        Decimal("1E+1000"),
        Decimal("-1E+1000"),
        Decimal("1E-1000"),
        Decimal("999999999999999.99"),
        Decimal("-999999999999999.99"),
        "1E+1000",
    ],
)
def test_money_and_number_never_crash_on_absurd_amounts(language: str, amount: object) -> None:
    with translation.override(language):
        assert money(amount)
        assert money(amount, "EUR")
        assert number(amount)


def test_the_largest_amount_the_client_lets_through_is_shown_in_full() -> None:
    with translation.override("en"):
        assert money(Decimal("999999999999999.99")) == "NOK\u00a0999,999,999,999,999.99"


def test_status_badge_class_for_an_enum_member() -> None:
    from cases.autocollect import CaseAction

    assert status_badge_class(CaseAction.PAUSE) == vocabulary.UNKNOWN_BADGE_CLASS
