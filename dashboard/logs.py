"""Logging: one line per record that no input can forge, and a request id on every line.

Every record becomes exactly one line, either a JSON object (`LOG_FORMAT=json`, production's
default) or `key=value` text for a developer's terminal (`LOG_FORMAT=text`, development's
default). Newlines, NUL and every other control or line-separator character in a message, an
argument or a traceback is escaped, so a path like `/accounts/login/%0a<a fake audit entry>`
cannot start a line of its own.

Three streams, each its own handler, so an operator can ship, keep and restrict them apart:

    app       everything else: requests, the upstream client, Django, gunicorn     stderr
    security  logins, lockouts, refused authorisations, Django's security checks   SECURITY_LOG_FILE
    audit     what users did with personal data (identification numbers shown)     AUDIT_LOG_FILE

A stream without its file goes to stderr too, told apart by its `stream` field.

The request a line belongs to comes from a context variable the request log middleware sets
(dashboard/middleware.py): `RequestIdFilter` copies its id onto every record, whichever logger
wrote it, and `UpstreamCallCounter` adds each upstream exchange the AutoCollect client logs to the
request's totals for its one request line. This module imports nothing from Django: gunicorn's
master process formats its own lines with it (dashboard/gunicorn.conf.py).
"""

from __future__ import annotations

import json
import logging
import re
import secrets
import unicodedata
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final

LOG_FORMATS: Final = ("json", "text")
LOG_LEVELS: Final = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
STREAMS: Final = ("app", "security", "audit")

# An incoming X-Request-ID is kept only if it looks like an id: short and plain. Anything else is
# replaced, so a header can neither flood a line nor smuggle text into it.
REQUEST_ID_PATTERN: Final = re.compile(r"[A-Za-z0-9._-]{1,64}")

# The attributes every LogRecord has; anything else on a record came in through `extra=`.
_RECORD_ATTRIBUTES: Final = frozenset(logging.makeLogRecord({}).__dict__) | {
    "message",
    "asctime",
    "request_id",
    "stream",
}
# Control characters (C0, DEL, C1), invisible format characters (bidi overrides, which can make
# text read differently on screen) and Unicode's line and paragraph separators, which some
# readers split lines on.
_UNSAFE_CATEGORIES: Final = frozenset({"Cc", "Cf", "Zl", "Zp"})
_SHORT_ESCAPES: Final = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}
# The route of a request no URL pattern matched (or that was answered before any was tried).
UNRESOLVED_ROUTE: Final = "<unresolved>"
# Values that need no quotes in key=value text.
_PLAIN_VALUE: Final = re.compile(r"[A-Za-z0-9._:/<>@+-]+")


# --------------------------------------------------------------------------------------------
# The request a log line belongs to
# --------------------------------------------------------------------------------------------


@dataclass(slots=True)
class RequestContext:
    """What the log knows about the request being served: its id and its upstream calls."""

    request_id: str
    upstream_calls: int = 0
    upstream_ms: float = 0.0


_current: ContextVar[RequestContext | None] = ContextVar("dashboard_request", default=None)


@contextmanager
def request_context(context: RequestContext) -> Iterator[RequestContext]:
    """Make `context` the current request's for the lines logged inside the block."""
    token = _current.set(context)
    try:
        yield context
    finally:
        _current.reset(token)


def current_request() -> RequestContext | None:
    return _current.get()


def request_id_from_header(value: str | None) -> str | None:
    """The incoming X-Request-ID (a proxy's, say) if it is a plain short token, else None."""
    if value is not None and REQUEST_ID_PATTERN.fullmatch(value):
        return value
    return None


def new_request_id() -> str:
    return secrets.token_hex(16)


# --------------------------------------------------------------------------------------------
# Filters
# --------------------------------------------------------------------------------------------


class RequestIdFilter(logging.Filter):
    """Put the current request's id on a record (None outside a request).

    Django logs an error response ("Gateway Timeout: ...") after the middleware has returned,
    so outside the request's context: such a record names its request, which carries the id.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        context = _current.get()
        if context is not None:
            record.request_id = context.request_id
        else:
            request_id = getattr(getattr(record, "request", None), "request_id", None)
            record.request_id = request_id if isinstance(request_id, str) else None
        return True


class StreamFilter(logging.Filter):
    """Name the stream a handler writes, on each record it writes."""

    def __init__(self, stream: str) -> None:
        super().__init__()
        self.stream = stream

    def filter(self, record: logging.LogRecord) -> bool:
        record.stream = self.stream
        return True


class UpstreamCallCounter(logging.Filter):
    """Add each upstream exchange the AutoCollect client logs to the current request's totals.

    Sits on the client's logger: the client logs every attempt with `upstream_ms` (see
    cases/autocollect/transport.py), so that logger must stay at INFO for the counts to be right.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        elapsed = getattr(record, "upstream_ms", None)
        context = _current.get()
        # dictConfig adds a logger's filters without removing old ones: after a second
        # configuration (django.setup() again) a record would be counted twice.
        if context is not None and isinstance(elapsed, int | float) and not _counted(record):
            context.upstream_calls += 1
            context.upstream_ms += float(elapsed)
        return True


def _counted(record: logging.LogRecord) -> bool:
    """Whether the record was counted already; marks it counted."""
    counted = getattr(record, "_upstream_counted", False)
    record._upstream_counted = True
    return bool(counted)


class RouteNotPathFilter(logging.Filter):
    """Django's "Internal Server Error: <path>" names the route instead: a path can hold a
    customer number, and the route is what a developer looks up anyway."""

    def filter(self, record: logging.LogRecord) -> bool:
        request = getattr(record, "request", None)
        path = getattr(request, "path", None)
        if path is not None and isinstance(record.args, tuple):
            route = route_of(request)
            record.args = tuple(route if arg == path else arg for arg in record.args)
        return True


def route_of(request: object) -> str:
    """The URL pattern a request matched, e.g. `cases/<int:case_number>/`; never its path."""
    match = getattr(request, "resolver_match", None)
    if match is not None:
        return str(match.route) or "/"
    return UNRESOLVED_ROUTE


# --------------------------------------------------------------------------------------------
# Escaping and formatting
# --------------------------------------------------------------------------------------------


def escape_controls(text: str) -> str:
    """`text` with every control, format and line-separator character written as an escape."""
    if text.isprintable() and text.isascii():
        return text  # the common case, cheaply
    return "".join(_escaped(char) for char in text)


def _escaped(char: str) -> str:
    if unicodedata.category(char) not in _UNSAFE_CATEGORIES:
        return char
    if char in _SHORT_ESCAPES:
        return _SHORT_ESCAPES[char]
    code = ord(char)
    if code <= 0xFF:
        return f"\\x{code:02x}"
    if code <= 0xFFFF:
        return f"\\u{code:04x}"
    return f"\\U{code:08x}"


def _json_escaped(char: str) -> str:
    """A JSON string escape for one unsafe character (a surrogate pair beyond the BMP)."""
    code = ord(char)
    if code <= 0xFFFF:
        return f"\\u{code:04x}"
    code -= 0x10000
    return f"\\u{0xD800 + (code >> 10):04x}\\u{0xDC00 + (code & 0x3FF):04x}"


def _json_line(entry: dict[str, Any]) -> str:
    """One JSON object on one line: json escapes C0 controls; the rest are escaped here."""
    text = json.dumps(entry, ensure_ascii=False, default=str, separators=(",", ":"))
    if text.isascii():
        return text
    return "".join(
        _json_escaped(char) if unicodedata.category(char) in _UNSAFE_CATEGORIES else char
        for char in text
    )


def _timestamp(record: logging.LogRecord) -> str:
    moment = datetime.fromtimestamp(record.created, tz=UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _message(record: logging.LogRecord) -> str:
    try:
        return record.getMessage()
    except (TypeError, ValueError):  # arguments that do not fit the message: keep both
        return f"unformattable log message {record.msg!r} with arguments {record.args!r}"


def extra_fields(record: logging.LogRecord) -> dict[str, str | int | float | bool | None]:
    """The plain values a caller passed with `extra=`; objects (a request, say) are left out,
    since their text may hold anything, a query string included."""
    return {
        name: value
        for name, value in record.__dict__.items()
        if name not in _RECORD_ATTRIBUTES
        and not name.startswith("_")
        and (value is None or isinstance(value, str | int | float | bool))
    }


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, stream, request_id, message, extras."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": _timestamp(record),
            "level": record.levelname,
            "logger": record.name,
            "stream": getattr(record, "stream", "app"),
            "request_id": getattr(record, "request_id", None),
            "message": _message(record),
        }
        for name, value in extra_fields(record).items():
            entry.setdefault(name, value)
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        return _json_line(entry)


class TextFormatter(logging.Formatter):
    """`time level logger [request id] message key=value ...`, every part escaped.

    A traceback follows on lines of its own, each starting with `    | `: a line that starts
    otherwise is always the start of a record, so not even an exception's message can fake one.
    """

    def format(self, record: logging.LogRecord) -> str:
        request_id = getattr(record, "request_id", None) or "-"
        parts = [
            _timestamp(record),
            record.levelname,
            record.name,
            f"[{escape_controls(str(request_id))}]",
            escape_controls(_message(record)),
        ]
        stream = getattr(record, "stream", "app")
        if stream != "app":
            parts.append(f"stream={stream}")
        parts += [f"{name}={_text_value(value)}" for name, value in extra_fields(record).items()]
        line = " ".join(parts)
        details = []
        if record.exc_info:
            details.append(self.formatException(record.exc_info))
        if record.stack_info:
            details.append(self.formatStack(record.stack_info))
        for detail in details:
            line += "".join(f"\n    | {escape_controls(part)}" for part in detail.split("\n"))
        return line


def _text_value(value: str | int | float | bool | None) -> str:
    if value is None:
        return "-"
    text = str(value)
    if _PLAIN_VALUE.fullmatch(text):
        return text
    return escape_controls(json.dumps(text, ensure_ascii=False))


# --------------------------------------------------------------------------------------------
# The configuration: settings.LOGGING, and gunicorn's own loggers
# --------------------------------------------------------------------------------------------

_FORMATTERS: Final = {
    "json": {"()": "dashboard.logs.JsonFormatter"},
    "text": {"()": "dashboard.logs.TextFormatter"},
}


def _handler(stream: str, log_format: str, file: str) -> dict[str, Any]:
    """A stream's handler: its file if it has one (reopened when logrotate moves it), else
    stderr."""
    handler: dict[str, Any] = {
        "formatter": log_format,
        "filters": ["request_id", f"stream_{stream}"],
    }
    if file:
        return {
            **handler,
            "class": "logging.handlers.WatchedFileHandler",
            "filename": file,
            "encoding": "utf-8",
            "delay": True,
        }
    return {**handler, "class": "logging.StreamHandler", "stream": "ext://sys.stderr"}


def _base_config(log_format: str, files: dict[str, str]) -> dict[str, Any]:
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": _FORMATTERS,
        "filters": {
            "request_id": {"()": "dashboard.logs.RequestIdFilter"},
            **{
                f"stream_{stream}": {"()": "dashboard.logs.StreamFilter", "stream": stream}
                for stream in STREAMS
            },
            "upstream_calls": {"()": "dashboard.logs.UpstreamCallCounter"},
            "route_not_path": {"()": "dashboard.logs.RouteNotPathFilter"},
        },
        "handlers": {
            **{stream: _handler(stream, log_format, files.get(stream, "")) for stream in STREAMS},
            "null": {"class": "logging.NullHandler"},
        },
    }


def logging_config(
    *, log_format: str, level: str, security_file: str = "", audit_file: str = ""
) -> dict[str, Any]:
    """settings.LOGGING: every logger into one of the three streams; nothing logs a query string.

    Loggers propagate to the root (the app stream) unless they belong to another stream. Three
    would otherwise print a URL with its query: runserver's own access line (`django.server`,
    silenced: the request log middleware logs each request, by route), httpx's request line at
    INFO (kept at WARNING) and Django's "Not Found: <path>" warnings (`django.request` logs
    errors only, by route).
    """
    config = _base_config(log_format, {"security": security_file, "audit": audit_file})
    security = {"handlers": ["security"], "level": "INFO", "propagate": False}
    config["root"] = {"handlers": ["app"], "level": level}
    config["loggers"] = {
        # Django's own defaults add a console handler (plain text, unescaped) in DEBUG and
        # e-mails to ADMINS otherwise: replaced by the root's handler.
        "django": {"handlers": [], "level": level, "propagate": True},
        "django.server": {"handlers": ["null"], "propagate": False},
        "django.request": {"level": "ERROR", "filters": ["route_not_path"]},
        # SQL with its parameters (personal data) stays out even at LOG_LEVEL=DEBUG.
        "django.db.backends": {"level": "INFO"},
        "django.security": security,
        "dashboard.security": security,
        "axes": security,
        "cases.audit": {"handlers": ["audit"], "level": "INFO", "propagate": False},
        # INFO: the request log counts upstream calls from these records.
        "cases.autocollect": {"level": "INFO", "filters": ["upstream_calls"]},
        "httpx": {"level": "WARNING"},
        "httpcore": {"level": "WARNING"},
    }
    return config


def gunicorn_logging_config(*, log_format: str, level: str) -> dict[str, Any]:
    """gunicorn's `logconfig_dict`: its own lines in the same format, on the app stream.

    Its access log stays off: the request log middleware writes one line per request, without
    the query string gunicorn's access line would carry.
    """
    config = _base_config(log_format, {})
    config["root"] = {"handlers": ["app"], "level": level}
    config["loggers"] = {
        "gunicorn.error": {"handlers": ["app"], "level": level, "propagate": False},
        "gunicorn.access": {"handlers": ["null"], "propagate": False},
    }
    return config
