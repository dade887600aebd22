"""Processes keep no state of their own: two web instances and a task worker share one PostgreSQL
and one Redis, and any of them serves any user.

CI runs this after the PostgreSQL test run (.ci/run); by hand: `.venv/bin/python
.ci/scale_out_check.py` (PostgreSQL on 127.0.0.1:5432 as user postgres, Redis on 6379). It

1. creates its own database (scaleout_check) and empties Redis database 14;
2. migrates it, collects the static files and seeds a sandbox, served by its own gunicorn on a
   free port as the upstream: two organisations, and a third whose answers never come in time;
3. starts two dashboard instances exactly as `make serve` does (gunicorn -c
   dashboard/gunicorn.conf.py dashboard.wsgi, production settings, two workers each) on two
   more free ports, and a task worker (manage.py db_worker) beside them;
4. logs in through instance 1 (a real POST with the CSRF token), then works through instance 2
   with the same cookies: the list, a case page, switching organisation there and seeing it on
   instance 1, a slow organisation's 504 while the instance keeps answering, logging out on one
   and being logged out on the other;
5. enqueues a real task from a shell (refresh_case_index --enqueue) and waits for the worker;
6. reads every process's log: one JSON object per line, the upstream token fetched once by all
   processes together (it lives in Redis), the request id sent in on the request's lines, and
   no search term anywhere.

Everything is bounded (the whole check stops after 60 s) and cleaned up, on failure too: the
processes it started are stopped, the database dropped and the Redis database emptied. A `.env`
in the checkout fills in what the check does not set (dashboard/configuration.py).
"""

from __future__ import annotations

import http.client
import json
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from pathlib import Path
from typing import Final
from urllib.parse import urlencode

import redis

ROOT: Final = Path(__file__).resolve().parent.parent
PYTHON: Final = str(ROOT / ".venv" / "bin" / "python")
GUNICORN: Final = str(ROOT / ".venv" / "bin" / "gunicorn")
CHECK_SECONDS: Final = 60
DATABASE: Final = "scaleout_check"
POSTGRES: Final = ("-h", "127.0.0.1", "-U", "postgres")
DATABASE_URL: Final = f"postgres://postgres@127.0.0.1:5432/{DATABASE}"
REDIS_DB: Final = 14
CACHE_URL: Final = f"redis://127.0.0.1:6379/{REDIS_DB}"
UPSTREAM_TIMEOUT: Final = 2  # seconds: the dashboards' AUTOCOLLECT_TIMEOUT

ORG_A: Final = ("5ca1e0a7-0000-4000-8000-00000000000a", "Skalering A AS")
ORG_B: Final = ("5ca1e0a7-0000-4000-8000-00000000000b", "Skalering B AS")
SLOW_ORG: Final = ("5ca1e0a7-0000-4000-8000-00000000000c", "Treg Tjeneste AS")
CASES_PER_ORG: Final = 30
USERNAME: Final = "scaleout-agent"
PASSWORD: Final = secrets.token_urlsafe(18)
SANDBOX_CREDENTIAL: Final = "sandbox"  # the sandbox's published client id and secret
SEARCH_TERM: Final = "Nordmannsen"  # typed into the search: must reach no log
REQUEST_ID: Final = "scaleout-check-1"

SETTINGS_VARIABLES: Final = (
    "DEBUG",
    "SECRET_KEY",
    "ALLOWED_HOSTS",
    "DATABASE_URL",
    "CACHE_URL",
    "PORT",
    "LOG_FORMAT",
    "WEB_CONCURRENCY",
)


class CheckFailed(Exception):
    pass


def check(condition: bool, what: str) -> None:
    if not condition:
        raise CheckFailed(what)


def step(text: str) -> None:
    print(f"[{time.monotonic() - STARTED:5.1f} s] {text}", flush=True)


STARTED = time.monotonic()


# --------------------------------------------------------------------------------------------
# Processes
# --------------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def base_environment(**variables: str) -> dict[str, str]:
    """This process's environment without the settings' variables, plus the check's."""
    kept = {
        name: value
        for name, value in os.environ.items()
        if name not in SETTINGS_VARIABLES
        and not name.startswith(("AUTOCOLLECT_", "SANDBOX_", "GUNICORN_", "SECURE_"))
    }
    return {
        **kept,
        "DEBUG": "false",
        "SECRET_KEY": SECRET_KEY,
        "ALLOWED_HOSTS": "127.0.0.1",
        "DATABASE_URL": DATABASE_URL,
        "LOG_FORMAT": "json",
        # Plain HTTP on localhost: no redirect to HTTPS, cookies without the Secure flag.
        "SECURE_SSL_REDIRECT": "false",
        "SESSION_COOKIE_SECURE": "false",
        "CSRF_COOKIE_SECURE": "false",
        **variables,
    }


SECRET_KEY: Final = secrets.token_urlsafe(50)


@dataclass
class Started:
    name: str
    process: subprocess.Popen[bytes]
    log: Path

    def lines(self) -> list[str]:
        return self.log.read_text(encoding="utf-8", errors="replace").splitlines()


@dataclass
class Processes:
    directory: Path
    started: list[Started] = field(default_factory=list)

    def start(self, name: str, command: list[str], env: Mapping[str, str]) -> Started:
        log = self.directory / f"{name}.log"
        with log.open("ab") as output:  # appending: workers' lines never overwrite each other
            process = subprocess.Popen(  # noqa: S603 - our own interpreter and commands
                command,
                cwd=ROOT,
                env=dict(env),
                stdin=subprocess.DEVNULL,
                stdout=output,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group, stopped as one
            )
        started = Started(name, process, log)
        self.started.append(started)
        return started

    def stop_all(self) -> None:
        for started in self.started:
            if started.process.poll() is None:
                os.killpg(started.process.pid, signal.SIGTERM)
        for started in self.started:
            try:
                started.process.wait(timeout=8)
            except subprocess.TimeoutExpired:
                os.killpg(started.process.pid, signal.SIGKILL)
                started.process.wait()


def run(command: list[str], env: Mapping[str, str], stdin: str = "") -> str:
    result = subprocess.run(  # noqa: S603 - our own interpreter and commands
        command,
        cwd=ROOT,
        env=dict(env),
        input=stdin,
        capture_output=True,
        text=True,
        check=False,
        timeout=30,
    )
    if result.returncode != 0:
        raise CheckFailed(f"{' '.join(command)} failed:\n{result.stdout}\n{result.stderr}")
    return result.stdout


def manage(env: Mapping[str, str], *arguments: str, stdin: str = "") -> str:
    return run([PYTHON, "manage.py", *arguments], env, stdin)


def psql(query: str) -> str:
    return run(["psql", *POSTGRES, "-d", DATABASE, "-tAc", query], os.environ).strip()


@contextmanager
def own_database_and_redis() -> Iterator[None]:
    subprocess.run(["dropdb", *POSTGRES, "--if-exists", "--force", DATABASE], check=True)  # noqa: S603, S607
    subprocess.run(["createdb", *POSTGRES, DATABASE], check=True)  # noqa: S603, S607
    store = redis.Redis(host="127.0.0.1", port=6379, db=REDIS_DB)
    store.flushdb()
    try:
        yield
    finally:
        store.flushdb()
        subprocess.run(["dropdb", *POSTGRES, "--if-exists", "--force", DATABASE], check=False)  # noqa: S603, S607


# --------------------------------------------------------------------------------------------
# A browser's requests, cookies by hand: the same cookies go to either instance
# --------------------------------------------------------------------------------------------


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: str
    seconds: float


@dataclass
class Browser:
    cookies: dict[str, str] = field(default_factory=dict)

    def request(
        self,
        port: int,
        method: str,
        path: str,
        form: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> Answer:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=15)
        sent = {"Host": "127.0.0.1", **(headers or {})}
        if self.cookies:
            sent["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        body = None
        if form is not None:
            body = urlencode(form)
            sent["Content-Type"] = "application/x-www-form-urlencoded"
        started = time.monotonic()
        try:
            connection.request(method, path, body=body, headers=sent)
            response = connection.getresponse()
            text = response.read().decode("utf-8", errors="replace")
        finally:
            connection.close()
        for value in response.headers.get_all("Set-Cookie") or []:
            for name, morsel in SimpleCookie(value).items():
                if morsel["max-age"] == "0" or not morsel.value:
                    self.cookies.pop(name, None)
                else:
                    self.cookies[name] = morsel.value
        return Answer(
            response.status,
            {k.lower(): v for k, v in response.getheaders()},
            text,
            time.monotonic() - started,
        )

    def get(self, port: int, path: str, **headers: str) -> Answer:
        return self.request(port, "GET", path, headers=headers)

    def post(self, port: int, path: str, form: Mapping[str, str]) -> Answer:
        return self.request(port, "POST", path, form=form)


def found(pattern: str, html: str, what: str) -> str:
    """The pattern's first group in the page, or the check fails naming what was missing."""
    match = re.search(pattern, html)
    if match is None:
        raise CheckFailed(f"the page has no {what}")
    return match.group(1)


def csrf_token(html: str) -> str:
    return found(r'name="csrfmiddlewaretoken" value="([^"]+)"', html, "CSRF token")


def current_organization(html: str) -> str:
    return found(r'<option value="\d+" selected>([^<]+)</option>', html, "current organisation")


def organization_ids(html: str) -> dict[str, str]:
    return {
        name: pk for pk, name in re.findall(r'<option value="(\d+)"[^>]*>([^<]+)</option>', html)
    }


def case_numbers(html: str) -> list[str]:
    return re.findall(r'href="/cases/(\d+)/"', html)


def wait_until_up(port: int, path: str, expected: int = 200) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if Browser().get(port, path).status == expected:
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise CheckFailed(f"port {port} did not answer {path} with {expected}")


# --------------------------------------------------------------------------------------------
# The check
# --------------------------------------------------------------------------------------------


def prepare(sandbox_env: Mapping[str, str]) -> None:
    """Migrate, seed the sandbox and add the member: the commands a deployment runs, in
    parallel where they touch different rows (each manage.py start costs a second or two)."""
    with ThreadPoolExecutor() as pool:
        static = pool.submit(manage, sandbox_env, "collectstatic", "--noinput")
        manage(sandbox_env, "migrate", "--noinput")
        static.result()
    step("database created and migrated, static files collected")
    orgs = [a for org_id, name in (ORG_A, ORG_B, SLOW_ORG) for a in ("--org", f"{org_id}={name}")]
    seed = [*orgs, "--cases", str(CASES_PER_ORG), "--seed", "7"]
    with ThreadPoolExecutor() as pool:
        seeding = pool.submit(
            manage, sandbox_env, "seed_sandbox", *seed, "--fault-org", f"{SLOW_ORG[0]}=timeout"
        )
        add_member(sandbox_env, ORG_A)  # creates the user; the others only add memberships
        list(pool.map(lambda org: add_member(sandbox_env, org), (ORG_B, SLOW_ORG)))
        seeding.result()


def add_member(env: Mapping[str, str], organization: tuple[str, str]) -> None:
    org_id, name = organization
    manage(
        env,
        "add_member",
        "--org-id",
        org_id,
        "--org-name",
        name,
        "--username",
        USERNAME,
        "--role",
        "agent",
        "--password-stdin",
        stdin=PASSWORD + "\n",
    )


def log_in(browser: Browser, port: int) -> None:
    page = browser.get(port, "/accounts/login/")
    check(page.status == 200, "the login page")
    answer = browser.post(
        port,
        "/accounts/login/",
        {"csrfmiddlewaretoken": csrf_token(page.body), "username": USERNAME, "password": PASSWORD},
    )
    check(answer.status == 302, f"login redirects (got {answer.status})")
    check("sessionid" in browser.cookies, "login sets the session cookie")


def switch_organization(browser: Browser, port: int, name: str) -> None:
    page = browser.get(port, "/cases/")
    ids = organization_ids(page.body)
    check(name in ids, f"{name} is in the switcher")
    answer = browser.post(
        port,
        "/organization/switch/",
        {"csrfmiddlewaretoken": csrf_token(page.body), "organization": ids[name]},
    )
    check(answer.status == 302, f"switching organisation redirects (got {answer.status})")


def work_across_instances(first: int, second: int) -> None:
    browser = Browser()
    log_in(browser, first)
    step(f"logged in through instance 1 (:{first})")

    listing = browser.get(second, "/cases/", **{"X-Request-ID": REQUEST_ID})
    check(listing.status == 200, f"instance 2 lists the cases (got {listing.status})")
    check(listing.headers.get("x-request-id") == REQUEST_ID, "the request id comes back")
    check(current_organization(listing.body) == ORG_A[1], "instance 2 knows the organisation")
    numbers = case_numbers(listing.body)
    check(len(numbers) >= 10, f"the list shows cases (found {len(numbers)})")
    case_page = browser.get(second, f"/cases/{numbers[0]}/")
    check(case_page.status == 200, f"instance 2 shows a case page (got {case_page.status})")
    stylesheet = found(r'href="(/static/css/app\.[0-9a-f]{12}\.css)"', listing.body, "stylesheet")
    styles = Browser().get(second, stylesheet, **{"Accept-Encoding": "gzip"})
    check(styles.status == 200, f"WhiteNoise serves {stylesheet} (got {styles.status})")
    check("immutable" in styles.headers.get("cache-control", ""), "hashed names are immutable")
    check(styles.headers.get("content-encoding") == "gzip", "static files are compressed")
    search = browser.get(second, f"/cases/?q={SEARCH_TERM}")
    check(search.status == 200, f"instance 2 searches (got {search.status})")
    step(f"instance 2 (:{second}) serves the session: list, case {numbers[0]}, search, static")

    switch_organization(browser, second, ORG_B[1])
    on_first = browser.get(first, "/cases/")
    check(current_organization(on_first.body) == ORG_B[1], "instance 1 sees the switch")
    check(
        browser.get(first, f"/cases/{numbers[0]}/").status == 404,
        "organisation A's case is not organisation B's",
    )
    step("switched organisation on instance 2; instance 1 shows organisation B")

    switch_organization(browser, first, SLOW_ORG[1])
    slow: list[Answer] = []
    waiting = threading.Thread(target=lambda: slow.append(browser.get(second, "/cases/")))
    waiting.start()
    time.sleep(0.3)
    probe = Browser().get(second, "/healthz")
    waiting.join(timeout=UPSTREAM_TIMEOUT + 10)
    check(bool(slow), "the slow organisation's page came back")
    check(slow[0].status == 504, f"a slow upstream is our 504 (got {slow[0].status})")
    check(slow[0].seconds < UPSTREAM_TIMEOUT + 3, f"within the deadline ({slow[0].seconds:.1f} s)")
    check(probe.status == 200 and probe.seconds < 1, "the instance answers others meanwhile")
    step(
        f"slow organisation: 504 after {slow[0].seconds:.1f} s; /healthz meanwhile in "
        f"{probe.seconds * 1000:.0f} ms"
    )

    page = browser.get(first, "/cases/")
    session_id = browser.cookies["sessionid"]
    logout = browser.post(
        first, "/accounts/logout/", {"csrfmiddlewaretoken": csrf_token(page.body)}
    )
    check(logout.status == 302, f"logout (got {logout.status})")
    check(
        Browser(cookies={"sessionid": session_id}).get(second, "/cases/").status == 302,
        "after logging out on instance 1, instance 2 refuses the old session cookie",
    )
    step("logged out on instance 1: instance 2 refuses the old session")


def run_a_task(env: Mapping[str, str]) -> None:
    manage(env, "refresh_case_index", "--enqueue", "--org", ORG_A[0])
    deadline = time.monotonic() + 20
    status = ""
    while time.monotonic() < deadline:
        status = psql(
            "SELECT status FROM django_tasks_database_dbtaskresult "
            "WHERE task_path LIKE '%sync_case_index' ORDER BY enqueued_at DESC LIMIT 1"
        )
        if status in {"SUCCESSFUL", "FAILED"}:
            break
        time.sleep(0.3)
    check(status == "SUCCESSFUL", f"the worker ran the task (status {status or 'none'})")
    # ORG_A is this script's own constant, not input.
    of_a = (
        "SELECT count(*) FROM triage_casesummary summary JOIN dashboard_organization org "  # noqa: S608
        f"ON org.id = summary.organization_id WHERE org.amili_id = '{ORG_A[0]}'"
    )
    indexed = int(psql(of_a))
    # The index keeps open cases (and recently closed ones): some of the 30 seeded may not be.
    # Only A's rows count: the pages browsed before have put rows of both organisations in it.
    check(0 < indexed <= CASES_PER_ORG, f"the task indexed organisation A's cases ({indexed})")
    step(f"the worker ran sync_case_index: {indexed} cases indexed")


def check_logs(processes: list[Started]) -> None:
    token_fetches = 0
    request_lines = []
    for started in processes:
        for line in started.lines():
            try:
                entry = json.loads(line)
            except json.JSONDecodeError:
                raise CheckFailed(
                    f"{started.name} wrote a line that is not JSON: {line!r}"
                ) from None
            check(isinstance(entry, dict), f"{started.name}: a JSON object per line")
            check(SEARCH_TERM not in line, f"{started.name} logged the search term: {line}")
            if entry.get("upstream_route") == "/sandbox/token":
                token_fetches += 1
            if entry.get("request_id") == REQUEST_ID:
                request_lines.append(entry)
    check(token_fetches == 1, f"one token for every process, through Redis ({token_fetches})")
    loggers = {entry["logger"] for entry in request_lines}
    check(
        {"dashboard.requests", "cases.autocollect"} <= loggers,
        f"the request id is on the request's lines ({sorted(loggers)})",
    )
    step("logs: JSON lines only, one token fetch in all, request id on its lines, no search term")


def main() -> None:
    signal.signal(signal.SIGALRM, _out_of_time)
    signal.alarm(CHECK_SECONDS)
    with tempfile.TemporaryDirectory(prefix="scale-out-") as directory, own_database_and_redis():
        processes = Processes(Path(directory))
        try:
            _check(processes)
        except BaseException:
            for started in processes.started:
                print(f"--- {started.name} (last lines) ---", file=sys.stderr)
                print("\n".join(started.lines()[-25:]), file=sys.stderr)
            raise
        finally:
            processes.stop_all()
    print(f"scale-out check passed in {time.monotonic() - STARTED:.1f} s")


def _check(processes: Processes) -> None:
    sandbox_port, first, second = free_port(), free_port(), free_port()
    sandbox_env = base_environment(
        SANDBOX_ENABLED="true",
        PORT=str(sandbox_port),
        CACHE_URL="locmemcache://",  # the upstream's own; the dashboards share Redis
        AUTOCOLLECT_TIMEOUT="3",  # its timeout fault waits this plus a second
        WEB_CONCURRENCY="1",
        GUNICORN_THREADS="16",
    )
    prepare(sandbox_env)
    step("sandbox seeded, member added to its three organisations")

    upstream = f"http://127.0.0.1:{sandbox_port}/sandbox"
    dashboard_env = base_environment(
        CACHE_URL=CACHE_URL,
        AUTOCOLLECT_API_URL=f"{upstream}/collection/v1",
        AUTOCOLLECT_TOKEN_URL=f"{upstream}/token",
        AUTOCOLLECT_CLIENT_ID=SANDBOX_CREDENTIAL,
        AUTOCOLLECT_CLIENT_SECRET=SANDBOX_CREDENTIAL,
        AUTOCOLLECT_TIMEOUT=str(UPSTREAM_TIMEOUT),
        SANDBOX_ENABLED="false",
        WEB_CONCURRENCY="2",
        GUNICORN_THREADS="4",
    )
    serve = [GUNICORN, "-c", "dashboard/gunicorn.conf.py", "dashboard.wsgi"]
    processes.start("sandbox", serve, {**sandbox_env, "GUNICORN_BIND": f"127.0.0.1:{sandbox_port}"})
    web = [
        processes.start(f"web{n}", serve, {**dashboard_env, "GUNICORN_BIND": f"127.0.0.1:{port}"})
        for n, port in ((1, first), (2, second))
    ]
    worker = processes.start(
        "worker", [PYTHON, "manage.py", "db_worker", "--interval", "0.2"], dashboard_env
    )
    for port in (sandbox_port, first, second):
        wait_until_up(port, "/healthz")
    for port in (first, second):
        wait_until_up(port, "/readyz")  # database, Redis and the upstream token, each
    step(f"upstream :{sandbox_port}, instances :{first} and :{second} and a worker are ready")

    work_across_instances(first, second)
    run_a_task(dashboard_env)
    check_logs([*web, worker])


def _out_of_time(signum: int, frame: object) -> None:
    raise CheckFailed(f"the check took longer than {CHECK_SECONDS} s")


if __name__ == "__main__":
    try:
        main()
    except CheckFailed as failure:
        print(f"scale-out check FAILED: {failure}", file=sys.stderr)
        sys.exit(1)
