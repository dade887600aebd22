"""Fault injection and latency, so tests, demos and benchmarks can watch the dashboard cope.

A fault comes from, in this order: the request header `X-Sandbox-Fault` (one answer), the setting
`SANDBOX_FAULT` (every collection-API answer), the setting `SANDBOX_FAULT_RATE` (that fraction of
collection-API answers, each failing with a fault drawn at random: the soak test's chaos) or the
organisation's `fault` field (that organisation's answers). Settings are read per request so
tests can override them.
"""

import random
import time

from django.conf import settings
from django.http import HttpRequest, HttpResponse

from sandbox.models import Fault
from sandbox.problems import problem

FAULT_HEADER = "X-Sandbox-Fault"
RETRY_AFTER_SECONDS = 1  # [ours] short, so a client honouring it keeps tests quick
TIMEOUT_CAP_SECONDS = 15.0
FAULT_KINDS = frozenset(Fault.values)
SORTED_FAULT_KINDS = tuple(sorted(FAULT_KINDS))  # a fixed order, so a seeded draw repeats
_draw = random.Random()  # chaos, not security: which answers fail need not be unpredictable
# Truncated mid-string: a client that trusts the status code and content type will choke on it.
MALFORMED_BODY = b'{"data": [{"caseId": "af51d69f-996a-4891-a745-aad'


class UnknownFault(ValueError):
    """A fault name that is not one of FAULT_KINDS."""


def fault_from_header(request: HttpRequest) -> str | None:
    """The one-answer fault the request asks for, if any (UnknownFault for a typo)."""
    return _checked(request.headers.get(FAULT_HEADER, ""), FAULT_HEADER)


def fault_from_settings() -> str | None:
    """The fault SANDBOX_FAULT imposes on every collection-API answer, if any."""
    return _checked(str(getattr(settings, "SANDBOX_FAULT", "") or ""), "SANDBOX_FAULT")


def fault_from_rate(draw: random.Random | None = None) -> str | None:
    """A fault for SANDBOX_FAULT_RATE of the answers, each kind as likely as the others."""
    rate = float(getattr(settings, "SANDBOX_FAULT_RATE", 0.0) or 0.0)
    if rate <= 0:
        return None
    draw = draw or _draw
    if draw.random() >= rate:
        return None
    return draw.choice(SORTED_FAULT_KINDS)


def _checked(value: str, source: str) -> str | None:
    kind = value.strip().lower()
    if not kind:
        return None
    if kind not in FAULT_KINDS:
        raise UnknownFault(
            f"{source} is {value!r}; it must be one of {', '.join(sorted(FAULT_KINDS))}."
        )
    return kind


def add_latency() -> None:
    """Sleep SANDBOX_LATENCY_MS before answering."""
    latency_ms = int(getattr(settings, "SANDBOX_LATENCY_MS", 0) or 0)
    if latency_ms > 0:
        time.sleep(latency_ms / 1000)


def timeout_seconds() -> float:
    """Longer than the client waits (AUTOCOLLECT_TIMEOUT + 1 s), never more than 15 s."""
    return min(float(settings.AUTOCOLLECT_TIMEOUT) + 1.0, TIMEOUT_CAP_SECONDS)


def expired_token_response() -> HttpResponse:
    """Exactly what a genuinely expired token gets."""
    return problem(
        401,
        "The access token has expired.",
        headers={
            "WWW-Authenticate": 'Bearer error="invalid_token", '
            'error_description="The access token has expired"'
        },
    )


def fault_response(kind: str) -> HttpResponse:
    """The failing answer for one fault kind."""
    retry_after = {"Retry-After": str(RETRY_AFTER_SECONDS)}
    match kind:
        case Fault.SERVER_ERROR:
            return problem(500, "The sandbox was told to fail (fault 500).")
        case Fault.UNAVAILABLE:
            return problem(503, "The service is unavailable; try again later.", headers=retry_after)
        case Fault.RATE_LIMITED:
            return problem(429, "Too many requests; slow down.", headers=retry_after)
        case Fault.TIMEOUT:
            time.sleep(timeout_seconds())
            return problem(504, "The upstream did not answer in time.")
        case Fault.MALFORMED:
            return HttpResponse(MALFORMED_BODY, status=200, content_type="application/json")
        case Fault.EXPIRED_TOKEN:
            return expired_token_response()
    raise UnknownFault(kind)
