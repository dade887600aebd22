"""Writing the audit trail for reveals and exports (actions write theirs in cases.action_views).

Each function records one thing as it happens, in the organisation of the request. Nothing here
logs what it records: the entry is the record, and the values in it (a debtor's name, an export's
search term) are for the organisation's administrators, not for log files. An export's search
terms that are personal data (an e-mail, a phone or an identification number) are not kept at all.
"""

import dataclasses
import logging
from collections.abc import Callable, Iterable, Iterator
from datetime import date
from typing import Any

from django.db import DatabaseError

from cases import autocollect
from cases.models import AuditEntry, AuditKind, Outcome
from dashboard.http import OrganizationRequest
from dashboard.personal_data import REDACTED, looks_personal

logger = logging.getLogger(__name__)


def _entry(request: OrganizationRequest, **fields: Any) -> AuditEntry:
    return AuditEntry.objects.create(
        organization=request.organization,
        user=request.user,
        username=request.user.get_username(),
        **fields,
    )


def record_reveal(
    request: OrganizationRequest,
    *,
    case: autocollect.Case,
    debtor: autocollect.Debtor,
    position: int,
    customer_number: str = "",
) -> AuditEntry:
    """An identification number was shown: whose, on which case; never the number itself."""
    return _entry(
        request,
        kind=AuditKind.REVEAL,
        outcome=Outcome.SHOWN,
        case_id=case.case_id,
        case_number=case.case_number,
        debtor_id=debtor.debtor_id[:64],
        debtor_position=position,
        debtor_name=debtor.display_name[:300],
        customer_number=customer_number[:100],
    )


def export_filters(filters: autocollect.CaseFilters) -> dict[str, str | int]:
    """The filters an export used, as the entry keeps them: only those set, dates as ISO text.

    A typed value that is personal data (an e-mail address, a phone or identification number:
    dashboard/personal_data.py) is kept as "[personal data]" (REDACTED): the entry says such a
    search was made, and the trail holds no national id or phone number, as a reveal's entry
    never holds the number it showed.
    """
    kept: dict[str, str | int] = {}
    for name, value in dataclasses.asdict(filters).items():
        if value is None or value == "":
            continue
        if isinstance(value, date):
            kept[name] = value.isoformat()
        elif isinstance(value, str) and looks_personal(value):
            kept[name] = REDACTED
        else:
            kept[name] = value
    return kept


def audited_export(
    request: OrganizationRequest,
    filters: autocollect.CaseFilters,
    cases: Iterable[autocollect.Case],
    write: Callable[[Iterable[autocollect.Case]], Iterator[str]],
) -> Iterator[str]:
    """The export's lines, recorded: who and which filters at once, how many rows at the end.

    The entry is written before the first line and completed when the stream ends, however it
    ends: every row sent, the upstream stopping part-way (``write`` then ends the file with a
    line saying so), or the download being cancelled (the server closes the stream).
    """
    entry = _entry(
        request, kind=AuditKind.EXPORT, outcome=Outcome.STARTED, filters=export_filters(filters)
    )
    return _recorded_lines(entry, cases, write)


def audited_audit_export[Row](
    request: OrganizationRequest,
    filters: dict[str, str | int],
    entries: Iterable[Row],
    write: Callable[[Iterable[Row]], Iterator[str]],
) -> Iterator[str]:
    """The audit trail's own export is audited too: it is a copy of personal data leaving."""
    entry = _entry(request, kind=AuditKind.AUDIT_EXPORT, outcome=Outcome.STARTED, filters=filters)
    return _recorded_lines(entry, entries, write)


@dataclasses.dataclass
class _Progress:
    rows: int = 0
    finished: bool = False
    upstream_stopped: bool = False


def _counted[Row](rows: Iterable[Row], progress: _Progress) -> Iterator[Row]:
    try:
        for row in rows:
            progress.rows += 1
            yield row
    except autocollect.AutoCollectError:
        progress.upstream_stopped = True
        raise
    progress.finished = True


def _recorded_lines[Row](
    entry: AuditEntry,
    rows: Iterable[Row],
    write: Callable[[Iterable[Row]], Iterator[str]],
) -> Iterator[str]:
    progress = _Progress()
    try:
        yield from write(_counted(rows, progress))
    finally:
        if progress.finished:
            entry.outcome = Outcome.COMPLETE
        elif progress.upstream_stopped:
            entry.outcome = Outcome.INCOMPLETE
        else:
            entry.outcome = Outcome.INTERRUPTED
        entry.row_count = progress.rows
        try:
            entry.save(update_fields=["outcome", "row_count", "updated_at"])
        except DatabaseError as error:
            # The file is already on its way; losing its row count must not break the stream.
            logger.error("audit: an export's row count was not saved (%s)", type(error).__name__)
