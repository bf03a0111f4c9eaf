"""The chart's HTTPRoute, and separately its Ingress, served by the cluster's Traefik (hack/addons/traefik):
each case installs chart/ into a namespace of its own with only that route enabled and the chart's
default host name, and fetches `/` and `/next` through Traefik's Service (over the API server's
port-forward to the pod behind it, as `kubectl port-forward svc/traefik` does) with that Host header.
A request for another host gets Traefik's own 404. The HTTPRoute must be Accepted with its references
resolved by the Gateway's controller.

Traefik sends to the pod endpoints from its own namespace, so with the cluster's NetworkPolicy agent on
(hack/addons/kube-router) each page served is a connection the chart's policy admitted. The installed policy is
also evaluated against the live Traefik pod (its namespace and labels) as an agent would, which holds
on a cluster without the agent too.
"""

from __future__ import annotations

import re
import uuid

import pytest
from kubernetes import client

from tests.support.versions import pins

from .kube import (
    AIRGAP,
    CONTEXT,
    Target,
    assert_runs_the_addons_image,
    configured_headings,
    fresh_namespace,
    image_values,
    install_chart,
    pod_get,
    ready_targets,
    run,
    wait_until,
)

HOST = "flask-service.local"  # the chart's default host of both routes
TRAEFIK = "traefik"  # its namespace, Service, Gateway and classes (hack/addons/traefik/traefik.yaml)
GATEWAY_CONTROLLER = "traefik.io/gateway-controller"
ROUTE_WAIT = 60  # seconds for Traefik to see a new route and serve it


@pytest.fixture(scope="module")
def image(release, apps) -> dict[str, str]:
    return image_values(apps)


@pytest.fixture(scope="module")
def traefik(core, discovery) -> Target:
    targets = ready_targets(core, discovery, service=TRAEFIK, namespace=TRAEFIK, port=80)
    assert targets, "Traefik's Service has no ready endpoint: is hack/addons/addon.sh up traefik?"
    return targets[0]


def test_traefik_is_the_pinned_build(core, traefik):
    assert_runs_the_addons_image(core, TRAEFIK, traefik.pod, "traefik")
    if not AIRGAP:
        return  # upstream's image, tagged with the pinned version
    # The binary in the running pod reports the version it was built as (hack/tools/install-tools.sh traefik).
    out = run("kubectl", "--context", CONTEXT, "-n", TRAEFIK, "exec", traefik.pod, "--", "/bin/traefik", "version")
    version = re.escape(pins()["TRAEFIK_VERSION"])
    assert re.search(rf"^Version:\s+{version}$", out.stdout, re.MULTILINE), out.stdout


@pytest.fixture
def namespace():
    with fresh_namespace("routing") as name:
        yield name


def route_conditions(api, namespace: str, name: str) -> dict[str, str]:
    """The HTTPRoute's conditions on its Traefik Gateway parent, by type."""
    route = client.CustomObjectsApi(api).get_namespaced_custom_object(
        "gateway.networking.k8s.io", "v1", namespace, "httproutes", name
    )
    for parent in route.get("status", {}).get("parents", []):
        ref = parent["parentRef"]
        if parent["controllerName"] == GATEWAY_CONTROLLER and (ref["name"], ref.get("namespace")) == (TRAEFIK, TRAEFIK):
            return {c["type"]: c["status"] for c in parent["conditions"]}
    return {}


def admits(policy: client.V1NetworkPolicy, pod: client.V1Pod, namespace_labels: dict[str, str]) -> bool:
    """Whether an ingress rule of the policy admits the pod (a peer of matchLabels only, as the chart renders)."""
    for rule in policy.spec.ingress or []:
        for peer in rule._from or []:
            assert not peer.ip_block, "the chart renders no ipBlock peers"
            selectors = [(peer.namespace_selector, namespace_labels), (peer.pod_selector, pod.metadata.labels)]
            if peer.namespace_selector is None and pod.metadata.namespace != policy.metadata.namespace:
                continue  # a podSelector alone selects the policy's own namespace
            if all(s is None or (s.match_labels or {}).items() <= labels.items() for s, labels in selectors):
                assert all(s is None or not s.match_expressions for s, _ in selectors)
                return True
    return False


@pytest.mark.parametrize("route", ["httpRoute", "ingress"])
def test_pages_are_served_through_traefik_by_host_name(api, core, image, traefik, namespace, route):
    release = f"web-{uuid.uuid4().hex[:6]}"
    install_chart(namespace, release, {**image, f"{route}.enabled": "true"})
    name = f"{release}-flask-service"

    if route == "httpRoute":
        wanted = {"Accepted": "True", "ResolvedRefs": "True"}

        def pending():
            conditions = route_conditions(api, namespace, name)
            return None if wanted.items() <= conditions.items() else f"conditions {conditions}"

        wait_until(f"HTTPRoute {name} accepted by the Gateway {TRAEFIK}/{TRAEFIK}", pending, timeout=ROUTE_WAIT)

    def not_served():
        reply = pod_get(traefik, "/", namespace=TRAEFIK, headers={"Host": HOST})
        return None if reply.status == 200 else f"GET / for {HOST}: {reply.status} {reply.body[:80]!r}"

    wait_until(f"Traefik to serve the {route}", not_served, timeout=ROUTE_WAIT)
    expected = configured_headings(core, namespace)
    for path, colour in (("/", "powderblue"), ("/next", "tomato")):
        reply = pod_get(traefik, path, namespace=TRAEFIK, headers={"Host": HOST})
        assert reply.status == 200, (path, reply)
        assert f"background-color: {colour}" in reply.body and f"<h1>{expected[path]}</h1>" in reply.body, path

    other = pod_get(traefik, "/", namespace=TRAEFIK, headers={"Host": f"other.{HOST}"})
    assert other.status == 404 and "<h1>" not in other.body, other

    # The chart's NetworkPolicy admits the Traefik pod (which sends to the pods directly, not the Service).
    policy = client.NetworkingV1Api(api).read_namespaced_network_policy(name, namespace)
    pod = core.read_namespaced_pod(traefik.pod, TRAEFIK)
    assert admits(policy, pod, core.read_namespace(TRAEFIK).metadata.labels)
