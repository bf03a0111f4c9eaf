"""The deployed service, reached through the API server's port-forward to a Ready pod behind the Service."""

from __future__ import annotations

import json
import re

import pytest

from tests.support.httpclient import route_count

from .kube import NAMESPACE, POD_SELECTOR, Target, configured_headings, kubectl, pod_get, ready_targets

WELCOME = "Welcome to IFT510-Project by Swetha"
NEXT = "Publishing the docker container to GITHUB"


@pytest.fixture
def target(release, core, discovery) -> Target:
    targets = ready_targets(core, discovery)
    assert targets, "the Service has no ready endpoint"
    return targets[0]


def test_configmap_holds_the_default_headings(release, core):
    assert configured_headings(core) == {"/": WELCOME, "/next": NEXT}


@pytest.mark.parametrize(("path", "colour"), [("/", "powderblue"), ("/next", "tomato")])
def test_pages(core, target, path, colour):
    reply = pod_get(target, path)
    assert reply.status == 200
    assert reply.headers["Content-Type"].startswith("text/html")
    assert f"background-color: {colour}" in reply.body
    heading = configured_headings(core)[path]
    assert f"<h1>{heading}</h1>" in reply.body


@pytest.mark.parametrize("path", ["/livez", "/readyz"])
def test_health(core, target, path):
    reply = pod_get(target, path)
    assert reply.status == 200
    assert json.loads(reply.body) == {"status": "ok"}


def test_unknown_path_is_404(core, target):
    assert pod_get(target, "/no-such-page").status == 404


def total_requests(metrics: str) -> float:
    """flask_http_request_total{method="GET",status="200"} as exported by the pod."""
    match = re.search(r'^flask_http_request_total\{method="GET",status="200"\} (\S+)$', metrics, re.MULTILINE)
    return float(match.group(1)) if match else 0.0


def test_metrics_grow_by_exactly_the_requests_made(core, target):
    # Probes and /metrics itself are excluded from the counts, so kubelet traffic cannot interfere.
    before = pod_get(target, "/metrics").body
    for _ in range(3):
        assert pod_get(target, "/").status == 200
    for _ in range(2):
        assert pod_get(target, "/next").status == 200
    assert pod_get(target, "/readyz").status == 200
    after = pod_get(target, "/metrics").body

    assert route_count(after, "/") - route_count(before, "/") == 3
    assert route_count(after, "/next") - route_count(before, "/next") == 2
    assert total_requests(after) - total_requests(before) == 5
    assert 'flask_service_app_info{version="' in after


def test_pods_run_with_the_restricted_security_context(release, core):
    pods = core.list_namespaced_pod(NAMESPACE, label_selector=POD_SELECTOR).items
    assert pods
    for pod in pods:
        psc = pod.spec.security_context
        assert psc.run_as_non_root is True
        assert psc.seccomp_profile.type == "RuntimeDefault"
        assert pod.spec.automount_service_account_token is False
        assert not pod.spec.host_network and not pod.spec.host_pid and not pod.spec.host_ipc
        for c in pod.spec.containers + (pod.spec.init_containers or []):
            sc = c.security_context
            assert sc.allow_privilege_escalation is False, c.name
            assert sc.read_only_root_filesystem is True, c.name
            assert sc.capabilities.drop == ["ALL"] and not sc.capabilities.add, c.name
            assert (sc.run_as_user or psc.run_as_user) == 10001, c.name
            assert sc.privileged in (None, False), c.name


def test_pod_security_admission_accepts_the_pods_as_restricted(release):
    # The API server's own Pod Security check: a server-side dry-run of the `restricted` enforce
    # label lists every running pod of the namespace that would violate it.
    proc = kubectl(
        "label", "--dry-run=server", "--overwrite", "namespace", NAMESPACE,
        "pod-security.kubernetes.io/enforce=restricted",
    )  # fmt: skip
    assert "violate" not in proc.stderr, proc.stderr
