"""What bench/overhead.py and bench/soak.py share: a database, the sandbox and the dashboard as
real servers on free ports, logged-in HTTP clients, and cleaning up after all of it.

The sandbox runs as its own gunicorn (DEBUG, sandbox on, a fixed latency); the dashboard as in
production (`make serve`, or the gunicorn command it runs when the Makefile has no such target):
DEBUG off, the sandbox not installed, its upstream the sandbox over real HTTP. Both use one
database, so the dashboard's organisations and memberships sit beside the sandbox's cases.

Nothing here touches the development database, the development cache or the shared test
database: SQLite files live in a directory of the benchmark's own, PostgreSQL databases are
created for the run and dropped after it, and Redis is database 13 only.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

import httpx

ROOT: Final = Path(__file__).resolve().parent.parent
PYTHON: Final = str(ROOT / ".venv" / "bin" / "python")
GUNICORN: Final = str(ROOT / ".venv" / "bin" / "gunicorn")
POSTGRES_ADMIN_URL: Final = "postgres://postgres@127.0.0.1:5432/postgres"
REDIS_URL: Final = "redis://127.0.0.1:6379/13"  # the benchmarks' own Redis database
SANDBOX_CLIENT: Final = "sandbox"  # the sandbox's default client id and secret
PASSWORD_CHARACTERS: Final = 24
START_TIMEOUT_SECONDS: Final = 60.0
STOP_TIMEOUT_SECONDS: Final = 15.0


@dataclass(frozen=True)
class Member:
    """A dashboard login with one membership, in an organisation the sandbox holds cases for."""

    username: str
    password: str
    organization_id: uuid.UUID
    organization_name: str
    first_case_number: int  # the sandbox numbers an organisation's cases from here
    cases: int


@dataclass
class Database:
    """Where both servers keep their data: a SQLite file or a PostgreSQL database of our own."""

    url: str
    cache_url: str
    label: str
    drop: str = ""  # the PostgreSQL database to drop afterwards, if we created it


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def manage(
    *arguments: str, env: Mapping[str, str], stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    """Run a manage.py command with the sandbox installed (migrations, seeding, members)."""
    result = subprocess.run(  # noqa: S603 - our own interpreter and manage.py
        [PYTHON, str(ROOT / "manage.py"), *arguments],
        cwd=ROOT,
        env={**os.environ, **sandbox_environment(env["DATABASE_URL"]), **env},
        input=stdin,
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise SystemExit(f"manage.py {' '.join(arguments)} failed:\n{result.stderr[-3000:]}")
    return result


def sandbox_environment(database_url: str, *, latency_ms: int = 0) -> dict[str, str]:
    """The sandbox server's settings: development mode, so the simulator is installed."""
    return {
        "DEBUG": "true",
        "SANDBOX_ENABLED": "true",
        "SECRET_KEY": "bench-sandbox-" + "k" * 40,  # the sandbox signs its tokens with it
        "DATABASE_URL": database_url,
        "CACHE_URL": "locmemcache://",
        "SANDBOX_LATENCY_MS": str(latency_ms),
        "SANDBOX_FAULT": "",
        "SANDBOX_FAULT_RATE": "0",
        "SANDBOX_BATCH_DELAY_MS": "0",
        "LOG_LEVEL": "WARNING",
    }


def sqlite_database(data_dir: Path, name: str) -> Database:
    data_dir.mkdir(parents=True, exist_ok=True)
    return Database(url=f"sqlite:///{data_dir / name}", cache_url="locmemcache://", label="SQLite")


def postgres_database(prefix: str) -> Database:
    """A PostgreSQL database of our own for this run (dropped by drop_database) and Redis 13."""
    import psycopg

    name = f"{prefix}_{os.getpid()}_{secrets.token_hex(3)}"
    with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')  # a name we made: no injection
    flush_redis()
    return Database(
        url=POSTGRES_ADMIN_URL.rsplit("/", 1)[0] + "/" + name,
        cache_url=REDIS_URL,
        label="PostgreSQL + Redis",
        drop=name,
    )


def drop_database(database: Database) -> None:
    if not database.drop:
        return
    import psycopg

    with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{database.drop}" WITH (FORCE)')
    flush_redis()


def flush_redis() -> None:
    import redis

    redis.Redis.from_url(REDIS_URL).flushdb()


def prepare_members(
    database: Database, organizations: Sequence[tuple[str, int]], *, seed: int = 11
) -> list[Member]:
    """Migrate, seed each (name, cases) organisation unless it has its cases, give each a login.

    An organisation's id follows from its name and size, so a kept SQLite file is reused.
    """
    env = {"DATABASE_URL": database.url}
    manage("migrate", "--noinput", "-v", "0", env=env)
    ids = {
        name: uuid.uuid5(uuid.NAMESPACE_URL, f"bench/{name}/{cases}")
        for name, cases in organizations
    }
    by_size: dict[int, list[str]] = {}
    for name, cases in organizations:
        by_size.setdefault(cases, []).append(name)
    for cases, names in by_size.items():
        started = time.monotonic()
        org_arguments = [
            argument for name in names for argument in ("--org", f"{ids[name]}={name}")
        ]
        output = manage(
            "seed_sandbox", *org_arguments, "--cases", str(cases), "--seed", str(seed), env=env
        ).stdout
        if "seeded in" in output:
            print(f"  seeded {len(names)} x {cases:,} cases in {time.monotonic() - started:.0f} s")
    passwords = {name: secrets.token_urlsafe(PASSWORD_CHARACTERS) for name, _ in organizations}
    logins = [
        (f"bench-{index}", passwords[name], str(ids[name]), name)
        for index, (name, _) in enumerate(organizations)
    ]
    output = manage("shell", "-c", MEMBERS_SCRIPT % {"logins": json.dumps(logins)}, env=env).stdout
    first_numbers = json.loads(output.strip().splitlines()[-1])
    return [
        Member(
            username=username,
            password=password,
            organization_id=uuid.UUID(organization_id),
            organization_name=name,
            first_case_number=int(first_numbers[organization_id]),
            cases=dict(organizations)[name],
        )
        for username, password, organization_id, name in logins
    ]


# Run by `manage.py shell -c`: a viewer login per organisation (the password set anew each run,
# only the benchmark knows it), then each organisation's first case number, as JSON.
MEMBERS_SCRIPT: Final = """
import json
from django.contrib.auth.models import User
from django.db.models import Min
from dashboard.models import Membership, Organization, Role
from sandbox.models import Case
first = {}
for username, password, organization_id, name in json.loads(%(logins)r):
    organization, _ = Organization.objects.update_or_create(
        amili_id=organization_id, defaults={"name": name}
    )
    user, _ = User.objects.get_or_create(username=username)
    user.set_password(password)
    user.save()
    Membership.objects.filter(user=user).exclude(organization=organization).delete()
    Membership.objects.update_or_create(
        user=user, organization=organization, defaults={"role": Role.VIEWER}
    )
    first[organization_id] = Case.objects.filter(organization_id=organization_id).aggregate(
        n=Min("case_number")
    )["n"]
print(json.dumps(first))
"""


# --------------------------------------------------------------------------------------------
# Servers
# --------------------------------------------------------------------------------------------


@dataclass
class Server:
    """A process group we started, its port and its output file."""

    name: str
    port: int
    process: subprocess.Popen[bytes]
    log: Path

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def worker_pids(self) -> list[int]:
        """The gunicorn workers: every process in the group except the master (and make)."""
        pids = []
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                stat = (entry / "stat").read_text()
                cmdline = (entry / "cmdline").read_bytes()
            except OSError:
                continue
            group = int(stat.rsplit(")", 1)[1].split()[2])
            program = [Path(arg.decode(errors="replace")).name for arg in cmdline.split(b"\0")[:2]]
            if group == self.process.pid and "gunicorn" in program:  # not `sh -c "... gunicorn"`
                pids.append(int(entry.name))
        masters = {pid for pid in pids if _parent(pid) not in pids}
        return sorted(pid for pid in pids if pid not in masters)

    def stop(self) -> None:
        if self.process.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(STOP_TIMEOUT_SECONDS)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()


def _parent(pid: int) -> int:
    try:
        return int((Path("/proc") / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()[1])
    except OSError:
        return 0


def rss_kib(pid: int) -> int:
    """A process's resident memory, from /proc (0 if it is gone)."""
    try:
        status = (Path("/proc") / str(pid) / "status").read_text()
    except OSError:
        return 0
    match = re.search(r"^VmRSS:\s+(\d+) kB", status, re.MULTILINE)
    return int(match.group(1)) if match else 0


def cpu_seconds(pids: Sequence[int]) -> float:
    """User and system CPU time the processes have used so far, from /proc."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for pid in pids:
        try:
            fields = (Path("/proc") / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime and stime: fields 14 and 15
    return total / ticks


def start(
    name: str, command: Sequence[str], env: Mapping[str, str], port: int, log_dir: Path
) -> Server:
    """Start a server in its own process group (so stopping it stops all of it), wait for it."""
    log = log_dir / f"{name}.log"
    with log.open("wb") as output:
        process = subprocess.Popen(  # noqa: S603 - our own commands
            list(command),
            cwd=ROOT,
            env={**os.environ, **env},
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    server = Server(name=name, port=port, process=process, log=log)
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"{name} stopped at start-up:\n{log.read_text()[-3000:]}")
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(f"{server.base_url}/healthz", timeout=1.0).status_code < 500:
                return server
        time.sleep(0.2)
    server.stop()
    raise SystemExit(f"{name} did not answer within {START_TIMEOUT_SECONDS:.0f} s: see {log}")


def start_sandbox(
    database: Database,
    log_dir: Path,
    *,
    latency_ms: int,
    fault_rate: float = 0.0,
    upstream_timeout: float = 10.0,
    threads: int = 32,
    extra: Mapping[str, str] | None = None,
) -> Server:
    """The sandbox as its own server: enough threads that sleeping out the latency never queues."""
    port = free_port()
    env = {
        **sandbox_environment(database.url, latency_ms=latency_ms),
        "SANDBOX_FAULT_RATE": str(fault_rate),
        # The timeout fault sleeps a second longer than the client waits.
        "AUTOCOLLECT_TIMEOUT": str(upstream_timeout),
        "PORT": str(port),
        **(extra or {}),
    }
    command = [
        GUNICORN, "dashboard.wsgi", "-k", "gthread", "--workers", "2", "--threads", str(threads),
        "--bind", f"127.0.0.1:{port}", "--timeout", "60", "--log-level", "warning",
    ]  # fmt: skip
    return start("sandbox", command, env, port, log_dir)


def dashboard_environment(
    database: Database, sandbox: Server, port: int, extra: Mapping[str, str]
) -> dict[str, str]:
    """Production settings, pointed at the sandbox over plain HTTP on this machine."""
    return {
        "DEBUG": "false",
        "SANDBOX_ENABLED": "false",
        "SECRET_KEY": "bench-dashboard-" + secrets.token_urlsafe(40),
        "ALLOWED_HOSTS": "127.0.0.1",
        "DATABASE_URL": database.url,
        "CACHE_URL": database.cache_url,
        "AUTOCOLLECT_API_URL": f"{sandbox.base_url}/sandbox/collection/v1",
        "AUTOCOLLECT_TOKEN_URL": f"{sandbox.base_url}/sandbox/token",
        "AUTOCOLLECT_CLIENT_ID": SANDBOX_CLIENT,
        "AUTOCOLLECT_CLIENT_SECRET": SANDBOX_CLIENT,
        # Plain HTTP on this machine: no redirect to HTTPS, cookies without the Secure flag.
        "SECURE_SSL_REDIRECT": "false",
        "SESSION_COOKIE_SECURE": "false",
        "CSRF_COOKIE_SECURE": "false",
        "PORT": str(port),
        "GUNICORN_BIND": f"127.0.0.1:{port}",
        **extra,
    }


def has_make_serve() -> bool:
    makefile = (ROOT / "Makefile").read_text()
    return re.search(r"^serve:", makefile, re.MULTILINE) is not None


def start_dashboard(
    database: Database,
    sandbox: Server,
    log_dir: Path,
    extra: Mapping[str, str],
    *,
    port: int | None = None,
) -> Server:
    """The dashboard as production serves it: `make serve` (or its gunicorn command), on `port`
    when the caller had to name it before (e.g. as the sandbox's webhook address)."""
    port = port or free_port()
    env = dashboard_environment(database, sandbox, port, extra)
    # DEBUG off serves hashed static names from the manifest collectstatic writes.
    manage("collectstatic", "--noinput", "-v", "0", env=env)
    if has_make_serve():
        command = ["make", "--no-print-directory", "serve"]
    else:
        command = [GUNICORN, "-c", "dashboard/gunicorn.conf.py", "dashboard.wsgi"]
    return start("dashboard", command, env, port, log_dir)


# --------------------------------------------------------------------------------------------
# Clients
# --------------------------------------------------------------------------------------------

CSRF_FIELD: Final = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


def logged_in_client(dashboard: Server, member: Member, **options: object) -> httpx.Client:
    """An HTTP client holding a session of `member`, logged in through the login form."""
    client = httpx.Client(base_url=dashboard.base_url, **options)  # type: ignore[arg-type]
    login_url = f"{dashboard.base_url}/accounts/login/"
    page = client.get(login_url)
    match = CSRF_FIELD.search(page.text)
    if match is None:
        raise SystemExit(f"no login form at {login_url} ({page.status_code})")
    answer = client.post(
        login_url,
        data={
            "username": member.username,
            "password": member.password,
            "csrfmiddlewaretoken": match.group(1),
        },
        headers={"Referer": login_url},
    )
    if answer.status_code != 302:
        raise SystemExit(f"logging in as {member.username} answered {answer.status_code}")
    return client


def upstream_client(sandbox: Server, **options: object) -> httpx.Client:
    """An HTTP client calling the sandbox's API directly, with a bearer token."""
    client = httpx.Client(base_url=f"{sandbox.base_url}/sandbox", **options)  # type: ignore[arg-type]
    answer = client.post(
        "/token",
        data={
            "grant_type": "client_credentials",
            "client_id": SANDBOX_CLIENT,
            "client_secret": SANDBOX_CLIENT,
        },
    )
    answer.raise_for_status()
    client.headers["Authorization"] = f"Bearer {answer.json()['access_token']}"
    return client


# --------------------------------------------------------------------------------------------
# Figures
# --------------------------------------------------------------------------------------------


@dataclass
class Timings:
    seconds: list[float] = field(default_factory=list)

    def add(self, seconds: float) -> None:
        self.seconds.append(seconds)

    @property
    def median_ms(self) -> float:
        return statistics.median(self.seconds) * 1000

    @property
    def p95_ms(self) -> float:
        return percentile(self.seconds, 0.95) * 1000


def percentile(values: Sequence[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


@contextlib.contextmanager
def cleanup(servers: list[Server], databases: list[Database]) -> Iterator[None]:
    """Stop every server and drop every database we made, however the run ends (Ctrl-C too)."""
    previous = signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    try:
        yield
    finally:
        for server in reversed(servers):
            server.stop()
        for database in databases:
            with contextlib.suppress(Exception):
                drop_database(database)
        signal.signal(signal.SIGTERM, previous)


def load_line() -> str:
    """How busy the machine was: other processes inflate the figures, especially the tail."""
    return f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs"
