"""The case actions staff may take: which fit a case's state, what they do, why one is taken.

One catalogue, read by the confirmation page, the case page's action bar and the triage queues.
The states each action needs mirror the upstream's transition rules (docs/autocollect-api.md,
section 5): offering only what the upstream would accept saves a refused round trip, and the
confirmation re-reads the case before sending, because another person may have moved it since.
The upstream stays the judge: a 409 it sends is shown as a refusal, whatever this module thought.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Final

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from cases.autocollect import Case, CaseAction
from cases.vocabulary import label

# Statuses in which a case waits on no decision at all: the upstream refuses every decision.
FINISHED_STATUSES: Final = frozenset({"CLOSED", "WITHDRAWN"})

REASON_TEXT_MAX_LENGTH: Final = 500  # the upstream takes 1000 characters, code included


@dataclass(frozen=True)
class ReasonCode:
    """A reason staff pick from a fixed list; the code is stored and sent, the label shown."""

    code: str
    label: Promise


OTHER: Final = ReasonCode("OTHER", _("Other (explain below)"))
DISPUTED: Final = ReasonCode("DISPUTED", _("The debtor disputes the claim"))
PAID_DIRECTLY: Final = ReasonCode("PAID_DIRECTLY", _("Paid directly to us"))
PAYMENT_PLAN: Final = ReasonCode("PAYMENT_PLAN", _("Payment plan agreed with the debtor"))
REGISTERED_IN_ERROR: Final = ReasonCode("REGISTERED_IN_ERROR", _("Registered in error"))
CLAIM_VERIFIED: Final = ReasonCode("CLAIM_VERIFIED", _("Claim checked and correct"))

PAUSE_REASONS: Final = (
    PAYMENT_PLAN,
    DISPUTED,
    ReasonCode("AWAITING_DOCUMENTS", _("Waiting for documentation")),
    ReasonCode("DEBTOR_CIRCUMSTANCES", _("The debtor's circumstances (illness, death, ...)")),
    OTHER,
)
RESUME_REASONS: Final = (
    ReasonCode("DISPUTE_RESOLVED", _("The dispute is resolved")),
    ReasonCode("PAYMENT_PLAN_BROKEN", _("The payment plan was not kept")),
    ReasonCode("DOCUMENTS_RECEIVED", _("Documentation received")),
    OTHER,
)
WITHDRAW_REASONS: Final = (
    PAID_DIRECTLY,
    ReasonCode("SETTLED", _("Settled with the debtor")),
    ReasonCode("CREDITED", _("The claim was credited")),
    REGISTERED_IN_ERROR,
    OTHER,
)
ACCEPT_REASONS: Final = (CLAIM_VERIFIED, OTHER)
REJECT_REASONS: Final = (DISPUTED, PAID_DIRECTLY, PAYMENT_PLAN, REGISTERED_IN_ERROR, OTHER)


@dataclass(frozen=True)
class ActionSpec:
    """One action as staff see it: its URL slug, words, the state it needs, its reasons."""

    slug: str  # the confirmation URL's last segment
    upstream: CaseAction
    label: Promise  # the button: "Pause"
    title: Promise  # the confirmation's heading: "Pause the case"
    consequence: Promise  # what happens, in words
    done: Promise  # "paused": "This case was paused", "it can no longer be paused"
    reasons: tuple[ReasonCode, ...]
    default_reason: str  # preselected code; "" makes staff choose
    needs_explanation: bool  # free text required (withdraw and reject)
    danger: bool  # ends or closes something: the button looks it
    statuses: frozenset[str] = frozenset()  # the case must have one of these statuses ...
    sub_status: str = ""  # ... or, for a decision, wait on this sub-status and not be finished

    def allows(self, case: Case) -> bool:
        """Whether the upstream's rules let this case take the action now."""
        if self.sub_status:
            return case.sub_status == self.sub_status and case.status not in FINISHED_STATUSES
        return case.status in self.statuses

    def reason_label(self, code: str) -> Promise | str:
        return next((reason.label for reason in self.reasons if reason.code == code), code)


ACTIONS: Final[Mapping[str, ActionSpec]] = MappingProxyType(
    {
        spec.slug: spec
        for spec in (
            ActionSpec(
                slug="pause",
                upstream=CaseAction.PAUSE,
                label=_("Pause"),
                title=_("Pause the case"),
                consequence=_(
                    "Collection stops: no letters, fees or interest steps until the case is "
                    "resumed. The debt itself stays."
                ),
                done=pgettext_lazy("case action, past participle", "paused"),
                reasons=PAUSE_REASONS,
                default_reason="",
                needs_explanation=False,
                danger=False,
                statuses=frozenset({"OPEN"}),
            ),
            ActionSpec(
                slug="resume",
                upstream=CaseAction.RESUME,
                label=_("Resume"),
                title=_("Resume the case"),
                consequence=_("Collection continues where it stopped when the case was paused."),
                done=pgettext_lazy("case action, past participle", "resumed"),
                reasons=RESUME_REASONS,
                default_reason="",
                needs_explanation=False,
                danger=False,
                statuses=frozenset({"PAUSED"}),
            ),
            ActionSpec(
                slug="withdraw",
                upstream=CaseAction.WITHDRAW,
                label=_("Withdraw"),
                title=_("Withdraw the case"),
                consequence=_(
                    "The case is closed as withdrawn and collection ends for good. This cannot "
                    "be undone: a new claim would need a new case."
                ),
                done=pgettext_lazy("case action, past participle", "withdrawn"),
                reasons=WITHDRAW_REASONS,
                default_reason="",
                needs_explanation=True,
                danger=True,
                statuses=frozenset({"OPEN", "PAUSED"}),
            ),
            ActionSpec(
                slug="accept-debt-collection",
                upstream=CaseAction.ACCEPT_DEBT_COLLECTION_LIST,
                label=_("Accept debt collection"),
                title=_("Accept the debt-collection list"),
                consequence=_(
                    "The case moves on to debt collection: the debtor gets a debt-collection "
                    "notice and collection fees may be added."
                ),
                done=pgettext_lazy("case action, past participle", "sent to debt collection"),
                reasons=ACCEPT_REASONS,
                default_reason=CLAIM_VERIFIED.code,
                needs_explanation=False,
                danger=False,
                sub_status="DEBT_COLLECTION_LIST_MANUAL",
            ),
            ActionSpec(
                slug="reject-debt-collection",
                upstream=CaseAction.REJECT_DEBT_COLLECTION_LIST,
                label=_("Reject debt collection"),
                title=_("Reject the debt-collection list"),
                consequence=_(
                    "The case does not go to debt collection: it is closed, and collection on "
                    "it ends."
                ),
                done=pgettext_lazy("case action, past participle", "kept out of debt collection"),
                reasons=REJECT_REASONS,
                default_reason="",
                needs_explanation=True,
                danger=True,
                sub_status="DEBT_COLLECTION_LIST_MANUAL",
            ),
            ActionSpec(
                slug="accept-eviction-request",
                upstream=CaseAction.ACCEPT_EVICTION_REQUEST,
                label=_("Accept eviction request"),
                title=_("Accept the eviction request"),
                consequence=_(
                    "The eviction is prepared. It still needs your confirmation before it is "
                    "sent to the enforcement authorities."
                ),
                done=pgettext_lazy("case action, past participle", "approved for eviction"),
                reasons=ACCEPT_REASONS,
                default_reason=CLAIM_VERIFIED.code,
                needs_explanation=False,
                danger=False,
                sub_status="EVICTION_REQUEST_MANUAL",
            ),
            ActionSpec(
                slug="reject-eviction-request",
                upstream=CaseAction.REJECT_EVICTION_REQUEST,
                label=_("Reject eviction request"),
                title=_("Reject the eviction request"),
                consequence=_("No eviction is prepared; collection goes on as before."),
                done=pgettext_lazy("case action, past participle", "kept from eviction"),
                reasons=REJECT_REASONS,
                default_reason="",
                needs_explanation=True,
                danger=True,
                sub_status="EVICTION_REQUEST_MANUAL",
            ),
            ActionSpec(
                slug="accept-eviction-confirmation",
                upstream=CaseAction.ACCEPT_EVICTION_CONFIRMATION,
                label=_("Confirm eviction"),
                title=_("Confirm the eviction"),
                consequence=_(
                    "The case goes to legal collection and the eviction is sent to the "
                    "enforcement authorities."
                ),
                done=pgettext_lazy("case action, past participle", "confirmed for eviction"),
                reasons=ACCEPT_REASONS,
                default_reason=CLAIM_VERIFIED.code,
                needs_explanation=False,
                danger=True,
                sub_status="EVICTION_CONFIRMATION_MANUAL",
            ),
            ActionSpec(
                slug="reject-eviction-confirmation",
                upstream=CaseAction.REJECT_EVICTION_CONFIRMATION,
                label=_("Stop eviction"),
                title=_("Reject the eviction confirmation"),
                consequence=_("The eviction is not sent; collection goes on as before."),
                done=pgettext_lazy("case action, past participle", "kept from eviction"),
                reasons=REJECT_REASONS,
                default_reason="",
                needs_explanation=True,
                danger=True,
                sub_status="EVICTION_CONFIRMATION_MANUAL",
            ),
        )
    }
)

BY_UPSTREAM: Final[Mapping[str, ActionSpec]] = MappingProxyType(
    {spec.upstream.value: spec for spec in ACTIONS.values()}
)


def available_actions(case: Case) -> tuple[ActionSpec, ...]:
    """The actions the case's state allows, in the catalogue's order."""
    return tuple(spec for spec in ACTIONS.values() if spec.allows(case))


def action_label(slug: str) -> Promise | str:
    """The action's label for lists and the audit trail; an unknown slug as it is."""
    spec = ACTIONS.get(slug)
    return spec.label if spec else slug


def state_words(case: Case) -> str:
    """The case's state as staff read it: "Paused", or "Open, awaiting eviction confirmation"."""
    status = str(label(case.status))
    if case.sub_status and case.sub_status != "NONE":
        return f"{status} · {label(case.sub_status)}"
    return status
