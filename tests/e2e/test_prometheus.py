"""The chart's ServiceMonitor against the cluster's real Prometheus (hack/addons/prometheus, run by the Prometheus
Operator in namespace monitoring): every pod of the release is a target that is up, and what the service
counts is what Prometheus stores, request for request. Prometheus is asked through its own query API, over
the API server's port-forward to its pod.
"""

from __future__ import annotations

import pytest

from .clientload import counter_samples
from .kube import NAMESPACE, SERVICE, Target, pod_get, ready_targets, wait_until
from .prometheus import query, scalar

SCRAPE_WAIT = 120  # seconds: discovery, then the chart's 15 s scrape interval, with room
SELECTOR = f'namespace="{NAMESPACE}",service="{SERVICE}"'
PER_ROUTE = {"/": 7, "/next": 4}


def series(route: str | None) -> tuple[str, dict[str, str]]:
    """Answered requests in all (route None), or one route's, as a metric name and label filter."""
    if route is None:
        return "flask_http_request_total", {}
    return "flask_http_request_duration_seconds_count", {"path": route}


def live_total(targets: list[Target], route: str | None = None) -> float:
    """What the pods count now, from their own /metrics."""
    name, match = series(route)
    total = 0.0
    for target in targets:
        for key, value in counter_samples(pod_get(target, "/metrics").body).items():
            if key[0] == name and match.items() <= dict(key[1:]).items():
                total += value
    return total


def stored(route: str | None = None) -> float:
    """What Prometheus has stored of the same (no series yet: a route nobody asked for, 0 as in the pods)."""
    name, match = series(route)
    labels = "".join(f',{k}="{v}"' for k, v in match.items())
    return scalar(f"sum({name}{{{SELECTOR}{labels}}})") or 0.0


def wait_stored(expected: dict[str | None, float]) -> None:
    def pending():
        now = {route: stored(route) for route in expected}
        return None if now == expected else f"Prometheus has {now}, the pods {expected}"

    wait_until("Prometheus to scrape the pods' counts", pending, timeout=SCRAPE_WAIT, interval=2)


@pytest.fixture(scope="module")
def targets(release, core, discovery) -> list[Target]:
    wait_until("Prometheus to scrape something", lambda: None if query("up") else "no target", timeout=SCRAPE_WAIT)
    return ready_targets(core, discovery)


def test_every_pod_of_the_release_is_a_target_that_is_up(targets):
    pods = {t.pod for t in targets}

    def pending():
        up = {r["metric"].get("pod"): r["value"][1] for r in query(f"up{{{SELECTOR}}}")}
        return None if up == dict.fromkeys(pods, "1") else f"up: {up}, ready pods: {sorted(pods)}"

    wait_until("the ServiceMonitor's targets to be up", pending, timeout=SCRAPE_WAIT, interval=2)


def test_prometheus_stores_exactly_the_requests_made(targets):
    routes: list[str | None] = [None, *PER_ROUTE]
    before = {route: live_total(targets, route) for route in routes}
    wait_stored(before)  # nothing in flight: Prometheus has caught up with the pods
    requests = [route for route, count in PER_ROUTE.items() for _ in range(count)]
    for i, route in enumerate(requests):  # spread over the pods
        assert pod_get(targets[i % len(targets)], route).status == 200
    made = sum(PER_ROUTE.values())
    after = {None: before[None] + made, **{route: before[route] + n for route, n in PER_ROUTE.items()}}
    assert {route: live_total(targets, route) for route in routes} == after
    wait_stored(after)
