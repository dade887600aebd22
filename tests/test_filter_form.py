"""The case filters at their edges: far dates are refused before anything goes upstream."""

from datetime import date

import pytest
from django.test import Client
from django.utils import translation

from cases.forms import CaseFilterForm
from tests.support.transport import RecordingTransport

LIST_URL = "/cases/"
EXPORT_URL = "/cases/export.csv"
MESSAGE = "Enter a date between 1900 and 2100."


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"to": "9999-12-31"}, "created_to"),
        ({"from": "0001-01-01"}, "created_from"),
        ({"from": "1899-12-31"}, "created_from"),
        ({"to": "2101-01-01"}, "created_to"),
    ],
)
def test_a_date_outside_the_sane_range_is_a_form_error(query: dict[str, str], field: str) -> None:
    form = CaseFilterForm(query)

    with translation.override("en"):  # outside a request the fallback language (nb) is active
        assert not form.is_valid()
        assert form.errors[field] == [MESSAGE]


@pytest.mark.parametrize("query", [{"from": "1900-01-01"}, {"to": "2100-12-31"}])
def test_the_ranges_own_ends_are_accepted(query: dict[str, str]) -> None:
    form = CaseFilterForm(query)

    assert form.is_valid(), form.errors
    filters = form.to_filters()
    assert (filters.created_from or filters.created_to) in (date(1900, 1, 1), date(2100, 12, 31))


def test_the_date_inputs_tell_the_browser_their_range() -> None:
    html = str(CaseFilterForm()["created_to"])

    assert 'min="1900-01-01"' in html
    assert 'max="2100-12-31"' in html


@pytest.mark.parametrize("query", [{"to": "9999-12-31"}, {"from": "0001-01-01"}])
def test_the_list_answers_a_far_date_with_a_400_and_the_message_beside_the_field(
    client_a: Client, sandbox_upstream: RecordingTransport, query: dict[str, str]
) -> None:
    response = client_a.get(LIST_URL, query, headers={"Accept-Language": "en"})

    assert response.status_code == 400
    assert MESSAGE in response.text
    assert sandbox_upstream.case_requests() == []


def test_the_export_answers_a_far_date_with_a_400_and_asks_nothing(
    client_a: Client, sandbox_upstream: RecordingTransport
) -> None:
    response = client_a.get(EXPORT_URL, {"to": "9999-12-31"}, headers={"Accept-Language": "en"})

    assert response.status_code == 400
    assert MESSAGE in response.content.decode()
    assert sandbox_upstream.case_requests() == []
