#!/usr/bin/env python
"""Django's command-line utility for administrative tasks."""

import os
import sys

# Commands only a developer runs, on source files rather than a deployment: they get the
# development configuration instead of failing on production's missing SECRET_KEY.
DEVELOPMENT_ONLY_COMMANDS = {"makemigrations", "makemessages", "compilemessages"}


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dashboard.settings")
    if sys.argv[1:2] and sys.argv[1] in DEVELOPMENT_ONLY_COMMANDS:
        os.environ.setdefault("DEBUG", "true")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
