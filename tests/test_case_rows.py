"""The case list's rows come formatted exactly as the template's own filters would format them."""

import dataclasses
import json
import re
from typing import Any

import pytest
from django.template import engines
from django.utils import timezone, translation

from cases.autocollect.parsing import json_body, parse_case
from cases.templatetags.case_rows import case_rows
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
