"""The security log as tests read it: the lines `dashboard.security` wrote during a test."""

import logging
from collections.abc import Iterator
from contextlib import contextmanager

SECURITY_LOGGER = "dashboard.security"


class _Collector(logging.Handler):
    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())


@contextmanager
def security_lines() -> Iterator[list[str]]:
    """Collect the security log's messages, whether or not the logger propagates to the root."""
    logger = logging.getLogger(SECURITY_LOGGER)
    collector = _Collector()
    previous_level = logger.level
    logger.addHandler(collector)
    logger.setLevel(logging.DEBUG)
    try:
        yield collector.lines
    finally:
        logger.removeHandler(collector)
        logger.setLevel(previous_level)
