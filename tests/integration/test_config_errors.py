"""Bad configuration stops the server at start with one line naming the setting."""

import os
import subprocess
import sys

import pytest

from tests.integration.conftest import ROOT


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("WEB_CONCURRENCY", "abc"),
        ("PORT", "70000"),
        ("LOG_LEVEL", "loud"),
        ("SHUTDOWN_DELAY", "soon"),
        ("FAULTS_ENABLED", "2"),
    ],
)
def test_bad_setting_stops_the_server(variable, value, tmp_path):
    env = {**os.environ, "PYTHONPATH": str(ROOT), "PROMETHEUS_MULTIPROC_DIR": str(tmp_path), variable: value}
    proc = subprocess.run(
        [sys.executable, "-m", "service"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=30
    )
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith(f"flask-service: configuration error: {variable}")
    assert "Traceback" not in proc.stderr + proc.stdout


def test_metrics_without_a_directory_is_refused(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "PROMETHEUS_MULTIPROC_DIR"}
    proc = subprocess.run(
        [sys.executable, "-m", "service"],
        cwd=ROOT,
        env={**env, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert proc.returncode == 2
    assert "PROMETHEUS_MULTIPROC_DIR" in proc.stderr
