"""Request IDs: accept the caller's X-Request-ID when it is sane, otherwise make one; echo it back.

The ID lives in the WSGI environ so gunicorn's access log and the app's own logs print the same value.
It is assigned and echoed at the WSGI layer, around the app: before Flask sees the request and on the
header list handed to start_response (as Flask hooks these were 12% of a request, in bench/profile_request.py).
"""

import re
import uuid

from flask import Flask, request

HEADER = "X-Request-ID"
ENVIRON_KEY = "flask_service.request_id"
_ENVIRON_HEADER = "HTTP_X_REQUEST_ID"  # how WSGI servers pass the X-Request-ID request header
_LOWER = HEADER.lower()
# Only IDs that cannot forge log lines or blow up log storage are passed through.
_VALID = re.compile(r"[A-Za-z0-9._:-]{1,128}")


def current() -> str:
    """The request's ID; assigned here when the request did not come through the app's WSGI entry
    (a test request context, for one)."""
    environ = request.environ
    return environ.get(ENVIRON_KEY) or assign(environ)


def assign(environ: dict) -> str:
    given = environ.get(_ENVIRON_HEADER, "")
    environ[ENVIRON_KEY] = rid = given if _VALID.fullmatch(given) else uuid.uuid4().hex
    return rid


def echo(headers: list[tuple[str, str]], rid: str) -> list[tuple[str, str]]:
    """The response's headers with X-Request-ID set to `rid` (replacing any the app set)."""
    headers[:] = [h for h in headers if h[0].lower() != _LOWER]
    headers.append((HEADER, rid))
    return headers


def init_app(app: Flask) -> None:
    wsgi_app = app.wsgi_app

    def with_request_id(environ, start_response):
        rid = assign(environ)

        def start(status, headers, exc_info=None):
            return start_response(status, echo(headers, rid), exc_info)

        return wsgi_app(environ, start)

    app.wsgi_app = with_request_id
