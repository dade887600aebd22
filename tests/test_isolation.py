"""The cross-organisation matrix: no URL, full or partial, shows another organisation's data.

Two sandbox organisations with data; users of every role in organisation A; every URL of the
URLconf that serves organisation data, asked for B's case and customer numbers, as a full page and
as an HTMX partial. Each probe must deny (404, or 403 for a role that may not act) or show nothing
of B's, and no upstream request may carry B's organisation id. A URL added to the URLconf without
an entry in the matrix fails `test_every_url_is_in_the_matrix`.

Every probe is also run with A's own identifiers, the positive control: it must answer as it
would for real (200, or 403 for a role that may not act) and show A's data, so a page that
denied everyone could not pass the matrix.
"""

import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone
from pytest_django import DjangoDbBlocker

from cases import action_views, audit_views, views
from cases.actions import BY_UPSTREAM
from cases.links import debtor_url
from cases.models import AuditEntry
from dashboard.middleware import SESSION_ORGANIZATION_KEY
from dashboard.models import Membership, Organization, Role
from dashboard.organisation_stamp import ORGANIZATION_HEADER
from sandbox.actions import ACTIONS as SANDBOX_ACTIONS
from sandbox.models import Batch as SandboxBatch
from sandbox.models import Case as SandboxCase
from sandbox.models import Debtor as SandboxDebtor
from sandbox.models import SandboxOrganization
from sandbox.seeding import clear_organization, seed_organization
from tests.support.people import ORG_A_ID, ORG_A_NAME, ORG_B_ID, ORG_B_NAME, make_member
from tests.support.transport import RecordingTransport
from triage import views as triage_views
from triage.models import CaseSummary, IndexedDebtor, SyncState

# URLs that hold no organisation data, each tested where it lives (tests/test_tenancy.py).
ORGANIZATION_NEUTRAL = {"home", "login", "logout", "switch_organization", "set_language", "healthz"}
ORGANIZATION_NEUTRAL |= {"readyz"}  # tests/test_health.py
# Machine-to-machine endpoints: no session, no organisation, and answers that carry no data
# (tests/test_webhooks.py asserts it, for members too).
ORGANIZATION_NEUTRAL |= {"autocollect_webhook"}
# The index's freshness and its refresh: no identifiers in, only sync times out, and a refresh
# only ever for the membership's organisation (tests/test_triage.py asserts both).
ORGANIZATION_NEUTRAL |= {"triage:freshness"}
# Namespaces outside the dashboard's organisation scope: Django's admin (staff only, its own
# permission checks) and the sandbox (the upstream's stand-in, authenticated by bearer token).
OTHER_NAMESPACES = {"admin", "sandbox"}


@dataclass(frozen=True)
class Identifiers:
    """One organisation's identifiers, as a user of A might type (A's) or forge them (B's)."""

    organization_id: str
    case_number: int
    customer_number: str
    debtor_id: str
    debtor_name: str
    identification_number: str


@dataclass(frozen=True)
class Probe:
    """One request at a URL, the answers that count as denial and the one its owner gets."""

    name: str
    url_name: str
    method: str
    url: Callable[[Identifiers], str]
    data: Callable[[Identifiers], dict[str, str]] | None = None
    denied_with: tuple[int, ...] = (404,)
    # When the page answers 200 to B's identifiers (a search), it must simply show nothing of B's.
    may_answer_empty: bool = False
    # Revealing needs a role that may act: a viewer is refused (403) even for A's own debtor.
    needs_can_act: bool = False
    # The audit trail is for administrators: agents and viewers are refused (403).
    needs_admin: bool = False
    # What A's own identifiers must show: the debtor's name, or for a reveal the number itself.
    shows: Callable[[Identifiers], str] = lambda own: own.debtor_name


def _reveal_data(ids: Identifiers) -> dict[str, str]:
    return {"debtor": ids.debtor_id}


def _revealed_number(ids: Identifiers) -> str:
    return ids.identification_number


# --- Case actions and the audit trail -----------------------------------------------------------


def _sandbox_case(ids: Identifiers) -> SandboxCase:
    return SandboxCase.objects.get(
        organization_id=uuid.UUID(ids.organization_id), case_number=ids.case_number
    )


def _allowed_action(ids: Identifiers) -> str:
    """An action the identifiers' case can take now (its owner gets the real confirmation)."""
    case = _sandbox_case(ids)
    for slug, action in SANDBOX_ACTIONS.items():
        if action.refusal(case) is None:
            return BY_UPSTREAM[slug].slug
    raise AssertionError("the matrix's case can take no action; change the seed")


def _action_url(ids: Identifiers) -> str:
    return reverse("cases:action", args=[ids.case_number, _allowed_action(ids)])


def _action_form(ids: Identifiers) -> dict[str, str]:
    """A confirmation as posted from a page of organisation A, the matrix users' own."""
    acting = Organization.objects.get(amili_id=ORG_A_ID)
    return {
        "organization": str(acting.pk),
        "idempotency_key": str(uuid.uuid4()),
        "reason_code": "OTHER",
        "reason_text": "Cross-organisation probe",
    }


def _finished_batch_url(ids: Identifiers) -> str:
    """A batch the identifiers' organisation ran on its case, as its audit trail records it."""
    case = _sandbox_case(ids)
    now = timezone.now()
    batch = SandboxBatch.objects.create(
        organization_id=case.organization_id,
        case=case,
        action="pause",
        type="PAUSE_CASE",
        created_at=now,
        due_at=now,
        finished_at=now,
        status="SUCCESS",
        succeeded=[{"caseId": str(case.pk), "caseNumber": case.case_number}],
        created_by="matrix",
    )
    AuditEntry.objects.create(
        organization=Organization.objects.get(amili_id=ids.organization_id),
        username="matrix",
        kind="action",
        outcome="accepted",
        case_id=str(case.pk),
        case_number=ids.case_number,
        action="pause",
        batch_id=str(batch.pk),
    )
    return reverse("cases:action_batch", args=[ids.case_number, str(batch.pk)])


def _audited_reveal(ids: Identifiers) -> None:
    """An entry in the identifiers' organisation's audit trail that names its debtor."""
    AuditEntry.objects.create(
        organization=Organization.objects.get(amili_id=ids.organization_id),
        username="matrix",
        kind="reveal",
        outcome="shown",
        case_id=str(_sandbox_case(ids).pk),
        case_number=ids.case_number,
        debtor_id=ids.debtor_id,
        debtor_position=1,
        debtor_name=ids.debtor_name,
    )


def _audit_url(name: str) -> Callable[[Identifiers], str]:
    def url(ids: Identifiers) -> str:
        _audited_reveal(ids)
        return f"{reverse(name)}?case={ids.case_number}"

    return url


# --- The triage queues ------------------------------------------------------------------------


def _indexed(ids: Identifiers) -> None:
    """The identifiers' case in its organisation's case index, written straight from the
    sandbox's tables (no upstream request), as an open case so the "all open" queue lists it."""
    case = _sandbox_case(ids)
    organization = Organization.objects.get(amili_id=ids.organization_id)
    summary, _ = CaseSummary.objects.update_or_create(
        organization=organization,
        case_id=str(case.pk),
        defaults={
            "case_number": case.case_number,
            "status": "OPEN",
            "sub_status": "NONE",
            "type": case.type,
            "remaining_amount": case.remaining_amount,
            "remaining_principal": case.remaining_principal,
            "currency": "NOK",
            "debtor_names": ids.debtor_name,
            "confirmed_at": case.registered_at,
        },
    )
    IndexedDebtor.objects.get_or_create(
        organization=organization,
        case=summary,
        customer_number=ids.customer_number,
        defaults={"display_name": ids.debtor_name},
    )


def _triage_url(**parameters: Callable[[Identifiers], object]) -> Callable[[Identifiers], str]:
    def url(ids: Identifiers) -> str:
        _indexed(ids)
        query = "&".join(f"{name}={value(ids)}" for name, value in parameters.items())
        return f"{reverse('triage:queue')}?queue=open&{query}"

    return url


def _list_total_url(ids: Identifiers) -> str:
    """The list's total for the identifiers' customer, over an index synced with their case."""
    _indexed(ids)
    organization = Organization.objects.get(amili_id=ids.organization_id)
    SyncState.objects.update_or_create(
        organization=organization, defaults={"last_full_sync_at": timezone.now()}
    )
    return f"{reverse('cases:list_total')}?customer={ids.customer_number}"


PROBES: tuple[Probe, ...] = (
    Probe(
        "triage-selected-case",
        "triage:queue",
        "get",
        _triage_url(selected=lambda ids: ids.case_number),
    ),
    Probe(
        "triage-filter-by-customer-number",
        "triage:queue",
        "get",
        # With the case selected too, so that every partial (the panel's as well) has
        # something of the owner's to show.
        _triage_url(q=lambda ids: ids.customer_number, selected=lambda ids: ids.case_number),
        may_answer_empty=True,
    ),
    Probe(
        "search-by-case-number",
        "cases:list",
        "get",
        lambda ids: f"{reverse('cases:list')}?q={ids.case_number}",
        may_answer_empty=True,
    ),
    Probe(
        "filter-by-customer-number",
        "cases:list",
        "get",
        lambda ids: f"{reverse('cases:list')}?customer={ids.customer_number}",
        may_answer_empty=True,
    ),
    Probe(
        "list-total-by-customer-number",
        "cases:list_total",
        "get",
        _list_total_url,
        may_answer_empty=True,
        # The count of the owner's indexed cases for that customer (Norwegian, the default).
        shows=lambda own: "1 sak,",
    ),
    Probe(
        "export-by-customer-number",
        "cases:export",
        "get",
        lambda ids: f"{reverse('cases:export')}?customer={ids.customer_number}",
        may_answer_empty=True,
    ),
    Probe(
        "case-page",
        "cases:detail",
        "get",
        lambda ids: reverse("cases:detail", args=[ids.case_number]),
    ),
    Probe(
        "case-page-reveal",
        "cases:detail",
        "post",
        lambda ids: reverse("cases:detail", args=[ids.case_number]),
        data=_reveal_data,
        denied_with=(403, 404),  # viewers may not reveal at all
        needs_can_act=True,
        shows=_revealed_number,
    ),
    Probe("debtor-page", "cases:debtor", "get", lambda ids: debtor_url(ids.customer_number)),
    Probe(
        "debtor-page-reveal",
        "cases:debtor",
        "post",
        lambda ids: debtor_url(ids.customer_number),
        data=_reveal_data,
        denied_with=(403, 404),
        needs_can_act=True,
        shows=_revealed_number,
    ),
    Probe(
        "action-confirmation",
        "cases:action",
        "get",
        _action_url,
        denied_with=(403, 404),
        needs_can_act=True,
    ),
    Probe(
        "action-post",
        "cases:action",
        "post",
        _action_url,
        data=_action_form,
        denied_with=(403, 404),
        needs_can_act=True,
    ),
    Probe(
        "action-batch-status",
        "cases:action_batch",
        "get",
        _finished_batch_url,
        denied_with=(403, 404),
        needs_can_act=False,
    ),
    Probe(
        "audit-trail",
        "cases:audit",
        "get",
        _audit_url("cases:audit"),
        denied_with=(403,),
        may_answer_empty=True,
        needs_admin=True,
    ),
    Probe(
        "audit-trail-export",
        "cases:audit_export",
        "get",
        _audit_url("cases:audit_export"),
        denied_with=(403,),
        may_answer_empty=True,
        needs_admin=True,
    ),
)

# Every way a page is rendered: in full, as its default partial, as each partial a target names
# (the views pick partials by HX-Target), and as a history restore.
PARTIAL_TARGETS = sorted(
    {
        *views.PARTIAL_FOR_TARGET,
        *views.CASE_PARTIALS,
        *views.DEBTOR_PARTIALS,
        *action_views.PANEL_PARTIALS,
        *action_views.BATCH_PARTIALS,
        *audit_views.PARTIALS,
        *triage_views.PARTIALS,
    }
)
PARTIAL_HEADERS: dict[str, dict[str, str]] = {
    "full": {},
    "htmx": {"HX-Request": "true"},
    "htmx-history-restore": {"HX-Request": "true", "HX-History-Restore-Request": "true"},
    **{f"htmx-{target}": {"HX-Request": "true", "HX-Target": target} for target in PARTIAL_TARGETS},
}


def _named_urls(resolver: URLResolver | None = None, namespace: str = "") -> set[str]:
    resolver = resolver or get_resolver()
    names: set[str] = set()
    for entry in resolver.url_patterns:
        if isinstance(entry, URLResolver):
            inner = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
            names |= _named_urls(entry, inner)
        elif isinstance(entry, URLPattern) and entry.name:
            names.add(namespace + entry.name)
    return names


def test_every_url_is_in_the_matrix() -> None:
    dashboard_urls = {
        name for name in _named_urls() if name.split(":")[0] not in OTHER_NAMESPACES
    } - ORGANIZATION_NEUTRAL
    assert dashboard_urls == {probe.url_name for probe in PROBES}, (
        "A URL serves organisation data without a cross-organisation probe: add it to PROBES"
    )


def test_probe_names_are_unique() -> None:
    assert len({probe.name for probe in PROBES}) == len(PROBES)


def _identifiers(organization_id: str, exclude_customers: set[str]) -> Identifiers:
    """A debtor with a customer number of its own (on one case only) and an id number."""
    debtors = (
        SandboxDebtor.objects.filter(organization_id=uuid.UUID(organization_id))
        .exclude(customer_number__in=exclude_customers)
        .exclude(customer_number="")
        .exclude(identification_number="")
        .select_related("case")
        .order_by("case__case_number", "debtor_id")
    )
    for debtor in debtors:
        namesakes = SandboxDebtor.objects.filter(
            organization_id=uuid.UUID(organization_id), customer_number=debtor.customer_number
        )
        if namesakes.count() == 1 and len(debtor.case.debtors.all()) == 1:
            return Identifiers(
                organization_id=organization_id,
                case_number=debtor.case.case_number,
                customer_number=debtor.customer_number,
                debtor_id=str(debtor.debtor_id),
                debtor_name=debtor.full_name,
                identification_number=debtor.identification_number,
            )
    raise AssertionError(f"the seed gave {organization_id} no debtor fit for the matrix")


@dataclass(frozen=True)
class Organisations:
    own: Identifiers  # organisation A's, which its users may see
    foreign: Identifiers  # organisation B's, which they must never see


@pytest.fixture(scope="module")
def seeded_sandbox(
    django_db_setup: None, django_db_blocker: DjangoDbBlocker
) -> Iterator[Organisations]:
    """Both organisations' sandbox data, seeded once per module (and xdist worker), committed.

    Why not per test: seeding was most of each of the matrix's ~1,800 tests' time. Each test
    still runs in its own transaction, so whatever a probe changes (an action's batch, an audit
    entry, an index row) is rolled back and the next probe finds the same data. Removed again
    when the module is done, so other modules find the sandbox as empty as ever.
    """
    with django_db_blocker.unblock():
        seed_organization(uuid.UUID(ORG_A_ID), ORG_A_NAME, cases=15, seed=11)
        seed_organization(uuid.UUID(ORG_B_ID), ORG_B_NAME, cases=15, seed=12)
        a_customers = set(
            SandboxDebtor.objects.filter(organization_id=uuid.UUID(ORG_A_ID)).values_list(
                "customer_number", flat=True
            )
        )
        own = _identifiers(ORG_A_ID, exclude_customers=set())
        foreign = _identifiers(ORG_B_ID, exclude_customers=a_customers)
        assert not SandboxCase.objects.filter(
            organization_id=uuid.UUID(ORG_A_ID), case_number=foreign.case_number
        ).exists()
    assert foreign.debtor_name != own.debtor_name
    try:
        yield Organisations(own=own, foreign=foreign)
    finally:
        with django_db_blocker.unblock():
            for organization in SandboxOrganization.objects.filter(pk__in=[ORG_A_ID, ORG_B_ID]):
                clear_organization(organization)
                organization.delete()


@pytest.fixture
def identifiers(
    org_a: Organization,
    org_b: Organization,
    sandbox_upstream: RecordingTransport,
    seeded_sandbox: Organisations,
) -> Organisations:
    return seeded_sandbox


def _ask(client: Client, probe: Probe, ids: Identifiers, render: str) -> tuple[int, str]:
    url = probe.url(ids)
    headers = PARTIAL_HEADERS[render]
    if probe.method == "post":
        response = client.post(url, probe.data(ids) if probe.data else {}, headers=headers)
    else:
        response = client.get(url, headers=headers)
    return response.status_code, response.getvalue().decode()  # streamed (the export) or not


ROLES = [Role.VIEWER, Role.AGENT, Role.ADMIN]
PROBE_PARAMS = [pytest.param(probe, id=probe.name) for probe in PROBES]


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("render", list(PARTIAL_HEADERS))
@pytest.mark.parametrize("probe", PROBE_PARAMS)
def test_another_organisations_data_is_never_shown(
    client: Client,
    org_a: Organization,
    identifiers: Organisations,
    sandbox_upstream: RecordingTransport,
    role: str,
    render: str,
    probe: Probe,
) -> None:
    foreign = identifiers.foreign
    client.force_login(make_member(org_a, role))

    status, text = _ask(client, probe, foreign, render)

    if status == 200 and probe.may_answer_empty:
        # The search term itself is echoed back; B's case must not be listed or linked.
        assert reverse("cases:detail", args=[foreign.case_number]) not in text
        rows = text.splitlines()
        assert not any(row.startswith(f"{foreign.case_number},") for row in rows)  # CSV
        assert foreign.debtor_name not in text
    else:
        assert status in probe.denied_with
        assert foreign.debtor_name not in text
    assert foreign.identification_number not in text
    for request in sandbox_upstream.requests:
        assert foreign.organization_id not in str(request.url), "asked the upstream about B"
    assert all(
        request.url.path.startswith(f"/sandbox/collection/v1/orgs/{org_a.amili_id}/")
        for request in sandbox_upstream.requests
        if "/orgs/" in request.url.path
    )


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("render", list(PARTIAL_HEADERS))
@pytest.mark.parametrize("probe", PROBE_PARAMS)
def test_the_same_probe_shows_the_organisations_own_data(
    client: Client,
    org_a: Organization,
    identifiers: Organisations,
    role: str,
    render: str,
    probe: Probe,
) -> None:
    own = identifiers.own
    client.force_login(make_member(org_a, role))

    status, text = _ask(client, probe, own, render)

    if (probe.needs_can_act and role == Role.VIEWER) or (probe.needs_admin and role != Role.ADMIN):
        assert status == 403
        assert own.identification_number not in text
    else:
        assert status == 200
        assert probe.shows(own) in text


# --- A tab of another organisation ----------------------------------------------------------------
# A member of both organisations switched to A in one tab while another tab still shows B. That
# tab's htmx requests name B (X-Dashboard-Organization, dashboard/organisation_stamp.py): every
# probe must answer with a reload of the whole tab, with no data of either organisation and no
# upstream call, whatever the request aimed at.

STALE_TAB_RENDERS = [
    render for render in PARTIAL_HEADERS if render.startswith("htmx") and "history" not in render
]


@pytest.mark.parametrize("render", STALE_TAB_RENDERS)
@pytest.mark.parametrize("probe", PROBE_PARAMS)
def test_a_tab_of_another_organisation_is_reloaded_never_answered(
    client: Client,
    org_a: Organization,
    org_b: Organization,
    identifiers: Organisations,
    sandbox_upstream: RecordingTransport,
    render: str,
    probe: Probe,
) -> None:
    user = make_member(org_a, Role.ADMIN)
    Membership.objects.create(user=user, organization=org_b, role=Role.ADMIN)
    client.force_login(user)
    session = client.session
    session[SESSION_ORGANIZATION_KEY] = org_a.pk  # switched to A in the other tab
    session.save()
    sandbox_upstream.requests.clear()
    headers = {**PARTIAL_HEADERS[render], ORGANIZATION_HEADER: str(org_b.pk)}
    ids = identifiers.foreign  # what the tab of B shows
    url = probe.url(ids)

    if probe.method == "post":
        response = client.post(url, probe.data(ids) if probe.data else {}, headers=headers)
    else:
        response = client.get(url, headers=headers)

    assert response.headers.get("HX-Refresh") == "true"
    text = response.getvalue().decode()
    for shown in (identifiers.foreign, identifiers.own):
        assert shown.debtor_name not in text
        assert shown.identification_number not in text
    assert sandbox_upstream.requests == []
