"""The upstream's vocabulary, in one place: known enum values, their labels and badges.

The values themselves are the contract's (cases/autocollect/contract.py, marked [doc] or [ours]);
this module says what they mean to staff: a translated label for each, the badge a status or
sub-status wears, the order claim types are read in, which statuses end a case, and the
currency a case that names none is in. Forms, template tags, the breakdown and the export read
them from here. Values arrive cleaned (trimmed, upper-case) from the client; one the upstream
added without notice is humanised, never an error.
"""

import re
from collections.abc import Mapping
from types import MappingProxyType
from typing import Final

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from cases.autocollect import (
    ACCOUNT_TYPES,
    CASE_STATUSES,
    CASE_SUB_STATUSES,
    CASE_TYPES,
    CLAIM_TYPES,
    DEBTOR_TYPES,
    DEFAULT_CURRENCY,
)

__all__ = [
    "ACCOUNT_TYPES",
    "BADGE_CLASSES",
    "CASE_STATUSES",
    "CASE_SUB_STATUSES",
    "CASE_TYPES",
    "CLAIM_TYPES",
    "CLAIM_TYPE_ORDER",
    "CLOSED_STATUSES",
    "DEBTOR_TYPES",
    "DEFAULT_CURRENCY",
    "ENUM_LABELS",
    "UNKNOWN_BADGE_CLASS",
    "badge_class",
    "claim_type_sort_key",
    "humanise_enum",
    "label",
]

# Every known value with a label staff understand. The values are unique across the enums, so one
# mapping serves them all (a test checks both: every value labelled, no value in two enums).
ENUM_LABELS: Final[Mapping[str, Promise]] = MappingProxyType(
    {
        # case status
        "OPEN": _("Open"),
        "PAUSED": _("Paused"),
        "CLOSED": _("Closed"),
        "WITHDRAWN": _("Withdrawn"),
        # case sub-status
        "NONE": _("None"),
        "DEBT_COLLECTION_LIST_MANUAL": _("Awaiting debt collection approval"),
        "EVICTION_REQUEST_MANUAL": _("Awaiting eviction request approval"),
        "EVICTION_CONFIRMATION_MANUAL": _("Awaiting eviction confirmation"),
        # case type
        "PAYMENT_REMINDER": _("Payment reminder"),
        "COLLECTION_NOTICE": _("Collection notice"),
        "DEBT_COLLECTION": _("Debt collection"),
        "LEGAL_COLLECTION": _("Legal collection"),
        # debtor type
        "PRIVATE": _("Private person"),
        "COMPANY": _("Company"),
        # claim type
        "PRINCIPAL": _("Principal"),
        "INTEREST": _("Interest"),
        "REMINDER_FEE": _("Reminder fee"),
        "COLLECTION_FEE": _("Collection fee"),
        "LEGAL_COST": _("Legal costs"),
        # account type
        "UNKNOWN": _("Unknown"),
        "BBAN": _("Norwegian account number (BBAN)"),
        "IBAN": _("IBAN"),
    }
)

# The `.badge` modifier of a status or sub-status; anything else wears UNKNOWN_BADGE_CLASS.
BADGE_CLASSES: Final[Mapping[str, str]] = MappingProxyType(
    {
        "OPEN": "badge--open",
        "PAUSED": "badge--paused",
        "CLOSED": "badge--closed",
        "WITHDRAWN": "badge--withdrawn",
        # Sub-statuses where the case waits for the creditor to accept or reject a step.
        "DEBT_COLLECTION_LIST_MANUAL": "badge--waiting",
        "EVICTION_REQUEST_MANUAL": "badge--waiting",
        "EVICTION_CONFIRMATION_MANUAL": "badge--waiting",
    }
)
UNKNOWN_BADGE_CLASS: Final = "badge--unknown"

# Known claim types in the order a collector reads them (the contract lists them so); unknown
# types follow, alphabetically.
CLAIM_TYPE_ORDER: Final = CLAIM_TYPES

# Statuses that end a case. Anything else (OPEN, PAUSED, a status added upstream last week) is
# still open unless the case carries a closing date.
CLOSED_STATUSES: Final = frozenset({"CLOSED", "WITHDRAWN"})


def humanise_enum(raw: str) -> str:
    """Turn "NEW_THING" into "New thing", for values the upstream added without notice."""
    words = re.sub(r"[_\-\s]+", " ", raw).strip()
    return words[:1].upper() + words[1:].lower()


def label(value: str) -> str | Promise:
    """The translated label of a known value, the humanised value otherwise ("" stays "")."""
    return ENUM_LABELS.get(value) or humanise_enum(value)


def badge_class(value: str) -> str:
    """The `.badge` modifier for a status or sub-status."""
    return BADGE_CLASSES.get(value, UNKNOWN_BADGE_CLASS)


def claim_type_sort_key(claim_type: str) -> tuple[int, str]:
    """Known types in collector's order, then unknown ones alphabetically."""
    if claim_type in CLAIM_TYPE_ORDER:
        return (CLAIM_TYPE_ORDER.index(claim_type), "")
    return (len(CLAIM_TYPE_ORDER), claim_type)
