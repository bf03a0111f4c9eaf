"""Response headers set at the WSGI layer: the security headers on every response (the CSP matters for the
HTML pages), and the one mechanism that sets them, which request IDs use to echo theirs."""

from collections.abc import Callable

from flask import Flask

# The pages need one inline <style> block and nothing else: no scripts, frames, forms or fetches.
CSP = "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Content-Security-Policy": CSP,
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
}


# Lower-cased once: header names compare case-insensitively.
_BY_LOWER_NAME = [(name.lower(), (name, value)) for name, value in SECURITY_HEADERS.items()]


def add_missing(headers: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """The response's headers plus each security header it does not set itself (a view's own value wins)."""
    present = {name.lower() for name, _ in headers}
    headers.extend(header for lower, header in _BY_LOWER_NAME if lower not in present)
    return headers


HeaderEdit = Callable[[dict, list[tuple[str, str]]], list[tuple[str, str]]]


def edit_response_headers(app: Flask, edit: HeaderEdit) -> None:
    """Wrap the app so that `edit(environ, headers)` rewrites the header list every response hands to
    start_response: every response the app produces, error pages and responses from failing hooks included.

    As Flask after_request hooks, the security headers and the request ID echo were a fifth of a request
    (bench/profile_request.py): the hook dispatch and werkzeug re-validating constant values each time.
    """
    wsgi_app = app.wsgi_app

    def with_edited_headers(environ, start_response):
        def start(status, headers, exc_info=None):
            return start_response(status, edit(environ, headers), exc_info)

        return wsgi_app(environ, start)

    app.wsgi_app = with_edited_headers


def init_app(app: Flask) -> None:
    edit_response_headers(app, lambda environ, headers: add_missing(headers))
