"""RFC 9457 problem+json answers, shaped the way an ASP.NET upstream writes them [ours]."""

import secrets
from collections.abc import Mapping, Sequence
from http import HTTPStatus

from django.http import JsonResponse

PROBLEM_CONTENT_TYPE = "application/problem+json"

_TYPES = {
    400: "https://tools.ietf.org/html/rfc9110#section-15.5.1",
    401: "https://tools.ietf.org/html/rfc9110#section-15.5.2",
    403: "https://tools.ietf.org/html/rfc9110#section-15.5.4",
    404: "https://tools.ietf.org/html/rfc9110#section-15.5.5",
    405: "https://tools.ietf.org/html/rfc9110#section-15.5.6",
    409: "https://tools.ietf.org/html/rfc9110#section-15.5.10",
    422: "https://tools.ietf.org/html/rfc9110#section-15.5.21",
    429: "https://tools.ietf.org/html/rfc6585#section-4",
    500: "https://tools.ietf.org/html/rfc9110#section-15.6.1",
    503: "https://tools.ietf.org/html/rfc9110#section-15.6.4",
    504: "https://tools.ietf.org/html/rfc9110#section-15.6.5",
}
VALIDATION_TITLE = "One or more validation errors occurred."

FieldErrors = Mapping[str, Sequence[str]]


def new_trace_id() -> str:
    """A W3C trace-context id, the form ASP.NET puts in `traceId`."""
    return f"00-{secrets.token_hex(16)}-{secrets.token_hex(8)}-00"


def problem(
    status: int,
    detail: str,
    *,
    title: str | None = None,
    errors: FieldErrors | None = None,
    headers: Mapping[str, str] | None = None,
) -> JsonResponse:
    """A problem+json answer; `errors` ({field: [messages]}) is present on 400s."""
    body: dict[str, object] = {
        "type": _TYPES.get(status, "about:blank"),
        "title": title or HTTPStatus(status).phrase,
        "status": status,
        "detail": detail,
        "traceId": new_trace_id(),
    }
    if status == 400:
        body["errors"] = {field: list(messages) for field, messages in (errors or {}).items()}
    response = JsonResponse(body, status=status, content_type=PROBLEM_CONTENT_TYPE)
    for name, value in (headers or {}).items():
        response[name] = value
    return response


def validation_problem(errors: FieldErrors) -> JsonResponse:
    """400 naming each offending field."""
    fields = ", ".join(errors)
    return problem(400, f"Invalid value for {fields}.", title=VALIDATION_TITLE, errors=errors)
