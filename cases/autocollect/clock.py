"""The client's sense of time, in one replaceable object.

Deadlines and backoff use the monotonic clock, token expiry the wall clock (it is shared with
other machines through the cache). Tests install a fake with use_clock(); the tuning itself
(attempts, backoff, limits) comes from settings.
"""

import time
from typing import Protocol


class Clock(Protocol):
    def monotonic(self) -> float: ...

    def time(self) -> float: ...

    def sleep(self, seconds: float) -> None: ...


class SystemClock:
    """The real clocks."""

    def monotonic(self) -> float:
        return time.monotonic()

    def time(self) -> float:
        return time.time()

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)


_SYSTEM: Clock = SystemClock()
_current: Clock = _SYSTEM


def clock() -> Clock:
    """The clock the client reads now."""
    return _current


def use_clock(replacement: Clock | None) -> None:
    """Make the client read this clock (tests); None restores the real one."""
    global _current  # one clock per process, like the HTTP client
    _current = _SYSTEM if replacement is None else replacement
