"""The case search page, /cases/: filters, partial and full renders, paging, errors, escaping.

Two fake upstreams: the in-process sandbox with seeded data (`sandbox_upstream`) for flows that
need real paging tokens, and respx at the transport (`fake_upstream`) for exact answers, failures,
and to see exactly which parameters were sent.
"""

import json
import re
import uuid
from collections.abc import Iterator
from html.parser import HTMLParser
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
import respx
from django.http import HttpResponse, HttpResponseBase
from django.test import Client

from dashboard.models import Organization
from sandbox.seeding import seed_organization
from tests.support.autocollect import answer, page_json
from tests.support.dashboard_upstream import org_a_case_json, router_at_configured_urls
from tests.support.people import ORG_A_ID, ORG_B_ID
from tests.support.transport import RecordingTransport

LIST_URL = "/cases/"
DASH = "\u2013"  # an en dash, as in "Showing 1 to 25"
SEEDED_CASES = 60
HTMX = {"HX-Request": "true", "HX-Target": "results", "HX-Current-URL": "http://testserver/cases/"}
HTMX_SEARCH = {**HTMX, "HX-Target": "case-search"}


# --- Reading HTML ---------------------------------------------------------------------------


class _ElementFinder(HTMLParser):
    """Finds where the element with an id starts and ends in the source text."""

    VOID = frozenset({"area", "br", "col", "embed", "hr", "img", "input", "link", "meta", "wbr"})

    def __init__(self, source: str, element_id: str) -> None:
        super().__init__(convert_charrefs=False)
        self.source = source
        self.element_id = element_id
        self.line_starts = [0] + [m.end() for m in re.finditer("\n", source)]
        self.start: int | None = None
        self.end: int | None = None
        self.tag = ""
        self.depth = 0

    def _offset(self) -> int:
        line, column = self.getpos()
        return self.line_starts[line - 1] + column

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if self.end is not None:
            return
        if self.start is None and dict(attrs).get("id") == self.element_id:
            self.start, self.tag, self.depth = self._offset(), tag, 1
            if tag in self.VOID:
                self.end = self.source.index(">", self.start) + 1
        elif self.start is not None and tag == self.tag:
            self.depth += 1

    def handle_endtag(self, tag: str) -> None:
        if self.start is None or self.end is not None or tag != self.tag:
            return
        self.depth -= 1
        if self.depth == 0:
            self.end = self.source.index(">", self._offset()) + 1


def element_span(html: str, element_id: str) -> tuple[int, int]:
    finder = _ElementFinder(html, element_id)
    finder.feed(html)
    finder.close()
    assert finder.start is not None, f"no element with id={element_id!r}"
    assert finder.end is not None, f"element id={element_id!r} is not closed"
    return finder.start, finder.end


def element(html: str, element_id: str) -> str:
    """The markup of the element with this id, start tag to end tag."""
    start, end = element_span(html, element_id)
    return html[start:end]


def apply_swap(page: str, element_id: str, fragment: str) -> str:
    """What htmx's outerHTML swap of #element_id with fragment makes of the page."""
    start, end = element_span(page, element_id)
    return page[:start] + fragment + page[end:]


def main_of(html: str) -> str:
    """The page's <main>: everything the list's swaps may touch (the header has per-request
    parts such as the CSRF token)."""
    return element(html, "main")


def normalise(markup: str) -> str:
    markup = re.sub(r">\s+<", "><", markup.strip())
    return re.sub(r"\s+", " ", markup)


def text_of(html: str) -> str:
    """Visible text, whitespace collapsed, non-breaking spaces kept as they are."""
    return re.sub(r"[ \t\r\n]+", " ", re.sub(r"<[^>]+>", " ", html)).strip()


def attribute(html: str, name: str, **where: str) -> str:
    """The value of `name` on the first element carrying all the `where` attributes."""
    found: list[str] = []

    class _Finder(HTMLParser):
        def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
            values = {key: value or "" for key, value in attrs}
            wanted = {key.replace("_", "-"): value for key, value in where.items()}
            if not found and all(values.get(k) == v for k, v in wanted.items()):
                found.append(values.get(name) or "")

    _Finder().feed(html)
    assert found, f"no element with {where}"
    return found[0]


def body(response: HttpResponseBase) -> str:
    assert isinstance(response, HttpResponse)
    return response.content.decode()


# --- Fake upstreams -------------------------------------------------------------------------


@pytest.fixture
def seeded(org_a: Organization, sandbox_upstream: RecordingTransport) -> None:
    """Organisation A has SEEDED_CASES cases in the in-process sandbox."""
    seed_organization(uuid.UUID(ORG_A_ID), org_a.name, SEEDED_CASES, seed=7)


@pytest.fixture
def fake_upstream() -> Iterator[respx.MockRouter]:
    """A fake AutoCollect at the transport; `fake_upstream.routes["cases"]` answers the list."""
    yield from router_at_configured_urls()


def sent_params(router: respx.MockRouter) -> dict[str, str]:
    """The query parameters of the last list request, one value each."""
    query = parse_qs(urlsplit(str(router.routes["cases"].calls.last.request.url)).query)
    return {name: values[0] for name, values in query.items()}


def problem(status: int, errors: dict[str, list[str]]) -> bytes:
    return json.dumps(
        {"type": "about:blank", "title": "Bad request", "status": status, "errors": errors}
    ).encode()


# --- Filters reach the upstream ---------------------------------------------------------------


def test_every_filter_reaches_the_upstream_as_its_parameter(
    client_a_in_english: Client, fake_upstream: respx.MockRouter
) -> None:
    response = client_a_in_english.get(
        LIST_URL,
        {
            "q": "  hansen  ",
            "status": "OPEN",
            "type": "DEBT_COLLECTION",
            "customer": "CUST-42",
            "invoice": "SRC-77",
            "from": "2026-01-01",
            "to": "2026-03-31",
            "size": "50",
            "page": "opaque-token",
        },
    )

    assert response.status_code == 200
    assert sent_params(fake_upstream) == {
        "SearchTerm": "hansen",
        "Status": "OPEN",
        "Type": "DEBT_COLLECTION",
        "CustomerNumber": "CUST-42",
        "UniqueSourceInvoiceId": "SRC-77",
        "FromCreatedAt": "2026-01-01",
        "ToCreatedAt": "2026-03-31",
        "PageSize": "50",
        "PageToken": "opaque-token",
    }


def test_empty_filters_are_not_sent_and_the_page_size_defaults_to_25(
    client_a_in_english: Client, fake_upstream: respx.MockRouter
) -> None:
    empty = dict.fromkeys(("q", "status", "type", "customer", "invoice", "from", "to", "page"), "")

    client_a_in_english.get(LIST_URL, {**empty, "q": "   "})

    assert sent_params(fake_upstream) == {"PageSize": "25"}


def test_the_list_asks_for_the_users_own_organisation_only(
    client_a_in_english: Client, org_b: Organization, fake_upstream: respx.MockRouter
) -> None:
    client_a_in_english.get(LIST_URL, {"customer": "CUST-1"})

    path = fake_upstream.routes["cases"].calls.last.request.url.path
    assert ORG_A_ID in path
    assert ORG_B_ID not in str(fake_upstream.calls.last.request.url)


def test_a_case_the_upstream_says_is_another_organisations_is_not_shown(
    client_a_in_english: Client, org_b: Organization, fake_upstream: respx.MockRouter
) -> None:
    foreign = org_a_case_json(4242, organizationId=ORG_B_ID)
    fake_upstream.routes["cases"].mock(
        return_value=httpx.Response(200, json=page_json([org_a_case_json(1001), foreign]))
    )

    html = body(client_a_in_english.get(LIST_URL))

    assert "/cases/1001/" in html
    assert "4242" not in html


@pytest.mark.parametrize(
    ("query", "field_id"),
    [
        ({"status": "NOPE"}, "id_status"),
        ({"type": "<b>X</b>"}, "id_type"),
        ({"size": "7"}, "id_size"),
        ({"from": "banana"}, "id_from"),
        ({"to": "2026-13-45"}, "id_to"),
        ({"from": "2026-03-02", "to": "2026-03-01"}, "id_to"),
        ({"q": "x" * 101}, "id_q"),
        ({"customer": "9" * 65}, "id_customer"),
        ({"invoice": "S" * 101}, "id_invoice"),
    ],
)
def test_invalid_input_is_a_400_with_the_error_beside_the_field_and_nothing_sent(
    client_a_in_english: Client,
    fake_upstream: respx.MockRouter,
    query: dict[str, str],
    field_id: str,
) -> None:
    response = client_a_in_english.get(LIST_URL, query)

    assert response.status_code == 400
    html = body(response)
    errors = element(html, f"{field_id}_error")
    assert 'class="errorlist"' in errors
    field = element(html, field_id)
    assert 'aria-invalid="true"' in field
    assert f"{field_id}_error" in attribute(html, "aria-describedby", id=field_id)
    assert not fake_upstream.calls, "invalid input must never reach the upstream"


def test_what_the_user_typed_stays_in_the_fields_after_an_error(
    client_a_in_english: Client, fake_upstream: respx.MockRouter
) -> None:
    html = body(
        client_a_in_english.get(LIST_URL, {"q": "<hansen>", "from": "banana", "status": "PAUSED"})
    )

    assert attribute(html, "value", id="id_q") == "<hansen>"
    assert attribute(html, "value", id="id_from") == "banana"
    assert 'value="PAUSED" selected' in element(html, "id_status")
    assert "&lt;hansen&gt;" in html
    assert "<hansen>" not in html


def test_an_oversized_page_token_is_refused_without_asking_the_upstream(
    client_a_in_english: Client, fake_upstream: respx.MockRouter
) -> None:
    response = client_a_in_english.get(LIST_URL, {"page": "t" * 4001})

    assert response.status_code == 400
    assert not fake_upstream.calls


def test_invalid_input_in_an_htmx_request_swaps_the_form_with_its_errors(
    client_a_in_english: Client, fake_upstream: respx.MockRouter
) -> None:
    query = {"from": "2026-03-02", "to": "2026-03-01"}
    full = body(client_a_in_english.get(LIST_URL, query))
    response = client_a_in_english.get(LIST_URL, query, headers=HTMX)

    assert response.status_code == 400
    assert response["HX-Retarget"] == "#case-search"
    assert response["HX-Reswap"] == "outerHTML"
    assert normalise(body(response)) == normalise(element(full, "case-search"))
    assert not fake_upstream.calls


# --- One context, two renders ---------------------------------------------------------------


def test_the_htmx_response_is_exactly_the_results_element_of_the_full_page(
    client_a_in_english: Client, seeded: None
) -> None:
    query = {"status": "OPEN", "size": "10"}
    full = body(client_a_in_english.get(LIST_URL, query))
    partial = client_a_in_english.get(LIST_URL, query, headers=HTMX)

    assert partial.status_code == 200
    assert "<html" not in body(partial)
    assert normalise(body(partial)) == normalise(element(full, "results"))


def test_paging_swap_applied_to_the_page_equals_a_full_render_of_the_pushed_url(
    client_a_in_english: Client, seeded: None
) -> None:
    first = body(client_a_in_english.get(LIST_URL, {"type": "", "size": "10"}))
    next_url = attribute(first, "hx-get", rel="next")
    assert attribute(first, "href", rel="next") == next_url  # the same URL with and without JS

    swapped = client_a_in_english.get(next_url, headers=HTMX)
    reloaded = client_a_in_english.get(next_url)

    assert swapped.status_code == reloaded.status_code == 200
    after_swap = apply_swap(first, "results", body(swapped))
    assert normalise(main_of(after_swap)) == normalise(main_of(body(reloaded)))


def test_removing_a_filter_chip_swaps_form_and_results_like_a_full_render(
    client_a_in_english: Client, seeded: None
) -> None:
    page = body(client_a_in_english.get(LIST_URL, {"status": "OPEN", "type": "DEBT_COLLECTION"}))
    chip_url = attribute(page, "hx-get", aria_label="Remove filter Status")
    assert attribute(page, "href", aria_label="Remove filter Status") == chip_url
    assert "status=" not in chip_url
    assert "type=DEBT_COLLECTION" in chip_url

    swapped = client_a_in_english.get(chip_url, headers=HTMX_SEARCH)
    reloaded = client_a_in_english.get(chip_url)

    after_swap = apply_swap(page, "case-search", body(swapped))
    assert normalise(main_of(after_swap)) == normalise(main_of(body(reloaded)))
    assert 'value="" selected' in element(body(reloaded), "id_status")


def test_typing_swaps_only_the_results_of_the_same_url(
    client_a_in_english: Client, seeded: None
) -> None:
    form_query = {"q": "100", "status": "", "type": "", "customer": "", "size": "25"}
    full = body(client_a_in_english.get(LIST_URL, form_query))

    typed = client_a_in_english.get(LIST_URL, form_query, headers=HTMX)

    assert normalise(body(typed)) == normalise(element(full, "results"))


def test_the_search_box_replaces_the_url_and_filters_push_it(
    client_a_in_english: Client, fake_upstream: respx.MockRouter
) -> None:
    html = body(client_a_in_english.get(LIST_URL))

    search = element(html, "id_q")
    assert 'hx-trigger="input changed delay:300ms, search"' in search
    assert 'hx-replace-url="true"' in search
    assert 'hx-push-url="true"' in element(html, "id_status")
    assert 'hx-push-url="true"' in element(html, "id_size")
    form_tag = re.search(r"<form[^>]*>", element(html, "case-search"))
    assert form_tag is not None
    # An inherited hx-push-url would override the search box's replace (htmx checks push first).
    assert "hx-push-url" not in form_tag.group(0)
    assert 'hx-target="#results"' in form_tag.group(0)
    assert 'method="get"' in form_tag.group(0)


def test_the_results_links_inherit_their_htmx_wiring_from_their_containers(
    client_a_in_english: Client, seeded: None
) -> None:
    html = body(client_a_in_english.get(LIST_URL, {"status": "OPEN"}))

    search_tag = re.search(r'<div id="case-search"[^>]*>', html)
    results_tag = re.search(r'<section id="results"[^>]*>', html)
    pager_tag = re.search(r'<nav class="pager"[^>]*>', html)
    assert search_tag is not None
    assert results_tag is not None
    assert pager_tag is not None
    assert 'hx-swap="outerHTML"' in search_tag.group(0)
    assert 'hx-target="#case-search"' in results_tag.group(0)
    assert 'hx-push-url="true"' in results_tag.group(0)
    assert 'hx-target="#results"' in pager_tag.group(0)
    links = re.findall(r"<a [^>]*hx-get=[^>]*>", element(html, "results"))
    assert links, "the chips and the pager are htmx links"
    for link in links:
        assert not re.search(r"hx-(target|swap|push-url)=", link)


@pytest.mark.parametrize("as_htmx_request", [True, False])
def test_a_history_restore_gets_the_full_page(
    client_a_in_english: Client, fake_upstream: respx.MockRouter, as_htmx_request: bool
) -> None:
    headers = {"HX-History-Restore-Request": "true", "HX-Current-URL": "http://testserver/"}
    if as_htmx_request:
        headers["HX-Request"] = "true"

    html = body(client_a_in_english.get(LIST_URL, {"status": "OPEN"}, headers=headers))

    assert html.lstrip().startswith("<!doctype html>")
    assert 'id="case-search"' in html


@pytest.mark.parametrize("headers", [{}, HTMX, HTMX_SEARCH])
def test_responses_vary_on_htmx_and_are_never_stored(
    client_a_in_english: Client, fake_upstream: respx.MockRouter, headers: dict[str, str]
) -> None:
    for query in ({}, {"size": "7"}):
        response = client_a_in_english.get(LIST_URL, query, headers=headers)

        assert "no-store" in response["Cache-Control"]
        assert "HX-Request" in response["Vary"]


def test_the_results_partial_for_a_filter_change_is_announced_and_says_its_order(
    client_a_in_english: Client, seeded: None
) -> None:
    html = body(client_a_in_english.get(LIST_URL, {"size": "10"}, headers=HTMX))

    assert attribute(html, "data-announce", **{"class": "pager__status"}) == (
        f"Showing 1{DASH}10 of {SEEDED_CASES}"
    )
    assert "newest first" in text_of(html)
    thead = re.search(r"<thead>.*</thead>", html, re.S)
    assert thead is not None
    assert "<a" not in thead.group(0), "no column sorting"


def test_every_filter_has_a_label(
    client_a_in_english: Client, fake_upstream: respx.MockRouter
) -> None:
    html = body(client_a_in_english.get(LIST_URL))

    for name in ("q", "status", "type", "customer", "invoice", "from", "to", "size"):
        assert f'<label for="id_{name}">' in html


def test_a_loading_indicator_shows_while_the_list_is_loading(
    client_a_in_english: Client, fake_upstream: respx.MockRouter
) -> None:
    html = body(client_a_in_english.get(LIST_URL))

    form_tag = re.search(r"<form[^>]*>", element(html, "case-search"))
    assert form_tag is not None
    assert "#results-spinner" in form_tag.group(0)
    assert "htmx-indicator" in element(html, "results-spinner")


# --- Paging -----------------------------------------------------------------------------------


def case_numbers(html: str) -> list[str]:
    return re.findall(r'<tr data-href="/cases/(\d+)/"', html)


def test_paging_forward_and_back_with_the_upstreams_tokens(
    client_a_in_english: Client, seeded: None
) -> None:
    first = body(client_a_in_english.get(LIST_URL))
    assert f"Showing 1{DASH}25 of 60" in text_of(first)
    assert 'aria-disabled="true">Previous' in first

    second = body(client_a_in_english.get(attribute(first, "href", rel="next"), headers=HTMX))
    assert f"Showing 26{DASH}50 of 60" in text_of(second)
    assert not set(case_numbers(second)) & set(case_numbers(first))

    third = body(client_a_in_english.get(attribute(second, "href", rel="next"), headers=HTMX))
    assert f"Showing 51{DASH}60 of 60" in text_of(third)
    assert 'aria-disabled="true">Next' in third

    back = body(client_a_in_english.get(attribute(third, "href", rel="prev"), headers=HTMX))
    assert case_numbers(back) == case_numbers(second)
    back_again = body(client_a_in_english.get(attribute(back, "href", rel="prev")))
    assert case_numbers(back_again) == case_numbers(first)


def test_paging_links_keep_the_other_parameters(client_a_in_english: Client, seeded: None) -> None:
    html = body(client_a_in_english.get(LIST_URL, {"q": "", "status": "OPEN", "size": "10"}))

    next_query = parse_qs(urlsplit(attribute(html, "href", rel="next")).query)

    assert next_query["status"] == ["OPEN"]
    assert next_query["size"] == ["10"]
    assert next_query["page"][0]


def test_a_rejected_page_token_restarts_a_full_page_at_the_first_page_with_a_notice(
    client_a_in_english: Client, seeded: None
) -> None:
    response = client_a_in_english.get(LIST_URL, {"status": "OPEN", "page": "forged-token"})

    assert response.status_code == 302
    assert response["Location"] == "/cases/?status=OPEN"
    assert "no-store" in response["Cache-Control"]
    html = body(client_a_in_english.get(response["Location"]))
    assert "starts again at the first page" in html
    assert f"Showing 1{DASH}" in text_of(html)


def test_a_rejected_page_token_restarts_an_htmx_list_and_pushes_the_honest_url(
    client_a_in_english: Client, seeded: None
) -> None:
    response = client_a_in_english.get(
        LIST_URL, {"status": "OPEN", "page": "forged-token"}, headers=HTMX
    )

    assert response.status_code == 200
    assert response["HX-Push-Url"] == "/cases/?status=OPEN"
    html = body(response)
    assert html.lstrip().startswith('<section id="results"')
    assert "starts again at the first page" in html
    assert f"Showing 1{DASH}" in text_of(html)
    assert "forged-token" not in html


def test_a_page_token_for_another_page_size_is_rejected_and_restarted(
    client_a_in_english: Client, seeded: None
) -> None:
    first = body(client_a_in_english.get(LIST_URL, {"size": "10"}))
    token = parse_qs(urlsplit(attribute(first, "href", rel="next")).query)["page"][0]

    response = client_a_in_english.get(LIST_URL, {"size": "25", "page": token})

    assert response.status_code == 302
    assert response["Location"] == "/cases/?size=25"


# --- What the table shows ---------------------------------------------------------------------


def test_rows_link_to_their_case_and_the_keyboard_reaches_it_through_the_link(
    client_a_in_english: Client, fake_upstream: respx.MockRouter
) -> None:
    html = body(client_a_in_english.get(LIST_URL))

    row = re.search(r'<tr data-href="/cases/1001/"[^>]*>', html)
    assert row is not None
    assert "tabindex" not in row.group(0)  # the link is the row's one tab stop
    assert '<a href="/cases/1001/">1001</a>' in html


def test_the_row_shows_readable_labels_the_local_date_and_the_invoice_count(
    client_a_in_english: Client, fake_upstream: respx.MockRouter
) -> None:
    waiting = org_a_case_json(
        1001,
        status="PAUSED",
        subStatus="DEBT_COLLECTION_LIST_MANUAL",
        type="LEGAL_COLLECTION",
        registeredAt="2026-03-01T23:30:00Z",
    )
    fake_upstream.routes["cases"].mock(return_value=httpx.Response(200, json=page_json([waiting])))

    text = text_of(body(client_a_in_english.get(LIST_URL, headers={"Accept-Language": "en"})))

    assert "Paused" in text
    assert "Awaiting debt collection approval" in text
    assert "Legal collection" in text
    assert "02 Mar 2026" in text  # 23:30 UTC on 1 March is 2 March in Oslo
    assert "DEBT_COLLECTION_LIST_MANUAL" not in text


def test_an_unknown_status_from_the_upstream_is_shown_humanised(
    client_a_in_english: Client, fake_upstream: respx.MockRouter
) -> None:
    fake_upstream.routes["cases"].mock(
        return_value=httpx.Response(200, json=page_json([org_a_case_json(status="ON_HOLD_LEGAL")]))
    )

    response = client_a_in_english.get(LIST_URL)

    assert response.status_code == 200
    assert "On hold legal" in text_of(body(response))


@pytest.mark.parametrize(
    ("language", "count", "amount"),
    [
        ("nb", f"Viser 26{DASH}50 av 1\xa0234", "1\xa0234\xa0567,50\xa0kr"),
        ("en", f"Showing 26{DASH}50 of 1,234", "NOK\xa01,234,567.50"),
    ],
)
def test_the_count_and_amounts_follow_the_browsers_language(
    client_a_in_english: Client,
    fake_upstream: respx.MockRouter,
    language: str,
    count: str,
    amount: str,
) -> None:
    cases = [org_a_case_json(2000 + n, remainingAmount="1234567.5") for n in range(25)]
    fake_upstream.routes["cases"].mock(
        return_value=httpx.Response(
            200,
            json=page_json(cases, total=1234, current_page=2, next_token="n", previous_token="p"),
        )
    )

    html = body(client_a_in_english.get(LIST_URL, headers={"Accept-Language": language}))

    assert count in text_of(html)
    assert amount in text_of(html)


def test_hostile_upstream_text_is_escaped(
    client_a_in_english: Client, fake_upstream: respx.MockRouter
) -> None:
    hostile = org_a_case_json(
        1001,
        type="<img src=x onerror=alert(1)>",
        description="<img src=x onerror=alert(2)>",
        status='"><script>alert(3)</script>',
    )
    hostile["debtors"][0]["fullName"] = "<script>alert(1)</script>"
    hostile["invoices"][0]["currency"] = {"code": "<b>NOK</b>"}
    fake_upstream.routes["cases"].mock(return_value=httpx.Response(200, json=page_json([hostile])))

    for headers in ({}, HTMX):
        html = body(client_a_in_english.get(LIST_URL, headers=headers))

        assert "<script>alert" not in html
        assert "<img src=x" not in html
        assert "<b>NOK" not in html
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_an_empty_result_says_so_and_offers_to_clear_the_filters(
    client_a_in_english: Client, seeded: None
) -> None:
    html = body(client_a_in_english.get(LIST_URL, {"q": "no-such-case-anywhere", "size": "50"}))

    results = element(html, "results")
    assert "No cases match this search." in text_of(results)
    assert '<a href="/cases/?size=50"' in results  # clear filters keeps the page size
    assert "<table" not in results
    assert attribute(results, "data-announce", **{"class": "pager__status"}) == "No cases found"


def test_active_filters_are_removable_chips_and_the_export_link_keeps_them(
    client_a_in_english: Client, fake_upstream: respx.MockRouter
) -> None:
    query = {"q": "hansen", "status": "OPEN", "from": "2026-01-01", "size": "10", "page": "tok"}
    html = body(client_a_in_english.get(LIST_URL, query, headers={"Accept-Language": "en"}))

    chips = text_of(element(html, "results"))
    assert "Search: hansen" in chips
    assert "Status: Open" in chips
    assert "Registered from:" in chips
    export = attribute(html, "href", download="")
    assert export.startswith("/cases/export.csv?")
    assert parse_qs(urlsplit(export).query) == {
        "q": ["hansen"],
        "status": ["OPEN"],
        "from": ["2026-01-01"],
    }


# --- Upstream failures ------------------------------------------------------------------------


FAILURES = [
    pytest.param(answer(503, headers={"Retry-After": "30"}), 503, "30", True, id="unavailable-503"),
    pytest.param(answer(502), 502, None, True, id="bad-gateway-502"),
    pytest.param(httpx.ReadTimeout("slow"), 504, None, True, id="timeout"),
    pytest.param(
        answer(429, headers={"Retry-After": "60"}), 429, "60", True, id="rate-limited-429"
    ),
    pytest.param(
        answer(200, b"{not json", headers={"Content-Type": "application/json"}),
        502,
        None,
        True,
        id="malformed-json",
    ),
    pytest.param(answer(403), 403, None, False, id="forbidden-403"),
]


@pytest.mark.parametrize(("failure", "status", "retry_after", "retryable"), FAILURES)
def test_an_upstream_failure_on_a_full_page_keeps_the_form_and_explains(
    client_a_in_english: Client,
    fake_upstream: respx.MockRouter,
    failure: Any,
    status: int,
    retry_after: str | None,
    retryable: bool,
) -> None:
    fake_upstream.routes["cases"].mock(side_effect=failure)

    response = client_a_in_english.get(LIST_URL, {"status": "OPEN"})

    assert response.status_code == status
    assert response.get("Retry-After") == retry_after
    assert "no-store" in response["Cache-Control"]
    html = body(response)
    assert 'id="id_q"' in html  # the rest of the page stays usable
    results = element(html, "results")
    assert 'role="alert"' in results
    assert ("Try again" in results) is retryable
    if retryable:
        assert attribute(results, "hx-get", **{"class": "button"}) == "/cases/?status=OPEN"
    else:
        assert "Ask your Amili contact" in results


@pytest.mark.parametrize(("failure", "status", "retry_after", "retryable"), FAILURES)
def test_an_upstream_failure_in_an_htmx_request_swaps_an_error_into_the_results(
    client_a_in_english: Client,
    fake_upstream: respx.MockRouter,
    failure: Any,
    status: int,
    retry_after: str | None,
    retryable: bool,
) -> None:
    fake_upstream.routes["cases"].mock(side_effect=failure)

    full = client_a_in_english.get(LIST_URL, {"q": "hansen"})
    response = client_a_in_english.get(LIST_URL, {"q": "hansen"}, headers=HTMX)

    assert response.status_code == status
    assert response.get("Retry-After") == retry_after
    assert "HX-Request" in response["Vary"]
    html = body(response)
    assert normalise(html) == normalise(element(body(full), "results"))
    assert html.lstrip().startswith('<div id="results"')
    assert ("Try again" in html) is retryable


def test_a_chip_click_that_fails_upstream_still_swaps_the_form(
    client_a_in_english: Client, fake_upstream: respx.MockRouter
) -> None:
    fake_upstream.routes["cases"].mock(side_effect=answer(502))

    response = client_a_in_english.get(LIST_URL, {"type": "DEBT_COLLECTION"}, headers=HTMX_SEARCH)

    assert response.status_code == 502
    html = body(response)
    assert html.lstrip().startswith('<div id="case-search"')
    assert 'value="DEBT_COLLECTION" selected' in element(html, "id_type")
    assert 'role="alert"' in element(html, "results")


def test_an_upstream_refusal_other_than_the_page_token_is_a_502(
    client_a_in_english: Client, fake_upstream: respx.MockRouter
) -> None:
    fake_upstream.routes["cases"].mock(
        side_effect=answer(
            400,
            problem(400, {"Status": ["nope"]}),
            headers={"Content-Type": "application/problem+json"},
        )
    )

    response = client_a_in_english.get(LIST_URL, {"status": "OPEN"})

    assert response.status_code == 502


def test_a_refused_page_token_when_none_was_sent_is_a_502_not_a_restart(
    client_a_in_english: Client, fake_upstream: respx.MockRouter
) -> None:
    fake_upstream.routes["cases"].mock(
        side_effect=answer(
            400,
            problem(400, {"PageToken": ["bad"]}),
            headers={"Content-Type": "application/problem+json"},
        )
    )

    full = client_a_in_english.get(LIST_URL, {"status": "OPEN"})
    swapped = client_a_in_english.get(LIST_URL, {"status": "OPEN"}, headers=HTMX)

    assert full.status_code == 502  # not a redirect to itself
    assert swapped.status_code == 502
    assert "HX-Push-Url" not in swapped
    assert len(fake_upstream.routes["cases"].calls) == 2


@pytest.mark.parametrize("number", [0, -7])
def test_a_case_number_no_page_can_have_is_shown_without_a_link(
    client_a_in_english: Client, fake_upstream: respx.MockRouter, number: int
) -> None:
    odd = {**org_a_case_json(1002), "caseNumber": number}
    fake_upstream.routes["cases"].mock(
        return_value=httpx.Response(200, json=page_json([odd, org_a_case_json(1001)]))
    )

    response = client_a_in_english.get(LIST_URL)

    assert response.status_code == 200
    html = body(response)
    assert f'<th scope="row">{number}</th>' in html
    assert '<a href="/cases/1001/">1001</a>' in html


def test_only_get_and_head_are_allowed(
    client_a_in_english: Client, fake_upstream: respx.MockRouter
) -> None:
    assert client_a_in_english.post(LIST_URL).status_code == 405
    assert not fake_upstream.calls
