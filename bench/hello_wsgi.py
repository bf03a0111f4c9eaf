"""The bare-WSGI baseline: a hello app under the service's own gunicorn config (`python -m service` path).

Same arbiter, workers, threads, JSON access log and settings as the service; only the app differs, so
the ratio service / hello is the cost of Flask, the templates, the headers, request IDs and metrics.
"""

from service.__main__ import main

BODY = b"<!doctype html><html><head><title>hello</title></head><body><h1>hello</h1></body></html>\n"
HEADERS = [("Content-Type", "text/html; charset=utf-8"), ("Content-Length", str(len(BODY)))]


def hello(environ, start_response):
    start_response("200 OK", HEADERS)
    return [BODY]


def factory(config):
    return hello


if __name__ == "__main__":
    main(factory=factory)
