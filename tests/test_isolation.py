"""The cross-organisation matrix: no URL, full or partial, shows another organisation's data.

Two sandbox organisations with data; users of every role in organisation A; every URL of the
URLconf that serves organisation data, asked for B's case and customer numbers, as a full page and
as an HTMX partial. Each probe must deny (404, or 403 for a role that may not act) or show nothing
of B's, and no upstream request may carry B's organisation id. A URL added to the URLconf without
an entry in the matrix fails `test_every_url_is_in_the_matrix`.
"""

import uuid
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from cases import views
from dashboard.models import Organization, Role
from sandbox.models import Case as SandboxCase
from sandbox.models import Debtor as SandboxDebtor
from sandbox.seeding import seed_organization
from tests.conftest import make_member
from tests.upstream import RecordingTransport

# URLs that hold no organisation data, each tested where it lives (tests/test_tenancy.py).
ORGANIZATION_NEUTRAL = {"home", "login", "logout", "switch_organization", "set_language", "healthz"}
# Namespaces outside the dashboard's organisation scope: Django's admin (staff only, its own
# permission checks) and the sandbox (the upstream's stand-in, authenticated by bearer token).
OTHER_NAMESPACES = {"admin", "sandbox"}


@dataclass(frozen=True)
class Foreign:
    """Organisation B's identifiers, as a user of A might type or forge them."""

    organization_id: str
    case_number: int
    customer_number: str
    debtor_id: str
    debtor_name: str


@dataclass(frozen=True)
class Probe:
    """One request at a URL with B's identifiers, and the answers that count as denial."""

    method: str
    url: Callable[[Foreign], str]
    data: Callable[[Foreign], dict[str, str]] | None = None
    denied_with: tuple[int, ...] = (404,)
    # When the page answers 200 (a search), it must simply show nothing of B's.
    may_answer_empty: bool = False


MATRIX: dict[str, list[Probe]] = {
    "cases:list": [
        Probe("get", lambda b: f"{reverse('cases:list')}?q={b.case_number}", may_answer_empty=True),
        Probe(
            "get",
            lambda b: f"{reverse('cases:list')}?customer={b.customer_number}",
            may_answer_empty=True,
        ),
    ],
    "cases:export": [
        Probe(
            "get",
            lambda b: f"{reverse('cases:export')}?customer={b.customer_number}",
            may_answer_empty=True,
        ),
    ],
    "cases:detail": [
        Probe("get", lambda b: reverse("cases:detail", args=[b.case_number])),
        Probe(
            "post",
            lambda b: reverse("cases:detail", args=[b.case_number]),
            data=lambda b: {"debtor": b.debtor_id},
            denied_with=(403, 404),  # viewers may not reveal at all
        ),
    ],
    "cases:debtor": [
        Probe("get", lambda b: reverse("cases:debtor", args=[b.customer_number])),
    ],
}

# Every way a page is rendered: in full, as its default partial, as each partial a target names
# (the views pick partials by HX-Target), and as a history restore.
PARTIAL_TARGETS = sorted({*views.PARTIAL_FOR_TARGET, *views.CASE_PARTIALS, *views.DEBTOR_PARTIALS})
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
    assert dashboard_urls == set(MATRIX), (
        "A URL serves organisation data without a cross-organisation probe: add it to MATRIX"
    )


@pytest.fixture
def foreign(
    org_a: Organization, org_b: Organization, sandbox_upstream: RecordingTransport
) -> Foreign:
    seed_organization(uuid.UUID(str(org_a.amili_id)), org_a.name, cases=15, seed=11)
    seed_organization(uuid.UUID(str(org_b.amili_id)), org_b.name, cases=15, seed=12)
    a_customers = set(
        SandboxDebtor.objects.filter(organization_id=org_a.amili_id).values_list(
            "customer_number", flat=True
        )
    )
    debtor = (
        SandboxDebtor.objects.filter(organization_id=org_b.amili_id)
        .exclude(customer_number__in=a_customers)
        .exclude(customer_number="")
        .select_related("case")
        .first()
    )
    assert debtor is not None, "the seed gave B no customer number of its own"
    assert not SandboxCase.objects.filter(
        organization_id=org_a.amili_id, case_number=debtor.case.case_number
    ).exists()
    return Foreign(
        organization_id=str(org_b.amili_id),
        case_number=debtor.case.case_number,
        customer_number=debtor.customer_number,
        debtor_id=str(debtor.debtor_id),
        debtor_name=debtor.full_name,
    )


PROBES = [
    pytest.param(name, index, id=f"{name}-{probe.method}-{index}")
    for name, probes in MATRIX.items()
    for index, probe in enumerate(probes)
]


@pytest.mark.parametrize("role", [Role.VIEWER, Role.AGENT, Role.ADMIN])
@pytest.mark.parametrize("render", list(PARTIAL_HEADERS))
@pytest.mark.parametrize(("url_name", "probe_index"), PROBES)
def test_another_organisations_data_is_never_shown(
    client: Client,
    org_a: Organization,
    foreign: Foreign,
    sandbox_upstream: RecordingTransport,
    role: str,
    render: str,
    url_name: str,
    probe_index: int,
) -> None:
    probe = MATRIX[url_name][probe_index]
    client.force_login(make_member(org_a, role))
    url = probe.url(foreign)
    headers = PARTIAL_HEADERS[render]
    if probe.method == "post":
        response = client.post(url, probe.data(foreign) if probe.data else {}, headers=headers)
    else:
        response = client.get(url, headers=headers)

    text = response.getvalue().decode()  # streamed (the export) or not
    if response.status_code == 200 and probe.may_answer_empty:
        # The search term itself is echoed back; B's case must not be listed or linked.
        assert reverse("cases:detail", args=[foreign.case_number]) not in text
        rows = text.splitlines()
        assert not any(row.startswith(f"{foreign.case_number},") for row in rows)  # CSV
        assert foreign.debtor_name not in text
    else:
        assert response.status_code in probe.denied_with
        assert foreign.debtor_name not in text
    for request in sandbox_upstream.requests:
        assert foreign.organization_id not in str(request.url), "asked the upstream about B"
    assert all(
        request.url.path.startswith(f"/sandbox/collection/v1/orgs/{org_a.amili_id}/")
        for request in sandbox_upstream.requests
        if "/orgs/" in request.url.path
    )
