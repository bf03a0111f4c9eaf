"""What is inside the image, and what its configuration promises."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import uuid
from pathlib import Path

import yaml

from .conftest import ROOT, SOURCE_URL, build_image, docker, git_revision, inspect, project_version

UID = GID = "10001"


def run_in(image: str, script: str) -> subprocess.CompletedProcess:
    """A shell script in a throw-away container of the image (read-only, no network)."""
    return docker(
        "run", "--rm", "--read-only", "--network", "none", "--entrypoint", "/bin/sh", image, "-c", script, check=False
    )


def test_runs_as_fixed_non_root_user(image):
    assert inspect(image)["Config"]["User"] == f"{UID}:{GID}"
    ids = docker("run", "--rm", "--entrypoint", "id", image).stdout.split()
    assert ids[0].startswith(f"uid={UID}(") and ids[1].startswith(f"gid={GID}("), ids


def test_config_entrypoint_port_healthcheck_labels(image):
    config = inspect(image)["Config"]
    # Exec form: gunicorn's arbiter is PID 1 and gets SIGTERM directly.
    assert config["Entrypoint"] == ["/opt/venv/bin/python", "-m", "service"]
    assert not config["Cmd"]
    assert set(config["ExposedPorts"]) == {"5000/tcp"}
    assert config["Healthcheck"]["Test"][0] == "CMD"  # no shell needed
    assert "/readyz" in " ".join(config["Healthcheck"]["Test"])
    assert "PROMETHEUS_MULTIPROC_DIR=/tmp/metrics" in config["Env"]
    labels = config["Labels"]
    assert labels["org.opencontainers.image.version"] == project_version()
    assert labels["org.opencontainers.image.revision"] == git_revision()
    assert labels["org.opencontainers.image.source"] == SOURCE_URL


def test_no_compiler_no_pip_no_caches_no_tests(image):
    result = run_in(
        image,
        # Each line prints something only when the image holds what it must not.
        """
        for tool in gcc cc c++ g++ clang make ld as; do command -v "$tool"; done
        ls /opt/venv/bin | grep -E '^(pip|easy_install)'
        /opt/venv/bin/python -c 'import pip' 2>/dev/null && echo 'pip importable from the venv'
        find / -xdev \\( -path '*/.cache/pip' -o -name 'http-v2' \\) -print 2>/dev/null
        ls -A /app | grep -vxE 'service|front'
        find / -xdev \\( -name '.git' -o -name 'requirements*.lock' -o -name 'conftest.py' \\) -print 2>/dev/null
        true
        """,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "", f"unexpected content in the image:\n{result.stdout}"


def test_app_code_is_compiled_and_not_writable_by_the_app_user(image):
    result = run_in(
        image,
        "test -n \"$(find /app/service -name '*.pyc' | head -n 1)\" && echo compiled;"
        " touch /app/service/x 2>/dev/null || echo not-writable",
    )
    assert result.stdout.split() == ["compiled", "not-writable"], result.stdout + result.stderr


def test_runtime_stage_is_small_above_its_base(image, base_image):
    # Venv plus app; a build toolchain or a pip cache would be tens of megabytes.
    above = inspect(image)["Size"] - inspect(base_image)["Size"]
    assert 0 < above < 40 * 1024 * 1024, f"{above / 1e6:.1f} MB above the base"


def test_hadolint_passes_with_no_ignored_rules():
    hadolint = shutil.which("hadolint", path=str(Path(sys.executable).parent)) or shutil.which("hadolint")
    assert hadolint, "hadolint not installed (it is in the dev lock: make venv)"
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert "hadolint ignore" not in dockerfile
    for config in (".hadolint.yaml", ".hadolint.yml"):
        assert not (ROOT / config).exists() or not yaml.safe_load((ROOT / config).read_text()).get("ignored")
    result = subprocess.run([hadolint, "Dockerfile"], cwd=ROOT, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr


def test_dockerfile_default_base_is_pinned_by_digest():
    default = re.search(r"^ARG BASE_IMAGE=(\S+)$", (ROOT / "Dockerfile").read_text(), re.MULTILINE).group(1)
    assert re.fullmatch(r"python:[\w.-]+-slim-bookworm@sha256:[0-9a-f]{64}", default), default


def rerun_steps(build_output: str) -> list[str]:
    """Instructions BuildKit executed rather than took from its cache (FROM lines excluded)."""
    titles: dict[str, str] = {}
    cached: set[str] = set()
    for line in build_output.splitlines():
        if step := re.match(r"#(\d+) \[\S+ \d+/\d+\] (.*)$", line):
            titles[step[1]] = step[2]
        elif hit := re.fullmatch(r"#(\d+) CACHED", line):
            cached.add(hit[1])
    return sorted(cmd for n, cmd in titles.items() if n not in cached and not cmd.startswith("FROM "))


def test_code_change_rebuilds_only_the_code_layers(built, base_image, clean_tree, tmp_path):
    tree = tmp_path / "tree"
    shutil.copytree(clean_tree, tree)
    with (tree / "service" / "version.py").open("a") as source:
        # Unique, or BuildKit would find this very change in its cache from an earlier run.
        source.write(f"# a code-only change {uuid.uuid4().hex}\n")
    rebuild = build_image(tree, base_image, tag="flask-service:container-test-rebuild")
    try:
        # Only the application copy and its bytecode compilation run again; the venv is reused.
        assert rerun_steps(rebuild.output) == [
            "COPY service/ /app/service/",
            "RUN /opt/venv/bin/python -m compileall -q /app/service",
        ], rebuild.output
    finally:
        docker("rmi", rebuild.image, check=False)


def test_dockerignore_sends_only_the_lock_the_service_and_the_front(engine, clean_tree, tmp_path):
    context = tmp_path / "context"
    shutil.copytree(clean_tree, context)
    # What a developer's tree also holds: none of it may reach the builder.
    for junk in (
        ".git/HEAD",
        ".venv/bin/python",
        ".pytest_cache/v",
        "service/__pycache__/x.cpython-311.pyc",
        "service/stray.pyc",
        ".tools/bin/kind",
        ".env",
    ):
        (context / junk).parent.mkdir(parents=True, exist_ok=True)
        (context / junk).write_text("junk")
    exported = tmp_path / "exported"
    # Export the build context as the builder sees it (BuildKit local output, no base image needed).
    docker(
        "build",
        "-f",
        "-",
        "--output",
        f"type=local,dest={exported}",
        str(context),
        input="FROM scratch\nCOPY . /\n",
        env={**os.environ, "DOCKER_BUILDKIT": "1"},
    )
    sent = {path.relative_to(exported).as_posix() for path in exported.rglob("*") if path.is_file()}
    assert "requirements.lock" in sent and "service/__init__.py" in sent and "service/templates/page.html" in sent
    assert sent == {"requirements.lock"} | {
        path.relative_to(clean_tree).as_posix()
        for folder in ("service", "front")
        for path in (clean_tree / folder).rglob("*")
        if path.is_file()
    }
