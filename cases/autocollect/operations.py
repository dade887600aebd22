"""The operations the product calls: one function per upstream operation, keyword-only.

Every read returns only the organisation's own cases: a case whose organizationId is not the one
asked for (empty or missing included) is dropped from lists and walks, and is NotFound for
get_case, in one place (_own_cases) with one log line.

The page reads (list_cases, get_case, get_debtor_cases) are cached briefly per organisation and
query, and concurrent identical ones share one upstream call (read_cache); fresh=True asks the
upstream whatever the cache holds. Each says when its data was fetched (fetched_at). The export's
walk (iter_cases) always asks the upstream. Every call to the upstream first takes one of its
organisation's in-flight slots, or is refused at once with OrganizationBusy (fairness).
"""

from __future__ import annotations

import dataclasses
import logging
import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime
from typing import Final
from urllib.parse import quote

from django.conf import settings

from cases.autocollect import read_cache
from cases.autocollect.auth import BearerAuth
from cases.autocollect.clock import clock
from cases.autocollect.contract import (
    ACTION_REASON_FIELD,
    BATCH_PATH,
    CASE_ACTION_PATH,
    CASES_PATH,
    DEFAULT_PAGE_SIZE,
    FILTER_PARAMETERS,
    IDEMPOTENCY_HEADER,
    MAX_CASE_NUMBER,
    MAX_PAGE_SIZE,
    MIN_CASE_NUMBER,
    PAGE_SIZE_PARAMETER,
    PAGE_TOKEN_PARAMETER,
    CaseAction,
)
from cases.autocollect.errors import NotFound, TooManyPages, UpstreamUnavailable
from cases.autocollect.fairness import organization_slot
from cases.autocollect.parsing import (
    envelope_data,
    json_body,
    parse_batch,
    parse_case_page,
    required_text,
    text,
)
from cases.autocollect.transport import Call, Deadline, raise_for_status, send
from cases.autocollect.types import (
    ActionReceipt,
    Batch,
    Case,
    CaseFilters,
    CasePage,
    DebtorCases,
)

logger = logging.getLogger("cases.autocollect")

DEBTOR_CASE_LIMIT: Final = 500
NO_FILTERS: Final = CaseFilters()  # frozen, so one shared default is safe


def list_cases(
    *,
    organization_id: str | uuid.UUID,
    filters: CaseFilters = NO_FILTERS,
    page_token: str | None = None,
    page_size: int = DEFAULT_PAGE_SIZE,
    fresh: bool = False,
) -> CasePage:
    """One page of an organisation's own cases, narrowed by filters (GetCasesByOrganization)."""
    org = _organization(organization_id)
    _check_page_size(page_size)
    # repr of the frozen filters names every field and value: a normalised query.
    query = f"list_cases\n{filters!r}\n{page_token!r}\n{page_size}"

    def fetch() -> CasePage:
        fetched_at = _now()
        page = _case_page(org, filters, page_token, page_size)
        return CasePage(
            cases=_own_cases(page.cases, org),
            skip=page.skip,
            cursor=page.cursor,
            fetched_at=fetched_at,
        )

    return read_cache.cached_read(org, query, fetch, fresh=fresh)


def get_case(*, organization_id: str | uuid.UUID, case_number: int, fresh: bool = False) -> Case:
    """The organisation's case with this case number, or NotFound."""
    if not MIN_CASE_NUMBER <= case_number <= MAX_CASE_NUMBER:
        raise NotFound("No case has that number")  # the upstream could not look it up
    page = list_cases(
        organization_id=organization_id,
        filters=CaseFilters(case_number=case_number),
        page_size=1,
        fresh=fresh,
    )
    # Checked, not assumed: an upstream that ignored the filter must not show the wrong case.
    for case in page.cases:
        if case.case_number == case_number:
            return dataclasses.replace(case, fetched_at=page.fetched_at)
    raise NotFound(f"No case number {case_number} in this organisation")


def iter_cases(
    *, organization_id: str | uuid.UUID, filters: CaseFilters, page_size: int = MAX_PAGE_SIZE
) -> Iterator[Case]:
    """Every own case matching the filters, a page (one call, one deadline) at a time.

    Never cached: the export wants what the upstream holds now, and nobody reads its pages again.
    Stops with TooManyPages after AUTOCOLLECT_MAX_PAGES pages, and with UpstreamUnavailable
    when the upstream hands back a page token it gave before: neither walk would ever end.
    """
    org = _organization(organization_id)
    page_limit = int(settings.AUTOCOLLECT_MAX_PAGES)
    page_token: str | None = None
    seen_tokens: set[str] = set()
    for _ in range(page_limit):
        page = _case_page(org, filters, page_token, page_size)
        yield from _own_cases(page.cases, org)
        page_token = page.cursor.next_page_token
        if not page_token or not page.cases:
            return
        if page_token in seen_tokens:
            raise UpstreamUnavailable("AutoCollect sent a malformed answer (page tokens loop)")
        seen_tokens.add(page_token)
    raise TooManyPages(page_limit)


def get_debtor_cases(
    *,
    organization_id: str | uuid.UUID,
    customer_number: str,
    limit: int = DEBTOR_CASE_LIMIT,
    fresh: bool = False,
) -> DebtorCases:
    """The cases where this customer is a debtor, newest first (at most limit), or NotFound."""
    if not customer_number:
        raise ValueError("customer_number is required")
    if limit < 1:
        raise ValueError("limit must be at least 1")
    org = _organization(organization_id)
    query = f"get_debtor_cases\n{customer_number!r}\n{limit}"
    return read_cache.cached_read(
        org, query, lambda: _read_debtor_cases(org, customer_number, limit), fresh=fresh
    )


def forget_organization_reads(organization_id: str | uuid.UUID) -> None:
    """Drop the organisation's cached reads, in every process: after an action, or a webhook.

    perform_case_action calls it itself; an action applies asynchronously, so call it again when
    its batch is seen to finish, or pages may show the state before it for a few seconds more.
    """
    read_cache.forget_organization_reads(_organization(organization_id))


def _read_debtor_cases(org: str, customer_number: str, limit: int) -> DebtorCases:
    fetched_at = _now()
    cases: list[Case] = []
    read = 0
    for case in iter_cases(
        organization_id=org,
        filters=CaseFilters(customer_number=customer_number),
        page_size=MAX_PAGE_SIZE,
    ):
        read += 1
        # Checked, not assumed: the filter may match loosely (a prefix, another case).
        if any(debtor.customer_number == customer_number for debtor in case.debtors):
            cases.append(case)
        if read >= limit:
            break  # before asking for a page we would not use
    if not cases:
        raise NotFound("No such customer in this organisation")
    # Cases come newest first, so the details are the ones the upstream holds most recently.
    debtor = next(d for d in cases[0].debtors if d.customer_number == customer_number)
    return DebtorCases(
        customer_number=customer_number,
        debtor=debtor,
        cases=tuple(cases),
        truncated=read >= limit,
        fetched_at=fetched_at,
    )


def perform_case_action(
    *,
    organization_id: str | uuid.UUID,
    case_id: str,
    action: CaseAction,
    idempotency_key: str,
    reason: str = "",
) -> ActionReceipt:
    """Ask the upstream to apply one action to one case; it answers with a batch to follow.

    The organisation's cached reads are forgotten whatever the answer: once sent, the case may
    have changed.
    """
    if not idempotency_key:
        raise ValueError("idempotency_key is required: a repeated POST must not act twice")
    if not case_id:
        raise ValueError("case_id is required")
    org = _organization(organization_id)
    segment = CaseAction(action).value
    body: dict[str, object] = {ACTION_REASON_FIELD: reason} if reason else {}
    call = Call(
        method="POST",
        template=CASE_ACTION_PATH.replace("{action}", segment),
        url=_api_url(
            CASE_ACTION_PATH.format(
                organizationId=org, caseId=quote(case_id, safe=""), action=segment
            )
        ),
        json_body=body,
        headers={IDEMPOTENCY_HEADER: idempotency_key},
        idempotent=False,
    )
    try:
        data = envelope_data(_call_api(call, org))
    finally:
        read_cache.forget_organization_reads(org)
    return ActionReceipt(batch_id=required_text(data, "batchId"), batch_url=text(data, "batchUrl"))


def get_batch(*, organization_id: str | uuid.UUID, batch_id: str) -> Batch:
    """One batch: how an asynchronous write is going."""
    if not batch_id:
        raise ValueError("batch_id is required")
    org = _organization(organization_id)
    call = Call(
        method="GET",
        template=BATCH_PATH,
        url=_api_url(BATCH_PATH.format(organizationId=org, batchId=quote(batch_id, safe=""))),
    )
    return parse_batch(envelope_data(_call_api(call, org)))


# --------------------------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------------------------


def _case_page(org: str, filters: CaseFilters, page_token: str | None, page_size: int) -> CasePage:
    """One page as the upstream sent it, every case included."""
    _check_page_size(page_size)
    params = _filter_params(filters)
    if page_token:
        params[PAGE_TOKEN_PARAMETER] = page_token
    params[PAGE_SIZE_PARAMETER] = str(page_size)
    call = Call(
        method="GET",
        template=CASES_PATH,
        url=_api_url(CASES_PATH.format(organizationId=org)),
        params=params,
    )
    return parse_case_page(_call_api(call, org))


def _check_page_size(page_size: int) -> None:
    if not 1 <= page_size <= MAX_PAGE_SIZE:
        raise ValueError(f"page_size must be between 1 and {MAX_PAGE_SIZE}")


def _own_cases(cases: tuple[Case, ...], org: str) -> tuple[Case, ...]:
    """The cases that name this organisation; an empty or missing organizationId names none."""
    own = tuple(case for case in cases if case.organization_id == org)
    if len(own) != len(cases):
        # No ids: which organisations and cases are themselves facts about people's debts.
        logger.error(
            "autocollect: %d case(s) of another or no organisation were dropped from an answer",
            len(cases) - len(own),
        )
    return own


def _call_api(call: Call, org: str) -> object:
    """Send an API call with the bearer token under one deadline; the answer's JSON.

    The call holds one of its organisation's in-flight slots while it is on the wire.
    """
    deadline = Deadline.start()
    with organization_slot(org, deadline):
        reply = send(call, deadline, auth=BearerAuth(deadline))
    raise_for_status(reply, sent_page_token=call.sends_page_token)
    return json_body(reply.content)


def _now() -> datetime:
    return datetime.fromtimestamp(clock().time(), tz=UTC)


def _api_url(path: str) -> str:
    return str(settings.AUTOCOLLECT_API_URL).rstrip("/") + path


def _organization(organization_id: str | uuid.UUID) -> str:
    """The organisation's UUID in canonical form; anything else is a ValueError, not a request."""
    if isinstance(organization_id, uuid.UUID):
        return str(organization_id)
    return str(uuid.UUID(organization_id))


def _filter_params(filters: CaseFilters) -> dict[str, str]:
    params: dict[str, str] = {}
    for name, parameter in FILTER_PARAMETERS.items():
        value: object = getattr(filters, name)
        if value is None or value == "":
            continue
        params[parameter] = value.isoformat() if isinstance(value, date) else str(value)
    return params
