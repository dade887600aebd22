"""How many upstream calls one organisation may have in flight, in this process and in all.

The HTTP client's connection pool (transport.MAX_CONNECTIONS per process), the web server's
threads and the upstream itself are shared by every organisation. Unbounded, one organisation
whose answers are slow fills them and every other organisation waits behind it. So each call
first takes one of its organisation's slots, in two places:

- in this process: a counter per organisation under a lock (a semaphore that never blocks),
  at most settings.AUTOCOLLECT_MAX_IN_FLIGHT_PER_ORGANIZATION;
- across every process and machine: at most
  settings.AUTOCOLLECT_MAX_IN_FLIGHT_PER_ORGANIZATION_CLUSTER slot keys per organisation in the
  shared cache, each taken with an atomic cache.add. A slot key expires by itself a little after
  the longest a call can last (its deadline), so a process that dies holding slots gives them
  back within seconds; a counter would have kept them for ever.

A call that finds no free slot is refused at once with OrganizationBusy (the 503 page, with
Retry-After): waiting would hold the very thread the bound is there to keep free. Nothing is sent
upstream, so a refused action is safe to repeat. 0 switches a bound off.
"""

from __future__ import annotations

import logging
import math
import random
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Final

from django.conf import settings
from django.core.cache import cache

from cases.autocollect.errors import OrganizationBusy
from cases.autocollect.transport import Deadline

logger = logging.getLogger("cases.autocollect")

# Seconds a refused caller is told to wait: one ordinary answer's time, about.
BUSY_RETRY_AFTER: Final = 2
# A slot key outlives its call's deadline by this much before it frees itself.
SLOT_MARGIN_SECONDS: Final = 5


class ProcessSlots:
    """This process's calls in flight, per organisation: a non-blocking counting semaphore."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._in_flight: dict[str, int] = {}

    def take(self, organization_id: str, limit: int) -> bool:
        """Take a slot if fewer than `limit` are taken; False (at once) if not."""
        with self._lock:
            taken = self._in_flight.get(organization_id, 0)
            if taken >= limit:
                return False
            self._in_flight[organization_id] = taken + 1
            return True

    def give_back(self, organization_id: str) -> None:
        with self._lock:
            left = self._in_flight.get(organization_id, 0) - 1
            if left > 0:
                self._in_flight[organization_id] = left
            else:
                self._in_flight.pop(organization_id, None)  # idle organisations take no memory

    def in_flight(self, organization_id: str) -> int:
        with self._lock:
            return self._in_flight.get(organization_id, 0)


_process_slots = ProcessSlots()


@contextmanager
def organization_slot(organization_id: str, deadline: Deadline) -> Iterator[None]:
    """Hold one of the organisation's call slots for the block, or raise OrganizationBusy now.

    The slot is given back however the block ends: an answer, an error or the deadline.
    """
    process_limit = int(settings.AUTOCOLLECT_MAX_IN_FLIGHT_PER_ORGANIZATION)
    slots = _process_slots  # the same object gives back what it gave
    if process_limit > 0 and not slots.take(organization_id, process_limit):
        raise _busy(organization_id, "this process", process_limit)
    try:
        shared_key = _take_shared_slot(organization_id, deadline)
        try:
            yield
        finally:
            if shared_key is not None:
                # The key is ours: it lives longer than the deadline that bounds this call.
                cache.delete(shared_key)
    finally:
        if process_limit > 0:
            slots.give_back(organization_id)


def shared_slot_keys(organization_id: str) -> list[str]:
    """The organisation's slot keys in the shared cache (the organisation first, like every key)."""
    limit = int(settings.AUTOCOLLECT_MAX_IN_FLIGHT_PER_ORGANIZATION_CLUSTER)
    return [f"{organization_id}:autocollect:in-flight:{index}" for index in range(limit)]


def _take_shared_slot(organization_id: str, deadline: Deadline) -> str | None:
    """The key of the shared slot taken, None when there is no cluster-wide bound."""
    keys = shared_slot_keys(organization_id)
    if not keys:
        return None
    # One round trip finds the free slots; a full organisation is refused without more.
    taken = cache.get_many(keys)
    free = [key for key in keys if key not in taken]
    random.shuffle(free)  # concurrent callers rarely race for the same key
    lifetime = math.ceil(deadline.remaining()) + SLOT_MARGIN_SECONDS
    for key in free:
        if cache.add(key, "1", timeout=lifetime):
            return key
    raise _busy(organization_id, "all processes", len(keys))


def _busy(organization_id: str, where: str, limit: int) -> OrganizationBusy:
    # The organisation's id, like the request log's; never what was asked for.
    logger.warning(
        "autocollect: organisation %s already has %d call(s) in flight in %s; call refused",
        organization_id,
        limit,
        where,
    )
    return OrganizationBusy(
        f"This organisation already has {limit} AutoCollect call(s) in flight in {where}",
        retry_after=BUSY_RETRY_AFTER,
    )
