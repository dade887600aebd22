"""The WSGI entry point (gunicorn dashboard.wsgi).

It reads the deployment's `.env` if there is one, never the development file: a production server
cannot pick up DEBUG or the sandbox from `.env.development` (see dashboard/configuration.py).
"""

import os

from django.core.wsgi import get_wsgi_application

from dashboard import configuration

configuration.load_for_server(os.environ)
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dashboard.settings")
application = get_wsgi_application()
