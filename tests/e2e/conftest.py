"""Session fixtures of the e2e tier: a reachable kind cluster with the release rolled out.

The release is deployed with `skaffold run` when it is not installed yet (`make up` normally did
it; SKAFFOLD_PROFILE=offline and friends are honoured by skaffold itself). Unless KEEP_CLUSTER is
set, the session ends by uninstalling the release and deleting the kind cluster, and fails if
anything of either is left.
"""

from __future__ import annotations

import json
import os

import pytest
from kubernetes import client

from .kube import (
    CLUSTER,
    CONTEXT,
    INSTANCE_SELECTOR,
    NAMESPACE,
    RELEASE,
    KubeError,
    api_client,
    helm,
    kept_revision,
    run,
    wait_namespaces_gone,
    wait_rollout,
    wait_until,
)

SKAFFOLD_TIMEOUT = 1800  # a cold image build on 2 cores plus the deploy


def release_installed() -> bool:
    proc = helm("status", RELEASE, "-o", "json", check=False, timeout=60)
    return proc.returncode == 0 and json.loads(proc.stdout)["info"]["status"] == "deployed"


@pytest.fixture(scope="session")
def api():
    try:
        api = api_client()
        version = client.VersionApi(api).get_code()
    except Exception as error:
        pytest.fail(f"kube context {CONTEXT} is not reachable ({error!r}); create the cluster first (make up)")
    print(f"e2e: {CONTEXT} runs Kubernetes {version.git_version}")
    yield api
    api.close()


@pytest.fixture(scope="session")
def release(api):
    """The installed, rolled-out release; torn down at the end unless KEEP_CLUSTER is set."""
    if not release_installed():
        run(
            "skaffold", "run",
            "--kube-context", CONTEXT, "--namespace", NAMESPACE,
            "--port-forward=off", "--update-check=false", "--interactive=false",
            timeout=SKAFFOLD_TIMEOUT,
        )  # fmt: skip
    assert release_installed(), f"release {RELEASE} is not deployed after skaffold run"
    wait_rollout(client.AppsV1Api(api))
    yield RELEASE
    wait_namespaces_gone()
    if not os.environ.get("KEEP_CLUSTER"):
        teardown(api)


@pytest.fixture(scope="session")
def core(api) -> client.CoreV1Api:
    return client.CoreV1Api(api)


@pytest.fixture(scope="session")
def apps(api) -> client.AppsV1Api:
    return client.AppsV1Api(api)


@pytest.fixture(scope="session")
def discovery(api) -> client.DiscoveryV1Api:
    return client.DiscoveryV1Api(api)


@pytest.fixture
def restore_release(release, apps):
    """Tests that upgrade the release get it back at its current revision and rolled out afterwards."""
    with kept_revision(apps):
        yield


def leftovers(api) -> list[str]:
    """Objects of the release still in the namespace (helm test pods included)."""
    core, apps = client.CoreV1Api(api), client.AppsV1Api(api)
    found = []
    for kind, lister in (
        ("Deployment", apps.list_namespaced_deployment),
        ("ReplicaSet", apps.list_namespaced_replica_set),
        ("Pod", core.list_namespaced_pod),
        ("Service", core.list_namespaced_service),
        ("ConfigMap", core.list_namespaced_config_map),
        ("ServiceAccount", core.list_namespaced_service_account),
        ("NetworkPolicy", client.NetworkingV1Api(api).list_namespaced_network_policy),
        ("PodDisruptionBudget", client.PolicyV1Api(api).list_namespaced_pod_disruption_budget),
    ):
        found += [f"{kind}/{o.metadata.name}" for o in lister(NAMESPACE, label_selector=INSTANCE_SELECTOR).items]
    # helm keeps each release revision in a Secret labelled owner=helm,name=<release>.
    secrets = core.list_namespaced_secret(NAMESPACE, label_selector=f"owner=helm,name={RELEASE}").items
    found += [f"Secret/{s.metadata.name}" for s in secrets]
    return found


def teardown(api) -> None:
    helm("uninstall", RELEASE, "--wait", "--timeout", "3m", timeout=240)
    wait_until(
        f"release {RELEASE} to leave nothing behind",
        lambda: ", ".join(left) if (left := leftovers(api)) else None,
        timeout=120,
    )
    run("kind", "delete", "cluster", "--name", CLUSTER, timeout=300)
    clusters = run("kind", "get", "clusters", timeout=60).stdout.split()
    if CLUSTER in clusters:
        raise KubeError(f"kind still lists cluster {CLUSTER}")
    docker = os.environ.get("DOCKER", "docker")
    nodes = run(docker, "ps", "-aq", "--filter", f"label=io.x-k8s.kind.cluster={CLUSTER}", timeout=60).stdout.split()
    if nodes:
        raise KubeError(f"node containers of {CLUSTER} still exist: {nodes}")
    contexts = run("kubectl", "config", "get-contexts", "-o", "name", timeout=60).stdout.split()
    if CONTEXT in contexts:
        raise KubeError(f"kubeconfig still has context {CONTEXT}")
