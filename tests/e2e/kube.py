"""Where the e2e tier finds the cluster and the release, and the helpers it uses to reach them.

Everything goes through the API server of the kind cluster: the official Python client for reads,
port-forwards and pod deletion; the pinned helm/kubectl/skaffold/kind from .tools/bin for what a
user would type. Every wait and every loop here is bounded in time.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import queue
import subprocess
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from kubernetes import client, config
from kubernetes.stream import portforward

from tests.support.httpclient import Reply
from tests.support.processes import GUNICORN_PROCESSES, parse_processes, workers

# The one place that names the cluster and the release (see also skaffold.yaml and k8s/).
CONTEXT = os.environ.get("E2E_KUBE_CONTEXT", f"kind-{os.environ.get('CLUSTER_NAME', 'flask-service')}")
CLUSTER = CONTEXT.removeprefix("kind-")  # kind names its contexts kind-<cluster>
NAMESPACE = os.environ.get("E2E_NAMESPACE", "default")
RELEASE = "flask-service"
SERVICE = RELEASE
SERVICE_PORT = 5000
INSTANCE_SELECTOR = f"app.kubernetes.io/instance={RELEASE}"
POD_SELECTOR = f"{INSTANCE_SELECTOR},app.kubernetes.io/name={RELEASE}"  # the service's pods, not helm test pods

ROOT = Path(__file__).resolve().parents[2]
TOOLS_BIN = ROOT / ".tools" / "bin"

ROLLOUT_TIMEOUT = 240  # seconds; a cold pod start on a 2-core machine takes well under a minute
INSTALL_TIMEOUT = 300  # seconds for a helm install, rollback or kubectl apply with --wait of a release
# helm's own --timeout, inside the process's: past it helm says what it was still waiting for.
HELM_WAIT = f"{INSTALL_TIMEOUT - 60}s"


class KubeError(AssertionError):
    pass


class BrokenConnectionError(KubeError):
    """The connection failed before a whole response arrived (what proxies retry for idempotent requests)."""


def tool_env() -> dict[str, str]:
    """The caller's environment with the project's pinned tools first on PATH."""
    env = os.environ.copy()
    env["PATH"] = f"{TOOLS_BIN}{os.pathsep}{env.get('PATH', '')}"
    return env


def run(
    *args: str, timeout: float = 300, check: bool = True, env: dict[str, str] | None = None, input: str | None = None
):
    """Run a command line tool (INPUT on its stdin); on failure the assertion message carries its output."""
    full_env = tool_env() | (env or {})
    proc = subprocess.run(
        list(args), env=full_env, cwd=ROOT, capture_output=True, text=True, timeout=timeout, input=input
    )
    if check and proc.returncode != 0:
        output = f"--- stdout\n{proc.stdout}\n--- stderr\n{proc.stderr}"
        raise KubeError(f"{' '.join(args)} exited {proc.returncode}\n{output}")
    return proc


def helm(*args: str, **kwargs) -> subprocess.CompletedProcess:
    return run("helm", "--kube-context", CONTEXT, "--namespace", NAMESPACE, *args, **kwargs)


def kubectl(*args: str, **kwargs) -> subprocess.CompletedProcess:
    return run("kubectl", "--context", CONTEXT, "--namespace", NAMESPACE, *args, **kwargs)


def kubectl_in(namespace: str, *args: str, **kwargs) -> subprocess.CompletedProcess:
    return run("kubectl", "--context", CONTEXT, "--namespace", namespace, *args, **kwargs)


def api_client() -> client.ApiClient:
    return config.new_client_from_config(context=CONTEXT)


def wait_until(what: str, pending, timeout: float, interval: float = 1.0) -> None:
    """Poll `pending()` until it returns None; it returns a description of what is still missing."""
    deadline = time.monotonic() + timeout
    while (state := pending()) is not None:
        if time.monotonic() > deadline:
            raise KubeError(f"timed out after {timeout:.0f} s waiting for {what}: {state}")
        time.sleep(interval)


# --- Deployment rollout, decided as `kubectl rollout status` does ---------------------------------


def rollout_state(dep: client.V1Deployment) -> str | None:
    """None when the rollout is complete, else why not (kubectl's DeploymentStatusViewer logic)."""
    status = dep.status
    if dep.metadata.generation > (status.observed_generation or 0):
        return "waiting for the deployment spec update to be observed"
    for cond in status.conditions or []:
        if cond.type == "Progressing" and cond.reason == "ProgressDeadlineExceeded":
            raise KubeError(f"deployment {dep.metadata.name} exceeded its progress deadline")
    desired = dep.spec.replicas if dep.spec.replicas is not None else 1
    updated = status.updated_replicas or 0
    if updated < desired:
        return f"{updated} of {desired} updated replicas"
    if (status.replicas or 0) > updated:
        return f"{status.replicas - updated} old replicas pending termination"
    if (status.available_replicas or 0) < updated:
        return f"{status.available_replicas or 0} of {updated} updated replicas available"
    return None


def wait_rollout(apps: client.AppsV1Api, name: str = RELEASE, timeout: float = ROLLOUT_TIMEOUT) -> None:
    wait_until(
        f"rollout of deployment/{name}",
        lambda: rollout_state(apps.read_namespaced_deployment(name, NAMESPACE)),
        timeout,
    )


@contextlib.contextmanager
def kept_revision(apps: client.AppsV1Api) -> Iterator[None]:
    """The block may upgrade the release: afterwards it is rolled back to its revision now, and rolled out."""
    revision = json.loads(helm("status", RELEASE, "-o", "json").stdout)["version"]
    yield
    helm("rollback", RELEASE, str(revision), "--wait", "--timeout", HELM_WAIT, timeout=INSTALL_TIMEOUT)
    wait_rollout(apps)


def release_pods(core: client.CoreV1Api) -> list[client.V1Pod]:
    """The release's service pods that are not terminating."""
    pods = core.list_namespaced_pod(NAMESPACE, label_selector=POD_SELECTOR).items
    return [p for p in pods if p.metadata.deletion_timestamp is None]


def restarts(pod: client.V1Pod) -> int:
    """How often the kubelet restarted the pod's containers, gunicorn's and the front's together."""
    return sum(status.restart_count for status in pod.status.container_statuses or [])


# AIRGAP=1: the add-ons run images built here (a FROM-scratch image of the binary at /bin/<name>);
# otherwise upstream's published images.
AIRGAP = os.environ.get("AIRGAP") == "1"


def assert_runs_the_addons_image(core: client.CoreV1Api, namespace: str, pod: str, addon: str) -> None:
    """POD runs an image that hack/addons/addon.sh says the add-on runs (the pinned one, for this AIRGAP)."""
    expected = set(run(str(ROOT / "hack" / "addons" / "addon.sh"), "images", addon).stdout.split())
    running = {c.image for c in core.read_namespaced_pod(pod, namespace).spec.containers}
    assert running <= expected, f"{pod} runs {running}, the add-on {addon} runs {expected}"


def policy_agents_synced(core: client.CoreV1Api, node: str | None = None) -> str | None:
    """None once every NetworkPolicy agent (kube-router's firewall; on NODE only, if given) is ready and has
    synced its rules since it started: until then its node's pods are open to everyone."""
    selector = "app.kubernetes.io/name=kube-router"
    fields = f"spec.nodeName={node}" if node else ""
    for pod in core.list_namespaced_pod("kube-system", label_selector=selector, field_selector=fields).items:
        name = pod.metadata.name
        if pod.metadata.deletion_timestamp or not all(c.ready for c in pod.status.container_statuses or []):
            return f"{name} is not ready"
        try:
            log = core.read_namespaced_pod_log(name, "kube-system")
        except client.ApiException as error:  # its container is starting again
            return f"{name}: {error.reason}"
        if "sync iptables took" not in log:
            return f"{name} has not synced its rules since it started"
    return None


def configured_headings(core: client.CoreV1Api, namespace: str = NAMESPACE) -> dict[str, str]:
    """The headings the chart put in the release's ConfigMap in NAMESPACE (what its pods must serve)."""
    maps = core.list_namespaced_config_map(namespace, label_selector="app.kubernetes.io/name=flask-service").items
    (data,) = [m.data for m in maps if m.data and "WELCOME_HEADING" in m.data]
    return {"/": data["WELCOME_HEADING"], "/next": data["NEXT_HEADING"]}


# --- More releases of chart/, each in a namespace of its own -----------------------------------------


def helm_in(namespace: str, *args: str):
    return run("helm", "--kube-context", CONTEXT, "--namespace", namespace, *args, timeout=INSTALL_TIMEOUT)


def install_chart(namespace: str, release: str, values: dict[str, str], *args: str) -> None:
    """chart/ as `release` in `namespace` with `values` (--set) and helm's `args`; returns once it is ready."""
    sets = [arg for key, value in values.items() for arg in ("--set", f"{key}={value}")]
    helm_in(namespace, "install", release, str(ROOT / "chart"), *sets, *args, "--wait", "--timeout", HELM_WAIT)


def release_image(apps: client.AppsV1Api) -> str:
    """The image reference the main release runs (pushed by skaffold to the local registry)."""
    return apps.read_namespaced_deployment(RELEASE, NAMESPACE).spec.template.spec.containers[0].image


def image_values(apps: client.AppsV1Api) -> dict[str, str]:
    """The image the main release runs, as chart values."""
    ref = release_image(apps)
    name, _, digest = ref.partition("@")
    repository, tag = name, ""
    if ":" in name.rsplit("/", 1)[-1]:
        repository, tag = name.rsplit(":", 1)
    return {"image.repository": repository, "image.tag": tag, "image.digest": digest}


@contextlib.contextmanager
def fresh_namespace(prefix: str) -> Iterator[str]:
    """A new namespace named prefix-<random> for the block; deleted, with whatever is left in it, afterwards.

    Its pods are deleted at once (no grace: nothing in a test's namespace needs a clean stop, and their graceful
    stop would take about 25 s), and the namespace's deletion goes on while the next tests run:
    `wait_namespaces_gone` waits once, at the session's end, for every namespace deleted here.
    """
    name = f"{prefix}-{uuid.uuid4().hex[:6]}"
    run("kubectl", "--context", CONTEXT, "create", "namespace", name)
    try:
        yield name
    finally:
        # The namespace first: once it is terminating, no controller can start a pod in it again.
        run("kubectl", "--context", CONTEXT, "delete", "namespace", name, "--wait=false", timeout=60)
        force = ("--grace-period=0", "--force")
        run("kubectl", "--context", CONTEXT, "-n", name, "delete", "pods", "--all", *force, timeout=60)
        DELETED_NAMESPACES.append(name)


DELETED_NAMESPACES: list[str] = []
NAMESPACES_GONE_TIMEOUT = 240  # seconds for the last namespace's pods to stop and the namespace to go


def wait_namespaces_gone() -> None:
    """Every namespace fresh_namespace deleted is gone."""

    def pending():
        existing = set(run("kubectl", "--context", CONTEXT, "get", "namespaces", "-o", "name").stdout.split())
        left = [name for name in DELETED_NAMESPACES if f"namespace/{name}" in existing]
        return ", ".join(left) if left else None

    wait_until("the tests' namespaces to be deleted", pending, timeout=NAMESPACES_GONE_TIMEOUT, interval=2)


# --- Service -> EndpointSlice -> Pod -> port ------------------------------------------------------


@dataclass(frozen=True)
class Target:
    pod: str
    port: int


def ready_targets(
    core: client.CoreV1Api,
    discovery: client.DiscoveryV1Api,
    service: str = SERVICE,
    namespace: str = NAMESPACE,
    port: int = SERVICE_PORT,
) -> list[Target]:
    """Ready pods behind the Service and the container port its targetPort names, as kube-proxy sees them."""
    svc = core.read_namespaced_service(service, namespace)
    svc_port = next(p for p in svc.spec.ports if p.port == port)
    slices = discovery.list_namespaced_endpoint_slice(
        namespace, label_selector=f"kubernetes.io/service-name={service}"
    ).items
    targets = []
    for eps in slices:
        for ep in eps.endpoints or []:
            if not (ep.conditions and ep.conditions.ready) or ep.target_ref is None or ep.target_ref.kind != "Pod":
                continue
            pod = core.read_namespaced_pod(ep.target_ref.name, namespace)
            targets.append(Target(pod.metadata.name, container_port(pod, svc_port.target_port)))
    return sorted(targets, key=lambda t: t.pod)


def container_port(pod: client.V1Pod, target_port: int | str) -> int:
    """Resolve a Service targetPort (a number or a container port name) against the pod spec."""
    if isinstance(target_port, int) or str(target_port).isdigit():
        return int(target_port)
    for c in pod.spec.containers:
        for p in c.ports or []:
            if p.name == target_port:
                return p.container_port
    raise KubeError(f"pod {pod.metadata.name} has no container port named {target_port!r}")


# --- HTTP through the API server's port-forward ---------------------------------------------------


_portforward_clients = threading.local()


def portforward_api() -> client.CoreV1Api:
    """A CoreV1Api of this thread's own: `kubernetes.stream` swaps the request method of the
    ApiClient it is given while the websocket opens, so a shared client would route other
    threads' ordinary calls into the websocket code."""
    if not hasattr(_portforward_clients, "core"):
        _portforward_clients.core = client.CoreV1Api(api_client())
    return _portforward_clients.core


def pod_get(
    target: Target, path: str, timeout: float = 10, namespace: str = NAMESPACE, headers: dict[str, str] | None = None
) -> Reply:
    """One HTTP GET over a fresh PortForward to the pod: one port-forward per connection. `headers` go with
    the request (e.g. Host, for name-based routing: else it is localhost:<port>)."""
    core = portforward_api()
    try:
        pf = portforward(core.connect_get_namespaced_pod_portforward, target.pod, namespace, ports=str(target.port))
    except Exception as error:  # the API server refused or lost the websocket: nothing was sent
        raise BrokenConnectionError(f"port-forward to {target.pod}: {error!r}") from error
    conn = http.client.HTTPConnection("localhost", target.port, timeout=timeout)
    sock = pf.socket(target.port)
    sock.settimeout(timeout)
    conn.sock = sock  # http.client skips connect() when a socket is already set
    try:
        conn.request("GET", path, headers={"Connection": "close", **(headers or {})})
        response = conn.getresponse()
        body = response.read().decode("utf-8", "replace")
        return Reply(response.status, response.headers, body)
    except (OSError, http.client.HTTPException) as error:
        channel = pf.error(target.port)
        what = f"GET {path} via port-forward to {target.pod}: {error!r}; error: {channel!r}"
        raise BrokenConnectionError(what) from error
    finally:
        conn.close()
        pf.close()


# --- What a user types: kubectl port-forward --------------------------------------------------------

PORT_FORWARD_READY_TIMEOUT = 30


@contextlib.contextmanager
def kubectl_port_forward(
    resource: str, local_port: int, remote_port: int = SERVICE_PORT, namespace: str = NAMESPACE
) -> Iterator[str]:
    """`kubectl port-forward <resource> <local>:<remote>` until the block ends; yields the first line it printed."""
    cmd = ["kubectl", "--context", CONTEXT, "--namespace", namespace]
    cmd += ["port-forward", resource, f"{local_port}:{remote_port}"]
    with tempfile.TemporaryFile("w+") as errors:
        proc = subprocess.Popen(cmd, env=tool_env(), cwd=ROOT, stdout=subprocess.PIPE, stderr=errors, text=True)
        listening: queue.Queue[str] = queue.Queue()

        def drain() -> None:
            # kubectl prints a line for every connection: a pipe nobody reads fills up (64 KiB, about 2,000
            # connections) and then every forward stalls while kubectl waits to write.
            for line in proc.stdout:
                if f"127.0.0.1:{local_port}" in line:  # "Forwarding from 127.0.0.1:<port> -> <port>"
                    listening.put(line)

        threading.Thread(target=drain, name="kubectl-port-forward-stdout", daemon=True).start()
        deadline = time.monotonic() + PORT_FORWARD_READY_TIMEOUT
        try:
            while listening.empty():
                if proc.poll() is not None or time.monotonic() > deadline:
                    errors.seek(0)
                    state = f"not listening in {PORT_FORWARD_READY_TIMEOUT} s"
                    state = f"exited {proc.returncode}" if proc.poll() is not None else state
                    raise KubeError(f"kubectl port-forward {state}: {errors.read()}")
                time.sleep(0.1)
            yield listening.get()
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=10)


# --- Inside a pod: the gunicorn processes -------------------------------------------------------------


def pod_python(pod: str, code: str, namespace: str = NAMESPACE) -> str:
    """Run `code` with the image's own Python in the pod's service container; its stdout."""
    exec_python = ("exec", pod, "-c", "flask-service", "--", "/opt/venv/bin/python", "-c", code)
    return kubectl_in(namespace, *exec_python, timeout=60).stdout


def gunicorn_processes(pod: str, namespace: str = NAMESPACE) -> dict[int, dict[str, int]]:
    """The arbiter (PID 1) and its workers in the pod's service container, with their memory."""
    return parse_processes(pod_python(pod, GUNICORN_PROCESSES, namespace))


def worker_pids(pod: str, namespace: str = NAMESPACE) -> set[int]:
    return workers(gunicorn_processes(pod, namespace))


def kill_in_pod(pod: str, pid: int, signal_name: str = "SIGKILL", namespace: str = NAMESPACE) -> None:
    pod_python(pod, f"import os, signal; os.kill({pid}, signal.{signal_name})", namespace)
