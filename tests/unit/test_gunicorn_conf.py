"""The project's gunicorn configuration, through gunicorn's own request parser (no server)."""

from gunicorn.http import wsgi
from gunicorn.http.parser import RequestParser

from service import create_app
from service.server import Server
from service.settings import Settings

# kubectl port-forward and sidecars reach the pod from 127.0.0.1, which gunicorn trusts by default.
LOOPBACK = ("127.0.0.1", 40000)


def environ_for(request: bytes) -> dict:
    cfg = Server(Settings(), create_app, "/nonexistent/drain-flag").cfg
    req = next(RequestParser(cfg, [request], LOOPBACK))
    _, environ = wsgi.create(req, None, LOOPBACK, ("127.0.0.1", 5000), cfg)
    return environ


def test_a_client_cannot_set_script_name():
    # Trusted, a SCRIPT_NAME header that is not a prefix of the path was a 500 from gunicorn, and one that is
    # moved the app's root (a redirect to a path the client chose).
    for script_name in ("/x", "/metrics"):
        environ = environ_for(b"GET /metrics HTTP/1.1\r\nHost: x\r\nSCRIPT_NAME: " + script_name.encode() + b"\r\n\r\n")
        assert (environ["SCRIPT_NAME"], environ["PATH_INFO"]) == ("", "/metrics")


def test_forwarded_headers_are_not_taken_from_loopback_by_default():
    environ = environ_for(b"GET / HTTP/1.1\r\nHost: x\r\nX-Forwarded-Proto: https\r\n\r\n")
    assert environ["wsgi.url_scheme"] == "http"


def test_the_service_worker_is_the_default_and_holds_a_thousand_connections():
    cfg = Server(Settings(), create_app, "/nonexistent/drain-flag").cfg
    assert cfg.worker_class_str == "service.worker.GuardedWorker"
    assert cfg.worker_connections >= 1000
