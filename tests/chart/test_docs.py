"""The chart README documents every value, and NOTES.txt prints the port-forward command."""

import shutil
import subprocess
import sys

import yaml

from tests.chart.chartlib import CHART, KUBE_VERSION, ROOT, run_helm


def test_readme_parameter_table_is_current():
    result = subprocess.run(
        [sys.executable, str(ROOT / "hack" / "chart-readme.py"), "--check"], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr


def test_notes_print_the_port_forward_command(helm, tmp_path):
    # `helm template` does not render NOTES.txt, and Helm 3's `install --dry-run=client` still wants a
    # cluster; so render the real NOTES.txt with `tpl` from a copy of the chart, through real helm.
    chart = tmp_path / "chart"
    shutil.copytree(CHART, chart)
    shutil.copy(chart / "templates" / "NOTES.txt", chart / "notes.txt")
    (chart / "templates" / "notes-probe.yaml").write_text(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: notes\n"
        'data:\n  notes: {{ tpl (.Files.Get "notes.txt") . | quote }}\n'
    )
    result = run_helm(
        helm,
        "template",
        "flask-service",
        str(chart),
        "--namespace",
        "demo",
        "--kube-version",
        KUBE_VERSION,
        "--show-only",
        "templates/notes-probe.yaml",
    )
    notes = yaml.safe_load(result.stdout)["data"]["notes"]
    assert "kubectl --namespace demo port-forward svc/flask-service 5000:5000" in notes
    assert "helm test flask-service --namespace demo" in notes
