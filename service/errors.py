"""Error pages: small HTML or JSON, never a traceback to the client; tracebacks go to the log."""

from flask import Flask, current_app, render_template, request
from werkzeug.exceptions import HTTPException, InternalServerError

from . import request_id


def _wants_json() -> bool:
    # Ties (e.g. "*/*") go to HTML: browsers are the pages' audience.
    return request.accept_mimetypes.best_match(["text/html", "application/json"]) == "application/json"


def render_error(error: HTTPException):
    if error.code is None or error.code < 400:  # routing redirects are responses, not errors
        return error
    rid = request_id.current()
    headers = {"Allow": ", ".join(error.valid_methods)} if getattr(error, "valid_methods", None) else {}
    if _wants_json():
        return {"error": error.name, "status": error.code, "request_id": rid}, error.code, headers
    html = render_template(
        "error.html",
        colour="white",
        heading=f"{error.code} {error.name}",
        description=error.description,
        request_id=rid,
    )
    return html, error.code, headers


def _unexpected(error: Exception):
    current_app.logger.error("unhandled exception", exc_info=error)
    return render_error(InternalServerError())


def init_app(app: Flask) -> None:
    app.register_error_handler(HTTPException, render_error)
    app.register_error_handler(Exception, _unexpected)
