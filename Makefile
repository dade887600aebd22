# The two commands a newcomer needs: `make run` and `make test`. Everything else is a helper.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PORT ?= 8000
# The development configuration every manage.py command reads (DEBUG=true and a SECRET_KEY made
# for this checkout), written once and kept; git-ignored, never read by gunicorn. See
# docs/development.md.
DEV_CONFIG := .env.development

.PHONY: run serve dev-config test test-postgres lint format typecheck check browser messages bench bench-overhead soak clean

$(VENV)/.installed: pyproject.toml
	@$(PYTHON) -c 'import sys; assert sys.version_info[:2] == (3, 13), "Python 3.13 is needed (see .python-version), found " + sys.version.split()[0]'
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade "pip>=25.1"
	$(PY) -m pip install --quiet --group dev
	touch $@

$(DEV_CONFIG): | $(VENV)/.installed
	$(PY) -m dashboard.configuration

dev-config: $(DEV_CONFIG)

run: $(VENV)/.installed $(DEV_CONFIG)
	PORT=$(PORT) $(PY) manage.py migrate --noinput
	PORT=$(PORT) $(PY) manage.py seed_demo
	PORT=$(PORT) $(PY) manage.py refresh_case_index --enqueue
	@# A task worker runs beside the server (the case index, webhooks' follow-ups) and stops with it.
	PORT=$(PORT) $(PY) manage.py db_worker --interval 0.5 & worker=$$!; \
		trap 'kill $$worker 2>/dev/null; wait $$worker' EXIT; \
		PORT=$(PORT) $(PY) manage.py runserver 127.0.0.1:$(PORT)

# Production serving on this machine (README, "Deployment"): gunicorn with dashboard/gunicorn.conf.py
# and a task worker beside it, in the deployment's configuration only (the environment or .env,
# never .env.development: without a SECRET_KEY of its own it stops). Migrates and collects the
# static files first for convenience; with several machines, run those once per release instead.
serve: $(VENV)/.installed
	@$(PY) -c 'import os, sys; from dashboard import configuration as c; os.environ.get("SECRET_KEY") or c.read_env_file(c.DEPLOYMENT_FILE).get("SECRET_KEY") or sys.exit("make serve runs the production configuration: set SECRET_KEY and the other production variables in the environment or .env (README, Deployment). make run serves development.")'
	$(PY) manage.py migrate --noinput
	$(PY) manage.py collectstatic --noinput
	$(PY) manage.py db_worker --no-reload & worker=$$!; \
		trap 'kill $$worker 2>/dev/null; wait $$worker' EXIT; \
		$(VENV)/bin/gunicorn -c dashboard/gunicorn.conf.py dashboard.wsgi

# The whole suite, browser tests included, on the embedded SQLite and local-memory cache unless
# DATABASE_URL / CACHE_URL say otherwise.
test: $(VENV)/.installed browser
	$(PY) -m pytest -n 2 --dist loadgroup -q

test-postgres: $(VENV)/.installed browser
	DATABASE_URL=postgres://postgres@127.0.0.1:5432/test CACHE_URL=redis://127.0.0.1:6379/1 \
		$(PY) -m pytest -n 2 --dist loadgroup -q

# Browser tests drive Debian's Chromium; as root we install it, otherwise Playwright's own build.
browser: $(VENV)/.installed
	@if [ -x /usr/bin/chromium ]; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		echo "Installing Debian's chromium for the browser tests"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium fonts-dejavu-core >/dev/null; \
	elif $(PY) -m playwright install chromium; then :; \
	else \
		echo "No browser for the browser tests: install Debian's chromium (sudo apt-get install chromium)" \
		     "or run '$(PY) -m playwright install chromium'." >&2; exit 1; \
	fi

lint: $(VENV)/.installed
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: $(VENV)/.installed
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

# mypy's Django plugin loads the settings itself (not through manage.py): DEBUG installs the
# sandbox so its models are checked too.
typecheck: $(VENV)/.installed
	DEBUG=true $(VENV)/bin/mypy .

# manage.py runs these source-level commands with DEBUG and the sandbox on (see manage.py), so
# every app's migrations are checked, with or without a development file.
check: lint typecheck
	$(PY) manage.py makemigrations --check --dry-run

messages: $(VENV)/.installed
	$(PY) manage.py makemessages -l nb -l en --ignore=.venv
	$(PY) manage.py compilemessages --ignore=.venv

bench: $(VENV)/.installed
	DEBUG=true $(PY) bench/bench_sandbox.py

# What the dashboard adds to the upstream's time, under `make serve` against the sandbox as its own
# server, on SQLite and on PostgreSQL with Redis (bench/overhead.py --help for the knobs).
bench-overhead: $(VENV)/.installed
	$(PY) bench/overhead.py

# Minutes of concurrent users while one upstream answer in ten fails (bench/soak.py --help).
soak: $(VENV)/.installed
	$(PY) bench/soak.py

clean:
	rm -rf $(VENV) staticfiles .pytest_cache .mypy_cache .ruff_cache
