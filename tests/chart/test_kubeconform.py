"""Every rendered object is valid for the Kubernetes API version the kind cluster runs, offline.

The JSON schemas come from the OpenAPI spec in the k8s.io/kubernetes module source (plus the
Gateway API and Prometheus Operator CRDs), converted by hack/tools/k8s-schemas.sh into a cache outside
the repository; this test never downloads anything.
"""

import subprocess

import pytest

from tests.chart.chartlib import ADDONS, CI_VALUES, ROOT, find_tool, render_addon, run_helm, template_args

SCHEMA_SCRIPT = ROOT / "hack" / "tools" / "k8s-schemas.sh"
ALL_APIS = ["monitoring.coreos.com/v1/ServiceMonitor", "monitoring.coreos.com/v1/PrometheusRule"]


@pytest.fixture(scope="module")
def schema_location():
    directory = subprocess.run([str(SCHEMA_SCRIPT), "dir"], capture_output=True, text=True, check=True).stdout.strip()
    from pathlib import Path

    if not (Path(directory) / ".stamp").is_file() or not (Path(directory) / "apps" / "deployment_v1.json").is_file():
        pytest.fail(
            f"no Kubernetes JSON schemas in {directory}: run hack/tools/k8s-schemas.sh once (fetches the "
            "OpenAPI spec through the Go module proxy)"
        )
    return f"{directory}/{{{{ .Group }}}}/{{{{ .ResourceKind }}}}_{{{{ .ResourceAPIVersion }}}}.json"


def kubeconform(schema_location, manifests):
    return subprocess.run(
        [find_tool("kubeconform"), "-strict", "-summary", "-output", "text", "-schema-location", schema_location, "-"],
        input=manifests,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.parametrize("values", [None, *CI_VALUES], ids=lambda p: p.name if p else "defaults")
def test_rendered_objects_are_valid(helm, schema_location, values):
    # With the Prometheus Operator APIs announced, so those objects are validated too.
    manifests = run_helm(helm, *template_args(files=[values] if values else [], api_versions=ALL_APIS)).stdout
    result = kubeconform(schema_location, manifests)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Invalid: 0, Errors: 0, Skipped: 0" in result.stdout, result.stdout


def test_validation_catches_a_bad_field(helm, schema_location):
    # The check above is only worth something if the schemas reject what the API server rejects.
    manifests = run_helm(helm, *template_args(values={"securityContext": {"runAsNonRoot": True, "bogus": 1}})).stdout
    result = kubeconform(schema_location, manifests)
    assert result.returncode != 0
    assert "additional properties 'bogus' not allowed" in result.stdout


@pytest.mark.parametrize("addon", ADDONS)
def test_every_addon_applies_valid_objects(schema_location, addon):
    # What hack/addons/addon.sh up applies, rendered by that script (upstream's operator bundle aside).
    result = kubeconform(schema_location, render_addon(addon, airgap=True))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Invalid: 0, Errors: 0, Skipped: 0" in result.stdout, result.stdout
