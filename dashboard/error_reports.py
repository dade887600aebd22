"""Technical error pages (DEBUG) and error reports (mail_admins) without personal values.

Django's own filter works only outside DEBUG and only on what is marked sensitive; the demo runs
with DEBUG on and any role may meet its technical 500 page, which would show identification
numbers among a traceback's local variables. Settings name these classes in
DEFAULT_EXCEPTION_REPORTER_FILTER and DEFAULT_EXCEPTION_REPORTER; Django imports them while it
configures logging, before the app registry is ready, so this module imports no models.
"""

import re
from collections.abc import ItemsView
from typing import Any, Final

from django.http import HttpRequest
from django.views.debug import ExceptionReporter, SafeExceptionReporterFilter

from dashboard.personal_data import redact

# Local variables of these types cannot hold a person: they stay readable on a technical page.
_HARMLESS_TYPES: Final = (bool, type(None))
_LARGEST_HARMLESS_INT: Final = 9_999_999  # seven digits: a case number, never a phone or an id


class PersonalDataReporterFilter(SafeExceptionReporterFilter):
    """Blank out every value that may carry personal data, in development (DEBUG) too.

    Django's filter only works outside DEBUG and only on what is marked sensitive; the demo runs
    with DEBUG on and any role may meet its technical 500 page. So: every local variable (names
    kept; values shown only for None, booleans and numbers too short to be a phone or an id),
    every GET and POST value, every cookie and every request header value.
    """

    hidden_settings = re.compile(
        "API|AUTH|TOKEN|KEY|SECRET|PASS|SIGNATURE|HTTP_COOKIE|LOCATION|URL|DSN", flags=re.I
    )

    def is_active(self, request: HttpRequest | None) -> bool:
        return True

    def get_traceback_frame_variables(
        self, request: HttpRequest | None, tb_frame: Any
    ) -> ItemsView[str, Any]:
        return {name: self._cleansed(value) for name, value in tb_frame.f_locals.items()}.items()

    def _cleansed(self, value: object) -> object:
        if isinstance(value, _HARMLESS_TYPES):
            return value
        if type(value) is int and abs(value) <= _LARGEST_HARMLESS_INT:
            return value
        return self.cleansed_substitute

    def get_post_parameters(self, request: HttpRequest | None) -> Any:
        if request is None:
            return {}
        return dict.fromkeys(request.POST, self.cleansed_substitute)

    def get_safe_request_meta(self, request: HttpRequest | None) -> dict[str, Any]:
        if request is None or not hasattr(request, "META"):
            return {}
        return dict.fromkeys(request.META, self.cleansed_substitute)

    def get_safe_cookies(self, request: HttpRequest | None) -> dict[str, Any]:
        if request is None or not hasattr(request, "COOKIES"):
            return {}
        return dict.fromkeys(request.COOKIES, self.cleansed_substitute)


class _ReportedRequest:
    """What the technical page shows of a request: method and path, personal values redacted."""

    def __init__(self, request: HttpRequest) -> None:
        self.path_info = redact(request.path_info)
        self.META = {"REQUEST_METHOD": request.META.get("REQUEST_METHOD", "")}
        self.GET = request.GET
        self.FILES = request.FILES
        self.COOKIES = request.COOKIES


class PersonalDataExceptionReporter(ExceptionReporter):
    """The technical 500 page and error e-mails without personal values.

    Beside the filter's work: the request's URL loses its query string and the path its
    personal-looking parts, query values are blanked, and the exception's message (which often
    quotes the value that failed) has e-mails and long numbers replaced.
    """

    def get_traceback_data(self) -> dict[str, Any]:
        data: dict[str, Any] = super().get_traceback_data()
        substitute = SafeExceptionReporterFilter.cleansed_substitute
        if self.request is not None:
            data["request"] = _ReportedRequest(self.request)
            data["request_insecure_uri"] = redact(
                f"{self.request.scheme}://{_raw_host(self.request)}{self.request.path}"
            )
            data["request_GET_items"] = [(name, substitute) for name in self.request.GET]
            data["request_FILES_items"] = [(name, substitute) for name in self.request.FILES]
        if data.get("user_str"):
            data["user_str"] = redact(str(data["user_str"]))
        for key in ("exception_value", "exception_notes", "unicode_hint"):
            if data.get(key):
                data[key] = redact(str(data[key]))
        for frame in data.get("frames", []):
            if frame.get("exc_cause") is not None:  # a chained exception's message
                frame["exc_cause"] = redact(str(frame["exc_cause"]))
        return data


def _raw_host(request: HttpRequest) -> str:
    """The host the request named, unchecked: get_host() would raise for a disallowed one."""
    host: str = request.META.get("HTTP_HOST") or request.META.get("SERVER_NAME", "")
    return host
