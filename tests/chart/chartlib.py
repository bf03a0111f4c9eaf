"""Helpers for the chart tier: find the real helm, render the chart, pick objects from the output."""

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.support.versions import pins

ROOT = Path(__file__).resolve().parents[2]
CHART = ROOT / "chart"
RELEASE = "flask-service"
NAMESPACE = "chart-test"


# Render for the Kubernetes version the kind cluster runs, whatever the helm build defaults to
# (a helm built without version ldflags assumes v1.20, which the chart's kubeVersion refuses).
KUBE_VERSION = pins()["KUBERNETES_VERSION"].lstrip("v")


def find_tool(name):
    """$NAME (e.g. HELM=/path/to/helm4 to test another helm), then .tools/bin, then PATH."""
    candidates = [os.environ.get(name.upper()), str(ROOT / ".tools" / "bin" / name), shutil.which(name)]
    for candidate in candidates:
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    pytest.fail(f"{name} not found in ${name.upper()}, .tools/bin or PATH: run hack/tools/install-tools.sh")


def run_tool(tool, *args, check=True):
    """Run helm, promtool, …; unless check=False a failure fails the test with the tool's output."""
    result = subprocess.run([tool, *args], capture_output=True, text=True, timeout=120)
    if check and result.returncode != 0:
        pytest.fail(f"{Path(tool).name} {' '.join(args)} failed ({result.returncode}):\n{result.stdout}{result.stderr}")
    return result


run_helm = run_tool


def template_args(values=None, files=(), api_versions=(), extra=()):
    args = ["template", RELEASE, str(CHART), "--namespace", NAMESPACE, "--kube-version", KUBE_VERSION]
    for path in files:
        args += ["--values", str(path)]
    for api in api_versions:
        args += ["--api-versions", api]
    if values:
        # --set-json keeps types exact (ints stay ints, null stays null) without YAML guessing.
        for key, value in values.items():
            args += ["--set-json", f"{key}={json.dumps(value)}"]
    return args + list(extra)


def by_kind(objects, kind):
    return [o for o in objects if o["kind"] == kind]


def one(objects, kind):
    found = by_kind(objects, kind)
    assert len(found) == 1, f"expected one {kind}, got {len(found)}: {[o['kind'] for o in objects]}"
    return found[0]


def app_pod(objects):
    """(pod spec, the service container) of the Deployment."""
    spec = one(objects, "Deployment")["spec"]["template"]["spec"]
    return spec, spec["containers"][0]


def front_container(spec):
    """The front's container (HAProxy in front of gunicorn) of a pod spec."""
    (front,) = [c for c in spec["containers"] if c["name"] == "front"]
    return front


def env_values(container):
    """A container's environment as {name: value}; a variable set from elsewhere (valueFrom) is None."""
    return {e["name"]: e.get("value") for e in container["env"]}


def prometheus_release():
    """The Prometheus release of the pinned module version: v0.3xx.y is 3.xx.y (hack/tools/install-tools.sh)."""
    _, minor, patch = pins()["PROMETHEUS_VERSION"].split(".")
    return f"{int(minor) // 100}.{int(minor) % 100}.{patch}"


CI_VALUES = sorted((CHART / "ci").glob("*-values.yaml"))


# The cluster's add-ons: a folder of hack/addons each (hack/addons/addon.sh runs them).
ADDONS = sorted(path.parent.name for path in (ROOT / "hack" / "addons").glob("*/addon.sh"))


def render_addon(name, airgap):
    """What hack/addons/addon.sh applies for add-on NAME, with or without AIRGAP (no cluster needed)."""
    env = {**os.environ, "AIRGAP": "1" if airgap else "0"}
    done = subprocess.run(
        [str(ROOT / "hack" / "addons" / "addon.sh"), "render", name],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout
