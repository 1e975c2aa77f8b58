"""WSGI entry point (gunicorn hiboo_connect.wsgi)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hiboo_connect.settings")
application = get_wsgi_application()
