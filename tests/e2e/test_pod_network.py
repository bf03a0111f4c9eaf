"""The cluster's pod network across its nodes (two by default: k8s/kind-config.yaml, WORKERS).

A release of chart/ with two replicas in a namespace of its own: the chart's default topology spread puts
them on two nodes. A client pod on every node (tests/e2e/clientpods.py, in the release's namespace, which its
NetworkPolicy admits) connects to each replica's pod IP, to the Service's ClusterIP and to the Service's
DNS name: every connection from every node gets a 200. Between nodes that is the pod network's doing (on
the locally built node image, kube-router's routes, exchanged over BGP: hack/images/kind-node/files/kind/manifests/
default-cni.yaml), and the DNS name is answered by CoreDNS, which runs on only some of the nodes.

Pod to pod keeps the client pod's address on every path, so the NetworkPolicy on the other node admits it.
kube-router's router masquerades what a pod sends outside its ipset `kube-router-pod-subnets`, and it
refreshes that set at its start and then every 5 minutes only: on a new cluster the node that started
first lacks the other node's subnet for up to 5 minutes. Its cross-node requests then left with the node's
address, which the policy refuses: half of all fresh connections through the ClusterIP refused, measured.
The node image's guard (hack/images/kind-node/files/usr/local/bin/entrypoint) keeps pod to pod unmasqueraded; the
last test takes the other subnets out of each node's set and shows every request still admitted, and seen
by the server with the client pod's own address.
"""

from __future__ import annotations

import ipaddress
import json
import time
import uuid

import pytest

from .clientpods import client_pod, probe, wait_running
from .kube import AIRGAP, fresh_namespace, image_values, install_chart, kubectl, kubectl_in, wait_until

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


@pytest.fixture(scope="module")
def clients(core, nodes, spread):
    """{node: client pod name}: a client pod on every node, in the release's namespace."""
    namespace, pods, _ = spread
    name = f"probe-{uuid.uuid4().hex[:6]}"
    clients = {node: f"{name}-{i}" for i, node in enumerate(nodes)}
    image = core.read_namespaced_pod(next(iter(pods)), namespace).spec.containers[0].image
    for node, pod in clients.items():
        core.create_namespaced_pod(namespace, client_pod(pod, namespace, image, node=node))
    try:
        wait_running(core, [(namespace, pod) for pod in clients.values()])
        yield clients
    finally:
        for pod in clients.values():
            kubectl_in(namespace, "delete", "pod", pod, "--ignore-not-found", "--wait=false", check=False)


def test_every_node_reaches_every_pod_the_service_and_its_name(nodes, spread, clients):
    namespace, pods, service = spread
    addresses = [ip for _, ip in pods.values()]
    addresses += [service.spec.cluster_ip, f"{service.metadata.name}.{namespace}.svc.cluster.local"]
    seen: dict[str, dict[str, str]] = {}
    start = time.monotonic()

    def pending():
        for node, pod in clients.items():
            seen[node] = probe(namespace, pod, addresses)
        failed = {node: got for node, got in seen.items() if set(got.values()) != {"200"}}
        return failed or None

    wait_until("every client to get a 200 from every address", pending, timeout=ADMIT_WAIT)
    where = {pod: node for pod, (node, _) in pods.items()}
    print(f"pod network: replicas on {where}; {len(nodes)} clients all 200 after {time.monotonic() - start:.1f} s")


def router_pods(core) -> dict[str, str]:
    """{node: the pod-network kube-router's pod on it} (host network, with ipset)."""
    pods = core.list_namespaced_pod("kube-system", label_selector="app.kubernetes.io/name=kube-router-network").items
    return {p.spec.node_name: p.metadata.name for p in pods}


def pod_subnets(router: str, verb: str, subnet: str) -> None:
    kubectl("-n", "kube-system", "exec", router, "--", "ipset", "-exist", verb, "kube-router-pod-subnets", subnet)


def test_pod_to_pod_keeps_its_address_when_the_router_lacks_a_subnet(core, nodes, spread, clients):
    namespace, pods, _ = spread
    subnets = {n.metadata.name: n.spec.pod_cidr for n in core.list_node().items}
    routers = router_pods(core)
    if not routers and not AIRGAP:
        pytest.skip("kind's published node image: kindnet is the pod network, not the locally built kube-router")
    assert set(routers) == set(nodes), f"a pod-network kube-router per node: {routers}"
    test_every_node_reaches_every_pod_the_service_and_its_name(nodes, spread, clients)
    forgotten = [(routers[node], subnets[other]) for node in nodes for other in nodes if other != node]
    try:
        for router, subnet in forgotten:
            pod_subnets(router, "del", subnet)
        # The replica on another node, by pod IP: the path the ClusterIP takes for half of its connections.
        for node, client in clients.items():
            others = [ip for other, ip in pods.values() if other != node]
            got = probe(namespace, client, others)
            assert set(got.values()) == {"200"}, f"from {node} without the other subnets in its set: {got}"
    finally:
        for router, subnet in forgotten:
            pod_subnets(router, "add", subnet)
    client_ips = {core.read_namespaced_pod(pod, namespace).status.pod_ip for pod in clients.values()}
    seen = set()
    for pod in pods:
        for line in kubectl_in(namespace, "logs", pod).stdout.splitlines():
            http = json.loads(line).get("http", {}) if line.startswith("{") else {}
            if http.get("path") == "/":
                seen.add(http.get("remote_addr"))
    node_ips = {a.address for n in core.list_node().items for a in n.status.addresses if a.type == "InternalIP"}
    assert client_ips <= seen, f"the servers saw {seen}, not every client pod's address {client_ips}"
    assert not seen & node_ips, f"a request reached a server with a node's address: {seen & node_ips}"
