"""The client against the sandbox over real HTTP: a live server, real sockets, real timeouts.

This is the production code path of `make run`: token endpoint, listing, paging, actions and
batches, and the sandbox's faults reaching the client as its own exceptions.
"""

import uuid
from collections.abc import Iterator
from datetime import timedelta
from decimal import Decimal

import pytest
from django.test import override_settings
from django.utils import timezone
from pytest_django.live_server_helper import LiveServer

from cases import autocollect
from cases.autocollect import CaseAction, CaseFilters
from sandbox.models import Case as SandboxCase
from sandbox.models import Fault, SandboxOrganization
from sandbox.seeding import seed_organization

ORG = uuid.UUID("0e2e0e2e-5c7e-4b55-9d0a-00000000e2e1")
CASES = 60


@pytest.fixture
def over_http(live_server: LiveServer) -> Iterator[None]:
    """The client's settings name the live server."""
    autocollect.use_transport(None)
    with override_settings(
        AUTOCOLLECT_API_URL=f"{live_server.url}/sandbox/collection/v1",
        AUTOCOLLECT_TOKEN_URL=f"{live_server.url}/sandbox/token",
        AUTOCOLLECT_CLIENT_ID="sandbox",
        AUTOCOLLECT_CLIENT_SECRET="sandbox",
        SANDBOX_CLIENT_ID="sandbox",
        SANDBOX_CLIENT_SECRET="sandbox",
        SANDBOX_FAULT="",
        SANDBOX_BATCH_DELAY_MS=0,
    ):
        yield
    autocollect.reset_http_client()


@pytest.fixture
def org(transactional_db: None, over_http: None) -> uuid.UUID:
    seed_organization(ORG, "Ende til Ende AS", CASES, seed=7)
    return ORG


def test_paging_walks_every_case_once_newest_first(org: uuid.UUID) -> None:
    walked = list(autocollect.iter_cases(organization_id=org, filters=CaseFilters(), page_size=25))

    numbers = [case.case_number for case in walked]
    assert len(numbers) == CASES
    assert set(numbers) == set(
        SandboxCase.objects.filter(organization_id=org).values_list("case_number", flat=True)
    )
    moments = [case.registered_at for case in walked if case.registered_at is not None]
    assert len(moments) == CASES
    assert moments == sorted(moments, reverse=True)


def test_a_page_carries_both_summaries_and_parsed_cases(org: uuid.UUID) -> None:
    page = autocollect.list_cases(organization_id=org, page_size=25)

    assert len(page.cases) == 25
    assert page.skip.total_count == CASES
    assert page.skip.current_page == 1
    assert page.skip.has_next_page is True
    assert page.cursor.next_page_token
    case = page.cases[0]
    assert case.organization_id == str(org)
    assert case.registered_at is not None
    assert case.registered_at.utcoffset() == timedelta(0)
    assert case.invoices
    assert case.invoices[0].currency == "NOK"  # read from the sandbox's currency object
    assert case.debtors[0].display_name
    assert isinstance(case.remaining_amount, Decimal)
    assert sum((c.remaining_amount for c in case.claims), Decimal(0)) == case.remaining_amount


def test_status_and_type_filters_narrow_the_list(org: uuid.UUID) -> None:
    paused = list(autocollect.iter_cases(organization_id=org, filters=CaseFilters(status="PAUSED")))
    legal = list(
        autocollect.iter_cases(organization_id=org, filters=CaseFilters(type="LEGAL_COLLECTION"))
    )

    assert paused
    assert {case.status for case in paused} == {"PAUSED"}
    assert len(paused) == SandboxCase.objects.filter(organization_id=org, status="PAUSED").count()
    assert legal
    assert {case.type for case in legal} == {"LEGAL_COLLECTION"}


def test_search_and_dates_narrow_the_list(org: uuid.UUID) -> None:
    some_case = autocollect.list_cases(organization_id=org, page_size=10).cases[4]
    surname = some_case.debtors[0].display_name.split()[-1]

    found = list(
        autocollect.iter_cases(organization_id=org, filters=CaseFilters(search_term=surname))
    )

    assert some_case.case_id in {case.case_id for case in found}
    assert len(found) < CASES
    assert some_case.registered_at is not None
    day = timezone.localtime(some_case.registered_at).date()
    that_day = list(
        autocollect.iter_cases(
            organization_id=org, filters=CaseFilters(created_from=day, created_to=day)
        )
    )
    assert some_case.case_id in {case.case_id for case in that_day}
    assert all(
        case.registered_at is not None and timezone.localtime(case.registered_at).date() == day
        for case in that_day
    )


def test_get_case_finds_one_by_number_and_not_an_unknown_one(org: uuid.UUID) -> None:
    listed = autocollect.list_cases(organization_id=org, page_size=5).cases[3]

    assert autocollect.get_case(organization_id=org, case_number=listed.case_number) == listed
    with pytest.raises(autocollect.NotFound):
        autocollect.get_case(organization_id=org, case_number=1)


def test_a_debtors_cases_are_found_by_customer_number(org: uuid.UUID) -> None:
    case = autocollect.list_cases(organization_id=org, page_size=1).cases[0]
    customer_number = case.debtors[0].customer_number

    cases = autocollect.get_debtor_cases(organization_id=org, customer_number=customer_number).cases

    assert case.case_id in {c.case_id for c in cases}
    assert all(customer_number in {d.customer_number for d in c.debtors} for c in cases)


def test_a_page_token_from_other_filters_is_an_invalid_page_token(org: uuid.UUID) -> None:
    token = autocollect.list_cases(organization_id=org, page_size=10).cursor.next_page_token

    with pytest.raises(autocollect.InvalidPageToken):
        autocollect.list_cases(
            organization_id=org,
            filters=CaseFilters(status="OPEN"),
            page_token=token,
            page_size=10,
        )


def test_an_unknown_filter_value_is_rejected_with_the_upstreams_problem(org: uuid.UUID) -> None:
    with pytest.raises(autocollect.Rejected) as raised:
        autocollect.list_cases(organization_id=org, filters=CaseFilters(status="NOPE"))

    assert raised.value.problem.status == 400
    assert raised.value.problem.errors


def test_an_organisation_the_credential_may_not_read_is_access_denied(org: uuid.UUID) -> None:
    with pytest.raises(autocollect.AccessDenied):
        autocollect.list_cases(organization_id=uuid.uuid4())


def test_pausing_a_case_goes_through_a_batch_and_replays_by_key(org: uuid.UUID) -> None:
    case = next(autocollect.iter_cases(organization_id=org, filters=CaseFilters(status="OPEN")))

    receipt = autocollect.perform_case_action(
        organization_id=org,
        case_id=case.case_id,
        action=CaseAction.PAUSE,
        idempotency_key="e2e-pause-1",
        reason="Betalingsavtale",
    )
    again = autocollect.perform_case_action(
        organization_id=org,
        case_id=case.case_id,
        action=CaseAction.PAUSE,
        idempotency_key="e2e-pause-1",
        reason="Betalingsavtale",
    )

    assert again == receipt
    batch = autocollect.get_batch(organization_id=org, batch_id=receipt.batch_id)
    assert batch.status == "SUCCESS"
    assert batch.succeeded == (case.case_id,)
    assert batch.finished_at is not None
    assert autocollect.get_case(organization_id=org, case_number=case.case_number).status == (
        "PAUSED"
    )
    with pytest.raises(autocollect.Rejected) as raised:
        autocollect.perform_case_action(
            organization_id=org,
            case_id=case.case_id,
            action=CaseAction.PAUSE,
            idempotency_key="e2e-pause-2",
        )
    assert raised.value.problem.status == 409


def test_an_unknown_batch_is_not_found(org: uuid.UUID) -> None:
    with pytest.raises(autocollect.NotFound):
        autocollect.get_batch(organization_id=org, batch_id=str(uuid.uuid4()))


@pytest.mark.parametrize(
    ("fault", "error"),
    [
        ("503", autocollect.UpstreamUnavailable),
        ("500", autocollect.UpstreamUnavailable),
        ("429", autocollect.RateLimited),
        ("malformed", autocollect.UpstreamUnavailable),
        ("expired-token", autocollect.UpstreamUnavailable),
    ],
)
def test_a_persistent_fault_reaches_the_client_as_its_error(
    org: uuid.UUID, fault: str, error: type[autocollect.AutoCollectError]
) -> None:
    with override_settings(SANDBOX_FAULT=fault), pytest.raises(error):
        autocollect.list_cases(organization_id=org)


def test_an_organisations_own_fault_affects_only_that_organisation(org: uuid.UUID) -> None:
    other = uuid.UUID("0e2e0e2e-5c7e-4b55-9d0a-00000000e2e2")
    seed_organization(other, "Feil og Mangel AS", 3, seed=8)
    SandboxOrganization.objects.filter(id=other).update(fault=Fault.UNAVAILABLE)

    with pytest.raises(autocollect.UpstreamUnavailable) as raised:
        autocollect.list_cases(organization_id=other)

    assert raised.value.retry_after == 1  # passed on, so the dashboard can say when to retry
    assert autocollect.list_cases(organization_id=org).skip.total_count == CASES


def test_a_sandbox_that_answers_too_late_is_a_timeout(
    org: uuid.UUID,
) -> None:
    autocollect.list_cases(organization_id=org)  # the token first, within the normal timeout

    slow_sandbox = override_settings(AUTOCOLLECT_TIMEOUT=0.2, SANDBOX_FAULT="timeout")
    with slow_sandbox, pytest.raises(autocollect.UpstreamTimeout):
        autocollect.list_cases(organization_id=org, fresh=True)  # the first answer is cached
