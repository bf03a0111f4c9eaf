"""The cluster's pod network across its nodes (two by default: k8s/kind-config.yaml, WORKERS).

A release of chart/ with two replicas in a namespace of its own: the chart's default topology spread puts
them on two nodes. A client pod on every node (tests/e2e/clientpods.py, in the release's namespace, which its
NetworkPolicy admits) connects to each replica's pod IP, to the Service's ClusterIP and to the Service's
DNS name: every connection from every node gets a 200. Between nodes that is the pod network's doing (on
the locally built node image, kube-router's routes, exchanged over BGP: hack/kind-node/files/kind/manifests/
default-cni.yaml), and the DNS name is answered by CoreDNS, which runs on only some of the nodes.
"""

from __future__ import annotations

import ipaddress
import time
import uuid

import pytest

from .clientpods import client_pod, probe, wait_running
from .kube import fresh_namespace, image_values, install_chart, kubectl_in, wait_until

RELEASE = "spread"
ADMIT_WAIT = 30  # seconds for the NetworkPolicy agent to admit new client pods (about 4 s seen)


@pytest.fixture(scope="module")
def nodes(core) -> list[str]:
    names = sorted(n.metadata.name for n in core.list_node().items)
    if len(names) < 2:
        pytest.skip(f"one node only ({names}): WORKERS=0")
    return names


@pytest.fixture(scope="module")
def spread(release, apps, core, nodes):
    """(namespace, {pod: (node, pod IP)}, service name) of a two-replica release."""
    with fresh_namespace("pod-network") as namespace:
        install_chart(namespace, RELEASE, image_values(apps) | {"replicaCount": "2"})
        selector = f"app.kubernetes.io/instance={RELEASE},app.kubernetes.io/name=flask-service"
        pods = core.list_namespaced_pod(namespace, label_selector=selector).items
        services = core.list_namespaced_service(namespace, label_selector=f"app.kubernetes.io/instance={RELEASE}")
        yield namespace, {p.metadata.name: (p.spec.node_name, p.status.pod_ip) for p in pods}, services.items[0]


def test_the_replicas_spread_across_nodes(spread):
    _, pods, _ = spread
    assert len(pods) == 2
    assert len({node for node, _ in pods.values()}) == 2, f"both replicas on one node: {pods}"


def test_each_node_has_its_own_pod_subnet(core, nodes, spread):
    _, pods, _ = spread
    subnets = {n.metadata.name: ipaddress.ip_network(n.spec.pod_cidr) for n in core.list_node().items}
    assert len(set(subnets.values())) == len(nodes), subnets
    for pod, (node, ip) in pods.items():
        assert ipaddress.ip_address(ip) in subnets[node], f"{pod} on {node} has {ip}, outside {subnets[node]}"


def test_every_node_reaches_every_pod_the_service_and_its_name(core, nodes, spread):
    namespace, pods, service = spread
    name = f"probe-{uuid.uuid4().hex[:6]}"
    clients = {node: f"{name}-{i}" for i, node in enumerate(nodes)}
    image = core.read_namespaced_pod(next(iter(pods)), namespace).spec.containers[0].image
    for node, pod in clients.items():
        core.create_namespaced_pod(namespace, client_pod(pod, namespace, image, node=node))
    wait_running(core, [(namespace, pod) for pod in clients.values()])
    addresses = [ip for _, ip in pods.values()]
    addresses += [service.spec.cluster_ip, f"{service.metadata.name}.{namespace}.svc.cluster.local"]
    seen: dict[str, dict[str, str]] = {}
    start = time.monotonic()

    def pending():
        for node, pod in clients.items():
            seen[node] = probe(namespace, pod, addresses)
        failed = {node: got for node, got in seen.items() if set(got.values()) != {"200"}}
        return failed or None

    try:
        wait_until("every client to get a 200 from every address", pending, timeout=ADMIT_WAIT)
    finally:
        for pod in clients.values():
            kubectl_in(namespace, "delete", "pod", pod, "--ignore-not-found", "--wait=false", check=False)
    where = {pod: node for pod, (node, _) in pods.items()}
    print(f"pod network: replicas on {where}; {len(nodes)} clients all 200 after {time.monotonic() - start:.1f} s")
