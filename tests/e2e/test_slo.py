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
import threading
import time
from collections.abc import Iterator

import pytest

from tests.support.httpclient import free_port, get

from .kube import (
    ROOT,
    fresh_namespace,
    image_values,
    install_chart,
    kill_in_pod,
    kubectl_port_forward,
    restarts,
    wait_until,
    worker_pids,
)
from .prometheus import api, query

DEMO_VALUES = ROOT / "chart" / "ci" / "slo-demo-values.yaml"
DASHBOARD = ROOT / "chart" / "dashboards" / "flask-service.json"
ALERT = "FlaskServiceAvailabilityFastBurn"
NOT_READY_ALERT = "FlaskServicePodsNotReady"  # from kube-state-metrics' series (hack/addons/kube-state-metrics)
EVALUATION_WAIT = 120  # seconds: the demo values' windows fill and evaluate within two minutes
TARGET_WAIT = 120  # seconds: a new release's pods become targets and are scraped (5 s scrapes), with room


REPLICAS = 2
WORKERS = 2  # the chart's default config.workers
# The rate window of the values test: Grafana's $__rate_interval for 5 s scrapes is about this long.
RATE_WINDOW = 30
# How far a panel may be from what the client sent over the same window: Prometheus extrapolates a rate from
# the samples (every 5 s here) inside it, and the two clocks start the window up to a scrape apart.
RATE_TOLERANCE = 0.25


@pytest.fixture(scope="module")
def slo_release(release, apps, core):
    """(namespace, what its steady traffic sent, when Prometheus had scraped both replicas) of a release with the
    demo values and two replicas on two nodes, its image the main release's (pinned by digest); removed after."""
    with fresh_namespace("slo") as namespace:
        install_chart(namespace, "slo", image_values(apps) | {"replicaCount": str(REPLICAS)}, "-f", str(DEMO_VALUES))
        pods = core.list_namespaced_pod(namespace, label_selector="app.kubernetes.io/instance=slo").items
        assert len({p.spec.node_name for p in pods}) == REPLICAS, "the replicas share a node"
        names = sorted(p.metadata.name for p in pods)

        def unscraped():
            up = {r["metric"].get("pod"): r["value"][1] for r in query(f'up{{namespace="{namespace}"}}')}
            return None if up == dict.fromkeys(names, "1") else f"up: {up}, pods: {names}"

        with steady_traffic(namespace, ["/", "/next"]) as sent:
            # The tests read what Prometheus scraped from both replicas: the operator, its config reloader and
            # Prometheus's discovery take their time, which is the setup's, not a rule's or a panel's (a CI run
            # under load showed half the client's rate, as from one replica, and no recorded sample in 120 s).
            wait_until("Prometheus to scrape both replicas", unscraped, timeout=TARGET_WAIT, interval=2)
            yield namespace, sent, time.time()


@pytest.fixture(scope="module")
def slo(slo_release) -> str:
    return slo_release[0]


@contextlib.contextmanager
def steady_traffic(namespace: str, paths: list[str], limit: float = 600) -> Iterator[list[tuple[float, str, int]]]:
    """GETs of `paths` in turn, about 4 a second, for as long as the block lasts (`limit` seconds at most).
    Yields what was sent, as it is sent: (time, path, status), status 0 for a request that got no answer.

    Prometheus finds a new release's target only after the operator and the config reloader have done their
    part: traffic sent before the first scrape shows in no rate, and every ratio over a quiet window is 0/0.
    """
    stop = threading.Event()
    sent: list[tuple[float, str, int]] = []

    def run() -> None:
        port = free_port()
        with kubectl_port_forward("svc/slo-flask-service", port, namespace=namespace):
            end = time.monotonic() + limit
            for path in itertools.cycle(paths):
                if stop.wait(0.25) or time.monotonic() > end:
                    return
                try:
                    status = get(f"http://127.0.0.1:{port}{path}", timeout=5).status
                except OSError:  # what Prometheus sees is what the tests judge
                    status = 0
                sent.append((time.time(), path, status))

    thread = threading.Thread(target=run, name="slo-traffic", daemon=True)
    thread.start()
    try:
        yield sent
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


def panel_queries(namespace: str, rate_interval: str = "1m") -> dict[str, list[str]]:
    """Each dashboard panel's queries by its title, as Grafana would send them for this release."""
    values = {"$namespace": namespace, "$job": "slo-flask-service", "$__rate_interval": rate_interval}
    panels = {}
    for panel in json.loads(DASHBOARD.read_text())["panels"]:
        exprs = []
        for target in panel.get("targets", []):
            expr = target["expr"]
            for name, value in values.items():
                expr = expr.replace(name, value)
            exprs.append(expr)
        panels[panel["title"]] = exprs
    return panels


def values(expr: str) -> dict[str, float]:
    """An instant query's samples, keyed by their labels' values."""
    return {",".join(r["metric"].values()): float(r["value"][1]) for r in query(expr)}


def test_the_dashboard_shows_the_load_that_was_sent(slo_release):
    # Measured against the client: its GETs of the last RATE_WINDOW seconds (all answered 200 so far), the two
    # replicas and their workers. The error panels read 0: nothing has failed yet (the burn comes later).
    namespace, sent, scraped = slo_release
    # A window of traffic and more, and a window (and a 5-s scrape) since both replicas' first scrape.
    wait_until(
        "traffic scraped from both replicas for a window",
        lambda: (
            None
            if sent and time.time() - sent[0][0] > RATE_WINDOW + 15 and time.time() - scraped > RATE_WINDOW + 5
            else ""
        ),
        120,
    )
    panels = panel_queries(namespace, f"{RATE_WINDOW}s")
    now = time.time()
    window = [(path, status) for at, path, status in sent if now - RATE_WINDOW <= at <= now]
    assert {status for _, status in window} == {200}, window
    client_rate = len(window) / RATE_WINDOW

    rate = sum(values(panels["Request rate per route"][0]).values())
    assert abs(rate - client_rate) <= RATE_TOLERANCE * client_rate, (rate, client_rate)
    by_status = values(panels["Responses by status"][0])
    assert set(by_status) == {"200"}, by_status
    assert abs(by_status["200"] - client_rate) <= RATE_TOLERANCE * client_rate, (by_status, client_rate)
    for expr in panels["Error ratio (5xx)"][:2]:
        assert set(values(expr).values()) == {0.0}, expr
    # Local GETs answer in milliseconds: every quantile lies in the histogram's lowest buckets, in order.
    p50, p90, p99 = (values(expr) for expr in panels["Latency quantiles per route"])
    assert set(p50) == {"/", "/next"}, p50
    for path in p50:
        assert 0 < p50[path] <= p90[path] <= p99[path] <= 0.25, (path, p50, p90, p99)
    up, available, desired = (sum(values(expr).values()) for expr in panels["Pods"])
    assert (up, available, desired) == (REPLICAS, REPLICAS, REPLICAS)
    workers = values(panels["gunicorn workers per pod"][0])
    assert len(workers) == REPLICAS and set(workers.values()) == {WORKERS}, workers
    print(f"dashboard: {rate:.2f} requests/s shown for {client_rate:.2f} sent; p99 {max(p99.values()) * 1000:.0f} ms")


def firing(alert: str, namespace: str) -> bool:
    return any(
        a["labels"].get("alertname") == alert and a["labels"].get("namespace") == namespace and a["state"] == "firing"
        for a in api("/api/v1/alerts")["alerts"]
    )


def test_a_burn_of_errors_fires_the_availability_alert(slo):
    assert not firing(ALERT, slo), "the alert fired before the burn"
    start = time.monotonic()
    with steady_traffic(slo, ["/status/500"], limit=EVALUATION_WAIT + 30):
        wait_until(
            f"{ALERT} to fire", lambda: None if firing(ALERT, slo) else "not firing", timeout=EVALUATION_WAIT + 30
        )
    print(f"{ALERT} fired {time.monotonic() - start:.0f} s after the burn began")


def test_a_pod_held_not_ready_fires_pods_not_ready_and_it_resolves(slo, core):
    # Every worker of one of the release's pods stopped (SIGSTOP): its probes time out, the pod leaves the ready
    # replicas, kube-state-metrics reports fewer available than desired, and the alert fires; the workers
    # continued, the pod is ready again and the alert resolves.
    pod = core.list_namespaced_pod(slo, label_selector="app.kubernetes.io/instance=slo").items[0].metadata.name
    assert not firing(NOT_READY_ALERT, slo), "the alert fired before the pod was held"
    workers = worker_pids(pod, slo)
    start = time.monotonic()
    for pid in workers:
        kill_in_pod(pod, pid, "SIGSTOP", namespace=slo)
    try:
        wait_until(
            f"{NOT_READY_ALERT} to fire",
            lambda: None if firing(NOT_READY_ALERT, slo) else "not firing",
            timeout=EVALUATION_WAIT,
        )
        fired = time.monotonic() - start
    finally:
        for pid in workers:
            kill_in_pod(pod, pid, "SIGCONT", namespace=slo)
    wait_until(
        f"{NOT_READY_ALERT} to resolve",
        lambda: "firing" if firing(NOT_READY_ALERT, slo) else None,
        timeout=EVALUATION_WAIT,
    )
    resolved = time.monotonic() - start - fired
    print(f"{NOT_READY_ALERT} fired {fired:.0f} s after the workers stopped, resolved {resolved:.0f} s after")
    restarted = restarts(core.read_namespaced_pod(pod, slo))
    assert restarted == 0, "the pod was restarted: the liveness probe must outlast the hold (slo-demo-values.yaml)"
