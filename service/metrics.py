"""Prometheus metrics with prometheus-flask-exporter.

Under gunicorn every worker is a process, so counters live in PROMETHEUS_MULTIPROC_DIR and /metrics
sums them (multiprocess mode). Without that directory (unit tests, a single process) an ordinary
per-app registry is used. Requests are labelled by URL rule, so unknown paths share one label.
"""

from __future__ import annotations

import glob
import os
import re
from timeit import default_timer

from flask import Flask, Request, request
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_flask_exporter import PrometheusMetrics, choose_encoder

from .health import LIVENESS_PATH, READINESS_PATH

METRICS_PATH = "/metrics"
UNMATCHED = "<unmatched>"
# Probes and scrapes would drown the real traffic in the request metrics.
_EXCLUDED = re.compile("|".join(f"^{re.escape(p)}$" for p in (LIVENESS_PATH, READINESS_PATH, METRICS_PATH)))
# Per-request state lives in the WSGI environ: one dict access instead of attributes on the request proxy.
_START = "flask_service.metrics_start"
_DONE = "flask_service.metrics_done"


def path(req: Request) -> str:
    """Label value for a request: its URL rule, never the raw path (bounded cardinality)."""
    return req.url_rule.rule if req.url_rule is not None else UNMATCHED


def multiprocess_dir() -> str | None:
    return os.environ.get("PROMETHEUS_MULTIPROC_DIR") or None


class SizedFilesCollector(MultiProcessCollector):
    """The multiprocess collector, minus the files a worker has created but not yet sized.

    prometheus_client creates a process's file with open() and then truncates it to its size; a scrape
    between the two read an empty file and failed (struct.error, a 500). That happens whenever a worker
    counts its first request. An empty file holds no samples, and files only grow until they are deleted,
    so skipping it loses nothing. Deleted files are left to merge(), which knows which may vanish.
    """

    def collect(self):
        files = []
        for name in glob.glob(os.path.join(self._path, "*.db")):
            try:
                if os.path.getsize(name) == 0:
                    continue
            except FileNotFoundError:
                pass
            files.append(name)
        return self.merge(files, accumulate=True)


class Metrics(PrometheusMetrics):
    """The exporter, with `?name[]=` filtering that also works in multiprocess mode.

    Upstream restricts the registry before the multiprocess collector is added, and a restricted
    registry cannot take collectors, so the request ends in a 500. Here the registry is complete first.
    """

    def generate_metrics(self, accept_header=None, names=None):
        registry = self.registry
        if multiprocess_dir():
            # The collector has no describe(): without this flag a restricted view would drop it.
            registry = CollectorRegistry(support_collectors_without_names=True)
            SizedFilesCollector(registry)
        if names:
            registry = registry.restricted_registry(names)
        generate_latest, content_type = encoder(accept_header)
        return generate_latest(registry).decode("utf-8"), content_type


def encoder(accept_header: str | None):
    """The exposition format the Accept header asks for; the default one when its version is not a number.

    prometheus_client compares the version's parts with integers, so `version=abc` raised TypeError (a 500);
    a header it cannot read otherwise already gets the default format.
    """
    try:
        return choose_encoder(accept_header)
    except TypeError:
        return choose_encoder(None)


def track_requests(app: Flask, registry: CollectorRegistry) -> None:
    """The exporter's default request metrics (same names, help, labels, buckets, exclusions), leaner.

    The exporter's own hooks were about a fifth of a request's time in the profile (the benchmark in
    bench/): many lookups through the `request` proxy, one regex per excluded path, marker attributes
    against double counting by per-view decorators this service does not use. Counts are unchanged.
    """
    duration = Histogram(
        "flask_http_request_duration_seconds",
        "Flask HTTP request duration in seconds",
        ("method", "path", "status"),
        registry=registry,
    )
    total = Counter(
        "flask_http_request_total", "Total number of HTTP requests", ("method", "status"), registry=registry
    )
    exceptions = Counter(
        "flask_http_request_exceptions_total",
        "Total number of HTTP requests which resulted in an exception",
        ("method", "status"),
        registry=registry,
    )

    # labels() converts, validates and looks up under a lock on every call; the children it returns are
    # the same objects each time, so they are kept per label tuple (bounded: methods x rules x statuses,
    # as the metrics themselves are).
    durations: dict[tuple, object] = {}
    totals: dict[tuple, object] = {}

    def record(req: Request, status: int) -> None:
        environ = req.environ
        if _DONE in environ:
            return
        environ[_DONE] = True
        start = environ.get(_START)
        method = req.method
        if start is not None:
            key = (method, path(req), status)
            child = durations.get(key) or durations.setdefault(key, duration.labels(*key))
            child.observe(max(default_timer() - start, 0))
        key = (method, status)
        (totals.get(key) or totals.setdefault(key, total.labels(*key))).inc()

    def before_request() -> None:
        request.environ[_START] = default_timer()

    def after_request(response):
        req = request._get_current_object()
        if not _EXCLUDED.match(req.path):
            record(req, int(response.status_code))
        return response

    def teardown_request(exception=None) -> None:
        # Only an exception that no error handler turned into a response arrives here.
        if exception is None:
            return
        req = request._get_current_object()
        if _EXCLUDED.match(req.path):
            return
        exceptions.labels(req.method, 500).inc()
        record(req, 500)

    app.before_request(before_request)
    app.after_request(after_request)
    app.teardown_request(teardown_request)


def count_worker() -> None:
    """Count this gunicorn worker in flask_service_workers (called in each worker after the fork).

    A live-sum gauge: /metrics sums the files of live processes, and child_exit removes a dead worker's
    file, so the value is the pod's live workers.
    """
    if multiprocess_dir():
        Gauge("flask_service_workers", "Live gunicorn workers", registry=None, multiprocess_mode="livesum").set(1)


def init_app(app: Flask) -> None:
    if not app.config["METRICS_ENABLED"]:
        return
    registry = CollectorRegistry()  # one per app: the factory may run more than once per process
    metrics = Metrics(
        app,
        path=METRICS_PATH,
        registry=registry,
        export_defaults=False,  # replaced by track_requests (labels by URL rule, skips _EXCLUDED)
    )
    metrics.info("flask_exporter_info", "Information about the Prometheus Flask exporter", version=metrics.version)
    track_requests(app, registry)
    metrics.info(
        "flask_service_app_info",
        "flask-service build information",
        version=app.config["APP_VERSION"],
    )
