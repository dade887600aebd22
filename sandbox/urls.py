"""The sandbox's URLs: the token endpoint and the collection API, as the upstream lays them out."""

import re
import uuid

from django.urls import path, re_path, register_converter

from sandbox import views
from sandbox.actions import ACTIONS


class AnyCaseUUIDConverter:
    """A UUID in any letter case, as an ASP.NET route accepts a GUID."""

    regex = "[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"

    def to_python(self, value: str) -> uuid.UUID:
        return uuid.UUID(value)

    def to_url(self, value: uuid.UUID | str) -> str:
        return str(value)


class CaseActionConverter:
    """One of the nine case actions, e.g. `pause` or `eviction-request/accept`."""

    regex = "(?:" + "|".join(re.escape(slug) for slug in ACTIONS) + ")"

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value


register_converter(AnyCaseUUIDConverter, "anyuuid")
register_converter(CaseActionConverter, "case_action")

app_name = "sandbox"
API = "collection/v1/orgs/<anyuuid:organization_id>"
urlpatterns = [
    path("token", views.token, name="token"),
    path(f"{API}/cases", views.cases, name="cases"),
    path(
        f"{API}/cases/<anyuuid:case_id>/<case_action:action>", views.case_action, name="case_action"
    ),
    path(f"{API}/batches/<anyuuid:batch_id>", views.batch, name="batch"),
    path(f"{API}/invoices", views.invoices, name="invoices"),
    path(f"{API}/invoices/<anyuuid:invoice_id>", views.invoice, name="invoice"),
    re_path(r"^collection/v1/(?P<path>.*)$", views.not_found, name="not_found"),
]
