"""The wire contract: paths, parameter and field names, and the choices the docs leave open.

Marks follow the contract document: [doc] the public docs say so, [ours] the docs are silent and
this is the sandbox's choice. Every [ours] choice lives here, so that it can be corrected in one
edit once the real contract is known. Nothing here does I/O.
"""

from collections.abc import Mapping
from decimal import Decimal
from enum import StrEnum
from types import MappingProxyType
from typing import Final

# --- Paths ----------------------------------------------------------------------------------

CASES_PATH: Final = "/orgs/{organizationId}/cases"  # [doc]
CASE_ACTION_PATH: Final = "/orgs/{organizationId}/cases/{caseId}/{action}"  # [ours]
BATCH_PATH: Final = "/orgs/{organizationId}/batches/{batchId}"  # [doc]

# --- Query parameters and headers -----------------------------------------------------------

# CaseFilters field -> query parameter [doc: names; ours: dates sent as ISO dates].
FILTER_PARAMETERS: Final[Mapping[str, str]] = MappingProxyType(
    {
        "status": "Status",
        "type": "Type",
        "case_number": "CaseNumber",
        "customer_number": "CustomerNumber",
        "unique_source_invoice_id": "UniqueSourceInvoiceId",
        "search_term": "SearchTerm",
        "created_from": "FromCreatedAt",
        "created_to": "ToCreatedAt",
    }
)
PAGE_TOKEN_PARAMETER: Final = "PageToken"  # noqa: S105 - a parameter name [doc]
PAGE_SIZE_PARAMETER: Final = "PageSize"  # [doc]
IDEMPOTENCY_HEADER: Final = "Idempotency-Key"  # [ours]

# --- Paging ---------------------------------------------------------------------------------

MAX_PAGE_SIZE: Final = 100  # [ours]
PAGE_SIZES: Final = (10, 25, 50, 100)
DEFAULT_PAGE_SIZE: Final = 25  # [ours] the upstream's own default

# --- Values the upstream accepts or sends ---------------------------------------------------

# [ours] Case numbers the upstream can look up: positive, and no larger than the sandbox accepts
# (a .NET long would allow up to 2**63 - 1). A number outside is no case, so it is never sent.
MIN_CASE_NUMBER: Final = 1
MAX_CASE_NUMBER: Final = 2**62

# [ours] An amount this large (in either direction) is no real debt but a broken answer; it is
# refused as malformed, so that nothing downstream formats a thousand-digit number.
AMOUNT_LIMIT: Final = Decimal(10) ** 15

# [ours] The currency of a case whose claims and invoices name none: this is a Norwegian API.
DEFAULT_CURRENCY: Final = "NOK"

# --- Fields ---------------------------------------------------------------------------------

ACTION_REASON_FIELD: Final = "reason"  # [ours]
INVOICE_CURRENCY_CODE_FIELD: Final = "code"  # [ours] the invoice currency object's key
PROBLEM_ERRORS_FIELD: Final = "errors"  # [ours] problem+json: {field: [messages]}
# [ours] A batch lists what succeeded or failed as bare ids or as objects naming one of these.
BATCH_ENTRY_ID_FIELDS: Final = ("caseId", "id", "invoiceId")
# [ours] ... and a failed entry's object says why in the first of these it carries.
BATCH_ENTRY_REASON_FIELDS: Final = ("error", "reason", "message", "detail")

# --- The token endpoint ---------------------------------------------------------------------

TOKEN_REFUSAL_STATUSES: Final = frozenset({400, 401})  # [ours] /token on bad credentials
DEFAULT_TOKEN_LIFETIME: Final = 300  # [ours] seconds, when /token names no usable expiry
MAX_TOKEN_LIFETIME: Final = 24 * 3600  # [ours] a longer promise is not believed

# --- Webhooks (docs/autocollect-api.md, section 8) -----------------------------------------

WEBHOOK_EVENT_HEADER: Final = "X-Amili-Event"  # [doc]
WEBHOOK_IDEMPOTENCY_HEADER: Final = "IdempotencyKey"  # [doc]
WEBHOOK_REQUEST_ID_HEADER: Final = "X-Amili-Request-Id"  # [doc]
WEBHOOK_SIGNATURE_HEADER: Final = "X-Webhook-Signature"  # [doc: name; ours: hex HMAC-SHA256]
WEBHOOK_SIGNATURE_ALGORITHM: Final = "sha256"  # [ours] of the raw body, with the shared secret
# [doc] The events the dashboard acts on; others (SETTLEMENT_CREATED, ...) are acknowledged.
WEBHOOK_CASE_EVENTS: Final = frozenset({"CASE", "CASE_UPDATED"})
WEBHOOK_BATCH_COMPLETED: Final = "BATCH_COMPLETED"
# [doc] The envelope: `id`, `type` or `eventType` (the docs use both), `source`, `timeStamp`,
# `data`; the organisation is `orgId` in case events and `organizationId` in batch events.
WEBHOOK_TYPE_FIELDS: Final = ("type", "eventType")
WEBHOOK_ORGANIZATION_FIELDS: Final = ("organizationId", "orgId")

# --- Transient failures ---------------------------------------------------------------------

RETRYABLE_STATUSES: Final = frozenset({429, 502, 503, 504})  # [ours] 429 and 503 say Retry-After

# --- Enumerations ---------------------------------------------------------------------------
# Known values ([doc] first, then the sandbox's [ours]). The upstream may send others; they are
# kept as they come (trimmed and upper-cased). Labels and badges: cases/vocabulary.py.

CASE_STATUSES: Final = ("OPEN", "PAUSED", "CLOSED", "WITHDRAWN")
CASE_SUB_STATUSES: Final = (
    "DEBT_COLLECTION_LIST_MANUAL",
    "NONE",
    "EVICTION_REQUEST_MANUAL",
    "EVICTION_CONFIRMATION_MANUAL",
)
CASE_TYPES: Final = ("PAYMENT_REMINDER", "COLLECTION_NOTICE", "DEBT_COLLECTION", "LEGAL_COLLECTION")
DEBTOR_TYPES: Final = ("PRIVATE", "COMPANY")
CLAIM_TYPES: Final = ("PRINCIPAL", "INTEREST", "REMINDER_FEE", "COLLECTION_FEE", "LEGAL_COST")
ACCOUNT_TYPES: Final = ("UNKNOWN", "BBAN", "IBAN")


class CaseAction(StrEnum):
    """The nine case operations; each value is the path segment after the case id [ours]."""

    PAUSE = "pause"
    RESUME = "resume"
    WITHDRAW = "withdraw"
    ACCEPT_DEBT_COLLECTION_LIST = "debt-collection-list/accept"
    REJECT_DEBT_COLLECTION_LIST = "debt-collection-list/reject"
    ACCEPT_EVICTION_REQUEST = "eviction-request/accept"
    REJECT_EVICTION_REQUEST = "eviction-request/reject"
    ACCEPT_EVICTION_CONFIRMATION = "eviction-confirmation/accept"
    REJECT_EVICTION_CONFIRMATION = "eviction-confirmation/reject"
