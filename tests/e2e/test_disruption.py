"""Availability while pods and processes are replaced, as the service's clients see it, with two replicas
on two nodes.

The load runs where clients are (tests/e2e/loadclient.py, which never retries): from a client pod in the
release's namespace to the Service's ClusterIP (kube-proxy, the pod network between the nodes, the
NetworkPolicy), and from the host through Traefik by the chart's HTTPRoute and by its Ingress; each path on
a new connection per request and on kept-alive connections. Each fault runs inside SETTLE_SECONDS of load
on each side: a helm upgrade that changes the pod template, `kubectl rollout restart`, a pod deletion, a
gunicorn worker stopped and then killed with SIGKILL (the pod's front resends the requests it held),
`kubectl drain` of a node that runs one of the replicas, and a drain that the PodDisruptionBudget stops
before it takes the last pod. On every path no request may fail, the
load must have been answered before, during and after the fault, and the pods that went away must have
served some of it. No counter or histogram series of any pod may ever go down (Prometheus would read a
reset and invent a rate), and every pod is scraped throughout. Tests that change the release get it back
afterwards (restore_release); the drains leave every node schedulable and every workload back up.
"""

from __future__ import annotations

import json
import os
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from kubernetes import client

from tests.support.httpclient import free_port

from .clientload import ClientLoad, CounterWatch, PathResult
from .clientpods import client_pod, wait_running
from .kube import (
    NAMESPACE,
    POD_SELECTOR,
    RELEASE,
    SERVICE,
    SERVICE_PORT,
    helm,
    kept_revision,
    kill_in_pod,
    kubectl,
    kubectl_port_forward,
    pod_get,
    policy_agents_synced,
    ready_targets,
    release_image,
    release_pods,
    restarts,
    run,
    wait_rollout,
    wait_until,
    worker_pids,
)

SETTLE_SECONDS = 4  # load keeps running this long before and after each fault
HUNG_SECONDS = 1  # a worker is stopped this long before it is killed, so that it dies with requests in flight
DRAIN_TIMEOUT = 180  # seconds for kubectl drain to evict a node's pods
REFUSED_DRAIN_TIMEOUT = 15  # seconds a refused drain keeps trying (kubectl retries each 5 s; the first is refused)
RECOVERY_TIMEOUT = 300  # seconds for the cluster's workloads to be ready again after a drain
ROUTE_WAIT = 60  # seconds for Traefik to serve a new route
CONTROL_PLANE = "node-role.kubernetes.io/control-plane"
MIN_REQUESTS = 10  # per path: below this the load means nothing
MIN_SCRAPES = 3  # per pod that lived through the load
TRAEFIK = "traefik"
ROUTE_HOST = "flask-service.local"  # the chart's default host of its HTTPRoute
INGRESS_HOST = "ingress.flask-service.local"  # the Ingress gets a host of its own, so each path is one route
CLIENT = "e2e-disruption-client"
# One replica per node (the chart's default only prefers it), a cordoned node left out of the count so a
# drain can move its pod; both routes on.
PLACED_VALUES = {
    "topologySpreadConstraints": [
        {
            "maxSkew": 1,
            "topologyKey": "kubernetes.io/hostname",
            "whenUnsatisfiable": "DoNotSchedule",
            "nodeTaintsPolicy": "Honor",
            "matchLabelKeys": ["pod-template-hash"],
        }
    ],
    "ingress.hosts": [{"host": INGRESS_HOST, "paths": [{"path": "/", "pathType": "Prefix"}]}],
}


def serving_pods(core) -> set[str]:
    return {p.metadata.name for p in release_pods(core)}


def pod_nodes(core) -> dict[str, str]:
    """The release's pods and the node each runs on."""
    return {p.metadata.name: p.spec.node_name for p in release_pods(core)}


GONE_TIMEOUT = 120  # seconds for a replaced pod to finish: preStop sleep, graceful stop, the kubelet's report


def wait_gone(core, pods: set[str]) -> None:
    """Until none of `pods` exists any more, terminating included: the load must outlive each pod it reached."""

    def pending():
        existing = {p.metadata.name for p in core.list_namespaced_pod(NAMESPACE, label_selector=POD_SELECTOR).items}
        return sorted(existing & pods) or None

    wait_until("the replaced pods to be gone", pending, timeout=GONE_TIMEOUT)


def control_plane(core) -> str:
    nodes = core.list_node().items
    return next(n.metadata.name for n in nodes if CONTROL_PLANE in (n.metadata.labels or {}))


@pytest.fixture(scope="module")
def two_replicas(release, apps, core):
    """The release with two replicas on two nodes, its HTTPRoute and its Ingress."""
    if len(core.list_node().items) < 2:
        pytest.skip("one node only: WORKERS=0")
    json_values = [f"{key}={json.dumps(value)}" for key, value in PLACED_VALUES.items()]
    with kept_revision(apps):
        helm(
            "upgrade", RELEASE, "chart", "--reuse-values", "--wait",
            "--set", "replicaCount=2,httpRoute.enabled=true,ingress.enabled=true",
            *(arg for value in json_values for arg in ("--set-json", value)),
        )  # fmt: skip
        wait_rollout(apps)
        yield


@pytest.fixture
def one_per_node(two_replicas, core, apps) -> dict[str, str]:
    """Each of the two replicas on a node of its own (a drain earlier in the module leaves both on one node):
    the pods are rolled once more when they are not, and the constraint spreads the new ones."""
    if len(set(pod_nodes(core).values())) < 2:
        old = serving_pods(core)
        kubectl("rollout", "restart", f"deployment/{RELEASE}")
        wait_rollout(apps)
        wait_gone(core, old)
    placed = pod_nodes(core)
    assert len(set(placed.values())) == 2, f"not one replica per node: {placed}"
    return placed


@pytest.fixture(scope="module")
def client_in_cluster(two_replicas, core, apps) -> Iterator[str]:
    """A client pod in the release's namespace on the control-plane node (the drains and kills take a worker)."""
    pod = client_pod(CLIENT, NAMESPACE, release_image(apps), node=control_plane(core))
    core.create_namespaced_pod(NAMESPACE, pod)
    try:
        wait_running(core, [(NAMESPACE, CLIENT)])
        yield CLIENT
    finally:
        core.delete_namespaced_pod(CLIENT, NAMESPACE, grace_period_seconds=0)


@pytest.fixture(scope="module")
def traefik_port(two_replicas) -> Iterator[int]:
    """A local port to Traefik's Service, as `kubectl port-forward svc/traefik` gives a user."""
    port = free_port()
    with kubectl_port_forward(f"svc/{TRAEFIK}", port, 80, namespace=TRAEFIK):
        yield port


@dataclass(frozen=True)
class Paths:
    client: str  # the client pod in the cluster
    cluster_ip: str  # the Service's: no DNS lookup per request, so CoreDNS's own faults stay out of the figures
    traefik_port: int  # on the host, to Traefik's Service


def load_paths(paths: Paths) -> list[ClientLoad]:
    """Every path, each on a new connection per request and on kept-alive connections, started."""
    return [
        ClientLoad(f"clusterip/{mode}", paths.client, paths.cluster_ip, SERVICE_PORT, mode)
        for mode in ("fresh", "keepalive")
    ] + [
        ClientLoad(f"{route}/{mode}", None, "127.0.0.1", paths.traefik_port, mode, host_header=host)
        for route, host in (("httproute", ROUTE_HOST), ("ingress", INGRESS_HOST))
        for mode in ("fresh", "keepalive")
    ]


@pytest.fixture(scope="module")
def paths_ready(client_in_cluster, traefik_port, core) -> Paths:
    """Every path answers before a fault is measured through it (Traefik takes a moment to see the routes, the
    policy agent to admit a new client pod)."""
    paths = Paths(client_in_cluster, core.read_namespaced_service(SERVICE, NAMESPACE).spec.cluster_ip, traefik_port)

    def pending():
        loads = load_paths(paths)
        time.sleep(1)
        bad = [r.report() for r in (load.stop() for load in loads) if r.failed or not r.ok]
        return bad or None

    wait_until("every load path to answer", pending, timeout=ROUTE_WAIT, interval=2)
    return paths


@dataclass
class Disruption:
    paths: list[PathResult]
    served: dict[str, float]  # per pod, from its scrapes


def under_load(api, paths: Paths, fault) -> Disruption:
    """Run `fault()` inside SETTLE_SECONDS of load on each side, on every path; check what each client got."""
    with CounterWatch(api) as watch:
        loads = load_paths(paths)
        time.sleep(SETTLE_SECONDS)
        began = time.time()
        fault()
        ended = time.time()
        time.sleep(SETTLE_SECONDS)
        results = [load.stop() for load in loads]
        watch.stop()
    for result in results:
        print(f"{fault.__name__}: {result.report()}")
    for result in results:
        assert result.failed == 0, result.report()
        assert result.ok >= MIN_REQUESTS, f"too little load to mean anything: {result.report()}"
        for what, start, end in (
            ("before", began - SETTLE_SECONDS, began - 1),
            ("during", began, ended),
            ("after", ended + 1, ended + SETTLE_SECONDS),
        ):
            assert result.served_between(start, end), f"{result.name}: no request answered {what} the fault"
    watch.check(MIN_SCRAPES)
    return Disruption(results, watch.served())


def test_template_change_loses_no_request(api, core, apps, discovery, paths_ready, restore_release):
    heading = f"Rolled out {uuid.uuid4().hex[:8]}"
    old_pods = serving_pods(core)

    def template_change():
        # A new heading changes the ConfigMap, so its checksum annotation, so the pod template.
        helm("upgrade", RELEASE, "chart", "--reuse-values", "--set-string", f"config.welcomeHeading={heading}")
        wait_rollout(apps)
        wait_gone(core, old_pods)

    run = under_load(api, paths_ready, template_change)
    new_pods = serving_pods(core)
    assert new_pods.isdisjoint(old_pods), "the upgrade did not replace the pods"
    assert all(run.served.get(pod) for pod in old_pods | new_pods), f"a pod served none of the load: {run.served}"
    for target in ready_targets(core, discovery):
        assert f"<h1>{heading}</h1>" in pod_get(target, "/").body


def test_rollout_restart_loses_no_request(api, core, apps, paths_ready):
    old_pods = serving_pods(core)

    def rollout_restart():
        kubectl("rollout", "restart", f"deployment/{RELEASE}")
        wait_rollout(apps)
        wait_gone(core, old_pods)

    run = under_load(api, paths_ready, rollout_restart)
    new_pods = serving_pods(core)
    assert len(new_pods) == 2 and new_pods.isdisjoint(old_pods), f"not every pod was replaced: {new_pods}"
    assert all(run.served.get(pod) for pod in old_pods | new_pods), f"a pod served none of the load: {run.served}"


def test_pod_deletion_loses_no_request(api, core, apps, paths_ready):
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
        wait_gone(core, {pods[0]})

    run = under_load(api, paths_ready, pod_deletion)
    assert run.served.get(pods[0]) and run.served.get(pods[1]), f"a pod served none of the load: {run.served}"


def resent_by_the_front(pod: str) -> list[dict]:
    """The requests the pod's front resent (front/haproxy.cfg logs a JSON line for each, none for the rest)."""
    out = kubectl("logs", pod, "-c", "front").stdout
    lines = [json.loads(line)["http"] for line in out.splitlines() if line.startswith("{")]
    return [line for line in lines if line["retries"] > 0]


def test_worker_kill_loses_no_request_and_no_count(api, core, paths_ready):
    pod = sorted(serving_pods(core))[0]
    restarted = restarts(core.read_namespaced_pod(pod, NAMESPACE))
    workers = worker_pids(pod)
    assert len(workers) >= 2, f"expected several gunicorn workers in {pod}: {workers}"
    victim = min(workers)
    resent_before = len(resent_by_the_front(pod))

    def worker_kill():
        # A worker answers a request in a few milliseconds, so a bare SIGKILL seldom lands on one. Stopped
        # first, the worker keeps its connections but answers nothing: requests the front sends it on them are
        # in flight when it dies, as under a worker that hangs and is then OOM-killed, and the front resends
        # them. Whether the front sent it any in that second varies from run to run (the front keeps one
        # connection to gunicorn per client connection); tests/container/test_front.py proves the resend on a
        # request known to be in flight.
        kill_in_pod(pod, victim, "SIGSTOP")
        time.sleep(HUNG_SECONDS)
        kill_in_pod(pod, victim, "SIGKILL")
        # The arbiter forks a replacement; the pod itself stays.
        wait_until(
            "the arbiter to replace the killed worker",
            lambda: None if len(now := worker_pids(pod)) == len(workers) and victim not in now else now,
            timeout=60,
        )

    run = under_load(api, paths_ready, worker_kill)
    resent = resent_by_the_front(pod)[resent_before:]
    print(f"worker kill: {len(resent)} request(s) resent by the front, of {sum(r.ok for r in run.paths)}: {resent}")
    assert all(line["status"] == 200 for line in resent), resent
    assert run.served.get(pod, 0) >= MIN_REQUESTS, f"load barely reached {pod}: {run.served}"
    after = restarts(core.read_namespaced_pod(pod, NAMESPACE))
    assert after == restarted, "a container restarted: the arbiter should have absorbed it"
    # The killed worker's counts survive it: the counter watch saw no series of the pod go down across the kill.


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
    # The control plane last: a pod left Pending by a drain is scheduled as soon as one node takes pods again,
    # and with the worker still cordoned the spread constraint counts the control plane alone and puts it
    # there, beside the other replica; the next test would then have to roll the pods apart again.
    nodes = sorted(core.list_node().items, key=lambda node: CONTROL_PLANE in (node.metadata.labels or {}))
    for node in nodes:
        kubectl("uncordon", node.metadata.name)
    wait_until("the cluster's workloads to be ready again", lambda: unready_workloads(apps), RECOVERY_TIMEOUT)
    wait_rollout(apps)


def test_drain_of_a_node_loses_no_request(api, core, apps, paths_ready, one_per_node, schedulable_after):
    before = one_per_node
    drained = next(node for node in set(before.values()) if node != control_plane(core))  # not the client's node
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
        wait_gone(core, {pod for pod, node in before.items() if node == drained})

    run = under_load(api, paths_ready, drain)
    after = pod_nodes(core)
    print(f"drain of {drained}: {took[0]:.1f} s to a complete rollout; pods {before} -> {after}")
    assert len(after) == 2 and drained not in after.values(), f"not rescheduled off {drained}: {after}"
    evicted = {pod for pod, node in before.items() if node == drained}
    assert all(run.served.get(pod) for pod in evicted), f"the drained node's pod served none of the load: {run.served}"


def test_the_budget_stops_a_drain_that_would_take_the_last_pod(api, core, apps, paths_ready, schedulable_after):
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

    run = under_load(api, paths_ready, refused_drain)
    proc = refused[0]
    assert proc.returncode != 0, f"the drain took every pod:\n{proc.stdout}"
    assert "violate the pod's disruption budget" in proc.stderr, proc.stderr
    running = [p for p in release_pods(core) if p.status.phase == "Running"]
    assert len(running) == 1, [p.metadata.name for p in running]
    assert run.served.get(running[0].metadata.name), f"the last pod did not serve: {run.served}"


# --- A node that dies ------------------------------------------------------------------------------------

# Seconds from the kill until every request succeeds again, at most: the node lifecycle controller marks the
# node's pods not ready after its grace period (20 s, k8s/kind-config.yaml), then kube-proxy and Traefik drop
# their endpoints; a request still sent to the dead pod fails within the client's 5 s timeout.
# Measured: 20 to 25 s (bench/results/node-loss.json; 37 to 46 s with Kubernetes' 50-s grace period).
RECOVERY_BOUND = 45
# Seconds in which the survivor must serve every path with no failure, after the lost pod has left the
# Service's endpoints and after each path's last failure, before the load stops.
CLEAN_SECONDS = 10
# Seconds of load after the kill at most: the bound, then the clean seconds.
LOSS_WATCH = RECOVERY_BOUND + CLEAN_SECONDS
NODE_BACK_TIMEOUT = 240  # seconds for the restarted node to be Ready and its pods running again
# Seconds from the kill until the lost node's replica is evicted and replaced on the survivor, at most: the
# node's grace period (20 s), the chart's nodeLossTolerationSeconds (30 s), then the Deployment makes a new pod.
EVICTION_TIMEOUT = 180
NODE_LOSS_REPORT = os.environ.get("NODE_LOSS_REPORT")  # a JSON file for the figures (make bench-node-loss)


def node_ready(core, name: str) -> str | None:
    node = core.read_node(name)
    ready = next((c.status for c in node.status.conditions or [] if c.type == "Ready"), None)
    return None if ready == "True" else f"{name} Ready={ready}"


def node_whole(core, name: str) -> str | None:
    """None once every pod on the node is ready again, and the NetworkPolicy agent there has synced its rules
    since it started (until then the node's pods are not shut off from anyone: the tests after would see it)."""
    pods = core.list_pod_for_all_namespaces(field_selector=f"spec.nodeName={name}").items
    waiting = [
        f"{p.metadata.namespace}/{p.metadata.name}"
        for p in pods
        if p.metadata.deletion_timestamp is None
        and p.status.phase != "Succeeded"
        and not (p.status.container_statuses and all(c.ready for c in p.status.container_statuses))
    ]
    if waiting:
        return f"not ready on {name}: {waiting}"
    return policy_agents_synced(core, node=name)


def watch_the_loss(core, discovery, loads: list[ClientLoad], lost: set[str], killed: float) -> float:
    """Until the lost pods have left the Service's endpoints (the node lifecycle controller marks them not
    ready) and every path has then gone CLEAN_SECONDS without a failure, or LOSS_WATCH after the kill; the
    time it ended. Before they leave, a path that has not failed yet may still be sent to them."""
    left = 0.0
    while time.time() < killed + LOSS_WATCH:
        if not left and not lost & {t.pod for t in ready_targets(core, discovery)}:
            left = time.time()
        if left and time.time() - max(left, *(load.last_failure for load in loads)) >= CLEAN_SECONDS:
            break
        time.sleep(1)
    return time.time()


def test_a_node_that_dies_costs_a_bounded_outage(
    api, core, apps, discovery, paths_ready, one_per_node, schedulable_after
):
    """Last of the module: it leaves both replicas on the surviving node."""
    before = one_per_node
    victim = next(node for node in set(before.values()) if node != control_plane(core))
    docker = os.environ.get("DOCKER", "docker")
    loads = load_paths(paths_ready)
    time.sleep(SETTLE_SECONDS)
    killed = time.time()
    run(docker, "kill", victim)
    lost = {p for p, n in before.items() if n == victim}
    try:
        watched = watch_the_loss(core, discovery, loads, lost, killed)
        results = [load.stop() for load in loads]
        # The node stays down until the chart's toleration has evicted its replica and the survivor runs a new
        # one: a node back sooner would keep its pod, and the eviction would go unproven.
        wait_until(
            "the lost node's replica to be evicted and replaced on the survivor",
            lambda: None if len(now := pod_nodes(core)) == 2 and victim not in now.values() else now,
            timeout=max(0.0, killed + EVICTION_TIMEOUT - time.time()),
        )
        print(f"node loss: the lost replica was evicted and replaced {time.time() - killed:.0f} s after the kill")
    finally:
        run(docker, "start", victim)
    wait_until(f"node {victim} to be Ready again", lambda: node_ready(core, victim), timeout=NODE_BACK_TIMEOUT)
    wait_until(f"node {victim} to be whole again", lambda: node_whole(core, victim), timeout=NODE_BACK_TIMEOUT)
    figures = {}
    for result in results:
        last = max((f["t"] for f in result.failures), default=killed)
        figures[result.name] = {
            "ok": result.ok,
            "failed": result.failed,
            "seconds_to_recover": round(last - killed, 1) if result.failed else 0.0,
        }
        print(f"node loss: {result.report()}")
    print(f"node loss of {victim}: {json.dumps(figures)}")
    if NODE_LOSS_REPORT:
        Path(NODE_LOSS_REPORT).write_text(json.dumps({"victim": victim, "paths": figures}, indent=2) + "\n")
    for result in results:
        recovered = figures[result.name]["seconds_to_recover"]
        assert recovered <= RECOVERY_BOUND, f"{result.name}: requests failed until {recovered} s after the kill"
        # The failures stop because the survivor serves everything, not because the load stopped.
        assert result.served_between(killed + recovered + 1, watched - 1), result.report()
        assert result.failed <= result.ok, result.report()
    # Once the node is back, its kubelet finishes the evicted pod.
    wait_gone(core, lost)
    wait_rollout(apps)
