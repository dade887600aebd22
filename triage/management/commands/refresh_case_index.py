"""Bring the case index up to date: what a systemd timer (or cron) runs. See docs/case-index.md.

    manage.py refresh_case_index            new cases of every organisation (incremental)
    manage.py refresh_case_index --full     every case, marking vanished ones; then purge
    manage.py refresh_case_index --org UUID one organisation (repeatable)
    manage.py refresh_case_index --enqueue  hand the work to the task workers and return

Without --enqueue the work runs in this process, so the exit status says whether it succeeded
(1 when any organisation failed; the others are still synced).
"""

import uuid
from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from cases import autocollect
from dashboard.models import Organization
from triage import sync, tasks


class Command(BaseCommand):
    help = "Sync the local case index from AutoCollect: new cases, or every case with --full."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument(
            "--full",
            action="store_true",
            help="Read every case, mark the ones AutoCollect no longer returns, purge old rows.",
        )
        parser.add_argument(
            "--org",
            action="append",
            type=uuid.UUID,
            default=[],
            metavar="UUID",
            help="Only this organisation (its Amili id); repeat for several. Default: all.",
        )
        parser.add_argument(
            "--enqueue",
            action="store_true",
            help="Enqueue the syncs for the task workers (manage.py db_worker) and return.",
        )

    def handle(self, *args: Any, full: bool, org: list[uuid.UUID], enqueue: bool, **_: Any) -> None:
        organizations = self._organizations(org)
        if enqueue:
            for organization in organizations:
                tasks.sync_case_index.enqueue(organization.pk, full)
            if full and not org:
                tasks.purge_case_index.enqueue()
            self.stdout.write(f"Enqueued the sync of {len(organizations)} organisation(s).")
            return
        failed = [
            organization.name
            for organization in organizations
            if not self._sync(organization, full=full)
        ]
        if full and not org:
            purged = sync.purge_expired()
            self.stdout.write(
                f"Purged {purged.closed_cases} closed and {purged.vanished_cases} vanished "
                f"case(s), {purged.webhook_keys} old webhook key(s)."
            )
        if failed:
            raise CommandError(f"The sync failed for: {', '.join(failed)}", returncode=1)

    def _organizations(self, amili_ids: list[uuid.UUID]) -> list[Organization]:
        if not amili_ids:
            return list(Organization.objects.order_by("pk"))
        found = {o.amili_id: o for o in Organization.objects.filter(amili_id__in=amili_ids)}
        missing = [str(amili_id) for amili_id in amili_ids if amili_id not in found]
        if missing:
            raise CommandError(f"No organisation with the Amili id {', '.join(missing)}.")
        return [found[amili_id] for amili_id in amili_ids]

    def _sync(self, organization: Organization, *, full: bool) -> bool:
        try:
            report = sync.sync_organization(organization, full=full)
        except autocollect.AutoCollectError as error:
            self.stderr.write(f"{organization.name}: failed: {error}")
            return False
        kind = "full refresh" if report.full else "new cases"
        vanished = f", {report.vanished} vanished" if report.full else ""
        self.stdout.write(
            f"{organization.name}: {kind}, {report.cases_read} case(s) read{vanished}, "
            f"{report.seconds:.1f} s"
        )
        return True
