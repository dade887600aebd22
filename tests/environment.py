"""Loaded by pytest (`-p tests.environment`) before Django reads its settings.

The suite runs with the development configuration: sandbox on, local defaults. The upstream URL
names the in-process sandbox; tests route the client to it through a WSGI transport, and the
browser tests point it at their live server. DATABASE_URL and CACHE_URL pass through, so CI runs
the same suite against PostgreSQL and Redis.
"""

import os
import re

os.environ.setdefault("DEBUG", "true")
os.environ.setdefault("SECRET_KEY", "test-only-secret-key")
os.environ["SANDBOX_ENABLED"] = "true"
os.environ.setdefault("AUTOCOLLECT_API_URL", "http://testserver/sandbox/collection/v1")
os.environ.setdefault("AUTOCOLLECT_TOKEN_URL", "http://testserver/sandbox/token")
os.environ.setdefault("AUTOCOLLECT_CLIENT_ID", "sandbox")
os.environ.setdefault("AUTOCOLLECT_CLIENT_SECRET", "sandbox")
for name in ("SANDBOX_FAULT", "SANDBOX_FAULT_RATE", "SANDBOX_LATENCY_MS", "SANDBOX_BATCH_DELAY_MS"):
    os.environ.pop(name, None)
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


def _redis_database_per_worker() -> None:
    """Give each xdist worker its own Redis database: a test's cache.clear() flushes a whole one."""
    url, worker = os.environ.get("CACHE_URL", ""), os.environ.get("PYTEST_XDIST_WORKER", "")
    match = re.fullmatch(r"(rediss?://[^/]+)/(\d+)", url)
    if match and worker.startswith("gw"):
        database = int(match.group(2)) + int(worker.removeprefix("gw"))
        os.environ["CACHE_URL"] = f"{match.group(1)}/{database}"


_redis_database_per_worker()  # Playwright's sync API + live server
