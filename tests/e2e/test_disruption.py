"""Availability while pods and processes are replaced, under a bounded load, with two replicas.

Each fault runs between a few seconds of load before and after it: a rolling upgrade, a
`kubectl rollout restart`, a pod deletion, and a gunicorn worker killed with SIGKILL. None may fail a
request, and no counter or histogram series of any pod may ever go down (Prometheus would read a
reset and invent a rate). Tests that change the release get it back afterwards (restore_release).
"""

from __future__ import annotations

import json
import time
import uuid

import pytest

from .kube import (
    NAMESPACE,
    RELEASE,
    helm,
    kill_in_pod,
    kubectl,
    pod_get,
    ready_targets,
    release_pods,
    wait_rollout,
    wait_until,
    worker_pids,
)
from .load import CounterWatch, Load, counter_samples

SETTLE_SECONDS = 3  # load keeps running this long before and after each fault
MIN_REQUESTS = 10  # below this the load means nothing
REQUEST_TOTAL = ("flask_http_request_total", ("method", "GET"), ("status", "200"))


def serving_pods(core) -> set[str]:
    return {p.metadata.name for p in release_pods(core)}


@pytest.fixture(scope="module")
def two_replicas(release, apps):
    revision = json.loads(helm("status", RELEASE, "-o", "json").stdout)["version"]
    helm("upgrade", RELEASE, "chart", "--reuse-values", "--set", "replicaCount=2")
    wait_rollout(apps)
    yield
    helm("rollback", RELEASE, str(revision), "--wait", "--timeout", "4m", timeout=300)
    wait_rollout(apps)


def under_load(api, fault, retry_broken: bool = False):
    """Run `fault()` inside SETTLE_SECONDS of load on each side; check requests and counters."""
    with CounterWatch(api) as watch, Load(api, retry_broken=retry_broken) as load:
        time.sleep(SETTLE_SECONDS)
        fault()
        time.sleep(SETTLE_SECONDS)
        result = load.stop()
        watch.stop()
    print(f"{fault.__name__}: {result.ok} requests by {dict(result.pods)}, retried {len(result.retried)}")
    assert not result.failures, result.report()
    assert result.ok >= MIN_REQUESTS, f"too little load to mean anything: {result.ok} requests"
    assert not watch.failures, watch.failures[:5]
    assert not watch.decreases(), watch.decreases()[:10]
    return result


def test_rolling_upgrade_loses_no_request(api, core, apps, discovery, two_replicas, restore_release):
    heading = f"Rolled out {uuid.uuid4().hex[:8]}"
    old_pods = serving_pods(core)

    def rolling_upgrade():
        # A new heading changes the ConfigMap, so its checksum annotation, so the pod template.
        helm("upgrade", RELEASE, "chart", "--reuse-values", "--set-string", f"config.welcomeHeading={heading}")
        wait_rollout(apps)

    result = under_load(api, rolling_upgrade)
    new_pods = serving_pods(core)
    assert new_pods.isdisjoint(old_pods), "the upgrade did not replace the pods"
    assert set(result.pods) & old_pods and set(result.pods) & new_pods, f"load did not span it: {result.pods}"
    for target in ready_targets(core, discovery):
        assert f"<h1>{heading}</h1>" in pod_get(target, "/").body


def test_rollout_restart_loses_no_request(api, core, apps, two_replicas):
    old_pods = serving_pods(core)

    def rollout_restart():
        kubectl("rollout", "restart", f"deployment/{RELEASE}")
        wait_rollout(apps)

    result = under_load(api, rollout_restart)
    new_pods = serving_pods(core)
    assert len(new_pods) == 2 and new_pods.isdisjoint(old_pods), f"not every pod was replaced: {new_pods}"
    assert set(result.pods) & old_pods and set(result.pods) & new_pods, f"load did not span it: {result.pods}"


def test_pod_deletion_loses_no_request(api, core, apps, two_replicas):
    pods = sorted(serving_pods(core))
    assert len(pods) == 2

    def pod_deletion():
        core.delete_namespaced_pod(pods[0], NAMESPACE)
        wait_until(
            "the deleted pod to be replaced",
            lambda: None if pods[0] not in serving_pods(core) and len(serving_pods(core)) == 2 else "replacing",
            timeout=180,
        )
        wait_rollout(apps)

    result = under_load(api, pod_deletion)
    assert pods[1] in result.pods, f"load never reached the surviving pod: {result.pods}"


def request_total(core, discovery, pod: str) -> float:
    """The pod's count of answered GETs (probes and scrapes are not counted); 0 before its first one."""
    target = next(t for t in ready_targets(core, discovery) if t.pod == pod)
    return counter_samples(pod_get(target, "/metrics").body).get(REQUEST_TOTAL, 0)


def test_worker_kill_loses_no_request_and_no_count(api, core, discovery, two_replicas):
    pod = sorted(serving_pods(core))[0]
    restarts = core.read_namespaced_pod(pod, NAMESPACE).status.container_statuses[0].restart_count
    workers = worker_pids(pod)
    assert len(workers) >= 2, f"expected several gunicorn workers in {pod}: {workers}"
    victim = min(workers)

    def worker_kill():
        kill_in_pod(pod, victim, "SIGKILL")
        # The arbiter forks a replacement; the pod itself stays.
        wait_until(
            "the arbiter to replace the killed worker",
            lambda: None if len(now := worker_pids(pod)) == len(workers) and victim not in now else now,
            timeout=60,
        )

    total_before = request_total(core, discovery, pod)
    # SIGKILL takes the killed worker's in-flight request with it: retried once, as a proxy would.
    result = under_load(api, worker_kill, retry_broken=True)
    counted = request_total(core, discovery, pod) - total_before
    assert result.pods[pod] >= MIN_REQUESTS // 2, f"load barely reached {pod}: {result.pods}"
    status = core.read_namespaced_pod(pod, NAMESPACE).status.container_statuses[0]
    assert status.restart_count == restarts, "the container restarted: the arbiter should have absorbed it"
    # The killed worker's counts survive it: every answer the client got from the pod is in the pod's total.
    # A request the dead worker had counted but not yet sent was retried, so the total may exceed by those.
    answered, retried = result.pods[pod], len(result.retried)
    assert answered <= counted <= answered + retried, f"{pod} counted {counted}, answered {answered}, retried {retried}"
