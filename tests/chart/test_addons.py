"""The add-ons' one lifecycle (hack/addons/addon.sh) runs each add-on as a cluster would.

With AIRGAP=1 every image is one built here and pushed to the local registry; with registry access
every image is upstream's published one and nothing is built. No cluster is needed to render them; the
e2e tier runs them on the kind cluster.
"""

import os
import subprocess

import pytest

from tests.chart.chartlib import ADDONS, ROOT, render_addon

ADDON = ROOT / "hack" / "addons" / "addon.sh"
REGISTRY = "localhost:5001/"


def images(rendered):
    return {line.split("image:", 1)[1].strip().strip('"') for line in rendered.splitlines() if "image:" in line}


def test_the_addons_are_the_clusters():
    # A new add-on is a folder; these are the ones hack/cluster/cluster.sh brings up.
    assert ADDONS == [
        "jaeger",
        "kube-router",
        "kube-state-metrics",
        "kyverno",
        "metrics-server",
        "otel-collector",
        "prometheus",
        "traefik",
    ]


@pytest.mark.parametrize("addon", ADDONS)
def test_airgapped_addons_run_only_local_images(addon):
    rendered = render_addon(addon, airgap=True)
    assert not [
        line for line in rendered.splitlines() if "@image:" in line or "@tag:" in line or "@config-hash@" in line
    ]
    found = images(rendered)
    assert found, f"{addon} renders no image"
    assert all(ref.startswith(REGISTRY) for ref in found), found


@pytest.mark.parametrize("addon", ADDONS)
def test_with_registry_access_addons_run_published_images(addon):
    found = images(render_addon(addon, airgap=False))
    assert found
    assert not [ref for ref in found if ref.startswith(REGISTRY)], found
    # An exact version, never a moving tag.
    assert all(":" in ref.rsplit("/", 1)[-1] and not ref.endswith(":latest") for ref in found), found


@pytest.mark.parametrize("airgap", [False, True])
def test_only_the_airgapped_path_builds(tmp_path, airgap):
    # `up` against a kubectl that records its calls and answers nothing, so the add-on is not current:
    # AIRGAP=1 goes through hack/tools/install-tools.sh (which reports what it installed) before it
    # applies; with registry access it goes straight to applying.
    calls = tmp_path / "calls"
    kubectl = tmp_path / "kubectl"
    kubectl.write_text(f'#!/bin/sh\necho "$*" >>{calls}\nexit 1\n')
    kubectl.chmod(0o755)
    env = {**os.environ, "AIRGAP": "1" if airgap else "0", "KUBECTL": str(kubectl)}
    done = subprocess.run([str(ADDON), "up", "metrics-server"], env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode != 0
    built = "tools in .tools/bin: metrics-server" in done.stderr
    applied = any("create namespace kube-system" in line for line in calls.read_text().splitlines())
    assert built == airgap, done.stderr
    if not airgap:
        assert applied, calls.read_text()


def test_an_unknown_addon_is_refused():
    done = subprocess.run([str(ADDON), "up", "no-such-addon"], capture_output=True, text=True)
    assert done.returncode != 0 and "a folder of hack/addons" in done.stderr
