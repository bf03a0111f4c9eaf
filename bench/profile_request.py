"""Per-request cost of the app in-process: µs per request on a path through app.wsgi_app, no server.

Times N requests with a prepared environ (the same one a gunicorn worker would build) for the service,
the naive Flask + exporter app and the bare WSGI hello, and the JSON access log line gunicorn writes after
each of them; then prints the top of a cProfile of the service.
Metrics run in multiprocess mode (a temporary PROMETHEUS_MULTIPROC_DIR), as under gunicorn.
Bounded: N requests per app (default 20000).
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import sys
import tempfile
import time


def environ(path: str) -> dict:
    return {
        "REQUEST_METHOD": "GET",
        "PATH_INFO": path,
        "QUERY_STRING": "",
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "5000",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1",
        "HTTP_HOST": "127.0.0.1:5000",
        "HTTP_USER_AGENT": "wrk",
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(),
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": True,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
    }


def start_response(status, headers, exc_info=None):
    return None


def one(app, path: str) -> None:
    body = app(environ(path), start_response)
    for _chunk in body:
        pass
    if hasattr(body, "close"):
        body.close()


def per_request_us(app, path: str, count: int) -> float:
    for _ in range(min(count, 1000)):  # warm-up: lazy imports, template cache, metric children
        one(app, path)
    best = float("inf")
    for _ in range(5):  # best of five: the machine is shared, the minimum is the app's own cost
        start = time.perf_counter()
        for _ in range(count // 5):
            one(app, path)
        best = min(best, (time.perf_counter() - start) / (count // 5))
    return best * 1e6


def access_log_us(count: int) -> float:
    """One access log line as the gunicorn worker writes it after each request, to /dev/null."""
    import datetime

    from gunicorn.config import Config

    from service import logs

    class Sent:
        status = "200 OK"
        sent = 512

    cfg = Config()
    cfg.set("accesslog", "-")
    logger = logs.GunicornLogger(cfg)
    env = {**environ("/"), "flask_service.request_id": "0" * 32}
    took = datetime.timedelta(microseconds=1234)
    stdout = os.dup(logs.STDOUT)  # the access log writes to the stdout descriptor itself
    with open(os.devnull, "w") as null:
        os.dup2(null.fileno(), logs.STDOUT)
        try:
            start = time.perf_counter()
            for _ in range(count):
                logger.access(Sent, None, env, took)
            return (time.perf_counter() - start) / count * 1e6
        finally:
            os.dup2(stdout, logs.STDOUT)
            os.close(stdout)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--path", default="/")
    parser.add_argument("--count", type=int, default=20000)
    parser.add_argument("--top", type=int, default=25)
    args = parser.parse_args()
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="bench-profile-")

    from service import create_app
    from service.settings import Settings

    from . import hello_wsgi, naive_app

    config = {**Settings().flask_config(), "METRICS_ENABLED": True}
    service = create_app(config).wsgi_app
    apps = {
        "service": service,
        "service, metrics off": create_app({**config, "METRICS_ENABLED": False}).wsgi_app,
        "naive Flask + exporter": naive_app.factory(config).wsgi_app,
        "bare WSGI hello": hello_wsgi.hello,
    }
    for name, app in apps.items():
        print(f"{name:24} {per_request_us(app, args.path, args.count):8.1f} µs/request", flush=True)

    print(f"{'access log line':24} {access_log_us(args.count):8.1f} µs/request (shared by all of them under gunicorn)")

    profile = cProfile.Profile()
    profile.enable()
    for _ in range(args.count // 4):
        one(service, args.path)
    profile.disable()
    pstats.Stats(profile).sort_stats("tottime").print_stats(args.top)


if __name__ == "__main__":
    main()
