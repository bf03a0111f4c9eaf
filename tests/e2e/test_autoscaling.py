"""The chart's HorizontalPodAutoscaler, fed by the cluster's metrics-server (hack/addons/metrics-server), really
scales: a release in a namespace of its own with autoscaling on (1 to 3 replicas, a 50 % CPU target of the
pod's 100m request) and a short scale-down stabilization window in autoscaling.behavior. Under load through
`kubectl port-forward` from the release's first seconds, its HPA shows a CPU utilisation (metrics-server's
first reading of a new pod takes two of its scrapes, so it is waited for under load, not before it) and
raises the replicas above 1; once the load stops, light traffic from a client pod in the release's
namespace to the Service (a new connection per request, and kept-alive connections) goes on while the
replicas come back to 1 and the removed pods stop: not one of those requests fails, and the pods scaled
away served some of it.

Bounded: the load at LOAD_REQUESTS requests and LOAD_SECONDS, the light traffic by tests/e2e/loadclient.py's
bounds, every wait by its own limit.
"""

from __future__ import annotations

import contextlib
import json
import threading
import time
from collections.abc import Iterator

import pytest
from kubernetes import client

from tests.support.httpclient import free_port, get
from tests.support.versions import pins

from .clientload import ClientLoad, CounterWatch
from .clientpods import client_pod, wait_running
from .kube import (
    AIRGAP,
    CONTEXT,
    SERVICE_PORT,
    assert_runs_the_addons_image,
    fresh_namespace,
    image_values,
    install_chart,
    kubectl_port_forward,
    release_image,
    run,
    wait_until,
)

RELEASE = "scaled"
SERVICE = f"{RELEASE}-flask-service"
MIN_REPLICAS, MAX_REPLICAS = 1, 3
CPU_TARGET = 50  # percent of the 100m request: a modest load exceeds it
SCALE_DOWN_WINDOW = 5  # seconds of stabilization before a scale-down (Kubernetes' default is 300)
BEHAVIOR = {
    "scaleDown": {
        "stabilizationWindowSeconds": SCALE_DOWN_WINDOW,
        "policies": [{"type": "Percent", "value": 100, "periodSeconds": 15}],
    },
}
# metrics-server scrapes every 15 s and the HPA controller syncs every 5 s (k8s/kind-config.yaml): a change of
# load shows in the HPA within about 20 s, in the replica count at its next sync.
METRICS_WAIT = 120  # seconds from the start of the load until the HPA first shows a CPU utilisation
SCALE_UP_WITHIN = 180  # seconds from that reading until the HPA asks for more than 1 replica
SCALE_DOWN_WITHIN = 180  # seconds from the end of the load until 1 replica is left
READY_WAIT = 120  # seconds for the added pods to be ready while the load goes on
LOAD_THREADS = 2  # concurrent clients: on 2 cores shared with the whole cluster, a moderate load
LOAD_REQUESTS = 40_000  # at most, over all threads
LOAD_SECONDS = METRICS_WAIT + SCALE_UP_WITHIN + READY_WAIT  # at most
LIGHT_PAUSE = 0.5  # seconds between requests of each light-traffic path (two paths: about 4 a second)
METRICS_SERVER = "app.kubernetes.io/name=metrics-server"


@pytest.fixture(scope="module")
def metrics_server(core) -> str:
    """A pod of metrics-server in kube-system."""
    pods = core.list_namespaced_pod("kube-system", label_selector=METRICS_SERVER).items
    if not pods:
        pytest.skip("no metrics-server in the cluster (hack/addons/addon.sh up metrics-server; METRICS=0: none)")
    return pods[0].metadata.name


@pytest.fixture(scope="module")
def scaled(release, apps, metrics_server) -> str:
    """The namespace of a release with the HPA on (the main release's image); removed after."""
    values = image_values(apps) | {
        "autoscaling.enabled": "true",
        "autoscaling.minReplicas": str(MIN_REPLICAS),
        "autoscaling.maxReplicas": str(MAX_REPLICAS),
        "autoscaling.targetCPUUtilizationPercentage": str(CPU_TARGET),
    }
    with fresh_namespace("hpa") as namespace:
        install_chart(namespace, RELEASE, values, "--set-json", f"autoscaling.behavior={json.dumps(BEHAVIOR)}")
        yield namespace


@pytest.fixture(scope="module")
def light_client(scaled, core, apps) -> str:
    """A client pod beside the scaled release (its NetworkPolicy admits pods of its own namespace)."""
    core.create_namespaced_pod(scaled, client_pod("light-client", scaled, release_image(apps)))
    wait_running(core, [(scaled, "light-client")])
    return "light-client"


def hpa(api, namespace: str) -> client.V2HorizontalPodAutoscaler:
    return client.AutoscalingV2Api(api).read_namespaced_horizontal_pod_autoscaler(SERVICE, namespace)


def cpu_utilization(status: client.V2HorizontalPodAutoscalerStatus) -> int | None:
    """The current average CPU utilisation (percent of requests) the HPA last read, or None."""
    for metric in status.current_metrics or []:
        if metric.type == "Resource" and metric.resource.name == "cpu":
            return metric.resource.current.average_utilization
    return None


def replicas(apps: client.AppsV1Api, namespace: str) -> tuple[int, int, int]:
    """(the replicas the HPA set, pods not terminating, pods ready) of the release's Deployment."""
    dep = apps.read_namespaced_deployment(SERVICE, namespace)
    return dep.spec.replicas, dep.status.replicas or 0, dep.status.ready_replicas or 0


def pods(core: client.CoreV1Api, namespace: str) -> list[str]:
    """The release's service pods, terminating ones included."""
    selector = f"app.kubernetes.io/instance={RELEASE},app.kubernetes.io/name=flask-service"
    return [p.metadata.name for p in core.list_namespaced_pod(namespace, label_selector=selector).items]


@contextlib.contextmanager
def load(namespace: str) -> Iterator[dict[str, int]]:
    """LOAD_THREADS clients sending `/` through one `kubectl port-forward` to the Service for as long as the
    block lasts (LOAD_REQUESTS and LOAD_SECONDS at most); yields the counts of answers, by status or error."""
    counts: dict[str, int] = {}
    lock = threading.Lock()
    stop = threading.Event()
    sent = iter(range(LOAD_REQUESTS))
    port = free_port()
    with kubectl_port_forward(f"svc/{SERVICE}", port, namespace=namespace):
        end = time.monotonic() + LOAD_SECONDS

        def client_loop() -> None:
            with lock:
                more = next(sent, None) is not None
            while more and not stop.is_set() and time.monotonic() < end:
                try:
                    outcome = str(get(f"http://127.0.0.1:{port}/", timeout=10).status)
                except Exception as error:  # every failure is counted, by its kind
                    outcome = type(error).__name__
                with lock:
                    counts[outcome] = counts.get(outcome, 0) + 1
                    more = next(sent, None) is not None

        threads = [threading.Thread(target=client_loop, daemon=True) for _ in range(LOAD_THREADS)]
        for t in threads:
            t.start()
        try:
            yield counts
        finally:
            stop.set()
            for t in threads:
                t.join(timeout=30)


def test_metrics_server_is_the_pinned_build(core, metrics_server):
    assert_runs_the_addons_image(core, "kube-system", metrics_server, "metrics-server")
    if not AIRGAP:
        return  # upstream's image, tagged with the pinned version
    # The binary in the running pod reports the version it was stamped with (install-tools.sh metrics-server).
    out = run(
        "kubectl", "--context", CONTEXT, "-n", "kube-system", "exec", metrics_server, "--",
        "/bin/metrics-server", "--version",
    )  # fmt: skip
    assert out.stdout.strip() == pins()["METRICS_SERVER_VERSION"], out.stdout + out.stderr


def test_the_hpa_scales_up_under_load_and_back_down_without_a_failed_request(api, apps, core, scaled, light_client):
    namespace = scaled
    assert replicas(apps, namespace)[0] == MIN_REPLICAS
    with load(namespace) as counts:
        start = time.monotonic()
        # metrics-server feeds the HPA: it shows a current CPU utilisation.
        wait_until(
            "the HPA to show a current CPU utilisation",
            lambda: None if cpu_utilization(hpa(api, namespace).status) is not None else hpa(api, namespace).status,
            timeout=METRICS_WAIT,
            interval=1,
        )
        read = time.monotonic() - start
        print(
            f"\nautoscaling: a CPU utilisation of {cpu_utilization(hpa(api, namespace).status)} % of requests "
            f"(target {CPU_TARGET} %) read {read:.0f} s after the load began, {MIN_REPLICAS} replica"
        )
        wait_until(
            "the HPA to scale up under load",
            lambda: None if replicas(apps, namespace)[0] > MIN_REPLICAS else (hpa(api, namespace).status, counts),
            timeout=SCALE_UP_WITHIN,
            interval=1,
        )
        scale_up = time.monotonic() - start
        first, peak = replicas(apps, namespace)[0], cpu_utilization(hpa(api, namespace).status)
        # The added pods start and become ready while the load goes on, so that the scale-down takes
        # serving pods away.
        wait_until(
            "the added pods to be ready",
            lambda: None if (r := replicas(apps, namespace))[2] >= r[0] else r,
            timeout=READY_WAIT,
        )
        scaled_to = replicas(apps, namespace)[0]
        loaded = time.monotonic() - start
    sent = sum(counts.values())
    print(
        f"autoscaling: {first} replicas {scale_up:.0f} s after the load began (CPU {peak} %), {scaled_to} ready "
        f"after {loaded:.0f} s; {sent} requests meanwhile ({sent / loaded:.0f}/s): {counts}"
    )
    assert set(counts) == {"200"}, counts

    address = f"{SERVICE}.{namespace}.svc.cluster.local"
    with CounterWatch(api, namespace=namespace, service=SERVICE) as watch:
        light = [
            ClientLoad(
                f"clusterip/{mode}", light_client, address, SERVICE_PORT, mode, namespace=namespace, pause=LIGHT_PAUSE
            )
            for mode in ("fresh", "keepalive")
        ]
        start = time.monotonic()
        wait_until(
            f"the HPA to scale back to {MIN_REPLICAS} replica",
            lambda: None if (r := replicas(apps, namespace))[:2] == (MIN_REPLICAS, MIN_REPLICAS) else r,
            timeout=SCALE_DOWN_WITHIN,
            interval=1,
        )
        scale_down = time.monotonic() - start
        # The light traffic goes on until the removed pods are gone, through their preStop sleep and
        # gunicorn's graceful stop.
        wait_until(
            "the removed pods to be gone",
            lambda: None if len(left := pods(core, namespace)) == MIN_REPLICAS else left,
            timeout=SCALE_DOWN_WITHIN,
        )
        gone = time.monotonic() - start
        time.sleep(2)
        results = [path.stop() for path in light]
        watch.stop()
    print(
        f"autoscaling: back to {MIN_REPLICAS} replica {scale_down:.0f} s after the load ended "
        f"(stabilization window {SCALE_DOWN_WINDOW} s), the removed pods gone after {gone:.0f} s; "
        f"light traffic meanwhile: {[r.report() for r in results]}"
    )
    for result in results:
        assert not result.failed, result.report()
        assert result.ok >= scale_down, f"too little light traffic to judge: {result.report()}"
    left = set(pods(core, namespace))
    scaled_away = {pod: count for pod, count in watch.served().items() if pod not in left}
    assert scaled_away and all(scaled_away.values()), f"no pod scaled away served the light traffic: {scaled_away}"
    watch.check(min_scrapes=3)
