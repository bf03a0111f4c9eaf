"""The chart against the live API server: schema validation of every rendered manifest, and `helm test`."""

from __future__ import annotations

import pytest
import yaml

from .kube import RELEASE, ROOT, helm, kubectl

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
