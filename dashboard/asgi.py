"""The ASGI entry point: like wsgi.py, the deployment's `.env`, never the development file."""

import os

from django.core.asgi import get_asgi_application

from dashboard import configuration

configuration.load_for_server(os.environ)
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dashboard.settings")
application = get_asgi_application()
