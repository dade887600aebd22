import re

from django.urls import path, register_converter

from cases import action_views, audit_views, links, views
from cases.actions import ACTIONS

app_name = "cases"


class CaseNumberConverter:
    """A case number the upstream can hold: a positive 64-bit integer. Others are a 404 here."""

    regex = "[0-9]{1,19}"

    def to_python(self, value: str) -> int:
        number = int(value)
        if not links.is_case_number(number):
            raise ValueError("not a case number")  # the URL does not match: 404
        return number

    def to_url(self, value: int) -> str:
        return str(value)


class CustomerNumberConverter:
    """Any customer number, "/" and newlines included.

    Django decodes %2F before routing, so the number cases.links.debtor_url encoded as one
    segment arrives here as a path that may hold several; the built-in `path` converter would
    also refuse a newline.
    """

    regex = r"[\s\S]+"

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value


class ActionConverter:
    """One of the catalogue's action slugs (cases.actions); any other is a 404."""

    regex = "(?:" + "|".join(re.escape(slug) for slug in ACTIONS) + ")"

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value


class BatchIdConverter:
    """A batch id the upstream gave, as one plain path segment."""

    regex = action_views.BATCH_ID_PATTERN

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value


register_converter(CaseNumberConverter, "case_number")
register_converter(ActionConverter, "action_slug")
register_converter(BatchIdConverter, "batch_reference")
register_converter(CustomerNumberConverter, "customer_number")

urlpatterns = [
    path("cases/", views.case_list, name="list"),
    path("cases/export.csv", views.case_export, name="export"),
    path("cases/total/", views.case_list_total, name="list_total"),
    path("cases/<case_number:case_number>/", views.case_detail, name="detail"),
    path(
        "cases/<case_number:case_number>/actions/<action_slug:action>/",
        action_views.action_confirm,
        name="action",
    ),
    path(
        "cases/<case_number:case_number>/actions/batches/<batch_reference:batch_id>/",
        action_views.action_batch,
        name="action_batch",
    ),
    path("debtors/<customer_number:customer_number>/", views.debtor_detail, name="debtor"),
    path("audit/", audit_views.audit_list, name="audit"),
    path("audit/export.csv", audit_views.audit_export, name="audit_export"),
]
