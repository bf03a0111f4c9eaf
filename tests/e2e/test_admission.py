"""The cluster's admission policy (hack/addons/kyverno): a Pod of the project's image is admitted only with a
cosign signature by the project's key, checked by Kyverno's admission controller as the API server asks it.

Server-side dry runs: the API server runs every admission webhook on the Pod and stores nothing, so the checks
make no pod. The release itself (signed by Skaffold's hook) and every rollout of this tier run under the
policy as well.
"""

from __future__ import annotations

import json
import uuid

import pytest
import yaml
from kubernetes import client

from hack.release import oci, sign

from .kube import AIRGAP, NAMESPACE, RELEASE, ROOT, assert_runs_the_addons_image, kubectl, release_image, run

HOST = "localhost:5001"
IN_CLUSTER = run(str(ROOT / "hack" / "cluster" / "registry.sh"), "in-cluster").stdout.strip()
POLICY = "flask-service-signed-images"
KYVERNO = "kyverno"


@pytest.fixture(scope="module")
def kyverno(core):
    pods = core.list_namespaced_pod(KYVERNO, label_selector="app.kubernetes.io/component=admission-controller").items
    if not pods:
        pytest.skip("no Kyverno in the cluster (hack/addons/addon.sh up kyverno; ADMISSION=0: none)")
    return pods[0]


def dry_run(apps: client.AppsV1Api, image: str):
    """`kubectl create --dry-run=server` of a Pod with the release's pod spec and IMAGE."""
    template = client.ApiClient().sanitize_for_serialization(
        apps.read_namespaced_deployment(RELEASE, NAMESPACE).spec.template
    )
    for container in template["spec"]["containers"]:
        container["image"] = image
    pod = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": f"admission-{uuid.uuid4().hex[:8]}", "namespace": NAMESPACE},
        "spec": template["spec"],
    }
    return kubectl("create", "--dry-run=server", "-o", "name", "-f", "-", input=yaml.safe_dump(pod), check=False)


def in_cluster(image: str) -> str:
    return image.replace(f"{HOST}/", f"{IN_CLUSTER}/", 1)


@pytest.fixture(scope="module")
def copies(apps):
    """Two copies of the release's image in its repository, each its own digest: one left unsigned, one signed
    (in both layouts) by another key. Their tags go at the end."""
    registry = oci.Registry(HOST)
    _, repository, digest = oci.split_reference(release_image(apps))  # the release is pinned by digest
    _, media_type, body = registry.manifest(repository, digest)
    manifest = json.loads(body)
    assert "config" in manifest, f"the release's image is a {media_type}, not one image"
    config = json.loads(registry.blob(repository, manifest["config"]["digest"]))
    made = {}
    for name in ("unsigned", "foreign"):
        # Another label in the image's config: the same layers, another digest, no signature of the project.
        config.setdefault("config", {}).setdefault("Labels", {})["dev.flask-service.e2e-copy"] = uuid.uuid4().hex
        data = json.dumps(config).encode()
        manifest["config"] = {**manifest["config"], "digest": registry.push_blob(repository, data), "size": len(data)}
        tag = f"e2e-admission-{name}-{uuid.uuid4().hex[:8]}"
        made[name] = (tag, f"{HOST}/{repository}@{registry.push_manifest(repository, tag, manifest)}")
    yield {name: image for name, (_, image) in made.items()}
    for _, image in made.values():
        registry.delete_manifest(repository, image.rsplit("@", 1)[-1])


@pytest.fixture(scope="module")
def foreign_key(tmp_path_factory, copies):
    """COSIGN_KEY_DIR of another key pair, which has signed the `foreign` copy."""
    directory = tmp_path_factory.mktemp("foreign-key")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("COSIGN_KEY_DIR", str(directory))
        sign.sign(copies["foreign"])
        assert sign.verify(copies["foreign"], legacy=True).returncode == 0
    assert sign.verify(copies["foreign"]).returncode != 0  # not by the project's key
    return directory


def test_kyverno_runs_the_pinned_build(core, kyverno):
    assert_runs_the_addons_image(core, KYVERNO, kyverno.metadata.name, "kyverno")
    if AIRGAP:
        (container,) = [c for c in kyverno.spec.containers if c.name == "kyverno"]
        assert "/kyverno-admission:" in container.image, container.image


def test_only_the_projects_pods_reach_kyverno_and_they_fail_closed(kyverno):
    # Kyverno's webhooks for Pods, as it made them: the one that fails closed (the policy's) asks only about
    # pods of the project's images (the match condition of its config), so no other pod waits on Kyverno.
    configs = json.loads(
        kubectl("get", "mutatingwebhookconfigurations,validatingwebhookconfigurations", "-o", "json",
                "-l", "webhook.kyverno.io/managed-by=kyverno").stdout
    )["items"]  # fmt: skip
    pod_hooks = [
        hook
        for config in configs
        for hook in config.get("webhooks", [])
        if any("pods" in rule.get("resources", []) for rule in hook.get("rules", []))
    ]
    closed = [hook for hook in pod_hooks if hook["failurePolicy"] == "Fail"]
    assert closed, [hook["name"] for hook in pod_hooks]
    for hook in closed:
        conditions = {c["name"]: c["expression"] for c in hook.get("matchConditions", [])}
        assert "runs-a-flask-service-image" in conditions, hook
        assert f"'{HOST}/flask-service'" in conditions["runs-a-flask-service-image"]


def test_the_signed_release_is_admitted_by_either_registry_name(apps, kyverno):
    image = release_image(apps)
    for name in (image, in_cluster(image)):
        admitted = dry_run(apps, name)
        assert admitted.returncode == 0, admitted.stderr


@pytest.mark.parametrize("copy", ["unsigned", "foreign"])
def test_an_image_without_the_projects_signature_is_refused_and_told_why(apps, kyverno, copies, foreign_key, copy):
    for name in (copies[copy], in_cluster(copies[copy])):
        refused = dry_run(apps, name)
        assert refused.returncode != 0, f"{name} was admitted"
        assert POLICY in refused.stderr and "signature" in refused.stderr.lower(), refused.stderr


def test_images_of_other_repositories_are_not_the_policys_business(apps, kyverno):
    # An add-on's image in the same registry, signed by nobody.
    (other,) = [i for i in run(str(ROOT / "hack" / "addons" / "addon.sh"), "images", "kyverno").stdout.split()
                if "/traefik" in i]  # fmt: skip
    admitted = dry_run(apps, other)
    assert admitted.returncode == 0, admitted.stderr
