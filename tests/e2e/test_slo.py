"""The chart's SLO rules and dashboard against the cluster's real Prometheus: a release installed with
chart/ci/slo-demo-values.yaml (fault routes on, 5 s scrapes and evaluations, SLO windows of seconds) in
a namespace of its own. Its rules load with health ok and the recording rules produce samples; the
dashboard's queries answer; a burn of 500s from the fault route makes the availability alert fire.
Bounded: a few requests a second while the module runs (ten minutes at most), and a burn of at most two minutes.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import re
import threading
import time
from collections.abc import Iterator

import pytest

from tests.support.httpclient import free_port, get

from .kube import ROOT, fresh_namespace, image_values, install_chart, kubectl_port_forward, wait_until
from .prometheus import api, query

DEMO_VALUES = ROOT / "chart" / "ci" / "slo-demo-values.yaml"
DASHBOARD = ROOT / "chart" / "dashboards" / "flask-service.json"
# The Pods panel also shows replicas from kube-state-metrics, which no module proxy serves here.
NEEDS_KUBE_STATE_METRICS = re.compile(r"\bkube_")
ALERT = "FlaskServiceAvailabilityFastBurn"
EVALUATION_WAIT = 120  # seconds: the demo values' windows fill and evaluate within two minutes


@pytest.fixture(scope="module")
def slo(release, apps):
    """A release with the demo values, its image the main release's (pinned by digest); removed after."""
    with fresh_namespace("slo") as namespace:
        install_chart(namespace, "slo", image_values(apps), "-f", str(DEMO_VALUES))
        with steady_traffic(namespace, ["/", "/next"]):
            yield namespace


@contextlib.contextmanager
def steady_traffic(namespace: str, paths: list[str], limit: float = 600) -> Iterator[None]:
    """GETs of `paths` in turn, about 4 a second, for as long as the block lasts (`limit` seconds at most).

    Prometheus finds a new release's target only after the operator and the config reloader have done their
    part: traffic sent before the first scrape shows in no rate, and every ratio over a quiet window is 0/0.
    """
    stop = threading.Event()

    def run() -> None:
        port = free_port()
        with kubectl_port_forward("svc/slo-flask-service", port, namespace=namespace):
            end = time.monotonic() + limit
            for path in itertools.cycle(paths):
                if stop.wait(0.25) or time.monotonic() > end:
                    return
                with contextlib.suppress(OSError):  # what Prometheus sees is what the tests judge
                    get(f"http://127.0.0.1:{port}{path}", timeout=5)

    thread = threading.Thread(target=run, name="slo-traffic", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(30)


def rule_groups(namespace: str) -> list[dict]:
    """The rule groups Prometheus loaded from the PrometheusRule of the release in `namespace`."""
    return [g for g in api("/api/v1/rules")["groups"] if f"/{namespace}-" in g["file"]]


def test_rules_load_healthy_and_the_recording_rules_produce_samples(slo):
    expected = {"slo-flask-service-slo-records", "slo-flask-service-slo-alerts"}

    def pending():
        # The operator writes the rules into Prometheus's ConfigMap, and its reloader has Prometheus reload.
        groups = rule_groups(slo)
        if {g["name"] for g in groups} != expected:
            return f"groups loaded: {[g['name'] for g in groups]}"
        rules = [r for g in groups for r in g["rules"]]
        unhealthy = [(r["name"], r["health"], r.get("lastError")) for r in rules if r["health"] != "ok"]
        records = [r["name"] for r in rules if r["type"] == "recording"]
        empty = [name for name in records if not query(f'{name}{{namespace="{slo}"}}')]
        return None if records and not unhealthy and not empty else f"unhealthy {unhealthy}, no samples yet {empty}"

    wait_until("the release's rules to load and evaluate", pending, timeout=EVALUATION_WAIT, interval=5)


def test_every_dashboard_query_answers(slo):
    dashboard = json.loads(DASHBOARD.read_text())
    exprs = [t["expr"] for panel in dashboard["panels"] for t in panel.get("targets", [])]
    exprs = [e for e in exprs if not NEEDS_KUBE_STATE_METRICS.search(e)]
    assert exprs
    values = {"$namespace": slo, "$job": "slo-flask-service", "$__rate_interval": "1m"}

    def pending():
        silent = []
        for expr in exprs:
            for name, value in values.items():
                expr = expr.replace(name, value)
            if not query(expr):
                silent.append(expr)
        return None if not silent else f"no data: {silent}"

    wait_until("every dashboard query to answer", pending, timeout=EVALUATION_WAIT, interval=5)


def test_a_burn_of_errors_fires_the_availability_alert(slo):
    def firing() -> bool:
        alerts = api("/api/v1/alerts")["alerts"]
        return any(
            a["labels"].get("alertname") == ALERT and a["labels"].get("namespace") == slo and a["state"] == "firing"
            for a in alerts
        )

    assert not firing(), "the alert fired before the burn"
    start = time.monotonic()
    with steady_traffic(slo, ["/status/500"], limit=EVALUATION_WAIT + 30):
        wait_until(f"{ALERT} to fire", lambda: None if firing() else "not firing", timeout=EVALUATION_WAIT + 30)
    print(f"{ALERT} fired {time.monotonic() - start:.0f} s after the burn began")
