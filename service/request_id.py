"""Request IDs: accept the caller's X-Request-ID when it is sane, otherwise make one; echo it back.

The ID lives in the WSGI environ so gunicorn's access log and the app's own logs print the same value.
"""

import re
import uuid

from flask import Flask, Response, request

HEADER = "X-Request-ID"
ENVIRON_KEY = "flask_service.request_id"
# Only IDs that cannot forge log lines or blow up log storage are passed through.
_VALID = re.compile(r"[A-Za-z0-9._:-]{1,128}")


def current() -> str | None:
    return request.environ.get(ENVIRON_KEY)


def _assign() -> None:
    given = request.headers.get(HEADER, "")
    request.environ[ENVIRON_KEY] = given if _VALID.fullmatch(given) else uuid.uuid4().hex


def _echo(response: Response) -> Response:
    rid = current()
    if rid:
        response.headers[HEADER] = rid
    return response


def init_app(app: Flask) -> None:
    app.before_request(_assign)
    app.after_request(_echo)
