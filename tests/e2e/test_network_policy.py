"""The chart's default NetworkPolicy, enforced by the cluster's agent (kube-router, hack/addons/kube-router).

Client pods (tests/e2e/clientpods.py) in three namespaces: a throwaway one the policy does not admit, the
release's namespace, and `monitoring` (Prometheus's, admitted for the scrape). Each makes real
connections to the Service's ClusterIP and to a pod's IP, port 5000, and reports a status or why it got
none. The agent admits a new pod only after its next sync (a few seconds): the allowed
clients retry until they get a 200, and the denied one is judged only after that same wait.
The positive control: the denied client does reach a server in the release's namespace that no policy
selects (a plain HTTP server pod), so its refusal is the policy's, not a broken network's.
"""

from __future__ import annotations

import time
import uuid

import pytest

from tests.support.versions import pins

from .clientpods import SERVER, client_pod, probe, wait_running
from .kube import (
    NAMESPACE,
    RELEASE,
    SERVICE,
    assert_runs_the_addons_image,
    kubectl_in,
    policy_agents_synced,
    release_pods,
    wait_until,
)

MONITORING = "monitoring"
ADMIT_WAIT = 30  # seconds for the agent to sync after a client pod starts (about 4 s seen)


@pytest.fixture(scope="module")
def addresses(release, core) -> list[str]:
    """The Service's ClusterIP and the IP of one of the release's pods."""
    cluster_ip = core.read_namespaced_service(SERVICE, NAMESPACE).spec.cluster_ip
    pods = [p for p in release_pods(core) if p.status.pod_ip]
    assert pods, "the release has no pod with an IP"
    return [cluster_ip, pods[0].status.pod_ip]


@pytest.fixture(scope="module")
def agent(core) -> str:
    """A pod of the agent's DaemonSet."""
    pods = core.list_namespaced_pod("kube-system", label_selector="app.kubernetes.io/name=kube-router").items
    if not pods:
        pytest.skip("no NetworkPolicy agent in the cluster (hack/addons/addon.sh up kube-router; NETPOL=0: none)")
    wait_until("every policy agent to be ready and synced", lambda: policy_agents_synced(core), timeout=120)
    return pods[0].metadata.name


def test_the_agent_is_the_pinned_build(core, agent):
    assert_runs_the_addons_image(core, "kube-system", agent, "kube-router")
    # The binary reports the version it was stamped with (hack/tools/install-tools.sh kube-router).
    proc = kubectl_in("kube-system", "exec", agent, "--", "kube-router", "--version")
    out = proc.stdout + proc.stderr  # it prints to stderr
    assert f" version {pins()['KUBE_ROUTER_VERSION']}," in out, out


@pytest.fixture(scope="module")
def clients(release, apps, core, agent):
    """Ready client pods by case: (namespace, pod name); the throwaway namespace is deleted after."""
    image = apps.read_namespaced_deployment(RELEASE, NAMESPACE).spec.template.spec.containers[0].image
    name = f"netpol-probe-{uuid.uuid4().hex[:6]}"
    other = f"netpol-{name[-6:]}"
    core.create_namespace({"metadata": {"name": other}})
    started = {
        case: (namespace, name)
        for case, namespace in (("other", other), ("release", NAMESPACE), ("monitoring", MONITORING))
    }
    started["control"] = (NAMESPACE, f"netpol-control-{name[-6:]}")
    try:
        for case, (namespace, pod) in started.items():
            command = SERVER if case == "control" else None
            core.create_namespaced_pod(namespace, client_pod(pod, namespace, image, command=command))
        wait_running(core, list(started.values()))
        yield started
    finally:
        for namespace, name in started.values():
            kubectl_in(namespace, "delete", "pod", name, "--ignore-not-found", "--wait=false", check=False)
        kubectl_in(other, "delete", "namespace", other, "--wait=true", "--timeout=180s", timeout=240)


@pytest.fixture(scope="module")
def control(clients, core) -> str:
    """The IP of the control server, a pod no policy selects."""
    namespace, pod = clients["control"]
    return core.read_namespaced_pod(pod, namespace).status.pod_ip


@pytest.fixture(scope="module")
def outcomes(clients, addresses, control) -> dict[str, dict[str, str]]:
    """What each client got, once the admitted clients are seen admitted (the agent has synced)."""
    seen: dict[str, dict[str, str]] = {}
    start = time.monotonic()

    def pending():
        for case in ("release", "monitoring"):
            seen[case] = probe(*clients[case], addresses)
        refused = {case: got for case, got in seen.items() if set(got.values()) != {"200"}}
        return refused or None

    wait_until("the agent to admit the release's and monitoring's clients", pending, timeout=ADMIT_WAIT)
    print(f"netpol: admitted after {time.monotonic() - start:.1f} s")
    seen["other"] = probe(*clients["other"], [*addresses, control])
    print(f"netpol: outcomes {seen}")
    return seen


@pytest.mark.parametrize("case", ["release", "monitoring"])
def test_admitted_namespaces_get_the_page(outcomes, addresses, case):
    assert outcomes[case] == dict.fromkeys(addresses, "200")


def test_a_namespace_the_policy_does_not_admit_cannot_connect(outcomes, addresses, control):
    # The same client reaches a server of the release's namespace that no policy selects: its network works.
    got = outcomes["other"]
    assert got[control] == "200", f"the positive control failed, so the refusals prove nothing: {got}"
    # kube-router rejects (refused at once); a dropping agent would show a timeout instead.
    denied = {address: got[address] for address in addresses}
    assert set(denied.values()) <= {"refused", "timeout"}, denied
