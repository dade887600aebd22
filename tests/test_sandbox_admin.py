"""Staff manage the sandbox in the Django admin: an organisation's fault is set there."""

import uuid
from datetime import UTC, datetime

import pytest
from django.contrib.auth.models import User
from django.test import Client

from sandbox.models import Case, SandboxOrganization
from sandbox.seeding import seed_organization

ORG_ID = uuid.UUID("9d8c7b6a-5f4e-4d3c-8b2a-1f0e9d8c7b6a")


@pytest.fixture
def staff(client: Client, db: None) -> Client:
    client.force_login(User.objects.create_superuser("root", password="pw-12345!"))
    seed_organization(ORG_ID, "Adminvik AS", 5, seed=1, now=datetime(2025, 6, 2, tzinfo=UTC))
    return client


def test_the_sandbox_pages_render_in_the_admin(staff: Client) -> None:
    case = Case.objects.filter(organization_id=ORG_ID).first()
    assert case is not None
    for url in (
        "/admin/sandbox/sandboxorganization/",
        f"/admin/sandbox/sandboxorganization/{ORG_ID}/change/",
        "/admin/sandbox/case/",
        f"/admin/sandbox/case/{case.pk}/change/",
        "/admin/sandbox/batch/",
    ):
        assert staff.get(url).status_code == 200, url


def test_an_organisations_fault_is_set_from_its_admin_page(staff: Client) -> None:
    organization = SandboxOrganization.objects.get(pk=ORG_ID)
    response = staff.post(
        f"/admin/sandbox/sandboxorganization/{ORG_ID}/change/",
        {
            "name": organization.name,
            "organization_number": organization.organization_number,
            "creditor_id": str(organization.creditor_id),
            "creditor_number": organization.creditor_number,
            "fault": "503",
        },
    )
    assert response.status_code == 302
    organization.refresh_from_db()
    assert organization.fault == "503"
