"""k8s/ (plain manifests for `kubectl apply -k`) is exactly the chart rendered with default values."""

import yaml

from tests.chart.chartlib import ROOT, run_helm

K8S = ROOT / "k8s"


def test_kustomization_lists_the_rendered_manifests():
    kustomization = yaml.safe_load((K8S / "kustomization.yaml").read_text())
    assert kustomization["kind"] == "Kustomization"
    assert kustomization["resources"] == ["flask-service.yaml"]


def test_manifests_match_helm_template(helm):
    # The same command as hack/release/render-manifests.sh (compared as parsed objects, so the helm major
    # version's formatting does not matter).
    from tests.chart.chartlib import CHART, KUBE_VERSION

    rendered = run_helm(
        helm,
        "template",
        "flask-service",
        str(CHART),
        "--namespace",
        "default",
        "--kube-version",
        KUBE_VERSION,
        "--skip-tests",
    ).stdout
    expected = [d for d in yaml.safe_load_all(rendered) if d]
    committed = [d for d in yaml.safe_load_all((K8S / "flask-service.yaml").read_text()) if d]
    assert committed == expected, "k8s/flask-service.yaml drifted from the chart: run hack/release/render-manifests.sh"
    kinds = {d["kind"] for d in committed}
    assert {"Deployment", "Service", "ConfigMap"} <= kinds and "Pod" not in kinds
