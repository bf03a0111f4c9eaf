"""chart/README.md is what helm-docs generates and documents every value; NOTES.txt prints the port-forward command."""

import difflib
import itertools
import re
import shutil

import pytest
import yaml

from tests.chart.chartlib import CHART, KUBE_VERSION, find_tool, run_helm, run_tool
from tests.support.versions import pins

README = CHART / "README.md"
# What the Makefile's chart-docs target passes besides the chart: the table keeps values.yaml's order.
HELM_DOCS_ARGS = ("--sort-values-order", "file", "--log-level", "warning")


@pytest.fixture(scope="module")
def helm_docs():
    tool = find_tool("helm-docs")
    version = pins()["HELM_DOCS_VERSION"].removeprefix("v")
    reported = run_tool(tool, "--version").stdout
    if version not in reported.split():
        pytest.fail(
            f"{tool} is not the pinned helm-docs {version} ({reported.strip()}): run hack/tools/install-tools.sh"
        )
    return tool


def test_readme_is_what_helm_docs_generates(helm_docs, tmp_path):
    # helm-docs has no --check: print what it would write (--dry-run), from a copy so the tree is never touched.
    chart = tmp_path / "chart"
    shutil.copytree(CHART, chart)
    result = run_tool(helm_docs, "--chart-search-root", str(chart), *HELM_DOCS_ARGS, "--dry-run")
    committed = README.read_text()
    if result.stdout != committed:
        diff = "".join(
            difflib.unified_diff(
                committed.splitlines(keepends=True),
                result.stdout.splitlines(keepends=True),
                "chart/README.md",
                "helm-docs output",
                n=1,
            )
        )
        pytest.fail(f"chart/README.md is out of date: run `make chart-docs`\n{result.stderr}{diff}")


def test_readme_table_describes_every_value():
    # helm-docs lists an undocumented value with an empty description instead of failing (its strict mode only
    # knows "# -- key.path" comments), so check the table: four cells a row, each with a description.
    lines = README.read_text().splitlines()
    start = lines.index("| Key | Type | Default | Description |") + 2
    rows = list(itertools.takewhile(lambda line: line.startswith("|"), lines[start:]))
    assert rows, "chart/README.md: the parameter table is empty"
    for row in rows:
        cells = [cell.strip() for cell in re.split(r"(?<!\\)\|", row)[1:-1]]  # an escaped \| stays in its cell
        assert len(cells) == 4, f"chart/README.md: a row of {len(cells)} cells, not 4: {row}"
        assert cells[3], f"{cells[0]}: no description; give it a `# --` comment in values.yaml, then `make chart-docs`"


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
