"""The chart's routing defaults name what hack/addons/traefik runs: its Gateway, IngressClass and namespace."""

import yaml

from tests.chart.chartlib import CHART, ROOT

ADDON = [d for d in yaml.safe_load_all((ROOT / "hack" / "addons" / "traefik" / "traefik.yaml").read_text()) if d]
VALUES = yaml.safe_load((CHART / "values.yaml").read_text())


def addon(kind):
    (obj,) = [d for d in ADDON if d["kind"] == kind]
    return obj


def test_parent_ref_is_the_gateway_and_it_admits_routes_from_every_namespace():
    gateway = addon("Gateway")
    (parent,) = VALUES["httpRoute"]["parentRefs"]
    assert parent == {"name": gateway["metadata"]["name"], "namespace": gateway["metadata"]["namespace"]}
    assert gateway["spec"]["gatewayClassName"] == addon("GatewayClass")["metadata"]["name"]
    assert addon("GatewayClass")["spec"]["controllerName"] == "traefik.io/gateway-controller"
    (listener,) = gateway["spec"]["listeners"]
    assert listener["allowedRoutes"]["namespaces"]["from"] == "All"


def test_gateway_listener_is_an_entry_point_of_traefik():
    # Traefik binds a Gateway listener to the entry point of the same port.
    (listener,) = addon("Gateway")["spec"]["listeners"]
    (container,) = addon("Deployment")["spec"]["template"]["spec"]["containers"]
    assert f"--entryPoints.web.address=:{listener['port']}" in container["args"]
    assert listener["protocol"] == "HTTP"


def test_ingress_class_is_the_one_traefik_serves():
    ingress_class = addon("IngressClass")
    assert VALUES["ingress"]["className"] == ingress_class["metadata"]["name"]
    assert ingress_class["spec"]["controller"] == "traefik.io/ingress-controller"
    (container,) = addon("Deployment")["spec"]["template"]["spec"]["containers"]
    assert f"--providers.kubernetesingress.ingressClass={ingress_class['metadata']['name']}" in container["args"]


def test_network_policy_default_admits_traefiks_namespace():
    namespace = addon("Deployment")["metadata"]["namespace"]
    assert VALUES["networkPolicy"]["routingFrom"] == [
        {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": namespace}}}
    ]
