"""Parsing at the boundary: upstream JSON becomes checked, cleaned, typed values once.

Odd values the upstream may send are data, not crashes: each has a test here, and the ones that
reach a page or the export are also tested there (test_export.py, test_vocabulary.py).
"""

from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import pytest
import respx

from cases import autocollect
from tests.support.autocollect import (
    CASE_ID,
    CASES_PATH,
    case_json,
    list_one_page,
    list_with,
    page_json,
    raw,
)


def one_case(**overrides: object) -> autocollect.Case:
    return list_with(page_json([case_json(**overrides)])).cases[0]


def test_a_case_is_parsed_into_typed_fields() -> None:
    page = list_with(page_json(next_token="tok-2", total=40))

    case = page.cases[0]
    assert case.case_number == 100234
    assert case.registered_at == datetime(2026, 3, 1, 8, 15, 22, 123000, tzinfo=UTC)
    assert case.closed_at is None
    assert case.invoices[0].currency == "NOK"
    assert case.invoices[0].original_amount == Decimal("1000.5")
    assert case.invoices[0].remaining_principal == Decimal(750)
    assert case.debtors[0].display_name == "Kari Nordmann"
    assert case.claims[0].currency == "NOK"
    assert case.currency == "NOK"
    assert case.is_linkable
    assert case.account_details == autocollect.AccountDetails(
        bank_account=autocollect.BankAccount(account_type="BBAN", account_number="12345678903"),
        payment_reference="1234567890128",
    )
    assert page.skip.total_count == 40
    assert page.skip.has_next_page is True
    assert page.cursor.next_page_token == "tok-2"
    assert page.cursor.previous_page_token is None


def test_amounts_are_exact_decimals(fake_upstream: respx.MockRouter) -> None:
    # Written as JSON text: a Python float here would lose the digits before the client saw them.
    content = (
        '{"data": [{"caseId": "c", "caseNumber": 1, "organizationId":'
        ' "7bc05553-4b68-44e8-b7bc-37be63c6d9e9", "remainingAmount": 0.1,'
        ' "remainingPrincipal": 0.2, "invoices": [{"originalAmount": 123456789012345.6789}]}]}'
    )
    fake_upstream.get(CASES_PATH).mock(return_value=raw(200, content.encode()))

    parsed = list_one_page().cases[0]

    assert parsed.remaining_amount + parsed.remaining_principal == Decimal("0.3")
    assert parsed.invoices[0].original_amount == Decimal("123456789012345.6789")


def test_unknown_enum_values_are_kept() -> None:
    case = case_json(status="ON_HOLD", subStatus="COURT_REVIEW", type="SETTLEMENT")
    case["debtors"][0]["type"] = "ESTATE"
    case["claims"][0]["type"] = "VAT"
    case["caseAccountDetails"]["bankAccountDetails"]["accountType"] = "SWIFT"

    parsed = list_with(page_json([case])).cases[0]

    assert (parsed.status, parsed.sub_status, parsed.type) == (
        "ON_HOLD",
        "COURT_REVIEW",
        "SETTLEMENT",
    )
    assert parsed.debtors[0].type == "ESTATE"
    assert parsed.claims[0].type == "VAT"
    assert parsed.account_details is not None
    assert parsed.account_details.bank_account is not None
    assert parsed.account_details.bank_account.account_type == "SWIFT"


def test_enum_values_and_currencies_are_cleaned_once_here() -> None:
    case = case_json(status=" open ", subStatus="none", type="Debt_Collection")
    case["debtors"][0]["type"] = " company"
    case["claims"][0]["type"] = "interest "
    case["claims"][0]["currency"] = " sek "
    case["invoices"][0]["currency"] = {"code": "eur "}
    case["caseAccountDetails"]["bankAccountDetails"]["accountType"] = "iban"

    parsed = list_with(page_json([case])).cases[0]

    assert (parsed.status, parsed.sub_status, parsed.type) == ("OPEN", "NONE", "DEBT_COLLECTION")
    assert parsed.debtors[0].type == "COMPANY"
    assert parsed.claims[0].type == "INTEREST"
    assert parsed.claims[0].currency == "SEK"
    assert parsed.invoices[0].currency == "EUR"
    assert parsed.currency == "SEK"  # the claims' first, then the invoices'
    assert parsed.account_details is not None
    assert parsed.account_details.bank_account is not None
    assert parsed.account_details.bank_account.account_type == "IBAN"


def test_a_case_knows_its_currency() -> None:
    case = case_json()
    case["claims"][0]["currency"] = ""
    case["invoices"][0]["currency"] = {"code": "dkk"}
    assert list_with(page_json([case])).cases[0].currency == "DKK"

    case["invoices"][0]["currency"] = None
    assert list_with(page_json([case])).cases[0].currency == "NOK"  # naming none: the default


def test_a_case_with_only_its_identity_is_tolerated() -> None:
    page = list_with(
        {
            "data": [
                {
                    "caseId": CASE_ID,
                    "caseNumber": 7,
                    "organizationId": "7bc05553-4b68-44e8-b7bc-37be63c6d9e9",
                }
            ]
        }
    )

    case = page.cases[0]
    assert case.case_number == 7
    assert (case.status, case.description, case.registered_at) == ("", "", None)
    assert (case.invoices, case.debtors, case.claims) == ((), (), ())
    assert case.remaining_amount == Decimal(0)
    assert case.account_details is None
    assert case.currency == "NOK"
    assert page.skip.total_count == 0
    assert page.cursor.next_page_token is None


def test_nulls_are_tolerated_everywhere_optional() -> None:
    invoice = dict.fromkeys(case_json()["invoices"][0])
    debtor = dict.fromkeys(case_json()["debtors"][0])
    claim = dict.fromkeys(case_json()["claims"][0])
    body = {
        "data": [
            case_json(
                closedAt=None,
                description=None,
                invoices=[invoice],
                debtors=[debtor],
                claims=[claim],
                caseAccountDetails={"bankAccountDetails": None, "paymentReference": None},
            )
        ],
        "skipSummary": None,
        "cursorSummary": {"status": None, "nextPageToken": None, "previousPageToken": None},
    }

    case = list_with(body).cases[0]

    assert case.invoices[0].invoice_date is None
    assert case.invoices[0].case_id == CASE_ID  # the enclosing case's, when the invoice omits it
    assert case.invoices[0].currency == ""
    assert case.invoices[0].batch_id is None
    assert case.debtors[0].display_name == ""
    assert case.claims[0].invoice_id is None
    assert case.claims[0].paid_amount == Decimal(0)
    assert case.account_details == autocollect.AccountDetails(
        bank_account=None, payment_reference=""
    )


def test_a_debtor_without_a_full_name_is_shown_by_first_and_last_name() -> None:
    case = case_json()
    case["debtors"][0]["fullName"] = ""

    assert list_with(page_json([case])).cases[0].debtors[0].display_name == "Kari Nordmann"


@pytest.mark.parametrize(
    ("currency", "expected"),
    [({"code": "NOK"}, "NOK"), ("SEK", "SEK"), ({}, ""), (None, ""), ({"code": 5}, "")],
)
def test_invoice_currency_is_read_from_an_object_a_string_or_nothing(
    currency: object, expected: str
) -> None:
    case = case_json()
    case["invoices"][0]["currency"] = currency

    assert list_with(page_json([case])).cases[0].invoices[0].currency == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-03-01T08:15:22Z", datetime(2026, 3, 1, 8, 15, 22, tzinfo=UTC)),
        (
            "2026-03-01T09:15:22+01:00",
            datetime(2026, 3, 1, 9, 15, 22, tzinfo=timezone(timedelta(hours=1))),
        ),
        ("2026-03-01T08:15:22.1234567Z", datetime(2026, 3, 1, 8, 15, 22, 123456, tzinfo=UTC)),
        ("2026-03-01T08:15:22", datetime(2026, 3, 1, 8, 15, 22, tzinfo=UTC)),
    ],
)
def test_moments_are_in_utc(text: str, expected: datetime) -> None:
    moment = one_case(registeredAt=text).registered_at

    assert moment == expected
    assert moment is not None
    assert moment.tzinfo is UTC


# --- Odd values are data, not crashes ------------------------------------------------------


@pytest.mark.parametrize("number", [-5, 0, 2**62 + 1])
def test_a_case_number_no_page_can_open_is_kept_but_not_linkable(number: int) -> None:
    case = one_case(caseNumber=number)

    assert case.case_number == number
    assert not case.is_linkable


@pytest.mark.parametrize(
    "text",
    [
        "9999-12-31T23:59:59-05:00",  # after the last moment Python can hold, in UTC
        "0001-01-01T00:00:00+01:00",  # before the first
        "9999-12-31T23:59:59Z",  # representable, but not in Oslo's time
        "0001-01-01T00:00:00Z",
    ],
)
def test_a_moment_at_the_calendars_ends_is_an_unknown_date(text: str) -> None:
    case = one_case(registeredAt=text, closedAt=text)

    assert case.registered_at is None
    assert case.closed_at is None


def test_a_moment_near_the_calendars_ends_that_every_zone_can_show_is_kept() -> None:
    case = one_case(registeredAt="9999-12-29T12:00:00+14:00")

    assert case.registered_at == datetime(9999, 12, 28, 22, 0, tzinfo=UTC)


def test_a_customer_number_with_a_newline_is_kept_as_it_came() -> None:
    case = case_json()
    case["debtors"][0]["customerNumber"] = "C-1\n../../accounts/logout"

    parsed = list_with(page_json([case])).cases[0]

    assert parsed.debtors[0].customer_number == "C-1\n../../accounts/logout"


@pytest.mark.parametrize(
    "amount", ["1E+1000", "-1E+1000", "1000000000000000", "-1e15", "Infinity", "NaN", "1E+15"]
)
def test_an_absurd_amount_is_a_malformed_answer(
    fake_upstream: respx.MockRouter, amount: str
) -> None:
    content = (
        '{"data": [{"caseId": "c", "caseNumber": 1, "remainingAmount": ' + f'"{amount}"' + "}]}"
    )
    fake_upstream.get(CASES_PATH).mock(return_value=raw(200, content.encode()))

    with pytest.raises(autocollect.UpstreamUnavailable, match="remainingAmount"):
        list_one_page()


def test_an_absurd_amount_written_as_a_json_number_is_malformed(
    fake_upstream: respx.MockRouter,
) -> None:
    fake_upstream.get(CASES_PATH).mock(
        return_value=raw(
            200, b'{"data": [{"caseId": "c", "caseNumber": 1, "remainingAmount": 1E+1000}]}'
        )
    )

    with pytest.raises(autocollect.UpstreamUnavailable, match="malformed"):
        list_one_page()


def test_the_largest_sane_amount_is_kept() -> None:
    assert one_case(remainingAmount="999999999999999.99").remaining_amount == Decimal(
        "999999999999999.99"
    )


@pytest.mark.parametrize(
    "content",
    [
        b"<html>Bad gateway</html>",
        b'{"data": [',
        b"[]",
        b'{"skipSummary": {}}',
        b'{"data": {"caseId": "x"}}',
        b'{"data": ["a case"]}',
        b'{"data": [{"caseNumber": 1}]}',
        b'{"data": [{"caseId": "x"}]}',
        b'{"data": [{"caseId": "x", "caseNumber": "one"}]}',
        b'{"data": [{"caseId": "x", "caseNumber": "\xc2\xb2"}]}',
        b'{"data": [{"caseId": "x", "caseNumber": 1E+5000}]}',
        b'{"data": [{"caseId": "x", "caseNumber": 99999999999999999999}]}',
        b'{"data": [{"caseId": "x", "caseNumber": 1.5}]}',
        b'{"data": [{"caseId": "x", "caseNumber": 1, "invoices": {}}]}',
        b'{"data": [{"caseId": "x", "caseNumber": 1, "remainingAmount": "lots"}]}',
        b'{"data": [{"caseId": "x", "caseNumber": 1, "remainingAmount": NaN}]}',
        b'{"data": [{"caseId": "x", "caseNumber": 1, "registeredAt": "yesterday"}]}',
        b'{"data": [{"caseId": "x", "caseNumber": 1, "debtors": [{"email": ["a"]}]}]}',
        b'{"data": [], "skipSummary": "none"}',
        b'{"data": [], "skipSummary": {"hasNextPage": "maybe"}}',
        b'{"data": [], "skipSummary": {"totalCount": 1E+400}}',
        b"[" * 100_000,
    ],
)
def test_malformed_answers_are_unavailable_not_crashes(
    fake_upstream: respx.MockRouter, content: bytes
) -> None:
    fake_upstream.get(CASES_PATH).mock(return_value=raw(200, content))

    with pytest.raises(autocollect.UpstreamUnavailable, match="malformed"):
        list_one_page()
