"""Links built from upstream values stay one path segment, and the routes accept what they build."""

from urllib.parse import unquote, urljoin

import pytest
from django.urls import Resolver404, resolve

from cases.autocollect import MAX_CASE_NUMBER
from cases.links import case_url, debtor_url

ODD_CUSTOMER_NUMBERS = [
    "K-1001",
    "2024/77",
    "../../accounts/logout",
    "../",
    "/",
    "K\n1001",
    "K 1001 ",
    "æøå-12",
    "100%",
    "%2E%2E",
    "a?b#c",
    ".../x",
]


@pytest.mark.parametrize("customer_number", ODD_CUSTOMER_NUMBERS)
def test_a_customer_number_is_one_segment_and_routes_back_to_itself(customer_number: str) -> None:
    url = debtor_url(customer_number)

    segment = url.removeprefix("/debtors/").removesuffix("/")
    assert not set(segment) & set("/?#")
    # A browser resolving the link stays on the debtor pages.
    assert urljoin("http://testserver/cases/1/", url).startswith("http://testserver/debtors/")
    # Django decodes the path before routing; the route takes the decoded number whole.
    match = resolve(unquote(url))
    assert match.view_name == "cases:debtor"
    assert match.kwargs == {"customer_number": customer_number}


@pytest.mark.parametrize("customer_number", ["", ".", ".."])
def test_a_customer_number_that_is_a_dot_segment_gets_no_link(customer_number: str) -> None:
    assert debtor_url(customer_number) == ""


@pytest.mark.parametrize("case_number", [1, 1001, MAX_CASE_NUMBER])
def test_a_case_number_routes_back_to_itself(case_number: int) -> None:
    match = resolve(case_url(case_number))

    assert match.view_name == "cases:detail"
    assert match.kwargs == {"case_number": case_number}


@pytest.mark.parametrize("case_number", [0, -1, -1001, MAX_CASE_NUMBER + 1])
def test_a_case_number_no_case_can_have_gets_no_link(case_number: int) -> None:
    assert case_url(case_number) == ""


@pytest.mark.parametrize(
    "path", ["/cases/0/", "/cases/-1/", f"/cases/{MAX_CASE_NUMBER + 1}/", "/cases/1e3/"]
)
def test_the_case_route_refuses_numbers_no_case_can_have(path: str) -> None:
    with pytest.raises(Resolver404):
        resolve(path)
