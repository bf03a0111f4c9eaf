"""`helm lint --strict` accepts the chart with its defaults and with every CI values file."""

import pytest
import yaml

from service.version import VERSION
from tests.chart.chartlib import CHART, CI_VALUES, KUBE_VERSION, run_helm


def test_ci_values_files_exist():
    # The lint below is parametrized by this glob; an empty glob would silently test nothing.
    names = {path.name for path in CI_VALUES}
    assert {"minimal-values.yaml", "all-features-values.yaml", "ha-values.yaml"} <= names


@pytest.mark.parametrize("values", [None, *CI_VALUES], ids=lambda p: p.name if p else "defaults")
def test_lint_strict(helm, values):
    args = ["lint", "--strict", str(CHART), "--kube-version", KUBE_VERSION]
    if values:
        args += ["--values", str(values)]
    result = run_helm(helm, *args, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 chart(s) failed" in result.stdout
    # --strict turns warnings into failures; make sure none slipped through as text either.
    assert "[WARNING]" not in result.stdout and "[ERROR]" not in result.stdout


def test_chart_versions_are_the_service_version():
    # One source of truth: `make publish` packages the chart at service/version.py's VERSION.
    meta = yaml.safe_load((CHART / "Chart.yaml").read_text())
    assert meta["version"] == meta["appVersion"] == VERSION
