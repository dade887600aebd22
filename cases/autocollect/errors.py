"""The one exception family the client raises: callers never see httpx's."""

from collections.abc import Mapping
from dataclasses import dataclass


class AutoCollectError(Exception):
    """Base of every failure the client reports."""


class UpstreamUnavailable(AutoCollectError):
    """The upstream could not be reached, failed, or answered something unreadable."""

    def __init__(self, message: str, *, retry_after: int | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class OrganizationBusy(UpstreamUnavailable):
    """The organisation already has as many upstream calls in flight as it may; nothing was sent.

    Raised at once, never after waiting, so that one organisation's slow answers cannot hold the
    connections and threads every other organisation needs (see cases.autocollect.fairness).
    """

    def __init__(self, message: str, *, retry_after: int) -> None:
        super().__init__(message, retry_after=retry_after)


class UpstreamTimeout(AutoCollectError):
    """The upstream did not answer within the call's budget (AUTOCOLLECT_TIMEOUT)."""


class RateLimited(AutoCollectError):
    """The upstream asked us to slow down; retry_after is in seconds when it said."""

    def __init__(self, message: str, *, retry_after: int | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class AccessDenied(AutoCollectError):
    """Our credentials may not read this organisation (upstream 403)."""


class NotFound(AutoCollectError):
    """The upstream has no such thing (404, or an empty lookup)."""


class TooManyPages(AutoCollectError):
    """A walk over every page stopped at its page limit (AUTOCOLLECT_MAX_PAGES)."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"AutoCollect still had more pages after {limit}; the walk stopped there")
        self.limit = limit


@dataclass(frozen=True, slots=True)
class Problem:
    """An upstream problem+json answer: why a request was refused."""

    status: int
    title: str
    detail: str
    errors: Mapping[str, tuple[str, ...]]
    trace_id: str


class Rejected(AutoCollectError):
    """The upstream refused the request (400, 409, 422, 423, ...) and said why."""

    def __init__(self, problem: Problem) -> None:
        # The message carries status and title only: details may echo what the user typed.
        super().__init__(f"AutoCollect rejected the request: {problem.status} {problem.title}")
        self.problem = problem


class InvalidPageToken(Rejected):
    """The page token we sent was refused (expired, forged, or from other filters)."""
