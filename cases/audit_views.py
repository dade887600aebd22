"""The organisation's audit trail for its administrators: /audit/ and its CSV export.

Filters are a form bound to the query string (person, what, case number, outcome, date range),
paging is Django's Paginator with the state in the URL, and the export streams the same
selection. Agents and viewers get a 403 before anything is read; every query starts from the
request's organisation.
"""

import csv
import json
from collections.abc import Iterable, Iterator
from datetime import date
from typing import Any, Final, cast

from django import forms
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db.models import QuerySet
from django.http import HttpResponse, StreamingHttpResponse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe
from django.views.decorators.vary import vary_on_headers

from cases.actions import ACTIONS
from cases.audit import audited_audit_export
from cases.autocollect import MAX_CASE_NUMBER, MIN_CASE_NUMBER
from cases.export import BYTE_ORDER_MARK, neutralise
from cases.forms import EARLIEST_DATE, LATEST_DATE
from cases.models import AuditEntry, AuditKind, Outcome
from dashboard.htmx import render_page
from dashboard.http import OrganizationRequest
from dashboard.models import Role

TEMPLATE: Final = "cases/audit_list.html"
RESULTS_ID: Final = "audit-results"
PARTIALS: Final = {RESULTS_ID: "results"}
PAGE_SIZE: Final = 50
USERNAME_MAX_LENGTH: Final = 150

# "from" is a Python keyword: two fields have a Python name and another URL name.
URL_NAMES: Final = {"date_from": "from", "date_to": "to"}
FILTER_NAMES: Final = ("person", "what", "case", "outcome", "from", "to")

CSV_HEADER: Final = (
    "Time",
    "Person",
    "Kind",
    "Action",
    "Case number",
    "Case id",
    "Outcome",
    "Reason",
    "Explanation",
    "Upstream status",
    "Batch id",
    "Idempotency key",
    "Debtor id",
    "Debtor position",
    "Debtor name",
    "Customer number",
    "Filters",
    "Rows",
    "Message",
)


def _what_choices() -> list[tuple[str, Any]]:
    kinds = [(AuditKind.REVEAL.value, AuditKind.REVEAL.label)]
    kinds += [(AuditKind.EXPORT.value, AuditKind.EXPORT.label)]
    kinds += [(AuditKind.AUDIT_EXPORT.value, AuditKind.AUDIT_EXPORT.label)]
    return [
        ("", _("Everything")),
        (AuditKind.ACTION.value, _("Any case action")),
        *((slug, spec.label) for slug, spec in ACTIONS.items()),
        *kinds,
    ]


class _DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        super().__init__(attrs=attrs, format="%Y-%m-%d")


_DATE_VALIDATORS: Final = [
    MinValueValidator(EARLIEST_DATE, message=_("Enter a date between 1900 and 2100.")),
    MaxValueValidator(LATEST_DATE, message=_("Enter a date between 1900 and 2100.")),
]


class AuditFilterForm(forms.Form):
    person = forms.ChoiceField(label=_("Person"), required=False)
    what = forms.ChoiceField(label=_("What"), required=False)
    case = forms.IntegerField(
        label=_("Case number"),
        required=False,
        min_value=MIN_CASE_NUMBER,
        max_value=MAX_CASE_NUMBER,
        widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
    )
    outcome = forms.ChoiceField(
        label=_("Outcome"),
        required=False,
        choices=[("", _("Any outcome")), *Outcome.choices],
    )
    date_from = forms.DateField(
        label=_("From"), required=False, validators=_DATE_VALIDATORS, widget=_DateInput()
    )
    date_to = forms.DateField(
        label=_("To"), required=False, validators=_DATE_VALIDATORS, widget=_DateInput()
    )
    page = forms.IntegerField(required=False, min_value=1, widget=forms.HiddenInput)

    def __init__(self, *args: Any, usernames: Iterable[str] = (), **kwargs: Any) -> None:
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)
        person = cast(forms.ChoiceField, self.fields["person"])
        person.choices = [("", _("Anyone")), *((name, name) for name in usernames)]
        what = cast(forms.ChoiceField, self.fields["what"])
        what.choices = _what_choices()

    def add_prefix(self, field_name: str) -> str:
        return super().add_prefix(URL_NAMES.get(field_name, field_name))

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        start, end = cleaned.get("date_from"), cleaned.get("date_to")
        if start and end and end < start:
            self.add_error("date_to", _("The end date is before the start date."))
        return cleaned

    def narrow(self, entries: QuerySet[AuditEntry]) -> QuerySet[AuditEntry]:
        """The entries the filters select; call only after is_valid()."""
        data = self.cleaned_data
        if data["person"]:
            entries = entries.filter(username=data["person"])
        what = data["what"]
        if what in ACTIONS:
            entries = entries.filter(kind=AuditKind.ACTION, action=what)
        elif what:
            entries = entries.filter(kind=what)
        if data["case"] is not None:
            entries = entries.filter(case_number=data["case"])
        if data["outcome"]:
            entries = entries.filter(outcome=data["outcome"])
        if data["date_from"]:
            entries = entries.filter(created_at__date__gte=data["date_from"])
        if data["date_to"]:
            entries = entries.filter(created_at__date__lte=data["date_to"])
        return entries

    def as_record(self) -> dict[str, str | int]:
        """The filters set, for the audit entry of an export of the trail."""
        kept: dict[str, str | int] = {}
        for name in ("person", "what", "case", "outcome", "date_from", "date_to"):
            value = self.cleaned_data.get(name)
            if value not in (None, ""):
                kept[name] = value.isoformat() if isinstance(value, date) else value
        return kept


def _require_admin(request: OrganizationRequest) -> None:
    if request.membership.role != Role.ADMIN:
        raise PermissionDenied("Only the organisation's administrators may read its audit trail")


def _organisation_entries(request: OrganizationRequest) -> QuerySet[AuditEntry]:
    return AuditEntry.objects.filter(organization=request.organization)


def _form(request: OrganizationRequest) -> AuditFilterForm:
    usernames = (
        _organisation_entries(request)
        .order_by("username")
        .values_list("username", flat=True)
        .distinct()
    )
    return AuditFilterForm(request.GET, usernames=list(usernames))


@require_safe
@never_cache
@vary_on_headers("HX-Request", "HX-Target")
def audit_list(request: OrganizationRequest) -> HttpResponse:
    """The audit trail, newest first, filtered and paged; the URL holds every state."""
    _require_admin(request)
    form = _form(request)
    context: dict[str, Any] = {
        "form": form,
        "page": None,
        "clear_filters": dict.fromkeys((*FILTER_NAMES, "page")),
    }
    if not form.is_valid():
        return render_page(
            request, TEMPLATE, context, partials=PARTIALS, default=RESULTS_ID, status=400
        )
    entries = form.narrow(_organisation_entries(request)).select_related("user")
    paginator = Paginator(entries.order_by("-created_at", "-pk"), PAGE_SIZE)
    context["page"] = paginator.get_page(form.cleaned_data["page"])
    return render_page(request, TEMPLATE, context, partials=PARTIALS, default=RESULTS_ID)


@require_safe
@never_cache
def audit_export(request: OrganizationRequest) -> HttpResponse | StreamingHttpResponse:
    """The filtered audit trail as CSV, streamed; the export itself is recorded."""
    _require_admin(request)
    form = _form(request)
    if not form.is_valid():
        lines = [str(_("The export was not started: the filters are not valid."))]
        for name, errors in form.errors.items():
            lines.extend(f"{name}: {error}" for error in errors)
        return HttpResponse(
            "\n".join(lines) + "\n", status=400, content_type="text/plain; charset=utf-8"
        )
    entries = form.narrow(_organisation_entries(request)).order_by("-created_at", "-pk")
    rows = entries.iterator(chunk_size=500)
    stream = audited_audit_export(request, form.as_record(), rows, _csv_lines)
    response = StreamingHttpResponse(stream, content_type="text/csv; charset=utf-8")
    filename = f"audit-{timezone.localdate().isoformat()}.csv"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


class _LineBuffer:
    def write(self, text: str) -> str:
        return text


def _csv_lines(entries: Iterable[AuditEntry]) -> Iterator[str]:
    writer = csv.writer(_LineBuffer(), lineterminator="\r\n")
    yield BYTE_ORDER_MARK + str(writer.writerow(CSV_HEADER))
    for entry in entries:
        yield str(writer.writerow(_csv_row(entry)))


def _csv_row(entry: AuditEntry) -> list[str]:
    """One entry as cells; text people typed or the upstream sent cannot run as a formula."""
    filters = json.dumps(entry.filters, ensure_ascii=False, sort_keys=True) if entry.filters else ""
    return [
        timezone.localtime(entry.created_at).isoformat(timespec="seconds"),
        neutralise(entry.username),
        entry.kind,
        entry.action,
        _optional(entry.case_number),
        neutralise(entry.case_id),
        entry.outcome,
        entry.reason_code,
        neutralise(entry.reason_text),
        _optional(entry.upstream_status),
        neutralise(entry.batch_id),
        _optional(entry.idempotency_key),
        neutralise(entry.debtor_id),
        _optional(entry.debtor_position),
        neutralise(entry.debtor_name),
        neutralise(entry.customer_number),
        neutralise(filters),
        _optional(entry.row_count),
        neutralise(entry.message),
    ]


def _optional(value: object) -> str:
    return "" if value is None else str(value)
