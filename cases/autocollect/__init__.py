"""The AutoCollect client: the only package that speaks HTTP to the upstream.

Everything the project knows about Amili's collection API passes through here: paths, parameter
and field names, the token, retries, deadlines and error translation. Callers get frozen
dataclasses, already checked and cleaned, and one small exception family; never httpx or JSON.

    contract    paths, names and every [ours] choice, in one place
    errors      the exception family
    types       the dataclasses callers get
    parsing     upstream JSON -> types, checked and cleaned once
    clock       the client's time, replaceable in tests
    transport   the HTTP client, one deadline per call, retries, bounded reads
    auth        the bearer token as an httpx.Auth
    fairness    how many calls one organisation may have in flight (OrganizationBusy beyond)
    read_cache  page reads cached briefly per organisation, fetched once for concurrent callers
    operations  one function per upstream operation, and forget_organization_reads

Import from here (`from cases import autocollect`), not from the modules: they may move.
"""

from cases.autocollect.auth import token_cache_key
from cases.autocollect.clock import Clock, SystemClock, use_clock
from cases.autocollect.contract import (
    ACCOUNT_TYPES,
    CASE_STATUSES,
    CASE_SUB_STATUSES,
    CASE_TYPES,
    CLAIM_TYPES,
    DEBTOR_TYPES,
    DEFAULT_CURRENCY,
    DEFAULT_PAGE_SIZE,
    MAX_CASE_NUMBER,
    MAX_PAGE_SIZE,
    MIN_CASE_NUMBER,
    PAGE_SIZES,
    CaseAction,
)
from cases.autocollect.errors import (
    AccessDenied,
    AutoCollectError,
    InvalidPageToken,
    NotFound,
    OrganizationBusy,
    Problem,
    RateLimited,
    Rejected,
    TooManyPages,
    UpstreamTimeout,
    UpstreamUnavailable,
)
from cases.autocollect.operations import (
    forget_organization_reads,
    get_batch,
    get_case,
    get_debtor_cases,
    iter_cases,
    list_cases,
    perform_case_action,
)
from cases.autocollect.transport import (
    current_transport,
    http_client,
    reset_http_client,
    use_transport,
)
from cases.autocollect.types import (
    AccountDetails,
    ActionReceipt,
    BankAccount,
    Batch,
    BatchFailure,
    Case,
    CaseFilters,
    CasePage,
    Claim,
    CursorSummary,
    Debtor,
    DebtorCases,
    Invoice,
    SkipSummary,
)

__all__ = [
    "ACCOUNT_TYPES",
    "CASE_STATUSES",
    "CASE_SUB_STATUSES",
    "CASE_TYPES",
    "CLAIM_TYPES",
    "DEBTOR_TYPES",
    "DEFAULT_CURRENCY",
    "DEFAULT_PAGE_SIZE",
    "MAX_CASE_NUMBER",
    "MAX_PAGE_SIZE",
    "MIN_CASE_NUMBER",
    "PAGE_SIZES",
    "AccessDenied",
    "AccountDetails",
    "ActionReceipt",
    "AutoCollectError",
    "BankAccount",
    "Batch",
    "BatchFailure",
    "Case",
    "CaseAction",
    "CaseFilters",
    "CasePage",
    "Claim",
    "Clock",
    "CursorSummary",
    "Debtor",
    "DebtorCases",
    "InvalidPageToken",
    "Invoice",
    "NotFound",
    "OrganizationBusy",
    "Problem",
    "RateLimited",
    "Rejected",
    "SkipSummary",
    "SystemClock",
    "TooManyPages",
    "UpstreamTimeout",
    "UpstreamUnavailable",
    "current_transport",
    "forget_organization_reads",
    "get_batch",
    "get_case",
    "get_debtor_cases",
    "http_client",
    "iter_cases",
    "list_cases",
    "perform_case_action",
    "reset_http_client",
    "token_cache_key",
    "use_clock",
    "use_transport",
]
