"""The README's manage.py commands work when pasted into a terminal after `make run`.

The commands are read from README.md's shell blocks, so the test follows the README. They run as
a user would run them: a new process, the development configuration `make run` writes (created
here the way `make dev-config` does, if absent), none of the test suite's environment, a terminal
to answer add_member's password prompts. Only the database is a temporary one, and seed_sandbox
seeds a few cases instead of thousands.
"""

import json
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from dashboard import configuration
from dashboard.management.commands.seed_demo import DEMO_ORGANIZATIONS

# One worker runs them all (with --dist loadgroup): one migrated database for the module.
pytestmark = pytest.mark.xdist_group("readme_commands")

ROOT = Path(__file__).resolve().parent.parent
MANAGE = ".venv/bin/python manage.py"
FEW_CASES = "12"


def readme_commands() -> list[str]:
    """Every `.venv/bin/python manage.py ...` command in the README's sh blocks, one line each."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    commands = []
    for block in re.findall(r"^```sh\n(.*?)^```", readme, re.MULTILINE | re.DOTALL):
        for line in block.replace("\\\n", " ").splitlines():
            if line.startswith(MANAGE):
                commands.append(line)
    return commands


def command_named(name: str, *, having: str = "") -> list[str]:
    """The README's first `manage.py <name>` command (with the option `having`, if given)."""
    found = [
        argv
        for command in readme_commands()
        if command.startswith(f"{MANAGE} {name} ")
        and (argv := shlex.split(command, comments=True))
        and (not having or having in argv)
    ]
    assert found, f"README.md shows no `{MANAGE} {name}` command {having}"
    return found[0]


def as_a_user(database: Path) -> dict[str, str]:
    """A login shell's environment: none of the suite's settings, a database of the test's own."""
    suite_only = ("DEBUG", "SECRET_KEY", "ALLOWED_HOSTS", "CACHE_URL", "DJANGO_SETTINGS_MODULE")
    env = {
        name: value
        for name, value in os.environ.items()
        if name not in suite_only
        and not name.startswith(("AUTOCOLLECT_", "SANDBOX_", "PYTEST_", "DJANGO_"))
    }
    return {**env, "DATABASE_URL": f"sqlite:///{database}"}


def run(argv: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603 - the README's own commands
        argv, cwd=ROOT, env=env, capture_output=True, text=True, check=False, timeout=300
    )


def run_in_terminal(
    argv: list[str], env: dict[str, str], answers: list[str]
) -> subprocess.CompletedProcess[str]:
    helper = [sys.executable, "-m", "tests.support.terminal", json.dumps(answers), "--"]
    return run(helper + argv, env)


@pytest.fixture(scope="module")
def user_env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """After `make run`: the development file exists and the database is migrated."""
    configuration.write_development_file()  # what `make dev-config` runs; kept if present
    env = as_a_user(tmp_path_factory.mktemp("readme") / "db.sqlite3")
    migrated = run([*MANAGE.split(), "migrate", "--noinput"], env)
    assert migrated.returncode == 0, migrated.stderr
    return env


def test_the_readme_shows_the_commands_this_test_runs() -> None:
    names = {command.split()[2] for command in readme_commands()}
    assert {"add_member", "seed_sandbox"} <= names


def test_add_member_as_written(user_env: dict[str, str]) -> None:
    argv = command_named("add_member")
    result = run_in_terminal(argv, user_env, ["a-long-pass-phrase", "a-long-pass-phrase"])
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Created kari: agent in" in result.stdout
    assert "Traceback" not in result.stdout


def test_add_member_names_no_second_organisation_after_a_demo_one() -> None:
    """The README's organisation is either a demo organisation itself or has a name of its own."""
    argv = command_named("add_member")
    org_id, org_name = argv[argv.index("--org-id") + 1], argv[argv.index("--org-name") + 1]
    demo_names = dict(DEMO_ORGANIZATIONS)
    assert org_id in demo_names or org_name not in demo_names.values()


def test_seed_sandbox_as_written_with_fewer_cases(user_env: dict[str, str]) -> None:
    argv = command_named("seed_sandbox", having="--cases")
    argv[argv.index("--cases") + 1] = FEW_CASES
    result = run(argv, user_env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.count(f"{FEW_CASES} cases seeded") == 2


def test_adding_cases_to_the_demo_as_written(user_env: dict[str, str]) -> None:
    argv = command_named("seed_sandbox", having="--add-cases")
    organization = argv[argv.index("--org") + 1]
    seed = [*argv[: argv.index("--org")], "--org", organization, "--cases", FEW_CASES]
    assert run(seed, user_env).returncode == 0  # the demo's organisation, as make run seeds it

    result = run(argv, user_env)

    assert result.returncode == 0, result.stderr
    count = argv[argv.index("--add-cases") + 1]
    assert re.search(rf"new cases( \d+,){{{int(count) - 1}}} \d+ \(", result.stdout), result.stdout
