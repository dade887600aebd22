"""Set up the demo: two organisations with sandbox data and three logins. Safe to run twice."""

from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.core.management import call_command
from django.core.management.base import BaseCommand
from django.db import transaction

from dashboard.models import Membership, Organization, Role

# Stable UUIDs, so bookmarks and tests survive a reseed.
DEMO_ORGANIZATIONS = (
    ("8d1f6f0e-3c2a-4f7b-9a51-6b2c0e4d1a01", "Fjordhus Eiendom AS"),
    ("8d1f6f0e-3c2a-4f7b-9a51-6b2c0e4d1a02", "Nordlys Energi AS"),
)
DEMO_CASES_PER_ORGANIZATION = 3000
DEMO_SEED = 2026

# username, password, role in the first organisation, role in the second (None: not a member)
DEMO_ACCOUNTS = (
    ("demo", "demo", Role.ADMIN, Role.ADMIN),
    ("agent", "agent", Role.AGENT, None),
    ("viewer", "viewer", Role.VIEWER, None),
)


class Command(BaseCommand):
    help = "Seed the sandbox's demo organisations (when the dashboard uses it) and the demo logins."

    def handle(self, *args: Any, **options: Any) -> None:
        if settings.AUTOCOLLECT_USES_EMBEDDED_SANDBOX:
            org_args = [
                arg for org_id, name in DEMO_ORGANIZATIONS for arg in ("--org", f"{org_id}={name}")
            ]
            call_command(
                "seed_sandbox",
                *org_args,
                "--cases",
                str(DEMO_CASES_PER_ORGANIZATION),
                "--seed",
                str(DEMO_SEED),
                stdout=self.stdout,
            )
        else:
            self.stdout.write("AUTOCOLLECT_API_URL is set: the sandbox's data is left alone.")
        self._create_accounts()

    @transaction.atomic
    def _create_accounts(self) -> None:
        organizations = [
            Organization.objects.update_or_create(amili_id=org_id, defaults={"name": name})[0]
            for org_id, name in DEMO_ORGANIZATIONS
        ]
        self.stdout.write(f"\nDemo logins (http://127.0.0.1:{settings.PORT}/):")
        for username, password, *roles in DEMO_ACCOUNTS:
            user, created = User.objects.get_or_create(username=username)
            if created:
                user.set_password(password)
                user.save()
            for organization, role in zip(organizations, roles, strict=True):
                if role is not None:
                    Membership.objects.update_or_create(
                        user=user, organization=organization, defaults={"role": role}
                    )
            where = ", ".join(
                f"{role} in {org.name}"
                for org, role in zip(organizations, roles, strict=True)
                if role
            )
            self.stdout.write(f"  {username} / {password}  ({where})")
        if settings.DEBUG:
            # The demo admin may also open the Django admin (organisations, sandbox faults).
            User.objects.filter(username="demo").update(is_staff=True, is_superuser=True)
