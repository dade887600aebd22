"""Fuzzing every GET parameter and path segment of the product's pages (hypothesis).

A logged-in member asks for the case list, the export, a case and a debtor with arbitrary input:
known parameters with any text (unicode, control characters, huge numbers, dates out of range),
unknown and repeated parameters, raw query strings with broken %-escapes, and path segments of
any text. Whatever comes in, the answer is never a server error, and an answer that refuses the
input (400) has sent nothing upstream. The client talks to the in-process sandbox, recorded.

Deterministic for CI (derandomize: the same examples every run) and quick: each target runs
FUZZ_EXAMPLES examples without a deadline.
"""

from urllib.parse import quote, urlencode

import pytest
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cases.vocabulary import CASE_STATUSES, CASE_TYPES
from sandbox.models import SandboxOrganization
from tests.support.sandbox_data import add_case, add_debtor
from tests.support.transport import RecordingTransport

FUZZ_EXAMPLES = 100
fuzz = settings(
    max_examples=FUZZ_EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,  # derandomized runs need no example database
    # One logged-in client and one sandbox serve every example: the pages only read.
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

LIST_PARAMETERS = ("q", "status", "type", "customer", "invoice", "from", "to", "size", "page")
REFERENCE_PARAMETERS = ("qref", "customerref", "invoiceref")
HTMX_TARGETS = ("results", "case-search", "case-page", "debtors", "nowhere", "")

any_text = st.text(max_size=120)  # every code point hypothesis draws: controls, NUL, surrogates out
numbers = st.integers(min_value=-(10**40), max_value=10**40).map(str)
dates = st.dates().map(lambda day: day.isoformat()) | st.datetimes().map(str)
special = st.sampled_from(
    [
        "",
        " ",
        "%",
        "%00",
        "%ZZ",
        "\x00",
        "\n",
        "\r\n",
        "\u2028",
        "\ud7ff",
        "\uffff",
        "../../etc/passwd",
        "<script>",
        "' OR 1=1 --",
        "9" * 5000,
        "0",
        "-1",
        "25",
        "1e309",
        "NaN",
        "0000-00-00",
        "9999-12-31",
        "kari@example.no",
        "01019012345",
        "(+47) 912 34 567",
        *CASE_STATUSES,
        *CASE_TYPES,
    ]
)
values = any_text | numbers | dates | special
parameter_names = st.sampled_from(LIST_PARAMETERS + REFERENCE_PARAMETERS) | st.text(max_size=12)
parameters = st.lists(st.tuples(parameter_names, values), max_size=8)  # repeats come for free
raw_queries = st.text(
    alphabet=st.sampled_from(list("q=&%;+#?/ 0123456789abcdefABCDEFZ\x00\u00e6")), max_size=60
)
path_segments = any_text.filter(bool) | numbers | special.filter(bool)
htmx_headers = st.none() | st.sampled_from(HTMX_TARGETS)


@pytest.fixture
def member(
    client_a: Client, sandbox_a: SandboxOrganization, sandbox_upstream: RecordingTransport
) -> tuple[Client, RecordingTransport]:
    """An agent of organisation A, two cases in its sandbox, every upstream request recorded."""
    for number in (1000001, 1000002):
        case = add_case(sandbox_a, number)
        add_debtor(case, email=f"d{number}@example.no", full_name=f"Debtor {number}")
        case.refresh_search_text()
    return client_a, sandbox_upstream


def ask(
    client: Client, recorder: RecordingTransport, url: str, htmx_target: str | None
) -> tuple[int, int]:
    """GET `url`, reading a streamed body to the end; (status, upstream requests it caused)."""
    headers = {} if htmx_target is None else {"HX-Request": "true", "HX-Target": htmx_target}
    sent_before = len(recorder.requests)
    response = client.get(url, headers=headers)
    if response.streaming:
        response.getvalue()  # the export streams: read it all, so every page is fetched
    return response.status_code, len(recorder.requests) - sent_before


def assert_handled(status: int, sent: int, url: str) -> None:
    assert status < 500, f"{status} for {url!r}"
    if status == 400:
        assert sent == 0, f"400 for {url!r} yet {sent} upstream requests"


@pytest.mark.parametrize("path", ["/cases/", "/cases/export.csv"])
def test_list_and_export_parameters_never_break_the_page(
    member: tuple[Client, RecordingTransport], path: str
) -> None:
    client, recorder = member

    @fuzz
    @given(query=parameters, htmx_target=htmx_headers)
    def check(query: list[tuple[str, str]], htmx_target: str | None) -> None:
        url = f"{path}?{urlencode(query)}"
        assert_handled(*ask(client, recorder, url, htmx_target), url)

    check()


@pytest.mark.parametrize("path", ["/cases/", "/cases/export.csv"])
def test_raw_query_strings_never_break_the_page(
    member: tuple[Client, RecordingTransport], path: str
) -> None:
    client, recorder = member

    @fuzz
    @given(raw=raw_queries)
    def check(raw: str) -> None:
        url = f"{path}?{quote(raw, safe='=&%;+/?')}"
        assert_handled(*ask(client, recorder, url, None), url)

    check()


@pytest.mark.parametrize("template", ["/cases/{}/", "/debtors/{}/"])
def test_path_segments_never_break_the_page(
    member: tuple[Client, RecordingTransport], template: str
) -> None:
    client, recorder = member

    @fuzz
    @given(segment=path_segments, htmx_target=htmx_headers, encode=st.booleans())
    def check(segment: str, htmx_target: str | None, encode: bool) -> None:
        url = template.format(quote(segment, safe="" if encode else "/"))
        status, _ = ask(client, recorder, url, htmx_target)
        assert status < 500, f"{status} for {url!r}"

    check()
