"""Create or update an organisation, a user and the user's membership in one step."""

import getpass
import sys
import uuid
from argparse import ArgumentParser
from typing import Any

from django.contrib.auth.models import User
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import translation

from dashboard.models import Membership, Organization, Role


class Command(BaseCommand):
    help = (
        "Create or update an organisation (by Amili UUID), a user and their membership. "
        "A new --org-name renames the organisation; --password on an existing user changes it."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--org-id", required=True, help="the organisation's Amili UUID")
        parser.add_argument("--org-name", required=True, help="the organisation's display name")
        parser.add_argument("--username", required=True)
        parser.add_argument("--password", help="prompted for when left out (needs a terminal)")
        parser.add_argument(
            "--password-stdin",
            action="store_true",
            help="read the password from the first line of standard input (for scripts: "
            "unlike --password, it stays out of the shell history and the process list)",
        )
        parser.add_argument("--role", required=True, help=f"one of {', '.join(Role.values)}")

    def handle(self, *args: Any, **options: Any) -> None:
        org_id = _parse_uuid(options["org_id"])
        role = _parse_role(options["role"])
        username: str = options["username"].strip()
        org_name: str = options["org_name"].strip()
        if not username or not org_name:
            raise CommandError("--username and --org-name must not be empty.")
        password: str | None = options["password"]
        if options["password_stdin"]:
            if password is not None:
                raise CommandError("Give --password or --password-stdin, not both.")
            password = _read_password_from_stdin()
        existing_user = User.objects.filter(username=username).first()
        if password is None and existing_user is None:
            password = _prompt_for_password()
        if password is not None:
            # Before anything is written: a refused password leaves everything as it was.
            _check_password(password, existing_user or User(username=username))

        with transaction.atomic():
            organization, _ = Organization.objects.update_or_create(
                amili_id=org_id, defaults={"name": org_name}
            )
            user, user_created = User.objects.get_or_create(username=username)
            if password is not None:
                user.set_password(password)
                user.save()
            Membership.objects.update_or_create(
                user=user, organization=organization, defaults={"role": role}
            )

        verb = "Created" if user_created else "Updated"
        self.stdout.write(
            self.style.SUCCESS(f"{verb} {username}: {role} in {organization.name} ({org_id}).")
        )


def _parse_uuid(value: str) -> uuid.UUID:
    try:
        return uuid.UUID(value)
    except ValueError:
        raise CommandError(f"--org-id must be a UUID, got {value!r}.") from None


def _parse_role(value: str) -> str:
    if value not in Role.values:
        raise CommandError(f"--role must be one of {', '.join(Role.values)}, got {value!r}.")
    return value


def _check_password(password: str, user: User) -> None:
    """Apply AUTH_PASSWORD_VALIDATORS, as Django's own forms do; refusal is one line."""
    with translation.override("en"):  # the command speaks English, whatever the locale
        try:
            validate_password(password, user)
        except ValidationError as error:
            reasons = " ".join(str(message) for message in error.messages)
            raise CommandError(f"The password was refused: {reasons}") from None


def _read_password_from_stdin() -> str:
    password = sys.stdin.readline().rstrip("\r\n")
    if not password:
        raise CommandError("--password-stdin: the first line of standard input is empty.")
    return password


def _prompt_for_password() -> str:
    if not sys.stdin.isatty():
        raise CommandError(
            "No --password given and no terminal to ask on. Pass --password-stdin "
            "and pipe the password in."
        )
    try:
        password = getpass.getpass("Password: ")
        repeated = getpass.getpass("Password (again): ") if password else ""
    except EOFError:  # Ctrl-D at the prompt
        raise CommandError("No password was typed; nothing was changed.") from None
    if not password or password != repeated:
        raise CommandError("The passwords were empty or did not match.")
    return password
