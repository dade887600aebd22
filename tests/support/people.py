"""The dashboard's two test organisations and their members."""

from django.contrib.auth.models import User
from django.test import Client

from dashboard.models import Membership, Organization

ORG_A_ID = "1f0c6a52-5c7e-4b55-9d0a-0000000000a1"
ORG_B_ID = "1f0c6a52-5c7e-4b55-9d0a-0000000000b2"
ORG_A_NAME = "Bergen Boliger AS"
ORG_B_NAME = "Tromsø Kraft AS"


def make_member(organization: Organization, role: str, username: str | None = None) -> User:
    user = User.objects.create_user(username or f"{role}-{organization.pk}", password="pw-12345!")
    Membership.objects.create(user=user, organization=organization, role=role)
    return user


def logged_in(organization: Organization, role: str) -> Client:
    """A browser session of a new member of `organization` with `role`."""
    client = Client()
    client.force_login(make_member(organization, role))
    return client
