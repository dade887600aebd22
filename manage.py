#!/usr/bin/env python
"""Django's command-line utility for administrative tasks.

Configuration: a deployment's `.env`, or in development the `.env.development` that `make run`
generates (see dashboard/configuration.py for which applies when). Incomplete configuration ends
the command with one line on stderr naming what is missing, not a traceback.
"""

import os
import sys

from dashboard import configuration

# Commands only a developer runs, on source files rather than a deployment: they get DEBUG and the
# sandbox (so its migrations and messages are included) even in a checkout without a development
# file, e.g. in CI, and whatever a deployment's .env says.
DEVELOPMENT_ONLY_COMMANDS = {"makemigrations", "makemessages", "compilemessages"}
CONFIGURATION_ERROR_EXIT_STATUS = 2


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dashboard.settings")
    configuration.load_for_management_command(os.environ)
    if sys.argv[1:2] and sys.argv[1] in DEVELOPMENT_ONLY_COMMANDS:
        os.environ.update(DEBUG="true", SANDBOX_ENABLED="true")
    _stop_unless_settings_load()
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)


def _stop_unless_settings_load() -> None:
    """Load the settings now, so a missing variable is one line instead of a traceback."""
    from django.conf import settings
    from django.core.exceptions import ImproperlyConfigured

    try:
        settings.INSTALLED_APPS  # noqa: B018 - the first access reads dashboard/settings.py
    except ImproperlyConfigured as error:
        sys.stderr.write(f"manage.py: {error}\n")
        sys.exit(CONFIGURATION_ERROR_EXIT_STATUS)


if __name__ == "__main__":
    main()
