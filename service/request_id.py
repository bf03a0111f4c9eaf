"""Request IDs: accept the caller's X-Request-ID when it is sane, otherwise make one; echo it back.

The ID lives in the WSGI environ so gunicorn's access log and the app's own logs print the same value.
It is assigned when first needed (the first log line of the request, or its response) and echoed on the
header list handed to start_response (service/headers.py), not by Flask hooks.
"""

import re
import uuid

from flask import Flask, request

from .headers import edit_response_headers

HEADER = "X-Request-ID"
ENVIRON_KEY = "flask_service.request_id"
_ENVIRON_HEADER = "HTTP_X_REQUEST_ID"  # how WSGI servers pass the X-Request-ID request header
_LOWER = HEADER.lower()
# Only IDs that cannot forge log lines or blow up log storage are passed through.
_VALID = re.compile(r"[A-Za-z0-9._:-]{1,128}")


def current() -> str:
    """The ID of the request being handled."""
    return of(request.environ)


def of(environ: dict) -> str:
    """The request's ID, assigned on first use: the caller's when it is sane, otherwise a new one."""
    rid = environ.get(ENVIRON_KEY)
    if rid is None:
        given = environ.get(_ENVIRON_HEADER, "")
        environ[ENVIRON_KEY] = rid = given if _VALID.fullmatch(given) else uuid.uuid4().hex
    return rid


def echo(headers: list[tuple[str, str]], rid: str) -> list[tuple[str, str]]:
    """The response's headers with X-Request-ID set to `rid` (replacing any the app set)."""
    headers[:] = [h for h in headers if h[0].lower() != _LOWER]
    headers.append((HEADER, rid))
    return headers


def init_app(app: Flask) -> None:
    edit_response_headers(app, lambda environ, headers: echo(headers, of(environ)))
