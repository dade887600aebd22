"""The security log: logins, logouts, refusals and reveals; never a password or a number."""

import uuid

import pytest
from django.contrib.auth.models import User
from django.test import Client

from dashboard.models import Organization, Role
from dashboard.security import log_security_event
from sandbox.models import SandboxOrganization
from tests.support.people import logged_in, make_member
from tests.support.sandbox_data import add_case, add_debtor
from tests.support.security_log import security_lines

CASE_NUMBER = 1000001
DEBTOR_ID = "5b1f7c5e-9a51-4c9b-8f0d-000000000001"
NATIONAL_ID = "01019012345"


@pytest.fixture
def case_with_debtor(sandbox_a: SandboxOrganization) -> None:
    case = add_case(sandbox_a, CASE_NUMBER)
    add_debtor(case, debtor_id=uuid.UUID(DEBTOR_ID), identification_number=NATIONAL_ID)


def test_a_login_through_the_form_is_logged_by_user_id_without_the_password(
    org_a: Organization,
) -> None:
    user = make_member(org_a, Role.AGENT, "kari")
    with security_lines() as lines:
        response = Client().post("/accounts/login/", {"username": "kari", "password": "pw-12345!"})
    assert response.status_code == 302
    assert lines == [f"event=login user_id={user.pk} address=127.0.0.1 route=login"]


def test_a_viewers_refused_reveal_is_logged(org_a: Organization, case_with_debtor: None) -> None:
    viewer = logged_in(org_a, Role.VIEWER)
    with security_lines() as lines:
        response = viewer.post(f"/cases/{CASE_NUMBER}/", {"debtor": DEBTOR_ID})
    assert response.status_code == 403
    (line,) = lines
    assert line.startswith("event=refused user_id=")
    assert f"organization_id={org_a.pk} method=POST reason=PermissionDenied" in line
    assert line.endswith("route=cases:detail")


def test_a_refused_organisation_switch_is_logged(client_a: Client, org_b: Organization) -> None:
    with security_lines() as lines:
        response = client_a.post("/organization/switch/", {"organization": str(org_b.pk)})
    assert response.status_code == 403
    (line,) = lines
    assert line.startswith("event=refused")
    assert "route=switch_organization" in line


def test_a_reveal_is_logged_without_the_number(
    client_a: Client, agent_a: User, org_a: Organization, case_with_debtor: None
) -> None:
    with security_lines() as lines:
        response = client_a.post(f"/cases/{CASE_NUMBER}/", {"debtor": DEBTOR_ID})
    assert response.status_code == 200
    assert NATIONAL_ID in response.content.decode()
    assert lines == [
        f"event=identification_revealed user_id={agent_a.pk} organization_id={org_a.pk} "
        f"case={CASE_NUMBER} address=127.0.0.1 route=cases:detail"
    ]
    assert not [line for line in lines if NATIONAL_ID in line or DEBTOR_ID in line]


def test_a_reveal_that_finds_no_debtor_is_not_logged_as_one(
    client_a: Client, case_with_debtor: None
) -> None:
    with security_lines() as lines:
        response = client_a.post(f"/cases/{CASE_NUMBER}/", {"debtor": str(uuid.uuid4())})
    assert response.status_code == 404
    assert lines == []


@pytest.mark.parametrize(
    "value",
    ["a\nevent=login user_id=1", "tab\there", "nul\x00", "line\u2028sep", 'quote" and space'],
)
def test_no_value_can_forge_a_line(value: str) -> None:
    with security_lines() as lines:
        log_security_event("test", {"value": value})
    (line,) = lines
    assert "\n" not in line
    assert "\x00" not in line
    assert "\u2028" not in line
    assert "\t" not in line
    assert line.startswith('event=test value="')
    assert line.count('"') - line.count('\\"') == 2  # one quoted value, nothing breaks out
