"""The audit trail: reveals and exports are recorded, and /audit/ shows the organisation's own.

Actions record theirs in tests/test_case_actions.py. Here: an identification number shown names
its debtor and never holds the number; an export records who, which filters and how many rows
however it ends; /audit/ is for administrators, filtered, paged and exported, one organisation's.
"""

import csv
import io
import json
import re
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any, cast

import httpx
import pytest
from django.contrib.auth.models import User
from django.http import StreamingHttpResponse
from django.test import Client
from django.urls import reverse

from cases import autocollect
from cases.models import AuditEntry, AuditKind, Outcome
from dashboard.models import Organization, Role
from sandbox.models import SandboxOrganization
from sandbox.seeding import seed_organization
from tests.support.pages import text_of
from tests.support.people import make_member
from tests.support.sandbox_data import (
    DEBTOR_ID,
    NATIONAL_ID,
    add_case,
    add_debtor,
)
from tests.support.transport import RecordingTransport

CASE_NUMBER = 5_200_001
AUDIT_URL = "/audit/"
AUDIT_EXPORT_URL = "/audit/export.csv"


def english(user: User) -> Client:
    client = Client(headers={"Accept-Language": "en"})
    client.force_login(user)
    return client


def entry_values(entry: AuditEntry) -> list[str]:
    """Every value the entry holds, as text: what must never contain the revealed number."""
    return [str(getattr(entry, field.attname)) for field in AuditEntry._meta.concrete_fields]


def add_entry(organization: Organization, **fields: Any) -> AuditEntry:
    values: dict[str, Any] = {
        "username": "kari",
        "kind": AuditKind.ACTION,
        "outcome": Outcome.SUCCEEDED,
        "action": "pause",
        "case_number": CASE_NUMBER,
        "case_id": str(uuid.uuid4()),
        **fields,
    }
    return AuditEntry.objects.create(organization=organization, **values)


def csv_rows(response: Any) -> list[list[str]]:
    assert isinstance(response, StreamingHttpResponse)
    body = b"".join(cast(Iterator[bytes], response.streaming_content)).decode("utf-8-sig")
    return list(csv.reader(io.StringIO(body)))


# --- Reveals ------------------------------------------------------------------------------------


def test_a_reveal_on_the_case_page_names_the_debtor_never_the_number(
    agent_a: User, org_a: Organization, sandbox_a: SandboxOrganization
) -> None:
    case = add_case(sandbox_a, CASE_NUMBER)
    add_debtor(case, debtor_id=str(uuid.uuid4()), full_name="Ola Nordmann", position=0)
    add_debtor(case, position=1)

    response = english(agent_a).post(
        reverse("cases:detail", args=[CASE_NUMBER]), {"debtor": DEBTOR_ID}
    )

    assert NATIONAL_ID in response.content.decode()
    entry = AuditEntry.objects.get(organization=org_a, kind=AuditKind.REVEAL)
    assert (entry.debtor_id, entry.debtor_position, entry.debtor_name) == (
        DEBTOR_ID,
        2,
        "Kari Nordmann",
    )
    assert (entry.case_id, entry.case_number) == (str(case.pk), CASE_NUMBER)
    assert entry.username == agent_a.username
    assert entry.outcome == Outcome.SHOWN
    assert not any(NATIONAL_ID in value for value in entry_values(entry))
    assert json.loads(response.headers["HX-Trigger"]) == {
        "auditRecorded": {"caseNumber": CASE_NUMBER}
    }


def test_a_reveal_on_the_debtor_page_is_recorded_with_the_customer(
    agent_a: User, org_a: Organization, sandbox_a: SandboxOrganization
) -> None:
    case = add_case(sandbox_a, CASE_NUMBER)
    add_debtor(case)

    english(agent_a).post(reverse("cases:debtor", args=["K-1001"]), {"debtor": DEBTOR_ID})

    entry = AuditEntry.objects.get(organization=org_a, kind=AuditKind.REVEAL)
    assert (entry.customer_number, entry.debtor_name, entry.case_number) == (
        "K-1001",
        "Kari Nordmann",
        CASE_NUMBER,
    )
    assert not any(NATIONAL_ID in value for value in entry_values(entry))


def test_a_refused_reveal_records_nothing(viewer_a: User, sandbox_a: SandboxOrganization) -> None:
    add_debtor(add_case(sandbox_a, CASE_NUMBER))

    response = english(viewer_a).post(
        reverse("cases:detail", args=[CASE_NUMBER]), {"debtor": DEBTOR_ID}
    )

    assert response.status_code == 403
    assert not AuditEntry.objects.exists()


# --- Exports ------------------------------------------------------------------------------------


@pytest.fixture
def seeded_a(org_a: Organization, sandbox_upstream: RecordingTransport) -> int:
    """Organisation A with 250 cases: three pages of the export's walk."""
    seed_organization(uuid.UUID(str(org_a.amili_id)), org_a.name, cases=250, seed=5)
    return 250


def test_an_export_records_who_which_filters_and_how_many_rows(
    agent_a: User, org_a: Organization, seeded_a: int
) -> None:
    response = english(agent_a).get(
        reverse("cases:export"), {"status": "OPEN", "q": "nordmann", "from": "2020-01-01"}
    )
    rows = csv_rows(response)

    entry = AuditEntry.objects.get(organization=org_a, kind=AuditKind.EXPORT)
    assert entry.outcome == Outcome.COMPLETE
    assert entry.row_count == len(rows) - 1  # the header is no row
    assert entry.filters == {
        "status": "OPEN",
        "search_term": "nordmann",
        "created_from": "2020-01-01",
    }
    assert entry.username == agent_a.username
    assert entry.case_number is None


def test_an_export_the_upstream_cut_short_is_recorded_as_incomplete(
    agent_a: User,
    org_a: Organization,
    seeded_a: int,
    sandbox_upstream: RecordingTransport,
) -> None:
    class SecondPageFails(httpx.BaseTransport):
        def handle_request(self, request: httpx.Request) -> httpx.Response:
            if "PageToken" in request.url.params:
                raise httpx.ReadTimeout("slow", request=request)
            return sandbox_upstream.handle_request(request)

    autocollect.use_transport(SecondPageFails())

    rows = csv_rows(english(agent_a).get(reverse("cases:export")))

    assert rows[-1][0].startswith("# EXPORT INCOMPLETE")
    entry = AuditEntry.objects.get(organization=org_a, kind=AuditKind.EXPORT)
    assert (entry.outcome, entry.row_count) == (Outcome.INCOMPLETE, 100)


def test_a_cancelled_download_is_recorded_as_interrupted(
    agent_a: User, org_a: Organization, seeded_a: int
) -> None:
    response = english(agent_a).get(reverse("cases:export"))
    assert isinstance(response, StreamingHttpResponse)
    lines = iter(cast(Iterator[bytes], response.streaming_content))
    next(lines)  # the header
    next(lines)  # one row
    # The browser went away: the server stops reading and closes the stream. Django's test client
    # wraps the stream so that closing it closes the response without request_finished closing
    # the test's own database connection (response.close() alone would, on PostgreSQL).
    response._iterator.close()

    entry = AuditEntry.objects.get(organization=org_a, kind=AuditKind.EXPORT)
    assert entry.outcome == Outcome.INTERRUPTED
    assert entry.row_count is not None
    assert 1 <= entry.row_count < 250


# --- /audit/ ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("role", "status"), [(Role.VIEWER, 403), (Role.AGENT, 403), (Role.ADMIN, 200)]
)
@pytest.mark.parametrize("url", [AUDIT_URL, AUDIT_EXPORT_URL])
def test_only_administrators_may_read_the_audit_trail(
    org_a: Organization, role: str, status: int, url: str
) -> None:
    add_entry(org_a)
    response = english(make_member(org_a, role)).get(url)
    assert response.status_code == status


def test_the_audit_trail_shows_only_the_organisations_own_entries(
    admin_a: User, org_a: Organization, org_b: Organization
) -> None:
    add_entry(org_a, username="kari-a", reason_code="PAYMENT_PLAN", reason_text="Plan")
    add_entry(org_b, username="ola-b", debtor_name="Ola i B")

    html = english(admin_a).get(AUDIT_URL).content.decode()

    assert "kari-a" in html
    assert "Payment plan agreed with the debtor: Plan" in text_of(html)
    assert "ola-b" not in html
    assert "Ola i B" not in html


def test_the_audit_trail_filters_by_person_action_case_outcome_and_date(
    admin_a: User, org_a: Organization
) -> None:
    base = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
    add_entry(org_a, username="kari", action="pause", case_number=1, created_at=base)
    add_entry(org_a, username="ola", action="withdraw", case_number=2, created_at=base)
    add_entry(
        org_a,
        username="kari",
        kind=AuditKind.REVEAL,
        action="",
        outcome=Outcome.SHOWN,
        case_number=3,
        debtor_name="Per Hansen",
        created_at=base - timedelta(days=5),
    )
    add_entry(org_a, username="kari", action="pause", case_number=4, outcome=Outcome.REFUSED,
              created_at=base + timedelta(days=5))  # fmt: skip
    admin = english(admin_a)

    def shown(query: dict[str, str]) -> set[int]:
        html = admin.get(AUDIT_URL, query).content.decode()
        return {int(n) for n in re.findall(r'href="/cases/(\d+)/"', html)}

    assert shown({}) == {1, 2, 3, 4}
    assert shown({"person": "ola"}) == {2}
    assert shown({"what": "pause"}) == {1, 4}
    assert shown({"what": "reveal"}) == {3}
    assert shown({"what": "action"}) == {1, 2, 4}
    assert shown({"case": "2"}) == {2}
    assert shown({"outcome": "refused"}) == {4}
    assert shown({"from": "2026-03-10", "to": "2026-03-10"}) == {1, 2}
    assert shown({"from": "2026-03-11"}) == {4}
    assert shown({"person": "kari", "what": "pause"}) == {1, 4}


@pytest.mark.parametrize(
    "query",
    [{"case": "abc"}, {"case": "0"}, {"from": "2026-03-02", "to": "2026-03-01"}, {"what": "nuke"},
     {"person": "nobody"}, {"from": "9999-01-01"}],
)  # fmt: skip
def test_invalid_audit_filters_are_a_400_with_the_form_kept(
    admin_a: User, org_a: Organization, query: dict[str, str]
) -> None:
    add_entry(org_a)
    admin = english(admin_a)

    assert admin.get(AUDIT_URL, query).status_code == 400
    assert admin.get(AUDIT_EXPORT_URL, query).status_code == 400


def test_the_audit_trail_is_paged_with_its_state_in_the_url(
    admin_a: User, org_a: Organization
) -> None:
    base = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
    for number in range(1, 61):
        add_entry(org_a, case_number=number, created_at=base + timedelta(minutes=number))
    admin = english(admin_a)

    first = admin.get(AUDIT_URL, {"what": "pause"}).content.decode()
    second = admin.get(AUDIT_URL, {"what": "pause", "page": "2"}).content.decode()
    partial = admin.get(
        AUDIT_URL,
        {"what": "pause", "page": "2"},
        headers={"HX-Request": "true", "HX-Target": "audit-results"},
    ).content.decode()

    assert "Showing 1 to 50 of 60" in text_of(first)
    assert 'href="?what=pause&amp;page=2"' in first
    assert "Showing 51 to 60 of 60" in text_of(second)
    assert 'href="/cases/10/"' in second
    assert 'href="/cases/11/"' not in second
    assert partial.lstrip().startswith('<section id="audit-results"')
    assert text_of(partial) in text_of(second)
    assert admin.get(AUDIT_URL, {"page": "999"}).status_code == 200  # the last page


def test_the_audit_trail_exports_as_csv_and_records_its_own_export(
    admin_a: User, org_a: Organization
) -> None:
    add_entry(org_a, username="kari", reason_code="OTHER", reason_text="=HYPERLINK(evil)")
    add_entry(org_a, username="ola", action="withdraw")

    response = english(admin_a).get(AUDIT_EXPORT_URL, {"person": "kari"})
    rows = csv_rows(response)

    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert rows[0][:3] == ["Time", "Person", "Kind"]
    assert len(rows) == 2
    row = dict(zip(rows[0], rows[1], strict=True))
    assert (row["Person"], row["Action"], row["Case number"]) == ("kari", "pause", str(CASE_NUMBER))
    assert row["Explanation"] == "'=HYPERLINK(evil)"  # never a formula in a spreadsheet
    export = AuditEntry.objects.get(organization=org_a, kind=AuditKind.AUDIT_EXPORT)
    assert (export.outcome, export.row_count, export.filters) == (
        Outcome.COMPLETE,
        1,
        {"person": "kari"},
    )
