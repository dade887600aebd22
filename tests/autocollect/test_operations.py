"""The client's operations: parameters, errors, walks, actions, and the organisation boundary."""

import json
from datetime import UTC, date, datetime

import httpx
import pytest
import respx
from pytest_django import Settings

from cases import autocollect
from cases.autocollect import (
    AccessDenied,
    CaseAction,
    CaseFilters,
    InvalidPageToken,
    NotFound,
    Rejected,
    TooManyPages,
    UpstreamTimeout,
    UpstreamUnavailable,
)
from tests.support.autocollect import (
    ACTION_PATH,
    BATCH_ID,
    CASE_ID,
    CASES_PATH,
    ORG,
    OTHER_ORG,
    answer,
    case_json,
    list_one_page,
    numbered_pages,
    page_json,
    raw,
)

# --- Parameters ----------------------------------------------------------------------------


def test_every_filter_is_sent_as_its_parameter(fake_upstream: respx.MockRouter) -> None:
    cases = fake_upstream.get(CASES_PATH).mock(side_effect=answer(200, page_json()))

    autocollect.list_cases(
        organization_id=ORG,
        filters=CaseFilters(
            status="PAUSED",
            type="DEBT_COLLECTION",
            case_number=100234,
            customer_number="CUST-42",
            unique_source_invoice_id="SRC-77",
            search_term="Nordmann",
            created_from=date(2026, 1, 1),
            created_to=date(2026, 3, 31),
        ),
        page_token="tok-2",
        page_size=50,
    )

    assert dict(cases.calls.last.request.url.params) == {
        "Status": "PAUSED",
        "Type": "DEBT_COLLECTION",
        "CaseNumber": "100234",
        "CustomerNumber": "CUST-42",
        "UniqueSourceInvoiceId": "SRC-77",
        "SearchTerm": "Nordmann",
        "FromCreatedAt": "2026-01-01",
        "ToCreatedAt": "2026-03-31",
        "PageToken": "tok-2",
        "PageSize": "50",
    }


def test_empty_filters_are_not_sent(fake_upstream: respx.MockRouter) -> None:
    cases = fake_upstream.get(CASES_PATH).mock(side_effect=answer(200, page_json()))

    autocollect.list_cases(organization_id=ORG, filters=CaseFilters(), page_token="")

    assert dict(cases.calls.last.request.url.params) == {"PageSize": "25"}


def test_a_page_size_outside_the_upstreams_range_is_refused_before_sending() -> None:
    with pytest.raises(ValueError, match="page_size"):
        autocollect.list_cases(organization_id=ORG, page_size=101)


def test_an_organisation_that_is_no_uuid_is_refused_before_sending() -> None:
    with pytest.raises(ValueError, match="UUID"):
        autocollect.list_cases(organization_id="../other")


# --- get_case ------------------------------------------------------------------------------


def test_get_case_asks_for_one_case_by_number(fake_upstream: respx.MockRouter) -> None:
    cases = fake_upstream.get(CASES_PATH).mock(side_effect=answer(200, page_json()))

    case = autocollect.get_case(organization_id=ORG, case_number=100234)

    assert case.case_id == CASE_ID
    assert dict(cases.calls.last.request.url.params) == {"CaseNumber": "100234", "PageSize": "1"}


def test_get_case_of_an_unknown_number_is_not_found(fake_upstream: respx.MockRouter) -> None:
    fake_upstream.get(CASES_PATH).mock(side_effect=answer(200, page_json([])))

    with pytest.raises(NotFound):
        autocollect.get_case(organization_id=ORG, case_number=5)


def test_get_case_never_returns_another_number(fake_upstream: respx.MockRouter) -> None:
    fake_upstream.get(CASES_PATH).mock(
        side_effect=answer(200, page_json([case_json(caseNumber=9)]))
    )

    with pytest.raises(NotFound):
        autocollect.get_case(organization_id=ORG, case_number=5)


@pytest.mark.parametrize("number", [0, -1, 2**62 + 1, 2**63, 9223372036854775808, 10**30])
def test_get_case_of_a_number_the_upstream_cannot_hold_is_not_found_unasked(
    fake_upstream: respx.MockRouter, number: int
) -> None:
    cases = fake_upstream.get(CASES_PATH).mock(side_effect=answer(200, page_json()))

    with pytest.raises(NotFound):
        autocollect.get_case(organization_id=ORG, case_number=number)

    assert cases.call_count == 0


# --- The organisation boundary -------------------------------------------------------------


@pytest.mark.parametrize(
    "organization_id",
    [OTHER_ORG, "", None, "   ", "not-a-uuid", ORG + "x"],
    ids=["another", "empty", "null", "blank", "garbage", "suffixed"],
)
def test_a_case_that_does_not_name_the_organisation_is_not_listed(
    fake_upstream: respx.MockRouter, client_log: pytest.LogCaptureFixture, organization_id: object
) -> None:
    foreign = case_json(caseId="foreign", caseNumber=7, organizationId=organization_id)
    fake_upstream.get(CASES_PATH).mock(side_effect=answer(200, page_json([case_json(), foreign])))

    page = list_one_page()

    assert [case.case_id for case in page.cases] == [CASE_ID]
    # One record (the capture may see it twice, at the logger and at the root).
    dropped = list({id(r): r for r in client_log.records if "dropped" in r.getMessage()}.values())
    assert len(dropped) == 1
    assert "foreign" not in dropped[0].getMessage()
    assert ORG not in dropped[0].getMessage()


@pytest.mark.parametrize(
    "spelling", [ORG.upper(), f"  {ORG} ", "{" + ORG + "}", ORG.replace("-", "")]
)
def test_the_organisation_is_recognised_however_the_uuid_is_spelled(
    fake_upstream: respx.MockRouter, spelling: str
) -> None:
    fake_upstream.get(CASES_PATH).mock(
        side_effect=answer(200, page_json([case_json(organizationId=spelling)]))
    )

    assert [case.organization_id for case in list_one_page().cases] == [ORG]


def test_get_case_of_another_organisation_is_not_found(fake_upstream: respx.MockRouter) -> None:
    fake_upstream.get(CASES_PATH).mock(
        side_effect=answer(200, page_json([case_json(organizationId=OTHER_ORG)]))
    )

    with pytest.raises(NotFound):
        autocollect.get_case(organization_id=ORG, case_number=100234)


def test_get_case_without_an_organisation_is_not_found(fake_upstream: respx.MockRouter) -> None:
    case = case_json()
    del case["organizationId"]
    fake_upstream.get(CASES_PATH).mock(side_effect=answer(200, page_json([case])))

    with pytest.raises(NotFound):
        autocollect.get_case(organization_id=ORG, case_number=100234)


def test_a_walk_drops_other_organisations_cases_and_goes_on(
    fake_upstream: respx.MockRouter,
) -> None:
    pages = {
        None: page_json([case_json(caseId="a", caseNumber=1)], next_token="p1"),
        "p1": page_json([case_json(caseId="b", caseNumber=2, organizationId=OTHER_ORG)], "p2"),
        "p2": page_json([case_json(caseId="c", caseNumber=3)]),
    }
    fake_upstream.get(CASES_PATH).mock(
        side_effect=lambda request: httpx.Response(
            200, json=pages[request.url.params.get("PageToken")]
        )
    )

    walked = autocollect.iter_cases(organization_id=ORG, filters=CaseFilters())

    assert [case.case_id for case in walked] == ["a", "c"]


# --- Walks ---------------------------------------------------------------------------------


def test_iter_cases_fetches_pages_only_as_they_are_consumed(
    fake_upstream: respx.MockRouter,
) -> None:
    cases = fake_upstream.get(CASES_PATH).mock(side_effect=numbered_pages(pages=3, per_page=2))

    walk = autocollect.iter_cases(organization_id=ORG, filters=CaseFilters(status="OPEN"))
    assert cases.call_count == 0
    assert next(walk).case_number == 1
    assert next(walk).case_number == 2
    assert cases.call_count == 1
    assert [c.case_number for c in walk] == [3, 4, 5, 6]
    assert cases.call_count == 3
    assert all(c.request.url.params["Status"] == "OPEN" for c in cases.calls)


def test_iter_cases_refuses_a_page_token_loop(fake_upstream: respx.MockRouter) -> None:
    fake_upstream.get(CASES_PATH).mock(side_effect=answer(200, page_json(next_token="same")))

    with pytest.raises(UpstreamUnavailable, match="malformed"):
        list(autocollect.iter_cases(organization_id=ORG, filters=CaseFilters()))


def test_an_upstream_with_ever_new_page_tokens_ends_at_the_page_limit(
    fake_upstream: respx.MockRouter, settings: Settings
) -> None:
    settings.AUTOCOLLECT_MAX_PAGES = 7
    cases = fake_upstream.get(CASES_PATH).mock(side_effect=numbered_pages(pages=10**9, per_page=2))

    walked: list[int] = []
    with pytest.raises(TooManyPages) as raised:
        walked.extend(
            c.case_number
            for c in autocollect.iter_cases(organization_id=ORG, filters=CaseFilters())
        )

    assert raised.value.limit == 7
    assert cases.call_count == 7
    assert walked == list(range(1, 15))


def test_a_walk_of_exactly_the_page_limit_ends_cleanly(
    fake_upstream: respx.MockRouter, settings: Settings
) -> None:
    settings.AUTOCOLLECT_MAX_PAGES = 3
    fake_upstream.get(CASES_PATH).mock(side_effect=numbered_pages(pages=3, per_page=2))

    walked = autocollect.iter_cases(organization_id=ORG, filters=CaseFilters())

    assert [c.case_number for c in walked] == [1, 2, 3, 4, 5, 6]


def test_each_page_of_a_walk_has_its_own_deadline(
    fake_upstream: respx.MockRouter, settings: Settings
) -> None:
    from tests.support.autocollect import installed_clock

    settings.AUTOCOLLECT_TIMEOUT = 10.0
    clocks = installed_clock()
    clock = next(clocks)
    respond = numbered_pages(pages=4, per_page=1)

    def six_seconds_a_page(request: httpx.Request) -> httpx.Response:
        clock.advance(6)
        return respond(request)

    fake_upstream.get(CASES_PATH).mock(side_effect=six_seconds_a_page)
    try:
        walked = list(autocollect.iter_cases(organization_id=ORG, filters=CaseFilters()))
    finally:
        clocks.close()

    assert [c.case_number for c in walked] == [1, 2, 3, 4]  # 24 s in all, 6 s each


# --- The debtor read -----------------------------------------------------------------------


def debtor_json(customer_number: str, name: str = "Kari Nordmann") -> dict[str, object]:
    first, last = name.split()
    return {
        "debtorId": f"debtor-{customer_number}-{first}",
        "type": "private",
        "customerNumber": customer_number,
        "firstName": first,
        "lastName": last,
        "fullName": name,
    }


def test_get_debtor_cases_keeps_the_cases_where_the_customer_is_a_debtor(
    fake_upstream: respx.MockRouter,
) -> None:
    fake_upstream.get(CASES_PATH).mock(
        side_effect=answer(
            200,
            page_json(
                [
                    case_json(caseId="new", caseNumber=3, debtors=[debtor_json("C-1", "Ny Navn")]),
                    case_json(caseId="prefix", caseNumber=2, debtors=[debtor_json("C-10")]),
                    case_json(caseId="old", caseNumber=1, debtors=[debtor_json("C-1")]),
                ]
            ),
        )
    )

    found = autocollect.get_debtor_cases(organization_id=ORG, customer_number="C-1")

    assert [case.case_id for case in found.cases] == ["new", "old"]
    assert found.debtor.display_name == "Ny Navn"  # the newest case's details
    assert found.debtor.type == "PRIVATE"
    assert found.customer_number == "C-1"
    assert found.truncated is False


def test_get_debtor_cases_of_a_customer_on_no_case_is_not_found(
    fake_upstream: respx.MockRouter,
) -> None:
    fake_upstream.get(CASES_PATH).mock(
        side_effect=answer(200, page_json([case_json(debtors=[debtor_json("C-10")])]))
    )

    with pytest.raises(NotFound):
        autocollect.get_debtor_cases(organization_id=ORG, customer_number="C-1")


def test_get_debtor_cases_ignores_another_organisations_case(
    fake_upstream: respx.MockRouter,
) -> None:
    fake_upstream.get(CASES_PATH).mock(
        side_effect=answer(
            200,
            page_json(
                [
                    case_json(
                        caseId="theirs",
                        organizationId=OTHER_ORG,
                        debtors=[debtor_json("C-1", "Their Name")],
                    ),
                    case_json(caseId="ours", debtors=[debtor_json("C-1")]),
                ]
            ),
        )
    )

    found = autocollect.get_debtor_cases(organization_id=ORG, customer_number="C-1")

    assert [case.case_id for case in found.cases] == ["ours"]
    assert found.debtor.display_name == "Kari Nordmann"


def test_a_customer_number_with_a_newline_is_data(fake_upstream: respx.MockRouter) -> None:
    odd = "C-1\nC-2"
    cases = fake_upstream.get(CASES_PATH).mock(
        side_effect=answer(200, page_json([case_json(debtors=[debtor_json(odd)])]))
    )

    found = autocollect.get_debtor_cases(organization_id=ORG, customer_number=odd)

    assert found.debtor.customer_number == odd
    assert cases.calls.last.request.url.params["CustomerNumber"] == odd


def test_the_debtor_read_walks_pages_of_a_hundred(fake_upstream: respx.MockRouter) -> None:
    cases = fake_upstream.get(CASES_PATH).mock(side_effect=numbered_pages(pages=3, per_page=4))

    found = autocollect.get_debtor_cases(organization_id=ORG, customer_number="CUST-42")

    assert [c.case_number for c in found.cases] == list(range(1, 13))
    assert cases.call_count == 3
    params = [dict(c.request.url.params) for c in cases.calls]
    assert params[0] == {"CustomerNumber": "CUST-42", "PageSize": "100"}
    assert params[2] == {"CustomerNumber": "CUST-42", "PageToken": "p2", "PageSize": "100"}


def test_the_debtor_read_stops_at_the_limit_and_says_so(fake_upstream: respx.MockRouter) -> None:
    cases = fake_upstream.get(CASES_PATH).mock(side_effect=numbered_pages(pages=5, per_page=4))

    found = autocollect.get_debtor_cases(organization_id=ORG, customer_number="CUST-42", limit=8)

    assert [c.case_number for c in found.cases] == list(range(1, 9))
    assert found.truncated is True
    assert cases.call_count == 2  # the third page is never asked for


# --- Errors --------------------------------------------------------------------------------


def problem(status: int, errors: dict[str, list[str]]) -> httpx.Response:
    body = {
        "type": "https://tools.ietf.org/html/rfc9110#section-15.5.1",
        "title": "One or more validation errors occurred.",
        "status": status,
        "detail": "See errors.",
        "traceId": "00-trace-01",
        "errors": errors,
    }
    return raw(status, json.dumps(body).encode(), "application/problem+json")


@pytest.mark.parametrize("field", ["PageToken", "pageToken", "PAGETOKEN", "$.pageToken"])
def test_a_refused_page_token_is_recognised(fake_upstream: respx.MockRouter, field: str) -> None:
    fake_upstream.get(CASES_PATH).mock(
        return_value=problem(400, {field: ["The page token does not match the filters."]})
    )

    with pytest.raises(InvalidPageToken) as raised:
        autocollect.list_cases(organization_id=ORG, page_token="forged")

    assert raised.value.problem.errors == {field: ("The page token does not match the filters.",)}


def test_a_400_naming_page_token_when_none_was_sent_is_a_plain_rejection(
    fake_upstream: respx.MockRouter,
) -> None:
    """Else the list would restart at its first page, be refused again, and restart for ever."""
    fake_upstream.get(CASES_PATH).mock(return_value=problem(400, {"PageToken": ["Required."]}))

    with pytest.raises(Rejected) as raised:
        list_one_page()

    assert not isinstance(raised.value, InvalidPageToken)


def test_another_400_is_rejected_with_its_errors(fake_upstream: respx.MockRouter) -> None:
    fake_upstream.get(CASES_PATH).mock(
        return_value=problem(400, {"Status": ["Unknown status NOPE."]})
    )

    with pytest.raises(Rejected) as raised:
        autocollect.list_cases(organization_id=ORG, filters=CaseFilters(status="NOPE"))

    assert not isinstance(raised.value, InvalidPageToken)
    assert raised.value.problem.status == 400
    assert raised.value.problem.title == "One or more validation errors occurred."
    assert raised.value.problem.errors["Status"] == ("Unknown status NOPE.",)


def test_a_problem_without_a_json_body_still_has_a_status(fake_upstream: respx.MockRouter) -> None:
    fake_upstream.get(CASES_PATH).mock(return_value=raw(423, b"Locked", "text/plain"))

    with pytest.raises(Rejected) as raised:
        list_one_page()

    assert raised.value.problem.status == 423
    assert raised.value.problem.title == "Locked"
    assert raised.value.problem.errors == {}


def test_a_403_is_access_denied(fake_upstream: respx.MockRouter) -> None:
    fake_upstream.get(CASES_PATH).mock(side_effect=answer(403, {"title": "Forbidden"}))

    with pytest.raises(AccessDenied):
        list_one_page()


def test_a_404_is_not_found(fake_upstream: respx.MockRouter) -> None:
    fake_upstream.get(f"/collection/v1/orgs/{ORG}/batches/{BATCH_ID}").mock(side_effect=answer(404))

    with pytest.raises(NotFound):
        autocollect.get_batch(organization_id=ORG, batch_id=BATCH_ID)


# --- Actions (POST) ------------------------------------------------------------------------

RECEIPT = {
    "summary": {"status": "SUCCESS"},
    "data": {"batchId": BATCH_ID, "batchUrl": f"/orgs/{ORG}/batches/{BATCH_ID}"},
}


def pause(reason: str = "") -> autocollect.ActionReceipt:
    return autocollect.perform_case_action(
        organization_id=ORG,
        case_id=CASE_ID,
        action=CaseAction.PAUSE,
        idempotency_key="key-123",
        reason=reason,
    )


def test_an_action_posts_its_reason_with_an_idempotency_key(
    fake_upstream: respx.MockRouter,
) -> None:
    action = fake_upstream.post(ACTION_PATH).mock(side_effect=answer(202, RECEIPT))

    receipt = pause(reason="Betalingsavtale")

    assert receipt == autocollect.ActionReceipt(
        batch_id=BATCH_ID, batch_url=f"/orgs/{ORG}/batches/{BATCH_ID}"
    )
    request = action.calls.last.request
    assert request.headers["Idempotency-Key"] == "key-123"
    assert request.headers["Authorization"] == "Bearer token-1"
    assert json.loads(request.content) == {"reason": "Betalingsavtale"}


@pytest.mark.parametrize(
    ("action", "path"),
    [
        (CaseAction.ACCEPT_DEBT_COLLECTION_LIST, "debt-collection-list/accept"),
        (CaseAction.REJECT_EVICTION_CONFIRMATION, "eviction-confirmation/reject"),
        (CaseAction.WITHDRAW, "withdraw"),
    ],
)
def test_each_action_has_its_own_path(
    fake_upstream: respx.MockRouter, action: CaseAction, path: str
) -> None:
    route = fake_upstream.post(f"{CASES_PATH}/{CASE_ID}/{path}").mock(
        side_effect=answer(202, RECEIPT)
    )

    autocollect.perform_case_action(
        organization_id=ORG, case_id=CASE_ID, action=action, idempotency_key="k"
    )

    assert route.call_count == 1


def test_a_case_id_stays_one_path_segment(fake_upstream: respx.MockRouter) -> None:
    route = fake_upstream.post(url__regex=r".*/cases/[^/]+/pause$").mock(
        side_effect=answer(202, RECEIPT)
    )

    autocollect.perform_case_action(
        organization_id=ORG, case_id="../../x", action=CaseAction.PAUSE, idempotency_key="k"
    )

    assert route.calls.last.request.url.raw_path.endswith(b"/cases/..%2F..%2Fx/pause")


def test_a_post_is_not_repeated_after_it_was_sent(fake_upstream: respx.MockRouter) -> None:
    action = fake_upstream.post(ACTION_PATH).mock(
        side_effect=answer(503, headers={"Retry-After": "1"})
    )

    with pytest.raises(UpstreamUnavailable):
        pause()

    assert action.call_count == 1


def test_a_post_that_timed_out_reading_is_not_repeated(fake_upstream: respx.MockRouter) -> None:
    action = fake_upstream.post(ACTION_PATH).mock(side_effect=httpx.ReadTimeout("slow"))

    with pytest.raises(UpstreamTimeout):
        pause()

    assert action.call_count == 1


def test_a_post_that_never_connected_is_repeated_with_the_same_key(
    fake_upstream: respx.MockRouter,
) -> None:
    action = fake_upstream.post(ACTION_PATH).mock(
        side_effect=[httpx.ConnectError("refused"), httpx.Response(202, json=RECEIPT)]
    )

    assert pause().batch_id == BATCH_ID
    assert [c.request.headers["Idempotency-Key"] for c in action.calls] == ["key-123"] * 2


def test_a_refused_transition_is_rejected_with_the_upstreams_reason(
    fake_upstream: respx.MockRouter,
) -> None:
    fake_upstream.post(ACTION_PATH).mock(
        return_value=raw(
            409,
            json.dumps(
                {
                    "type": "about:blank",
                    "title": "Conflict",
                    "status": 409,
                    "detail": "Only an OPEN case can be paused; this one is CLOSED.",
                    "traceId": "00-abc-01",
                }
            ).encode(),
            "application/problem+json",
        )
    )

    with pytest.raises(Rejected) as raised:
        pause()

    assert raised.value.problem.status == 409
    assert raised.value.problem.detail == "Only an OPEN case can be paused; this one is CLOSED."
    assert raised.value.problem.trace_id == "00-abc-01"
    assert not isinstance(raised.value, InvalidPageToken)


def test_a_malformed_action_receipt_is_unavailable(fake_upstream: respx.MockRouter) -> None:
    fake_upstream.post(ACTION_PATH).mock(side_effect=answer(202, {"summary": {}, "data": None}))

    with pytest.raises(UpstreamUnavailable, match="malformed"):
        pause()


def test_get_batch_parses_its_outcome(fake_upstream: respx.MockRouter) -> None:
    fake_upstream.get(f"/collection/v1/orgs/{ORG}/batches/{BATCH_ID}").mock(
        side_effect=answer(
            200,
            {
                "summary": {"status": "SUCCESS"},
                "data": {
                    "batchId": BATCH_ID,
                    "type": "CASE_ACTION",
                    "status": "success",
                    "createdAt": "2026-03-01T08:15:22Z",
                    "finishedAt": "2026-03-01T08:15:23.5Z",
                    "organizationId": ORG,
                    "createdBy": "dashboard",
                    "succeeded": [CASE_ID],
                    "failed": [{"caseId": "other-case", "caseNumber": 7, "error": "Closed."}],
                },
            },
        )
    )

    batch = autocollect.get_batch(organization_id=ORG, batch_id=BATCH_ID)

    assert batch.status == "SUCCESS"
    assert batch.succeeded == (CASE_ID,)
    assert batch.failed == ("other-case",)  # entries may be bare ids or objects naming one
    assert batch.finished_at == datetime(2026, 3, 1, 8, 15, 23, 500000, tzinfo=UTC)
