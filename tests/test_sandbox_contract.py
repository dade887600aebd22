"""The sandbox honours the AutoCollect contract (docs/autocollect-api.md §1-7).

Every call goes through Django's test client with a bearer token from /sandbox/token, exactly as
the dashboard's client would make it.
"""

import math
import re
import time
import uuid
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.core import signing
from django.core.exceptions import ValidationError
from django.test import Client, override_settings

from sandbox.models import Case, CaseStatus, CaseSubStatus, CaseType, Debtor, SandboxOrganization
from sandbox.seeding import seed_organization
from sandbox.tokens import issue_token
from tests.support.sandbox import SandboxApi, documented_cases_example, fetch_token

ORG_ID = uuid.UUID("7bc05553-4b68-44e8-b7bc-37be63c6d9e9")
OTHER_ORG_ID = uuid.UUID("0c8a3f9e-2b7d-4c1a-9e5f-6d4b3a2c1e0f")
UNKNOWN_ID = uuid.UUID(
    "00000000-1111-4222-8333-444444444444"
)  # fixed: pytest-xdist needs stable ids
NOW = datetime(2025, 6, 2, tzinfo=UTC)
CASES = 60
OSLO = ZoneInfo("Europe/Oslo")
ISO_UTC_MS = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")

EXAMPLE = documented_cases_example()
EXAMPLE_CASE = EXAMPLE["data"][0]


@pytest.fixture
def api(client: Client, db: None) -> SandboxApi:
    seed_organization(ORG_ID, "Bergen Boliger AS", CASES, seed=3, now=NOW)
    return SandboxApi(client, ORG_ID)


@pytest.fixture
def every_case(api: SandboxApi) -> list[dict[str, Any]]:
    cases: list[dict[str, Any]] = api.cases(PageSize=100)["data"]
    return cases


def ids(cases: list[dict[str, Any]]) -> set[str]:
    return {case["caseId"] for case in cases}


def assert_problem(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/problem+json")
    body: dict[str, Any] = response.json()
    assert {"type", "title", "status", "detail", "traceId"} <= set(body)
    assert body["status"] == status
    return body


# --- Shapes ---------------------------------------------------------------------------------------


def test_response_and_case_keys_equal_the_documented_example(api: SandboxApi) -> None:
    page = api.cases(PageSize=100)
    assert set(page) == set(EXAMPLE)
    assert set(page["skipSummary"]) == set(EXAMPLE["skipSummary"])
    assert set(page["cursorSummary"]) == set(EXAMPLE["cursorSummary"])
    for case in page["data"]:
        assert set(case) == set(EXAMPLE_CASE)
        assert set(case["caseAccountDetails"]) == set(EXAMPLE_CASE["caseAccountDetails"])
        assert set(case["caseAccountDetails"]["bankAccountDetails"]) == set(
            EXAMPLE_CASE["caseAccountDetails"]["bankAccountDetails"]
        )


def test_invoice_debtor_and_claim_keys_equal_the_documented_example(
    every_case: list[dict[str, Any]],
) -> None:
    invoices = [invoice for case in every_case for invoice in case["invoices"]]
    debtors = [debtor for case in every_case for debtor in case["debtors"]]
    claims = [claim for case in every_case for claim in case["claims"]]
    assert invoices
    assert debtors
    assert claims
    assert all(set(invoice) == set(EXAMPLE_CASE["invoices"][0]) for invoice in invoices)
    assert all(set(debtor) == set(EXAMPLE_CASE["debtors"][0]) for debtor in debtors)
    assert all(set(claim) == set(EXAMPLE_CASE["claims"][0]) for claim in claims)


def test_invoice_currency_is_an_object_and_claim_currency_a_string(
    every_case: list[dict[str, Any]],
) -> None:
    for case in every_case:
        assert all(invoice["currency"] == {"code": "NOK"} for invoice in case["invoices"])
        assert all(claim["currency"] == "NOK" for claim in case["claims"])


def test_values_have_the_documented_types_and_formats(every_case: list[dict[str, Any]]) -> None:
    for case in every_case:
        assert isinstance(case["caseNumber"], int)
        assert ISO_UTC_MS.match(case["registeredAt"])
        assert case["closedAt"] is None or ISO_UTC_MS.match(case["closedAt"])
        assert isinstance(case["remainingAmount"], int | float)
        for invoice in case["invoices"]:
            assert invoice["caseId"] == case["caseId"]
            for name in ("invoiceDate", "dueDate", "registeredAt"):
                assert ISO_UTC_MS.match(invoice[name])
            assert isinstance(invoice["originalAmount"], int | float)
        invoice_ids = {invoice["invoiceId"] for invoice in case["invoices"]}
        assert all(claim["invoiceId"] in invoice_ids | {None} for claim in case["claims"])


def test_closed_and_withdrawn_cases_have_a_closing_time_and_others_none(
    every_case: list[dict[str, Any]],
) -> None:
    for case in every_case:
        finished = case["status"] in {"CLOSED", "WITHDRAWN"}
        assert (case["closedAt"] is not None) == finished, case["caseNumber"]


def test_claim_amounts_add_up_to_the_case_amounts(every_case: list[dict[str, Any]]) -> None:
    def money(value: float) -> Decimal:
        return Decimal(str(value))

    for case in every_case:
        for claim in case["claims"]:
            original = money(claim["originalAmount"])
            paid, credited = money(claim["paidAmount"]), money(claim["creditedAmount"])
            remaining = money(claim["remainingAmount"])
            assert original == paid + credited + remaining
            assert money(claim["currentAmount"]) == original - credited
        remaining_total = sum(money(claim["remainingAmount"]) for claim in case["claims"])
        principal_total = sum(
            money(claim["remainingAmount"])
            for claim in case["claims"]
            if claim["type"] == "PRINCIPAL"
        )
        assert money(case["remainingAmount"]) == remaining_total
        assert money(case["remainingPrincipal"]) == principal_total


# --- Filters --------------------------------------------------------------------------------------


@pytest.mark.parametrize("status", CaseStatus.values)
def test_status_filter_keeps_only_that_status(
    api: SandboxApi, every_case: list[dict[str, Any]], status: str
) -> None:
    expected = {case["caseId"] for case in every_case if case["status"] == status}
    assert expected, f"the seed has no {status} case"
    assert ids(api.all_cases(Status=status)) == expected


@pytest.mark.parametrize("case_type", CaseType.values)
def test_type_filter_keeps_only_that_type(
    api: SandboxApi, every_case: list[dict[str, Any]], case_type: str
) -> None:
    expected = {case["caseId"] for case in every_case if case["type"] == case_type}
    assert expected
    assert ids(api.all_cases(Type=case_type)) == expected


def test_case_number_filter_finds_exactly_that_case(
    api: SandboxApi, every_case: list[dict[str, Any]]
) -> None:
    target = every_case[17]
    found = api.cases(CaseNumber=target["caseNumber"])
    assert ids(found["data"]) == {target["caseId"]}
    assert found["skipSummary"]["totalCount"] == 1


def test_customer_number_filter_finds_every_case_of_that_debtor(
    api: SandboxApi, every_case: list[dict[str, Any]]
) -> None:
    by_customer: dict[str, set[str]] = {}
    for case in every_case:
        for debtor in case["debtors"]:
            by_customer.setdefault(debtor["customerNumber"], set()).add(case["caseId"])
    customer, expected = max(by_customer.items(), key=lambda item: len(item[1]))
    assert len(expected) > 1, "some debtor should have several cases"
    assert ids(api.all_cases(CustomerNumber=customer)) == expected


def test_unique_source_invoice_id_filter_finds_the_case_holding_that_invoice(
    api: SandboxApi, every_case: list[dict[str, Any]]
) -> None:
    holder = next(case for case in every_case if len(case["invoices"]) > 1)
    source_id = holder["invoices"][-1]["uniqueSourceInvoiceId"]
    assert ids(api.all_cases(UniqueSourceInvoiceId=source_id)) == {holder["caseId"]}


def test_filters_combine(api: SandboxApi, every_case: list[dict[str, Any]]) -> None:
    expected = {
        case["caseId"]
        for case in every_case
        if case["status"] == "OPEN" and case["type"] == "DEBT_COLLECTION"
    }
    assert ids(api.all_cases(Status="OPEN", Type="DEBT_COLLECTION")) == expected


def test_query_parameter_names_and_enum_values_match_case_insensitively(
    api: SandboxApi, every_case: list[dict[str, Any]]
) -> None:
    expected = {case["caseId"] for case in every_case if case["status"] == "PAUSED"}
    assert ids(api.all_cases(status="PAUSED")) == expected
    assert ids(api.all_cases(STATUS="paused")) == expected


def test_a_bare_date_covers_that_whole_day_in_oslo(api: SandboxApi) -> None:
    case = Case.objects.filter(organization_id=ORG_ID).order_by("case_number")[10]
    late_evening = datetime(2025, 1, 15, 23, 30, tzinfo=OSLO)  # 22:30 UTC, still the 15th in Oslo
    Case.objects.filter(pk=case.pk).update(registered_at=late_evening)
    on_the_day = api.all_cases(FromCreatedAt="2025-01-15", ToCreatedAt="2025-01-15")
    the_next_day = api.all_cases(FromCreatedAt="2025-01-16", ToCreatedAt="2025-01-16")
    assert str(case.pk) in ids(on_the_day)
    assert str(case.pk) not in ids(the_next_day)
    for found in on_the_day:
        registered = datetime.fromisoformat(found["registeredAt"]).astimezone(OSLO)
        assert registered.date().isoformat() == "2025-01-15"


def test_date_time_bounds_are_inclusive(api: SandboxApi, every_case: list[dict[str, Any]]) -> None:
    target = every_case[30]
    moment = target["registeredAt"]
    assert target["caseId"] in ids(api.all_cases(FromCreatedAt=moment))
    assert target["caseId"] in ids(api.all_cases(ToCreatedAt=moment))
    exactly = api.all_cases(FromCreatedAt=moment, ToCreatedAt=moment)
    assert ids(exactly) == {target["caseId"]}


def test_date_range_narrows_to_registrations_inside_it(
    api: SandboxApi, every_case: list[dict[str, Any]]
) -> None:
    start, end = "2024-10-01T00:00:00Z", "2025-02-01T00:00:00Z"
    expected = {
        case["caseId"]
        for case in every_case
        if datetime.fromisoformat(start) <= datetime.fromisoformat(case["registeredAt"])
        and datetime.fromisoformat(case["registeredAt"]) <= datetime.fromisoformat(end)
    }
    assert 0 < len(expected) < len(every_case)
    assert ids(api.all_cases(FromCreatedAt=start, ToCreatedAt=end)) == expected


# --- SearchTerm -----------------------------------------------------------------------------------


def _give_debtor_name(case: Case, first: str, last: str, email: str = "") -> None:
    Debtor.objects.filter(case=case).update(
        first_name=first, last_name=last, full_name=f"{first} {last}", email=email
    )
    case.refresh_search_text()


@pytest.mark.parametrize(
    "term", ["Åse Kløvstad", "åse kløvstad", "ÅSE KLØVSTAD", "kLøV", "A\u030ase", "ÅSE"]
)
def test_search_folds_norwegian_letters(api: SandboxApi, term: str) -> None:
    case = Case.objects.filter(organization_id=ORG_ID).order_by("case_number")[5]
    _give_debtor_name(case, "Åse", "Kløvstad")
    found = api.all_cases(SearchTerm=term)
    assert str(case.pk) in ids(found)
    for other in found:
        names = " ".join(debtor["fullName"] for debtor in other["debtors"]).casefold()
        assert "åse" in names or "kløv" in names


def test_search_with_ae_and_o_slash_in_upper_case_finds_lower_case_names(api: SandboxApi) -> None:
    case = Case.objects.filter(organization_id=ORG_ID).order_by("case_number")[8]
    _give_debtor_name(case, "Bjørn", "Sæther")
    assert str(case.pk) in ids(api.all_cases(SearchTerm="BJØRN SÆTHER"))
    assert str(case.pk) not in ids(api.all_cases(SearchTerm="Bjorn Saether"))


@pytest.mark.parametrize(
    "field", ["caseNumber", "invoiceNumber", "uniqueSourceInvoiceId", "email", "customerNumber"]
)
def test_search_looks_at_numbers_invoices_and_email(
    api: SandboxApi, every_case: list[dict[str, Any]], field: str
) -> None:
    target = every_case[12]
    value = {
        "caseNumber": str(target["caseNumber"]),
        "invoiceNumber": target["invoices"][0]["invoiceNumber"],
        "uniqueSourceInvoiceId": target["invoices"][0]["uniqueSourceInvoiceId"].lower(),
        "email": target["debtors"][0]["email"].upper(),
        "customerNumber": target["debtors"][0]["customerNumber"],
    }[field]
    found = api.all_cases(SearchTerm=value)
    assert target["caseId"] in ids(found)
    assert len(found) < len(every_case)


def test_search_for_something_absent_finds_an_empty_page(api: SandboxApi) -> None:
    page = api.cases(SearchTerm="zzz-ingen-treff")
    assert page["data"] == []
    assert page["skipSummary"] == {
        "status": "SUCCESS",
        "totalCount": 0,
        "currentPage": 1,
        "pageSize": 25,
        "totalPages": 0,
        "hasNextPage": False,
        "hasPreviousPage": False,
    }
    assert page["cursorSummary"]["nextPageToken"] is None
    assert page["cursorSummary"]["previousPageToken"] is None


# --- Paging ---------------------------------------------------------------------------------------


def test_default_page_size_is_25_newest_first(api: SandboxApi) -> None:
    page = api.cases()
    assert len(page["data"]) == 25
    assert page["skipSummary"]["pageSize"] == 25
    keys = [(case["registeredAt"], case["caseNumber"]) for case in page["data"]]
    assert keys == sorted(keys, reverse=True)


def test_equal_registration_times_order_by_case_number_descending(api: SandboxApi) -> None:
    newest = list(Case.objects.filter(organization_id=ORG_ID).order_by("-registered_at")[:3])
    Case.objects.filter(pk__in=[case.pk for case in newest]).update(registered_at=NOW)
    first = api.cases(PageSize=3)["data"]
    assert [case["caseNumber"] for case in first] == sorted(
        (case.case_number for case in newest), reverse=True
    )


def test_paging_walks_the_organisation_end_to_end_and_back(api: SandboxApi) -> None:
    size, seen, pages = 7, [], []
    page = api.cases(PageSize=size)
    while True:
        pages.append(page)
        seen += [case["caseId"] for case in page["data"]]
        token = page["cursorSummary"]["nextPageToken"]
        if token is None:
            break
        page = api.cases(PageSize=size, PageToken=token)
    expected = [
        str(pk)
        for pk in Case.objects.filter(organization_id=ORG_ID)
        .order_by("-registered_at", "-case_number")
        .values_list("pk", flat=True)
    ]
    assert seen == expected
    assert len(pages) == math.ceil(CASES / size)
    for number, current in enumerate(pages, start=1):
        summary = current["skipSummary"]
        assert summary["currentPage"] == number
        assert summary["totalPages"] == len(pages)
        assert summary["totalCount"] == CASES
        assert summary["hasPreviousPage"] is (number > 1)
        assert summary["hasNextPage"] is (number < len(pages))
        assert (current["cursorSummary"]["previousPageToken"] is None) is (number == 1)
    backwards = [pages[-1]]
    while token := backwards[-1]["cursorSummary"]["previousPageToken"]:
        backwards.append(api.cases(PageSize=size, PageToken=token))
    assert [p["data"] for p in reversed(backwards)] == [p["data"] for p in pages]
    assert [p["skipSummary"]["currentPage"] for p in backwards] == list(range(len(pages), 0, -1))


def test_the_same_page_always_gets_the_same_token(
    api: SandboxApi, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = api.cases(PageSize=5)["cursorSummary"]["nextPageToken"]
    # A timestamped token (signing.dumps) would change with the clock: move the clock on.
    monkeypatch.setattr(signing.TimestampSigner, "timestamp", lambda self: "1a2b3c")
    assert api.cases(PageSize=5)["cursorSummary"]["nextPageToken"] == first


def test_a_page_token_keeps_its_filters(api: SandboxApi, every_case: list[dict[str, Any]]) -> None:
    walked = api.all_cases(Status="OPEN")
    assert len(walked) > 25
    assert all(case["status"] == "OPEN" for case in walked)
    assert len(walked) == sum(case["status"] == "OPEN" for case in every_case)


# --- Bad parameters -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"PageSize": "0"}, "PageSize"),
        ({"PageSize": "101"}, "PageSize"),
        ({"PageSize": "abc"}, "PageSize"),
        ({"PageSize": "-5"}, "PageSize"),
        ({"FromCreatedAt": "2024-13-01"}, "FromCreatedAt"),
        ({"FromCreatedAt": "yesterday"}, "FromCreatedAt"),
        ({"ToCreatedAt": "2024-02-30"}, "ToCreatedAt"),
        ({"Status": "NOPE"}, "Status"),
        ({"Type": "FORECLOSURE"}, "Type"),
        ({"CaseNumber": "12ab"}, "CaseNumber"),
        ({"PageToken": "not-a-token"}, "PageToken"),
        ({"SearchTerm": "x" * 201}, "SearchTerm"),
    ],
)
def test_bad_parameters_are_400_problems_naming_the_field(
    api: SandboxApi, params: dict[str, str], field: str
) -> None:
    body = assert_problem(api.get("cases", params), 400)
    assert field in body["errors"]
    assert all(isinstance(message, str) for message in body["errors"][field])


@pytest.mark.parametrize(
    ("endpoint", "params", "field"),
    [
        ("cases", {"ToCreatedAt": "9999-12-31"}, "ToCreatedAt"),
        ("cases", {"FromCreatedAt": "0001-01-01"}, "FromCreatedAt"),
        ("cases", {"FromCreatedAt": "0001-01-01T00:30:00+02:00"}, "FromCreatedAt"),
        ("cases", {"ToCreatedAt": "9999-12-31T23:00:00-05:00"}, "ToCreatedAt"),
        ("cases", {"CaseNumber": "9223372036854775808"}, "CaseNumber"),
        ("cases", {"CaseNumber": "99999999999999999999999"}, "CaseNumber"),
        ("cases", {"CaseNumber": "-1"}, "CaseNumber"),
        ("cases", {"PageSize": "9223372036854775808"}, "PageSize"),
        ("invoices", {"To": "9999-12-31"}, "To"),
        ("invoices", {"From": "0001-01-01"}, "From"),
        ("invoices", {"PageSize": "1000"}, "PageSize"),
        ("cases", {"CustomerNumber": "K-1\x00"}, "CustomerNumber"),
        ("cases", {"SearchTerm": "\x00"}, "SearchTerm"),
    ],
)
def test_values_beyond_the_edges_are_400_problems_naming_the_field(
    api: SandboxApi, endpoint: str, params: dict[str, str], field: str
) -> None:
    """Dates the database cannot hold and numbers beyond its integers are refused, not a 500."""
    body = assert_problem(api.get(endpoint, params), 400)
    assert set(body["errors"]) == {field}


@pytest.mark.parametrize(
    "params",
    [
        {"FromCreatedAt": "0001-01-02", "ToCreatedAt": "9999-12-30"},
        {"CaseNumber": str(2**62)},
    ],
)
def test_values_just_inside_the_edges_are_answered(api: SandboxApi, params: dict[str, str]) -> None:
    assert api.get("cases", params).status_code == 200


def test_several_bad_parameters_are_named_together(api: SandboxApi) -> None:
    body = assert_problem(api.get("cases", {"Status": "NOPE", "PageSize": "0"}), 400)
    assert set(body["errors"]) == {"Status", "PageSize"}


def test_a_forged_page_token_is_a_400(api: SandboxApi) -> None:
    token = api.cases(PageSize=5)["cursorSummary"]["nextPageToken"]
    payload = signing.Signer(salt="sandbox.page-token").unsign_object(token)
    payload["n"] = 7
    forged = signing.Signer(key="not-the-secret-key", salt="sandbox.page-token").sign_object(
        payload
    )
    flipped = token[:-3] + ("A" if token[-3] != "A" else "B") + token[-2:]
    for bad in (forged, flipped):
        body = assert_problem(api.get("cases", {"PageSize": 5, "PageToken": bad}), 400)
        assert "PageToken" in body["errors"]


@pytest.mark.parametrize(
    "changed",
    [{"PageSize": 6}, {"Status": "OPEN"}, {"SearchTerm": "a"}, {"Type": "DEBT_COLLECTION"}],
)
def test_a_page_token_used_with_other_filters_or_size_is_a_400(
    api: SandboxApi, changed: dict[str, Any]
) -> None:
    token = api.cases(PageSize=5)["cursorSummary"]["nextPageToken"]
    body = assert_problem(api.get("cases", {"PageSize": 5, "PageToken": token, **changed}), 400)
    assert "PageToken" in body["errors"]


def test_a_page_token_from_another_organisation_is_a_400(api: SandboxApi) -> None:
    seed_organization(OTHER_ORG_ID, "Tromsø Kraft AS", 30, seed=4, now=NOW)
    token = api.cases(PageSize=5)["cursorSummary"]["nextPageToken"]
    response = api.get("cases", {"PageSize": 5, "PageToken": token}, organization_id=OTHER_ORG_ID)
    assert "PageToken" in assert_problem(response, 400)["errors"]


# --- Tokens and organisations ---------------------------------------------------------------------


def test_token_answer_has_the_documented_fields(client: Client, db: None) -> None:
    response = client.post(
        "/sandbox/token",
        {"grant_type": "client_credentials", "client_id": "sandbox", "client_secret": "sandbox"},
    )
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {
        "access_token",
        "token_type",
        "not_before",
        "expires_in",
        "expires_on",
        "resource",
    }
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 3600
    assert body["expires_on"] - body["not_before"] == 3600
    assert abs(body["expires_on"] - (time.time() + 3600)) < 60
    assert body["access_token"].count(".") == 2  # a JWT


@pytest.mark.parametrize(
    ("form", "status", "error"),
    [
        ({"client_id": "sandbox", "client_secret": "wrong"}, 401, "invalid_client"),
        ({"client_id": "someone", "client_secret": "sandbox"}, 401, "invalid_client"),
        ({"client_id": "sandbox"}, 400, "invalid_request"),
        (
            {"grant_type": "password", "client_id": "sandbox", "client_secret": "sandbox"},
            400,
            "invalid_request",
        ),
    ],
)
def test_token_errors(
    client: Client, db: None, form: dict[str, str], status: int, error: str
) -> None:
    form = {"grant_type": "client_credentials", **form} if "grant_type" not in form else form
    response = client.post("/sandbox/token", form)
    assert response.status_code == status
    assert response.json()["error"] == error


def test_token_credentials_come_from_the_settings(client: Client, db: None) -> None:
    with override_settings(SANDBOX_CLIENT_ID="acme", SANDBOX_CLIENT_SECRET="s3cret"):
        wrong = client.post(
            "/sandbox/token",
            {
                "grant_type": "client_credentials",
                "client_id": "sandbox",
                "client_secret": "sandbox",
            },
        )
        assert wrong.status_code == 401
        assert fetch_token(client, "acme", "s3cret")


def test_missing_bearer_token_is_a_401(api: SandboxApi, client: Client) -> None:
    response = client.get(api.url("cases"))
    assert_problem(response, 401)
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_expired_token_is_a_401(api: SandboxApi) -> None:
    expired, _ = issue_token("sandbox", now=time.time() - 7200)
    api.token = expired
    body = assert_problem(api.get("cases"), 401)
    assert "expired" in body["detail"]


@pytest.mark.parametrize("bearer", ["garbage", "a.b.c", "Basic c2FuZGJveDpzYW5kYm94"])
def test_a_malformed_or_foreign_token_is_a_401(api: SandboxApi, bearer: str) -> None:
    response = api.client.get(api.url("cases"), headers={"Authorization": f"Bearer {bearer}"})
    assert_problem(response, 401)


def test_a_token_signed_with_another_key_is_a_401(api: SandboxApi) -> None:
    with override_settings(SECRET_KEY="some-other-key"):
        foreign, _ = issue_token("sandbox")
    api.token = foreign
    assert_problem(api.get("cases"), 401)


@pytest.mark.parametrize(
    "path", ["cases", f"batches/{UNKNOWN_ID}", "invoices", f"invoices/{UNKNOWN_ID}"]
)
def test_an_organisation_outside_the_sandbox_is_a_403(api: SandboxApi, path: str) -> None:
    assert_problem(api.get(path, organization_id=uuid.uuid4()), 403)


def test_an_action_in_an_organisation_outside_the_sandbox_is_a_403(api: SandboxApi) -> None:
    response = api.post(f"cases/{uuid.uuid4()}/pause", organization_id=uuid.uuid4())
    assert_problem(response, 403)


def test_an_unknown_path_is_a_404_problem(api: SandboxApi) -> None:
    assert_problem(api.get("nothing-here"), 404)
    assert_problem(api.get(f"cases/{uuid.uuid4()}/fly"), 404)


def test_the_wrong_method_is_a_405(api: SandboxApi, every_case: list[dict[str, Any]]) -> None:
    response = api.get(f"cases/{every_case[0]['caseId']}/pause")
    assert_problem(response, 405)
    assert response["Allow"] == "POST"


def test_upper_case_uuids_are_accepted(api: SandboxApi) -> None:
    response = api.client.get(
        f"/sandbox/collection/v1/orgs/{str(ORG_ID).upper()}/cases", headers=api.headers()
    )
    assert response.status_code == 200


# --- Actions --------------------------------------------------------------------------------------

OPEN, PAUSED, CLOSED, WITHDRAWN = "OPEN", "PAUSED", "CLOSED", "WITHDRAWN"
NONE = "NONE"
DCL, ER, EC = (
    "DEBT_COLLECTION_LIST_MANUAL",
    "EVICTION_REQUEST_MANUAL",
    "EVICTION_CONFIRMATION_MANUAL",
)
NOTICE, DEBT, LEGAL = "COLLECTION_NOTICE", "DEBT_COLLECTION", "LEGAL_COLLECTION"

TRANSITIONS = [
    # action, (status, subStatus, type) before, after
    ("pause", (OPEN, NONE, DEBT), (PAUSED, NONE, DEBT)),
    ("resume", (PAUSED, NONE, DEBT), (OPEN, NONE, DEBT)),
    ("withdraw", (OPEN, NONE, DEBT), (WITHDRAWN, NONE, DEBT)),
    ("withdraw", (PAUSED, NONE, NOTICE), (WITHDRAWN, NONE, NOTICE)),
    ("debt-collection-list/accept", (OPEN, DCL, NOTICE), (OPEN, NONE, DEBT)),
    ("debt-collection-list/reject", (OPEN, DCL, NOTICE), (CLOSED, NONE, NOTICE)),
    ("eviction-request/accept", (OPEN, ER, DEBT), (OPEN, EC, DEBT)),
    ("eviction-request/reject", (OPEN, ER, DEBT), (OPEN, NONE, DEBT)),
    ("eviction-confirmation/accept", (OPEN, EC, DEBT), (OPEN, NONE, LEGAL)),
    ("eviction-confirmation/reject", (OPEN, EC, DEBT), (OPEN, NONE, DEBT)),
]

REFUSALS = [
    ("pause", (PAUSED, NONE, DEBT)),
    ("pause", (CLOSED, NONE, DEBT)),
    ("pause", (WITHDRAWN, NONE, DEBT)),
    ("resume", (OPEN, NONE, DEBT)),
    ("resume", (CLOSED, NONE, DEBT)),
    ("withdraw", (CLOSED, NONE, DEBT)),
    ("withdraw", (WITHDRAWN, NONE, DEBT)),
    ("debt-collection-list/accept", (OPEN, NONE, NOTICE)),
    ("debt-collection-list/reject", (OPEN, ER, DEBT)),
    ("debt-collection-list/accept", (CLOSED, NONE, NOTICE)),
    ("eviction-request/accept", (OPEN, DCL, NOTICE)),
    ("eviction-request/reject", (OPEN, EC, DEBT)),
    ("eviction-confirmation/accept", (OPEN, ER, DEBT)),
    ("eviction-confirmation/reject", (OPEN, NONE, DEBT)),
    ("eviction-confirmation/accept", (WITHDRAWN, NONE, DEBT)),
]


def _case_in_state(state: tuple[str, str, str]) -> Case:
    status, sub_status, case_type = state
    case = Case.objects.filter(organization_id=ORG_ID).order_by("case_number")[20]
    closed_at = NOW if status in {CLOSED, WITHDRAWN} else None
    Case.objects.filter(pk=case.pk).update(
        status=status, sub_status=sub_status, type=case_type, closed_at=closed_at
    )
    case.refresh_from_db()
    return case


def _state_via_api(api: SandboxApi, case: Case) -> dict[str, Any]:
    found = api.cases(CaseNumber=case.case_number)["data"]
    assert len(found) == 1
    return found[0]  # type: ignore[no-any-return]


@pytest.mark.parametrize(("action", "before", "after"), TRANSITIONS)
def test_each_action_makes_its_transition(
    api: SandboxApi, action: str, before: tuple[str, str, str], after: tuple[str, str, str]
) -> None:
    case = _case_in_state(before)
    response = api.action(str(case.pk), action, {"reason": "Avtalt med kunden på telefon"})
    assert response.status_code == 202, response.content
    body = response.json()
    assert body["summary"] == {"status": "SUCCESS"}
    assert set(body["data"]) == {"batchId", "batchUrl"}
    assert body["data"]["batchUrl"].endswith(f"/orgs/{ORG_ID}/batches/{body['data']['batchId']}")
    state = _state_via_api(api, case)
    assert (state["status"], state["subStatus"], state["type"]) == after
    assert (state["closedAt"] is not None) == (after[0] in {CLOSED, WITHDRAWN})


@pytest.mark.parametrize(("action", "before"), REFUSALS)
def test_any_other_transition_is_a_409_that_says_why(
    api: SandboxApi, action: str, before: tuple[str, str, str]
) -> None:
    case = _case_in_state(before)
    body = assert_problem(api.action(str(case.pk), action), 409)
    assert str(case.case_number) in body["detail"]
    assert before[0] in body["detail"] or before[1] in body["detail"]
    state = _state_via_api(api, case)
    assert (state["status"], state["subStatus"], state["type"]) == before


def test_batch_of_an_applied_action_reports_success(api: SandboxApi) -> None:
    case = _case_in_state((OPEN, NONE, DEBT))
    batch_id = api.action(str(case.pk), "pause").json()["data"]["batchId"]
    response = api.get(f"batches/{batch_id}")
    assert response.status_code == 200
    body = response.json()
    assert body["summary"] == {"status": "SUCCESS"}
    batch = body["data"]
    assert set(batch) == {
        "batchId",
        "type",
        "status",
        "createdAt",
        "finishedAt",
        "organizationId",
        "createdBy",
        "succeeded",
        "failed",
    }
    assert batch["status"] == "SUCCESS"
    assert batch["type"] == "PAUSE_CASE"
    assert batch["organizationId"] == str(ORG_ID)
    assert batch["createdBy"] == "sandbox"
    assert ISO_UTC_MS.match(batch["finishedAt"])
    assert batch["succeeded"] == [{"caseId": str(case.pk), "caseNumber": case.case_number}]
    assert batch["failed"] == []


def test_an_unknown_case_or_batch_is_a_404(api: SandboxApi) -> None:
    assert_problem(api.action(str(uuid.uuid4()), "pause"), 404)
    assert_problem(api.get(f"batches/{uuid.uuid4()}"), 404)


def test_another_organisations_case_is_a_404(api: SandboxApi) -> None:
    seed_organization(OTHER_ORG_ID, "Tromsø Kraft AS", 5, seed=4, now=NOW)
    foreign = Case.objects.filter(organization_id=OTHER_ORG_ID).first()
    assert foreign is not None
    assert_problem(api.action(str(foreign.pk), "withdraw"), 404)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (b"{not json", "body"),
        (b"[1, 2]", "body"),
        ({"reason": 42}, "reason"),
        ({"reason": "x" * 1001}, "reason"),
    ],
)
def test_a_bad_action_body_is_a_400(api: SandboxApi, body: object, field: str) -> None:
    case = _case_in_state((OPEN, NONE, DEBT))
    assert field in assert_problem(api.action(str(case.pk), "pause", body), 400)["errors"]


def test_an_action_needs_no_body(api: SandboxApi) -> None:
    case = _case_in_state((OPEN, NONE, DEBT))
    assert api.action(str(case.pk), "pause").status_code == 202


# --- Idempotency ----------------------------------------------------------------------------------


def test_the_same_key_and_body_replays_the_first_answer_and_applies_once(api: SandboxApi) -> None:
    case = _case_in_state((OPEN, NONE, DEBT))
    first = api.action(str(case.pk), "pause", {"reason": "ferie"}, key="key-1")
    again = api.action(str(case.pk), "pause", {"reason": "ferie"}, key="key-1")
    assert first.status_code == again.status_code == 202
    assert again.json() == first.json()
    assert case.batches.count() == 1
    # without the key the second pause would have been refused: the case is paused already
    assert api.action(str(case.pk), "pause").status_code == 409


def test_the_same_key_with_json_keys_reordered_is_the_same_request(api: SandboxApi) -> None:
    case = _case_in_state((OPEN, NONE, DEBT))
    first = api.action(str(case.pk), "pause", b'{"reason": "a", "note": "b"}', key="k")
    again = api.action(str(case.pk), "pause", b'{"note":"b","reason":"a"}', key="k")
    assert again.json() == first.json()


def test_the_same_key_with_another_body_is_a_422(api: SandboxApi) -> None:
    case = _case_in_state((OPEN, NONE, DEBT))
    assert api.action(str(case.pk), "pause", {"reason": "ferie"}, key="key-2").status_code == 202
    assert_problem(api.action(str(case.pk), "pause", {"reason": "sykdom"}, key="key-2"), 422)
    assert_problem(api.action(str(case.pk), "withdraw", {"reason": "ferie"}, key="key-2"), 422)
    assert case.batches.count() == 1


def test_a_refused_action_does_not_use_up_its_key(api: SandboxApi) -> None:
    case = _case_in_state((PAUSED, NONE, DEBT))
    assert api.action(str(case.pk), "pause", key="key-3").status_code == 409
    Case.objects.filter(pk=case.pk).update(status=OPEN)
    assert api.action(str(case.pk), "pause", key="key-3").status_code == 202


# --- Batch delay ----------------------------------------------------------------------------------


@override_settings(SANDBOX_BATCH_DELAY_MS=150)
def test_with_a_batch_delay_the_action_is_queued_then_applied(api: SandboxApi) -> None:
    case = _case_in_state((OPEN, NONE, DEBT))
    batch_id = api.action(str(case.pk), "pause").json()["data"]["batchId"]
    queued = api.get(f"batches/{batch_id}").json()["data"]
    assert queued["status"] == "QUEUED"
    assert queued["finishedAt"] is None
    assert _state_via_api(api, case)["status"] == OPEN
    time.sleep(0.2)
    assert _state_via_api(api, case)["status"] == PAUSED
    finished = api.get(f"batches/{batch_id}").json()["data"]
    assert finished["status"] == "SUCCESS"
    assert finished["finishedAt"] is not None


@override_settings(SANDBOX_BATCH_DELAY_MS=100)
def test_a_queued_action_the_case_outgrew_fails_its_batch(api: SandboxApi) -> None:
    case = _case_in_state((OPEN, NONE, DEBT))
    first = api.action(str(case.pk), "pause").json()["data"]["batchId"]
    second = api.action(str(case.pk), "pause").json()["data"]["batchId"]
    time.sleep(0.15)
    assert api.get(f"batches/{first}").json()["data"]["status"] == "SUCCESS"
    failed = api.get(f"batches/{second}").json()["data"]
    assert failed["status"] == "FAILED"
    assert failed["failed"][0]["caseId"] == str(case.pk)
    assert "PAUSED" in failed["failed"][0]["error"]


# --- Invoices -------------------------------------------------------------------------------------

INVOICE_ITEM_START = [
    "id",
    "organization",
    "invoiceNumber",
    "collectionCaseNumber",
    "type",
    "status",
    "createdAt",
]


def test_invoice_items_start_with_the_documented_fields(api: SandboxApi) -> None:
    page = api.get("invoices", {"PageSize": 100}).json()
    assert set(page) == {"data", "skipSummary", "cursorSummary"}
    for item in page["data"]:
        assert list(item)[: len(INVOICE_ITEM_START)] == INVOICE_ITEM_START
        assert set(item["organization"]) == {"id", "organizationNumber", "name"}
        assert item["organization"]["id"] == str(ORG_ID)
        assert ISO_UTC_MS.match(item["createdAt"])


def test_one_invoice_has_the_same_shape_as_in_the_list(api: SandboxApi) -> None:
    listed = api.get("invoices", {"PageSize": 1}).json()["data"][0]
    response = api.get(f"invoices/{listed['id']}")
    assert response.status_code == 200
    assert response.json() == {"summary": {"status": "SUCCESS"}, "data": listed}
    assert_problem(api.get(f"invoices/{uuid.uuid4()}"), 404)


def _all_invoices(api: SandboxApi, **params: Any) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    page = api.get("invoices", {"PageSize": 9, **params}).json()
    found += page["data"]
    while token := page["cursorSummary"]["nextPageToken"]:
        page = api.get("invoices", {"PageSize": 9, "PageToken": token, **params}).json()
        found += page["data"]
    return found


def test_invoice_paging_walks_every_invoice_once(
    api: SandboxApi, every_case: list[dict[str, Any]]
) -> None:
    walked = [item["id"] for item in _all_invoices(api)]
    expected = {invoice["invoiceId"] for case in every_case for invoice in case["invoices"]}
    assert len(walked) == len(set(walked)) == len(expected)
    assert set(walked) == expected


def test_invoice_filters_narrow(api: SandboxApi, every_case: list[dict[str, Any]]) -> None:
    everything = _all_invoices(api)
    target = everything[4]
    assert [item["id"] for item in _all_invoices(api, InvoiceNumber=target["invoiceNumber"])] == [
        target["id"]
    ]
    source = _all_invoices(api, UniqueSourceInvoiceId=target["uniqueSourceInvoiceId"])
    assert [item["id"] for item in source] == [target["id"]]
    paid = _all_invoices(api, Status="paid")
    assert paid
    assert all(item["status"] == "PAID" for item in paid)
    assert len(paid) == sum(item["status"] == "PAID" for item in everything)
    customer = target["customerNumber"]
    cases_of_customer = {
        case["caseNumber"]
        for case in every_case
        if any(debtor["customerNumber"] == customer for debtor in case["debtors"])
    }
    by_customer = _all_invoices(api, CustomerNumber=customer)
    assert {item["collectionCaseNumber"] for item in by_customer} == cases_of_customer
    assert_problem(api.get("invoices", {"Status": "NOPE"}), 400)


# --- Efficiency -----------------------------------------------------------------------------------


def test_a_page_of_cases_takes_a_fixed_number_of_queries(
    api: SandboxApi, django_assert_max_num_queries: Any
) -> None:
    with django_assert_max_num_queries(8):
        assert len(api.cases(PageSize=100)["data"]) == CASES


def test_an_organisation_fault_must_be_a_known_kind(db: None) -> None:
    organization = SandboxOrganization.objects.create(name="Feil AS", fault="429")
    organization.full_clean()
    organization.fault = "banana"
    with pytest.raises(ValidationError, match="banana"):
        organization.full_clean()


def test_seeded_organisation_has_cases_waiting_on_each_decision(
    every_case: list[dict[str, Any]],
) -> None:
    waiting = {case["subStatus"] for case in every_case if case["status"] == "OPEN"}
    assert {DCL, ER, EC} <= waiting
    assert {case["subStatus"] for case in every_case} == set(CaseSubStatus.values)


def test_a_bare_date_follows_oslo_summer_time(api: SandboxApi) -> None:
    case = Case.objects.filter(organization_id=ORG_ID).order_by("case_number")[3]
    just_after_midnight = datetime(2025, 5, 20, 0, 10, tzinfo=OSLO)  # 22:10 UTC on the 19th
    Case.objects.filter(pk=case.pk).update(registered_at=just_after_midnight)
    assert str(case.pk) in ids(api.all_cases(FromCreatedAt="2025-05-20", ToCreatedAt="2025-05-20"))
    assert str(case.pk) not in ids(api.all_cases(ToCreatedAt="2025-05-19"))
