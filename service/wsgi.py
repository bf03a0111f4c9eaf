"""WSGI entry for servers other than the project's own (`gunicorn service.wsgi:app`)."""

from . import create_app

app = create_app()
