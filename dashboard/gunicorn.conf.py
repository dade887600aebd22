"""gunicorn's configuration: `gunicorn -c dashboard/gunicorn.conf.py dashboard.wsgi` (`make serve`).

Threads, not processes alone: a request spends its time waiting for the upstream, so each worker
process serves several at once. Everything comes from the environment, filled in from the
deployment's `.env` like dashboard/wsgi.py does (never `.env.development`):

    GUNICORN_BIND       where to listen, comma-separated (default 127.0.0.1:$PORT, PORT 8000)
    WEB_CONCURRENCY     worker processes (default: one per CPU, at least 2)
    GUNICORN_THREADS    threads per worker (default 8)
    FORWARDED_ALLOW_IPS proxies whose X-Forwarded-* gunicorn trusts (gunicorn's own variable)

The worker timeout and the graceful timeout are AUTOCOLLECT_TIMEOUT plus a margin: a request
waiting on a slow upstream ends with the dashboard's own 504 page before gunicorn would kill its
worker, and a restart lets the requests in flight finish. gunicorn's access log is off: the
request log middleware writes one line per request, by route and without the query string, and
gunicorn's own lines use the same format (dashboard/logs.py).

This file reads the environment only, not Django's settings: gunicorn's master process imports
no Django, so a reload (SIGHUP) starts workers that read the settings afresh.
"""

import math
import os
import sys
from collections.abc import Mapping
from pathlib import Path

from gunicorn import glogging  # type: ignore[import-untyped]  # no stubs

BASE_DIR = Path(__file__).resolve().parent.parent
if str(BASE_DIR) not in sys.path:  # gunicorn reads this file before it adds its directory
    sys.path.insert(0, str(BASE_DIR))

from dashboard import configuration  # noqa: E402 - needs the path above
from dashboard.logs import LOG_FORMATS, gunicorn_logging_config  # noqa: E402

# Seconds beyond the upstream deadline that a worker may take to render the 504 and log it.
TIMEOUT_MARGIN_SECONDS = 10
DEFAULT_UPSTREAM_TIMEOUT = 10.0  # settings.AUTOCOLLECT_TIMEOUT's default
DEFAULT_THREADS = 8
MIN_DEFAULT_WORKERS = 2


def deployment_environment(environ: Mapping[str, str]) -> dict[str, str]:
    """The environment as the workers will see it: `.env` fills in what is unset or empty.

    A copy: the master's own environment stays as it was, so a reload sees a changed `.env`.
    """
    values = {
        name: value
        for name, value in configuration.read_env_file(configuration.DEPLOYMENT_FILE).items()
        if value
    }
    values.update({name: value for name, value in environ.items() if value})
    return values


def _whole_number(values: Mapping[str, str], name: str, default: int) -> int:
    raw = values.get(name, "")
    if not raw:
        return default
    if not (raw.isascii() and raw.isdigit()) or int(raw) < 1:
        sys.exit(f"gunicorn.conf.py: {name} must be a whole number of at least 1, got {raw!r}")
    return int(raw)


def _seconds(values: Mapping[str, str], name: str, default: float) -> float:
    raw = values.get(name, "")
    try:
        seconds = float(raw) if raw else default
    except ValueError:
        sys.exit(f"gunicorn.conf.py: {name} must be a number of seconds, got {raw!r}")
    return seconds


def worker_timeout(upstream_timeout: float) -> int:
    """Whole seconds a worker may stay silent: the upstream deadline plus the margin."""
    return math.ceil(upstream_timeout) + TIMEOUT_MARGIN_SECONDS


def default_workers() -> int:
    return max(MIN_DEFAULT_WORKERS, os.cpu_count() or 1)


_env = deployment_environment(os.environ)
_debug = _env.get("DEBUG", "").lower() in {"1", "true", "yes", "on"}

bind = [
    address.strip()
    for address in _env.get("GUNICORN_BIND", f"127.0.0.1:{_env.get('PORT', '8000')}").split(",")
    if address.strip()
]
worker_class = "gthread"
workers = _whole_number(_env, "WEB_CONCURRENCY", default_workers())
threads = _whole_number(_env, "GUNICORN_THREADS", DEFAULT_THREADS)
timeout = worker_timeout(_seconds(_env, "AUTOCOLLECT_TIMEOUT", DEFAULT_UPSTREAM_TIMEOUT))
graceful_timeout = timeout
keepalive = 5  # seconds an idle connection from the proxy stays open

accesslog = None


class _WithoutAccessLog(glogging.Logger):  # type: ignore[misc]  # untyped base
    """gunicorn's logger without its access log: dashboard.logs writes one line per request
    (route, not path; no query values). With a logconfig_dict set, gunicorn would otherwise
    build every request's access-log fields (5 % of a cached list request's CPU) and hand them
    to a logger that drops them."""

    def access(self, resp: object, req: object, environ: object, request_time: object) -> None:
        return None


logger_class = _WithoutAccessLog
errorlog = "-"
loglevel = _env.get("LOG_LEVEL", "INFO").lower()
_log_format = _env.get("LOG_FORMAT", "text" if _debug else "json")
if _log_format not in LOG_FORMATS:
    sys.exit(f"gunicorn.conf.py: LOG_FORMAT must be one of {', '.join(LOG_FORMATS)}")
logconfig_dict = gunicorn_logging_config(log_format=_log_format, level=loglevel.upper())
proc_name = "collection-dashboard"
# The control socket would sit at one path per user: two instances on one machine would fight
# over it, and nothing here uses it.
control_socket_disable = True
# Workers' heartbeat files in memory, not on a disk that may stall (containers especially).
if Path("/dev/shm").is_dir():  # noqa: S108 - gunicorn's documented place for them
    worker_tmp_dir = "/dev/shm"  # noqa: S108
