"""WSGI entry point for gunicorn: `gunicorn -k gevent -w 1 helpdesk.wsgi:app`."""

from helpdesk import create_app

app = create_app()
