"""The claim breakdown and the totals across cases: pure Decimal arithmetic, checked.

The cases here are built directly, as the client hands them out: codes and currencies already
upper-case (parsing cleans them; see tests/autocollect/test_parsing.py).
"""

from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal

from cases.autocollect import Case, Claim, Invoice
from cases.breakdown import (
    Check,
    Figures,
    build_breakdown,
    case_totals,
    is_open,
)
from cases.vocabulary import claim_type_sort_key

D = Decimal


def claim(
    type: str = "PRINCIPAL",
    original: str = "100.00",
    paid: str = "0",
    credited: str = "0",
    remaining: str | None = None,
    *,
    invoice_id: str | None = "inv-1",
    currency: str = "NOK",
) -> Claim:
    """A claim whose figures add up unless `remaining` says otherwise."""
    left = D(original) - D(paid) - D(credited) if remaining is None else D(remaining)
    return Claim(
        type=type,
        original_amount=D(original),
        current_amount=D(original),
        remaining_amount=left,
        paid_amount=D(paid),
        credited_amount=D(credited),
        currency=currency,
        invoice_id=invoice_id,
    )


def invoice(invoice_id: str, number: str, currency: str = "NOK") -> Invoice:
    return Invoice(
        invoice_id=invoice_id,
        invoice_number=number,
        case_id="case-1",
        invoice_date=None,
        due_date=None,
        batch_id=None,
        registered_at=None,
        original_amount=D(0),
        remaining_amount=D(0),
        remaining_principal=D(0),
        unique_source_invoice_id=f"src-{number}",
        paid_amount=D(0),
        credited_amount=D(0),
        currency=currency,
    )


def case_of(
    claims: list[Claim],
    invoices: list[Invoice] | None = None,
    *,
    remaining: str | None = None,
    principal: str | None = None,
    status: str = "OPEN",
) -> Case:
    """A case whose stated totals match its claims unless told otherwise."""
    stated_remaining = sum((c.remaining_amount for c in claims), D(0))
    stated_principal = sum((c.remaining_amount for c in claims if c.type == "PRINCIPAL"), D(0))
    return Case(
        case_id="case-1",
        case_number=1001,
        organization_id="org",
        creditor_id="cred",
        creditor_number="C-1",
        status=status,
        sub_status="NONE",
        type="DEBT_COLLECTION",
        description="",
        registered_at=datetime(2025, 3, 1, tzinfo=UTC),
        closed_at=None,
        invoices=tuple(invoices if invoices is not None else [invoice("inv-1", "F-1")]),
        debtors=(),
        remaining_amount=D(remaining) if remaining is not None else stated_remaining,
        remaining_principal=D(principal) if principal is not None else stated_principal,
        claims=tuple(claims),
        account_details=None,
    )


def test_rows_and_totals_add_up_per_type_and_per_column() -> None:
    case = case_of(
        [
            claim("PRINCIPAL", "1000.00", paid="250.50", credited="100.00"),
            claim("INTEREST", "12.34", paid="2.34"),
            claim("REMINDER_FEE", "70.00"),
        ]
    )

    breakdown = build_breakdown(case)

    (section,) = breakdown.sections
    assert section.currency == "NOK"
    assert [(r.claim_type, r.figures) for r in section.by_type] == [
        ("PRINCIPAL", Figures(D("1000.00"), D("250.50"), D("100.00"), D("649.50"))),
        ("INTEREST", Figures(D("12.34"), D("2.34"), D(0), D("10.00"))),
        ("REMINDER_FEE", Figures(D("70.00"), D(0), D(0), D("70.00"))),
    ]
    assert section.total == Figures(D("1082.34"), D("252.84"), D("100.00"), D("729.50"))
    assert breakdown.mismatches == ()


def test_claims_of_the_same_type_are_summed_into_one_row() -> None:
    case = case_of([claim("INTEREST", "1.10"), claim("INTEREST", "2.20")])

    (row,) = build_breakdown(case).sections[0].by_type

    assert row.figures.original == D("3.30")
    assert row.claim_count == 2


def test_claims_are_grouped_per_invoice_labelled_by_number_with_case_level_last() -> None:
    invoices = [invoice("inv-1", "F-100"), invoice("inv-2", "F-200")]
    case = case_of(
        [
            claim("COLLECTION_FEE", "35.00", invoice_id=None),
            claim("PRINCIPAL", "200.00", invoice_id="inv-2"),
            claim("PRINCIPAL", "100.00", invoice_id="inv-1"),
            claim("INTEREST", "5.00", invoice_id="inv-1"),
        ],
        invoices,
    )

    groups = build_breakdown(case).sections[0].groups

    assert [(g.label, g.is_case_level) for g in groups] == [
        ("F-100", False),
        ("F-200", False),
        ("", True),
    ]
    assert [r.claim_type for r in groups[0].rows] == ["PRINCIPAL", "INTEREST"]
    assert groups[0].total.original == D("105.00")
    assert groups[2].total.remaining == D("35.00")


def test_a_claim_on_an_invoice_the_case_does_not_list_gets_a_group_named_by_its_id() -> None:
    case = case_of([claim("PRINCIPAL", "10.00", invoice_id="ghost-invoice")])

    (group,) = build_breakdown(case).sections[0].groups

    assert group.label == "ghost-invoice"
    assert group.invoice_known is False


def test_unknown_claim_types_survive_and_sort_after_the_known_ones() -> None:
    case = case_of(
        [claim("SETTLEMENT_FEE", "9.00"), claim("LEGAL_COST", "1.00"), claim("ADMIN_FEE", "2.00")]
    )

    rows = build_breakdown(case).sections[0].by_type

    assert [r.claim_type for r in rows] == ["LEGAL_COST", "ADMIN_FEE", "SETTLEMENT_FEE"]
    assert claim_type_sort_key("PRINCIPAL") < claim_type_sort_key("LEGAL_COST")
    assert claim_type_sort_key("LEGAL_COST") < claim_type_sort_key("AAA")


def test_a_claim_whose_parts_do_not_add_up_is_reported_with_the_difference() -> None:
    case = case_of([claim("INTEREST", "50.00", paid="10.00", remaining="39.99")])

    (mismatch,) = build_breakdown(case).mismatches

    assert mismatch.check is Check.CLAIM
    assert mismatch.claim_type == "INTEREST"
    assert mismatch.group_label == "F-1"
    assert (mismatch.expected, mismatch.actual, mismatch.difference) == (
        D("50.00"),
        D("49.99"),
        D("0.01"),
    )


def test_case_remaining_that_differs_from_the_claims_is_reported() -> None:
    case = case_of([claim("PRINCIPAL", "100.00"), claim("INTEREST", "3.00")], remaining="110.00")

    (mismatch,) = build_breakdown(case).mismatches

    assert mismatch.check is Check.CASE_REMAINING
    assert (mismatch.expected, mismatch.actual, mismatch.difference) == (
        D("110.00"),
        D("103.00"),
        D("7.00"),
    )


def test_remaining_principal_that_differs_from_the_principal_claims_is_reported() -> None:
    case = case_of([claim("PRINCIPAL", "100.00"), claim("INTEREST", "3.00")], principal="103.00")

    (mismatch,) = build_breakdown(case).mismatches

    assert mismatch.check is Check.CASE_PRINCIPAL
    assert mismatch.difference == D("3.00")


def test_every_failed_check_is_listed() -> None:
    case = case_of(
        [claim("PRINCIPAL", "100.00", remaining="90.00")], remaining="1.00", principal="2.00"
    )

    checks = [m.check for m in build_breakdown(case).mismatches]

    assert checks == [Check.CLAIM, Check.CASE_REMAINING, Check.CASE_PRINCIPAL]


def test_amounts_are_exact_decimals_where_floats_would_drift() -> None:
    claims = [claim("INTEREST", "0.10") for _ in range(10)] + [claim("PRINCIPAL", "0.20")]
    case = case_of(claims, remaining="1.20", principal="0.20")

    breakdown = build_breakdown(case)

    total = breakdown.sections[0].total.remaining
    assert isinstance(total, Decimal)
    assert str(total) == "1.20"  # exact, two places kept; 0.1 + 0.2 in floats is not 0.3
    assert breakdown.mismatches == ()


def test_different_currencies_are_never_added_together() -> None:
    case = case_of(
        [
            claim("PRINCIPAL", "100.00", currency="NOK"),
            claim("PRINCIPAL", "10.00", currency="EUR", invoice_id="inv-2"),
            claim("INTEREST", "1.00", currency="NOK"),
        ],
        [invoice("inv-1", "F-1"), invoice("inv-2", "F-2", currency="EUR")],
        remaining="999.00",
    )

    breakdown = build_breakdown(case)

    assert breakdown.has_mixed_currencies
    assert breakdown.currencies == ("NOK", "EUR")
    assert [s.total.original for s in breakdown.sections] == [D("101.00"), D("10.00")]
    # The case's remainingAmount names no currency, so it is not compared with either.
    assert breakdown.mismatches == ()


def test_a_claim_without_currency_takes_its_invoices() -> None:
    case = case_of(
        [claim("PRINCIPAL", "5.00", currency="", invoice_id="inv-2"), claim("INTEREST", "1.00")],
        [invoice("inv-1", "F-1"), invoice("inv-2", "F-2", currency="SEK")],
    )

    assert build_breakdown(case).currencies == ("SEK", "NOK")


def test_a_case_without_claims_has_an_empty_breakdown() -> None:
    breakdown = build_breakdown(case_of([], remaining="10.00"))

    assert breakdown.is_empty
    assert breakdown.mismatches == ()


def test_case_currency_comes_from_claims_then_invoices_then_the_default() -> None:
    assert case_of([claim(currency="EUR")]).currency == "EUR"
    assert case_of([claim(currency="")], [invoice("inv-1", "F-1", currency="SEK")]).currency == (
        "SEK"
    )
    assert case_of([], [invoice("inv-1", "F-1", currency="")]).currency == "NOK"


def test_a_case_naming_no_currency_is_totalled_with_the_default_one() -> None:
    """Not in a currency of its own: a second "NOK" total beside the first would be wrong."""
    named = case_of([claim("PRINCIPAL", "10.00")])
    unnamed = case_of([claim("PRINCIPAL", "5.00", currency="")], [invoice("inv-1", "F-1", "")])

    totals = case_totals([named, unnamed])

    assert [(t.currency, t.remaining_amount) for t in totals.per_currency] == [("NOK", D("15.00"))]


def test_a_claim_naming_no_currency_on_a_case_naming_none_is_in_the_default_one() -> None:
    case = case_of([claim("PRINCIPAL", "5.00", currency="")], [invoice("inv-1", "F-1", "")])

    assert build_breakdown(case).currencies == ("NOK",)


def test_totals_across_cases_count_open_ones_and_sum_per_currency() -> None:
    open_nok = case_of([claim("PRINCIPAL", "100.00"), claim("INTEREST", "0.50")])
    paused_nok = case_of([claim("PRINCIPAL", "20.25")], status="PAUSED")
    closed_nok = replace(
        case_of([claim("PRINCIPAL", "1.00")]), closed_at=datetime(2025, 4, 1, tzinfo=UTC)
    )
    withdrawn_eur = case_of([claim("PRINCIPAL", "7.00", currency="EUR")], status="WITHDRAWN")

    totals = case_totals([open_nok, paused_nok, closed_nok, withdrawn_eur])

    assert (totals.case_count, totals.open_count) == (4, 2)
    assert [
        (t.currency, t.remaining_amount, t.remaining_principal) for t in totals.per_currency
    ] == [
        ("NOK", D("121.75"), D("121.25")),
        ("EUR", D("7.00"), D("7.00")),
    ]


def test_an_unknown_status_counts_as_open_until_the_case_is_closed() -> None:
    assert is_open(case_of([], status="ON_HOLD"))
    assert not is_open(case_of([], status="CLOSED"))
