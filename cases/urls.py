from django.urls import path, register_converter

from cases import links, views

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


register_converter(CaseNumberConverter, "case_number")
register_converter(CustomerNumberConverter, "customer_number")

urlpatterns = [
    path("cases/", views.case_list, name="list"),
    path("cases/export.csv", views.case_export, name="export"),
    path("cases/<case_number:case_number>/", views.case_detail, name="detail"),
    path("debtors/<customer_number:customer_number>/", views.debtor_detail, name="debtor"),
]
