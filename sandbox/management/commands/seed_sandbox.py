"""`manage.py seed_sandbox`: fill the sandbox with deterministic, realistic Norwegian cases."""

import time
import uuid
from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from sandbox import webhooks
from sandbox.models import Case, Fault, SandboxOrganization
from sandbox.seeding import (
    add_new_cases,
    organization_id_for,
    organization_name_for,
    seed_organization,
)


class Command(BaseCommand):
    help = (
        "Seed the AutoCollect sandbox. Without --org, creates --orgs organisations with UUIDs "
        "derived from --seed; with --org UUID=NAME (repeatable), seeds exactly those. An "
        "organisation that already has cases is left alone unless --reset."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument(
            "--orgs", type=int, default=2, help="organisations to create (default 2)"
        )
        parser.add_argument("--cases", type=int, default=1000, help="cases per organisation")
        parser.add_argument(
            "--seed", type=int, default=1, help="random seed (same seed, same data)"
        )
        parser.add_argument(
            "--org",
            action="append",
            default=[],
            metavar="UUID=NAME",
            help="seed this organisation (repeatable); replaces --orgs",
        )
        parser.add_argument(
            "--fault-org",
            action="append",
            default=[],
            metavar="UUID=KIND",
            help=f"make an organisation's answers fail: one of {', '.join(Fault.values)}; "
            "an empty KIND clears it",
        )
        parser.add_argument(
            "--reset", action="store_true", help="delete and reseed organisations that have cases"
        )
        parser.add_argument(
            "--add-cases",
            type=int,
            default=0,
            metavar="N",
            help="register N new open cases in each (already seeded) organisation instead of "
            "seeding it, and send a CASE webhook for each when SANDBOX_WEBHOOK_URL and "
            "SANDBOX_WEBHOOK_SECRET are set (a seed sends none)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["cases"] < 0 or options["orgs"] < 0:
            raise CommandError("--orgs and --cases must not be negative.")
        faults = [_parse_fault(value) for value in options["fault_org"]]
        targets = [_parse_org(value) for value in options["org"]] or [
            (
                organization_id_for(options["seed"], index),
                organization_name_for(options["seed"], index),
            )
            for index in range(options["orgs"])
        ]
        if options["add_cases"] < 0:
            raise CommandError("--add-cases must not be negative.")
        for org_id, name in targets:
            if options["add_cases"]:
                self._add_cases(org_id, name, options["add_cases"], options["seed"])
            else:
                self._seed_one(org_id, name, options["cases"], options["seed"], options["reset"])
        for org_id, kind in faults:
            updated = SandboxOrganization.objects.filter(pk=org_id).update(fault=kind)
            if not updated:
                raise CommandError(f"--fault-org: no sandbox organisation {org_id}; seed it first.")
            self.stdout.write(f"Fault for {org_id}: {kind or 'none'}")

    def _seed_one(self, org_id: uuid.UUID, name: str, cases: int, seed: int, reset: bool) -> None:
        started = time.perf_counter()
        created = seed_organization(org_id, name, cases, seed, reset=reset)
        elapsed = time.perf_counter() - started
        if created or cases == 0:
            self.stdout.write(f"{name}  {org_id}  {created} cases seeded in {elapsed:.1f} s")
            return
        existing = Case.objects.filter(organization_id=org_id).count()
        self.stdout.write(
            f"{name}  {org_id}  already has {existing} cases; left alone (--reset reseeds it)"
        )

    def _add_cases(self, org_id: uuid.UUID, name: str, count: int, seed: int) -> None:
        if not SandboxOrganization.objects.filter(pk=org_id).exists():
            raise CommandError(f"--add-cases: no sandbox organisation {org_id}; seed it first.")
        with webhooks.delivered_at_once():  # this process ends right after
            added = add_new_cases(org_id, count, seed)
        numbers = ", ".join(str(case.case_number) for case in added)
        events = "CASE events sent" if webhooks.is_configured() else "no webhooks configured"
        self.stdout.write(f"{name}  {org_id}  new cases {numbers} ({events})")


def _parse_org(value: str) -> tuple[uuid.UUID, str]:
    raw_id, _, name = value.partition("=")
    if not name.strip():
        raise CommandError(f"--org {value!r}: expected UUID=NAME.")
    return _uuid(raw_id, "--org"), name.strip()


def _parse_fault(value: str) -> tuple[uuid.UUID, str]:
    raw_id, separator, kind = value.partition("=")
    kind = kind.strip().lower()
    if not separator or (kind and kind not in Fault.values):
        raise CommandError(
            f"--fault-org {value!r}: expected UUID=KIND with KIND one of {', '.join(Fault.values)}."
        )
    return _uuid(raw_id, "--fault-org"), kind


def _uuid(raw: str, option: str) -> uuid.UUID:
    try:
        return uuid.UUID(raw.strip())
    except ValueError as error:
        raise CommandError(f"{option}: {raw!r} is not a UUID.") from error
