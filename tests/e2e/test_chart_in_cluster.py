"""The chart against the live API server: schema validation of every rendered manifest, `helm test`, and an
uninstall that leaves nothing behind."""

from __future__ import annotations

import pytest
import yaml
from kubernetes import client

from .kube import RELEASE, ROOT, fresh_namespace, helm, helm_in, image_values, install_chart, kubectl, wait_until

VALUES_SETS = [None, *sorted(p.relative_to(ROOT).as_posix() for p in (ROOT / "chart" / "ci").glob("*.yaml"))]
# Custom resources a bare kind cluster does not serve; the chart renders them only on request.
OPTIONAL_CRD_KINDS = {"ServiceMonitor", "HTTPRoute"}


def served_kinds() -> set[tuple[str, str]]:
    """(apiVersion, kind) pairs the cluster serves, from discovery (columns: ... APIVERSION NAMESPACED KIND)."""
    lines = kubectl("api-resources", "--no-headers").stdout.splitlines()
    return {(cols[-3], cols[-1]) for cols in (line.split() for line in lines)}


@pytest.mark.parametrize("values", VALUES_SETS, ids=lambda v: v or "defaults")
def test_every_rendered_manifest_passes_server_side_dry_run(release, values, tmp_path):
    args = ["template", "dry-run-check", "chart"] + (["--values", values] if values else [])
    docs = [d for d in yaml.safe_load_all(helm(*args).stdout) if d]
    served = served_kinds()
    checked = [d for d in docs if (d["apiVersion"], d["kind"]) in served]
    skipped = {d["kind"] for d in docs} - {d["kind"] for d in checked}
    assert skipped <= OPTIONAL_CRD_KINDS, f"kinds the cluster does not serve: {skipped}"
    assert {"Deployment", "Service", "ConfigMap"} <= {d["kind"] for d in checked}

    manifest = tmp_path / "manifest.yaml"
    manifest.write_text(yaml.safe_dump_all(checked))
    # Server-side apply with strict field validation: unknown or misplaced fields are errors, and
    # every admission plugin of the API server sees the objects; nothing is persisted.
    proc = kubectl(
        "apply", "--server-side", "--dry-run=server", "--validate=strict",
        "--field-manager=e2e-dry-run", "-f", str(manifest),
    )  # fmt: skip
    assert proc.stdout.count("(server dry run)") == len(checked), proc.stdout


def test_helm_test_passes(release):
    # No --logs: the chart deletes a test pod that succeeded; a failed one is kept for its logs.
    proc = helm("test", RELEASE, "--timeout", "3m", timeout=240, check=False)
    if proc.returncode != 0:
        logs = kubectl("logs", f"{RELEASE}-test-pages", check=False)
        pytest.fail(f"helm test failed:\n{proc.stdout}\n{proc.stderr}\n--- test pod logs\n{logs.stdout}{logs.stderr}")
    assert "Phase: Succeeded" in " ".join(proc.stdout.split()), proc.stdout


def leftovers(api, namespace: str, release: str) -> list[str]:
    """Objects of the release still in the namespace (helm test pods included), and helm's own records."""
    core, apps = client.CoreV1Api(api), client.AppsV1Api(api)
    selector = f"app.kubernetes.io/instance={release}"
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
        found += [f"{kind}/{o.metadata.name}" for o in lister(namespace, label_selector=selector).items]
    # helm keeps each release revision in a Secret labelled owner=helm,name=<release>.
    secrets = core.list_namespaced_secret(namespace, label_selector=f"owner=helm,name={release}").items
    return found + [f"Secret/{s.metadata.name}" for s in secrets]


def test_uninstall_leaves_nothing_behind(api, apps, release):
    with fresh_namespace("uninstall") as namespace:
        # No preStop sleep: `helm uninstall --wait` waits for the pod to stop, and what is left after is the
        # question here, not how the pod stops (the disruption tests own that).
        install_chart(namespace, "gone", image_values(apps) | {"preStopSleepSeconds": "0"})
        assert leftovers(api, namespace, "gone"), "the release installed nothing to look for"
        helm_in(namespace, "uninstall", "gone", "--wait", "--timeout", "3m")
        wait_until(
            "the uninstalled release to leave nothing behind",
            lambda: ", ".join(left) if (left := leftovers(api, namespace, "gone")) else None,
            timeout=120,
        )
