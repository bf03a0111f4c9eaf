"""hack/tools/install-tools.sh uses a developer's own tool when it is the pinned version: nothing is built again.

In the chart tier because it needs what that tier already has: the pinned tools, built.
"""

import os
import shutil
import subprocess

from tests.chart.chartlib import ROOT, find_tool


def path_with(own) -> str:
    """`own` first, then the caller's PATH without the project's own tools."""
    project = str(ROOT / ".tools" / "bin")
    return os.pathsep.join([str(own), *(d for d in os.environ["PATH"].split(os.pathsep) if d != project)])


def install(tools_bin, own, *names: str) -> str:
    env = os.environ | {"TOOLS_BIN": str(tools_bin), "PATH": path_with(own)}
    proc = subprocess.run(
        [str(ROOT / "hack" / "tools" / "install-tools.sh"), *names],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    return proc.stdout + proc.stderr


def test_a_pinned_tool_on_path_is_used_not_built(tmp_path):
    own = tmp_path / "own"
    own.mkdir()
    for name in ("helm", "kind"):
        shutil.copy(find_tool(name), own / name)
    tools_bin = tmp_path / "bin"
    tools_bin.mkdir()
    out = install(tools_bin, own, "helm", "kind")
    for name in ("helm", "kind"):
        assert f"(on PATH: {own / name})" in out, out
        assert (tools_bin / name).resolve() == own / name
    assert "building" not in out, out


def test_another_version_on_path_is_not_used(tmp_path):
    own = tmp_path / "own"
    own.mkdir()
    fake = own / "kind"
    fake.write_text("#!/bin/sh\necho 'kind v0.1.0 go1.20 linux/amd64'\n")
    fake.chmod(0o755)
    tools_bin = tmp_path / "bin"
    tools_bin.mkdir()
    out = install(tools_bin, own, "kind")
    assert "on PATH" not in out, out
    assert (tools_bin / "kind").resolve() != fake
