"""Prometheus metrics with prometheus-flask-exporter.

Under gunicorn every worker is a process, so counters live in PROMETHEUS_MULTIPROC_DIR and /metrics
sums them (multiprocess mode). Without that directory (unit tests, a single process) an ordinary
per-app registry is used. Requests are labelled by URL rule, so unknown paths share one label.
"""

from __future__ import annotations

import os

from flask import Flask, Request
from prometheus_client import CollectorRegistry
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_flask_exporter import PrometheusMetrics, choose_encoder

from .health import LIVENESS_PATH, READINESS_PATH

METRICS_PATH = "/metrics"
UNMATCHED = "<unmatched>"
# Probes and scrapes would drown the real traffic in the request metrics.
EXCLUDED = [f"^{p}$" for p in (LIVENESS_PATH, READINESS_PATH, METRICS_PATH)]


def path(req: Request) -> str:
    """Label value for a request: its URL rule, never the raw path (bounded cardinality)."""
    return req.url_rule.rule if req.url_rule is not None else UNMATCHED


def multiprocess_dir() -> str | None:
    return os.environ.get("PROMETHEUS_MULTIPROC_DIR") or None


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
            MultiProcessCollector(registry)
        if names:
            registry = registry.restricted_registry(names)
        generate_latest, content_type = choose_encoder(accept_header)
        return generate_latest(registry).decode("utf-8"), content_type


def init_app(app: Flask) -> None:
    if not app.config["METRICS_ENABLED"]:
        return
    metrics = Metrics(
        app,
        path=METRICS_PATH,
        registry=CollectorRegistry(),  # one per app: the factory may run more than once per process
        group_by=path,
        excluded_paths=EXCLUDED,
        default_labels={},
    )
    metrics.info(
        "flask_service_app_info",
        "flask-service build information",
        version=app.config["APP_VERSION"],
    )
