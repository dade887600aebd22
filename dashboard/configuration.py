"""Where a process's configuration comes from, before Django reads its settings.

Settings read only environment variables. Two optional files fill in the ones a process lacks
(a variable already set in the environment always wins):

- `.env`, a deployment's file (the format of `.env.example`). Read by every entry point: gunicorn
  through dashboard/wsgi.py or asgi.py, and manage.py when the process is a deployment's.
- `.env.development`, the development configuration: DEBUG=true and a SECRET_KEY generated for
  this checkout, created once by `make dev-config` (which `make run` runs) and never by anything
  else. Read by manage.py alone, so every development command (`make run`, add_member,
  seed_sandbox, createsuperuser, a task worker) sees the same configuration.

Why a deployment can never pick up the development file: wsgi.py and asgi.py do not read it, and
manage.py reads it only in a process that has no SECRET_KEY of its own. Every deployment must set
SECRET_KEY (settings refuse to start without it), so a deployment's management commands never
read it either, even on a machine where someone once ran `make run`.

Nothing here imports Django: manage.py uses it before Django starts.
"""

import os
import re
import secrets
from collections.abc import MutableMapping
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
DEPLOYMENT_FILE = BASE_DIR / ".env"
DEVELOPMENT_FILE = BASE_DIR / ".env.development"

_ASSIGNMENT = re.compile(r"^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*?)\s*$")

_DEVELOPMENT_TEMPLATE = """\
# The development configuration, read by manage.py only (`make run`, every manage.py command).
# Generated once for this checkout by `make dev-config`; git-ignored; never read by gunicorn.
# Add any variable from .env.example here, e.g. AUTOCOLLECT_API_URL and friends to develop
# against Amili staging. The environment still wins over this file.
DEBUG=true
SECRET_KEY={secret_key}
"""

# Whether this process took the development configuration: runserver imports wsgi.py later, in
# the same process, and must not mix a deployment's .env into it.
_state = {"development": False}


def read_env_file(path: Path) -> dict[str, str]:
    """KEY=VALUE lines of `path` (comments, blank lines and `export ` allowed; {} if absent)."""
    if not path.is_file():
        return {}
    values: dict[str, str] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.lstrip().startswith("#"):
            continue
        match = _ASSIGNMENT.match(line)
        if match:
            name, value = match.groups()
            values[name] = _unquote(value)
    return values


def _unquote(value: str) -> str:
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
        return value[1:-1]
    return value


def _fill_in(environ: MutableMapping[str, str], values: dict[str, str]) -> None:
    """Set what the environment lacks; an empty variable counts as unset, as in the settings."""
    for name, value in values.items():
        if not environ.get(name):
            environ[name] = value


def load_for_server(environ: MutableMapping[str, str] = os.environ) -> None:
    """wsgi.py and asgi.py: the deployment's `.env`, never the development file.

    `manage.py runserver` imports wsgi.py too, after its settings are loaded: a process that
    already took the development configuration is left as it is.
    """
    if not _state["development"]:
        _fill_in(environ, read_env_file(DEPLOYMENT_FILE))


def load_for_management_command(environ: MutableMapping[str, str] = os.environ) -> str:
    """manage.py: the deployment's `.env` in a deployment, else the development file.

    Returns which one applied: "deployment" or "development" (the file may be absent).
    """
    deployment = read_env_file(DEPLOYMENT_FILE)
    if environ.get("SECRET_KEY") or deployment.get("SECRET_KEY"):
        _fill_in(environ, deployment)
        return "deployment"
    _fill_in(environ, read_env_file(DEVELOPMENT_FILE))
    _state["development"] = True
    return "development"


def write_development_file(path: Path = DEVELOPMENT_FILE) -> bool:
    """Create the development file with a new SECRET_KEY; an existing one is kept as it is.

    Returns whether it was created. Readable by its owner only: it holds a secret. Written whole
    under a temporary name, then linked into place (which fails if the file exists), so two
    commands starting at once never see half a file or overwrite each other's key.
    """
    if path.exists():
        return False
    content = _DEVELOPMENT_TEMPLATE.format(secret_key=secrets.token_urlsafe(50))
    draft = path.with_name(f"{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    descriptor = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8") as file:
            file.write(content)
        os.link(draft, path)
    except FileExistsError:
        return False
    finally:
        draft.unlink()
    return True


def main() -> None:
    """`python -m dashboard.configuration`: what `make dev-config` runs."""
    relative = DEVELOPMENT_FILE.relative_to(BASE_DIR)
    if write_development_file():
        print(f"Wrote {relative}: DEBUG=true and a SECRET_KEY for this checkout.")  # noqa: T201


if __name__ == "__main__":
    main()
