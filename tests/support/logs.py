"""The deployment's whole logging configuration, captured: what an operator's files would hold.

`deployment_logging` applies dashboard.logs.logging_config the way settings do (JSON or text,
the security and audit streams in files of their own) and makes it settings.LOGGING, so a
django.setup() during the test (the in-process sandbox's WSGI application runs one) applies it
again. The app stream's stderr is a buffer meanwhile: anything written there, by any handler, is
what an operator's log would hold. The suite's own configuration is put back afterwards.
"""

import io
import json
import logging
import logging.config
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from unittest import mock

from django.conf import settings
from django.test import override_settings

from dashboard.logs import logging_config


@dataclass
class CapturedLogs:
    app: io.StringIO
    security_file: Path
    audit_file: Path

    def text(self, stream: str = "app") -> str:
        if stream == "app":
            return self.app.getvalue()
        for handler in logging.getLogger(_LOGGER_OF[stream]).handlers:
            handler.flush()
        path = self.security_file if stream == "security" else self.audit_file
        return path.read_text(encoding="utf-8") if path.exists() else ""

    def lines(self, stream: str = "app") -> list[str]:
        return self.text(stream).splitlines()

    def all_lines(self) -> list[str]:
        return [line for stream in ("app", "security", "audit") for line in self.lines(stream)]

    def entries(self, stream: str = "app") -> list[dict[str, Any]]:
        """Every line of a JSON stream, parsed (fails if one is not a JSON object)."""
        entries = [json.loads(line) for line in self.lines(stream)]
        assert all(isinstance(entry, dict) for entry in entries)
        return entries

    def requests(self) -> list[dict[str, Any]]:
        """The request log's entries."""
        return [e for e in self.entries() if e["logger"] == "dashboard.requests"]


_LOGGER_OF = {"security": "dashboard.security", "audit": "cases.audit"}


@contextmanager
def deployment_logging(directory: Path, log_format: str = "json") -> Iterator[CapturedLogs]:
    captured = CapturedLogs(
        app=io.StringIO(),
        security_file=directory / "security.log",
        audit_file=directory / "audit.log",
    )
    config = logging_config(
        log_format=log_format,
        level="INFO",
        security_file=str(captured.security_file),
        audit_file=str(captured.audit_file),
    )
    try:
        with mock.patch.object(sys, "stderr", captured.app), override_settings(LOGGING=config):
            logging.config.dictConfig(config)
            yield captured
    finally:
        logging.config.dictConfig(settings.LOGGING)
