"""The case list's rows come formatted exactly as the template's own filters would format them."""

import dataclasses
import json
import re
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest
from django.template import engines
from django.utils import timezone, translation
from django.utils.html import escape

from cases.autocollect.parsing import json_body, parse_case
from cases.templatetags.case_rows import (
    case_rows,
    case_table_rows,
    days_past_due,
    earliest_unpaid_due_date,
    original_amount,
    rows_as_of,
)
from tests.support.autocollect import case_json

# The row loop as it was written with per-cell filters and the shared badges fragment: the
# formatted rows must print the same cells.
WITH_FILTERS = """{% load collection links %}{% for case in rows %}{% case_url case.case_number as case_href %}
<tr{% if case_href %} data-href="{{ case_href }}"{% endif %}><th>{% if case_href %}<a href="{{ case_href }}">{{ case.case_number }}</a>{% else %}{{ case.case_number }}{% endif %}</th>
<td>{% for debtor in case.debtors %}<span>{{ debtor.display_name|default:"–" }}</span>{% empty %}–{% endfor %}</td>
<td>{{ case.type|enum_label }}</td>
<td>{% include "cases/shared/status_badges.html" %}</td>
<td>{% if case.registered_at %}<time datetime="{{ case.registered_at|date:'c' }}">{{ case.registered_at|date:"SHORT_DATE_FORMAT" }}</time>{% else %}–{% endif %}</td>
<td>{{ case.remaining_amount|money:case.currency }}</td>
<td>{{ case.invoices|length|number }}</td></tr>{% endfor %}"""  # noqa: E501, RUF001
WITH_ROWS = """{% load case_rows %}{% for row in rows|case_rows %}
<tr{% if row.href %} data-href="{{ row.href }}"{% endif %}><th>{% if row.href %}<a href="{{ row.href }}">{{ row.number }}</a>{% else %}{{ row.number }}{% endif %}</th>
<td>{% for name in row.debtors %}<span>{{ name|default:"–" }}</span>{% empty %}–{% endfor %}</td>
<td>{{ row.type }}</td>
<td><span class="badge {{ row.status_class }}">{{ row.status }}</span>{% if row.sub_status %} <span class="badge {{ row.sub_status_class }}">{{ row.sub_status }}</span>{% endif %}</td>
<td>{% if row.registered_iso %}<time datetime="{{ row.registered_iso }}">{{ row.registered }}</time>{% else %}–{% endif %}</td>
<td>{{ row.remaining }}</td>
<td>{{ row.invoices }}</td></tr>{% endfor %}"""  # noqa: E501, RUF001


def case(**overrides: Any) -> Any:
    """A parsed case, its JSON read as the client reads it (amounts as Decimals)."""
    return parse_case(json_body(json.dumps(case_json(**overrides)).encode()))  # type: ignore[arg-type]


def cases() -> list[Any]:
    usual = case()
    nameless = dataclasses.replace(usual.debtors[0], full_name="", first_name="", last_name="")
    return [
        usual,
        case(subStatus="NONE", status="PAUSED", remainingAmount="1234567.5"),
        case(caseNumber=0, registeredAt=None, debtors=[], subStatus="", status="NEW_THING"),
        dataclasses.replace(usual, debtors=(nameless,), type="", invoices=()),
        case(claims=[], invoices=[], remainingAmount=-12),
    ]


def cells(html: str) -> str:
    """The markup without the whitespace HTML ignores between and at the ends of cells."""
    return re.sub(r"\s*(</?t[dhr]\b[^>]*>)\s*", r"\1", re.sub(r"\s+", " ", html)).strip()


@pytest.mark.parametrize("language", ["nb", "en"])
@pytest.mark.parametrize("zone", ["Europe/Oslo", "UTC"])
def test_formatted_rows_print_what_the_filters_print(language: str, zone: str) -> None:
    engine = engines["django"]
    with translation.override(language), timezone.override(zone):
        expected = engine.from_string(WITH_FILTERS).render({"rows": cases()})
        printed = engine.from_string(WITH_ROWS).render({"rows": cases()})

    assert cells(printed) == cells(expected)


def test_a_row_holds_its_cells_ready_to_print() -> None:
    with translation.override("en"), timezone.override("Europe/Oslo"):
        usual, no_sub_status, odd, *_ = case_rows(cases())

    assert usual["href"] == "/cases/100234/"
    assert usual["debtors"] == ["Kari Nordmann"]
    assert usual["sub_status"] != ""
    assert usual["registered"] == "01 Mar 2026"
    assert usual["registered_iso"] == "2026-03-01T09:15:22.123000+01:00"  # Oslo time
    assert no_sub_status["sub_status"] == ""
    assert no_sub_status["remaining"] == "NOK\u00a01,234,567.50"
    assert odd["href"] == ""  # no case page can have number 0
    assert odd["registered_iso"] == ""
    assert odd["status"] == "New thing"


# The table body case_table_rows builds in Python, written as the template loop it replaces.
AS_TEMPLATE_LOOP = """{% load case_rows %}{% for row in rows|case_rows %}
<tr{% if row.href %} data-href="{{ row.href }}"{% endif %}><th scope="row">{% if row.href %}<a href="{{ row.href }}">{{ row.number }}</a>{% else %}{{ row.number }}{% endif %}</th>
<td data-label="{{ labels.0 }}">{% for name in row.debtors %}<span class="case-table__debtor">{{ name|default:"–" }}</span>{% empty %}–{% endfor %}</td>
<td data-label="{{ labels.1 }}">{{ row.type }}</td>
<td data-label="{{ labels.2 }}"><span class="badge {{ row.status_class }}">{{ row.status }}</span>{% if row.sub_status %} <span class="badge {{ row.sub_status_class }}">{{ row.sub_status }}</span>{% endif %}</td>
<td data-label="{{ labels.3 }}">{% if row.registered_iso %}<time datetime="{{ row.registered_iso }}">{{ row.registered }}</time>{% else %}–{% endif %}</td>
<td data-label="{{ labels.4 }}">{% if row.due_iso %}<time datetime="{{ row.due_iso }}">{{ row.due }}</time>{% else %}–{% endif %}</td>
<td class="num" data-label="{{ labels.5 }}">{{ row.days_past_due }}</td>
<td class="num" data-label="{{ labels.6 }}">{{ row.original }}</td>
<td class="num" data-label="{{ labels.7 }}">{{ row.remaining }}</td>
<td class="num" data-label="{{ labels.8 }}">{{ row.invoices }}</td></tr>{% endfor %}"""  # noqa: E501, RUF001
LABELS = {
    "en": [
        "Debtor",
        "Type",
        "Status",
        "Registered",
        "Due date",
        "Days past due",
        "Original",
        "Remaining",
        "Invoices",
    ],
    "nb": [
        "Skyldner",
        "Type",
        "Status",
        "Registrert",
        "Forfallsdato",
        "Dager over forfall",
        "Opprinnelig",
        "Utestående",
        "Fakturaer",
    ],
}


def markup_cases() -> list[Any]:
    """The usual cases, and one whose every text holds characters HTML must escape."""
    hostile = case(
        type='<b>"T"</b>',
        status="O&P",
        subStatus="'quoted'",
    )
    named = dataclasses.replace(
        hostile.debtors[0],
        full_name='<script>alert("x")</script> & Co',
        first_name="",
        last_name="",
    )
    return [*cases(), dataclasses.replace(hostile, debtors=(named,))]


@pytest.mark.parametrize("language", ["nb", "en"])
@pytest.mark.parametrize("zone", ["Europe/Oslo", "UTC"])
def test_rows_built_in_python_print_what_the_template_loop_prints(language: str, zone: str) -> None:
    engine = engines["django"]
    with translation.override(language), timezone.override(zone):
        expected = engine.from_string(AS_TEMPLATE_LOOP).render(
            {"rows": markup_cases(), "labels": LABELS[language]}
        )
        printed = case_table_rows(markup_cases())

    assert cells(printed) == cells(expected)
    assert "<script>" not in printed
    assert escape('<script>alert("x")</script> & Co') in printed


def test_the_due_date_is_the_earliest_unpaid_invoice_s() -> None:
    usual = case()
    paid = dataclasses.replace(
        usual.invoices[0],
        due_date=datetime(2025, 1, 1, tzinfo=UTC),
        remaining_amount=Decimal(0),
    )
    later = dataclasses.replace(usual.invoices[0], due_date=datetime(2026, 3, 1, 23, tzinfo=UTC))
    earlier = dataclasses.replace(usual.invoices[0], due_date=datetime(2026, 2, 15, tzinfo=UTC))
    mixed = dataclasses.replace(usual, invoices=(paid, later, earlier))

    with timezone.override("Europe/Oslo"):
        assert earliest_unpaid_due_date(mixed) == date(2026, 2, 15)
        # 23:00 UTC is the next day in Oslo.
        assert earliest_unpaid_due_date(dataclasses.replace(usual, invoices=(later,))) == date(
            2026, 3, 2
        )
        assert earliest_unpaid_due_date(dataclasses.replace(usual, invoices=(paid,))) is None


def test_days_past_due_count_from_the_due_date_and_never_below_zero() -> None:
    today = date(2026, 3, 10)
    assert days_past_due(date(2026, 3, 1), today) == 9
    assert days_past_due(date(2026, 3, 10), today) == 0
    assert days_past_due(date(2026, 4, 1), today) == 0
    assert days_past_due(None, today) is None


def test_the_original_amount_adds_the_invoices_in_the_case_s_currency() -> None:
    usual = case()
    first = dataclasses.replace(usual.invoices[0], original_amount=Decimal("1000.50"))
    second = dataclasses.replace(usual.invoices[0], original_amount=Decimal("99.50"), currency="")
    foreign = dataclasses.replace(usual.invoices[0], original_amount=Decimal(5), currency="SEK")
    two = dataclasses.replace(usual, invoices=(first, second, foreign))

    assert original_amount(two) == Decimal("1100.00")
    assert original_amount(dataclasses.replace(usual, invoices=())) == Decimal(0)


def test_a_row_shows_due_date_days_past_due_and_original_amount() -> None:
    usual = case()  # one invoice: due 2026-02-01, 1000.50 originally, 800.25 left
    with translation.override("en"), timezone.override("Europe/Oslo"):
        (row,) = rows_as_of([usual], date(2026, 2, 11))

    assert row["due_iso"] == "2026-02-01"
    assert row["due"] == "01 Feb 2026"
    assert row["days_past_due"] == "10"
    assert row["original"] == "NOK\u00a01,000.50"
