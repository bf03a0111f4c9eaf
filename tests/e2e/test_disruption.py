"""Availability while pods and processes are replaced, under a bounded load, with two replicas.

Each fault runs between a few seconds of load before and after it: a rolling upgrade, a
`kubectl rollout restart`, a pod deletion, a gunicorn worker killed with SIGKILL, `kubectl drain` of a
node that runs one of the replicas, and a drain that the PodDisruptionBudget stops before it takes the
last pod. None may fail a request, and no counter or histogram series of any pod may ever go down
(Prometheus would read a reset and invent a rate). Tests that change the release get it back afterwards
(restore_release); the drains leave every node schedulable and every workload of the cluster back up.
"""

from __future__ import annotations

import time
import uuid

import pytest
from kubernetes import client

from .kube import (
    NAMESPACE,
    POD_SELECTOR,
    RELEASE,
    Target,
    helm,
    kept_revision,
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
DRAIN_TIMEOUT = 180  # seconds for kubectl drain to evict a node's pods
REFUSED_DRAIN_TIMEOUT = 30  # seconds a drain that the budget stops keeps trying
RECOVERY_TIMEOUT = 300  # seconds for the cluster's workloads to be ready again after a drain
CONTROL_PLANE = "node-role.kubernetes.io/control-plane"
MIN_REQUESTS = 10  # below this the load means nothing
REQUEST_TOTAL = ("flask_http_request_total", ("method", "GET"), ("status", "200"))


def serving_pods(core) -> set[str]:
    return {p.metadata.name for p in release_pods(core)}


@pytest.fixture(scope="module")
def two_replicas(release, apps):
    with kept_revision(apps):
        helm("upgrade", RELEASE, "chart", "--reuse-values", "--set", "replicaCount=2")
        wait_rollout(apps)
        yield


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
    found: list[Target] = []

    def pending():
        # The EndpointSlice follows a new pod's readiness a moment after the Deployment counts it ready.
        found[:] = [t for t in ready_targets(core, discovery) if t.pod == pod]
        return None if found else f"{pod} is not a ready endpoint yet"

    wait_until(f"{pod} to be a ready endpoint of the Service", pending, timeout=60)
    return counter_samples(pod_get(found[0], "/metrics").body).get(REQUEST_TOTAL, 0)


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


def pod_nodes(core) -> dict[str, str]:
    """The release's pods and the node each runs on."""
    return {p.metadata.name: p.spec.node_name for p in release_pods(core)}


def unready_workloads(apps) -> list[str] | None:
    """Deployments and StatefulSets of the whole cluster with fewer ready replicas than they want."""
    unready = [
        f"{kind} {w.metadata.namespace}/{w.metadata.name}"
        for kind, items in (
            ("deployment", apps.list_deployment_for_all_namespaces().items),
            ("statefulset", apps.list_stateful_set_for_all_namespaces().items),
        )
        for w in items
        if (w.status.ready_replicas or 0) < (w.spec.replicas or 0)
    ]
    return unready or None


@pytest.fixture
def schedulable_after(core, apps):
    """Afterwards every node is uncordoned and every workload of the cluster is ready again (a drain moves
    Prometheus, Traefik and the rest too)."""
    yield
    for node in core.list_node().items:
        kubectl("uncordon", node.metadata.name)
    wait_until("the cluster's workloads to be ready again", lambda: unready_workloads(apps), RECOVERY_TIMEOUT)
    wait_rollout(apps)


@pytest.fixture
def two_nodes(core) -> dict[str, client.V1Node]:
    nodes = {n.metadata.name: n for n in core.list_node().items}
    if len(nodes) < 2:
        pytest.skip(f"one node only ({sorted(nodes)}): WORKERS=0")
    return nodes


def test_drain_of_a_node_loses_no_request(api, core, apps, two_replicas, two_nodes, schedulable_after):
    before = pod_nodes(core)
    # The chart's default topology spread puts the two replicas on two nodes.
    assert len(set(before.values())) == 2, f"both replicas on one node: {before}"
    workers = {name for name, node in two_nodes.items() if CONTROL_PLANE not in (node.metadata.labels or {})}
    drained = min(set(before.values()), key=lambda node: (node not in workers, node))  # a worker, if one runs a pod
    took = []

    def drain():
        start = time.monotonic()
        kubectl(
            "drain",
            drained,
            "--ignore-daemonsets",
            "--delete-emptydir-data",
            f"--timeout={DRAIN_TIMEOUT}s",
            timeout=DRAIN_TIMEOUT + 60,
        )
        wait_rollout(apps)
        took.append(time.monotonic() - start)

    result = under_load(api, drain)
    after = pod_nodes(core)
    print(f"drain of {drained}: {took[0]:.1f} s to a complete rollout; pods {before} -> {after}")
    assert len(after) == 2 and drained not in after.values(), f"not rescheduled off {drained}: {after}"
    evicted = {pod for pod, node in before.items() if node == drained}
    assert evicted & set(result.pods), f"the load never reached the drained node's pod: {result.pods}"


def test_the_budget_stops_a_drain_that_would_take_the_last_pod(api, core, apps, two_replicas, schedulable_after):
    policy = client.PolicyV1Api(api)

    def budget_pending():
        budget = policy.read_namespaced_pod_disruption_budget(RELEASE, NAMESPACE).status
        if budget.current_healthy == 2 and budget.disruptions_allowed == 1:
            return None
        return f"healthy {budget.current_healthy}, allowed {budget.disruptions_allowed}"

    wait_until("the budget to allow one disruption of two healthy pods", budget_pending, timeout=60)
    # Nowhere to go: the first eviction's replacement stays Pending, so the budget refuses the second.
    for node in core.list_node().items:
        kubectl("cordon", node.metadata.name)
    refused = []

    def refused_drain():
        nodes = sorted(set(pod_nodes(core).values()))
        refused.append(
            kubectl(
                "drain",
                *nodes,
                f"--pod-selector={POD_SELECTOR}",
                "--delete-emptydir-data",
                f"--timeout={REFUSED_DRAIN_TIMEOUT}s",
                check=False,
                timeout=REFUSED_DRAIN_TIMEOUT + 60,
            )
        )

    result = under_load(api, refused_drain)
    proc = refused[0]
    assert proc.returncode != 0, f"the drain took every pod:\n{proc.stdout}"
    assert "violate the pod's disruption budget" in proc.stderr, proc.stderr
    running = [p for p in release_pods(core) if p.status.phase == "Running"]
    assert len(running) == 1, [p.metadata.name for p in running]
    assert running[0].metadata.name in result.pods, f"the last pod did not serve: {result.pods}"
