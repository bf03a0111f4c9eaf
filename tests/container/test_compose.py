"""compose.yaml: it validates, its defaults match the Dockerfile, and `up` serves the page."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import time
import uuid

import pytest
import yaml

from tests.support.httpclient import free_port, get

from .conftest import DOCKER, ROOT


def compose_command() -> list[str]:
    """Compose v2 as a docker plugin if this client has it, else the v1 `docker-compose`."""
    if subprocess.run([DOCKER, "compose", "version"], capture_output=True, check=False).returncode == 0:
        return [DOCKER, "compose"]
    if shutil.which("docker-compose"):
        return ["docker-compose"]
    pytest.fail("neither `docker compose` nor `docker-compose` is installed (hack/tools/docker-engine.sh installs it)")


@pytest.fixture
def compose(engine, clean_tree, image, base_image):
    """Compose in the clean copy of the tree, as its own project, on a free port."""
    project = f"flask-service-test-{uuid.uuid4().hex[:8]}"
    env = {
        **os.environ,
        "FLASK_SERVICE_IMAGE": f"flask-service:compose-{project[-8:]}",
        "FLASK_SERVICE_PORT": str(free_port()),
        "BASE_IMAGE": base_image,
        # v1 builds through the docker CLI (BuildKit); that CLI must be the engine's.
        "COMPOSE_DOCKER_CLI_BUILD": "1",
        "DOCKER_BUILDKIT": "1",
        "PATH": f"{os.path.dirname(DOCKER)}:{os.environ['PATH']}",
    }

    def run(*args: str, timeout: float = 300) -> subprocess.CompletedProcess:
        return subprocess.run(
            [*compose_command(), "-p", project, *args],
            cwd=clean_tree,
            env=env,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )

    run.env = env
    yield run
    run("--profile", "dev", "down", "--volumes", "--timeout", "30")
    subprocess.run([DOCKER, "rmi", env["FLASK_SERVICE_IMAGE"]], capture_output=True, check=False)


def test_compose_file_validates_with_both_profiles(compose):
    for args in (("config", "-q"), ("--profile", "dev", "config", "-q")):
        result = compose(*args)
        assert result.returncode == 0, result.stderr
    rendered = yaml.safe_load(compose("--profile", "dev", "config").stdout)["services"]
    web, dev = rendered["web"], rendered["dev"]
    assert web["read_only"] is True and dev["read_only"] is True
    published = [port for service in (web, dev) for port in service["ports"]]
    assert all(str(port).startswith("127.0.0.1:") or port.get("host_ip") == "127.0.0.1" for port in published)
    assert dev["environment"]["GUNICORN_RELOAD"] == "true"
    assert any(str(volume).endswith("/app/service:ro") for volume in dev["volumes"])


def test_compose_default_base_matches_dockerfile():
    dockerfile = (ROOT / "Dockerfile").read_text()
    compose_file = (ROOT / "compose.yaml").read_text()
    default = re.search(r"^ARG BASE_IMAGE=(\S+)$", dockerfile, re.MULTILINE).group(1)
    assert f"${{BASE_IMAGE:-{default}}}" in compose_file


def wait_for_page(url: str, compose, timeout: float = 30):
    deadline = time.monotonic() + timeout
    while True:
        try:
            reply = get(url, timeout=2)
            if reply.status == 200:
                return reply
        except OSError:
            pass
        assert time.monotonic() < deadline, compose("logs").stdout
        time.sleep(0.2)


def test_compose_up_builds_and_serves(compose):
    # Dependency layers come from the session build's cache, so no download (or CA) is needed.
    up = compose("up", "-d", "--build", "web", timeout=600)
    assert up.returncode == 0, up.stderr
    reply = wait_for_page(f"http://127.0.0.1:{compose.env['FLASK_SERVICE_PORT']}/", compose)
    assert "powderblue" in reply.body


def test_dev_profile_reloads_the_bind_mounted_source(compose, clean_tree):
    compose.env["FLASK_SERVICE_DEV_PORT"] = str(free_port())
    up = compose("--profile", "dev", "up", "-d", "--build", "dev", timeout=600)
    assert up.returncode == 0, up.stderr
    url = f"http://127.0.0.1:{compose.env['FLASK_SERVICE_DEV_PORT']}/"
    assert "Welcome to IFT510-Project by Swetha" in wait_for_page(url, compose).body

    # A Python change on the host (a view's colour) reaches the running server without a restart.
    pages = clean_tree / "service" / "pages.py"
    original = pages.read_text()
    assert '"powderblue"' in original
    try:
        pages.write_text(original.replace('"powderblue"', '"lightgreen"', 1))
        deadline = time.monotonic() + 15  # a reload takes about a second
        while "lightgreen" not in wait_for_page(url, compose).body:
            assert time.monotonic() < deadline, compose("logs").stdout
            time.sleep(0.5)
    finally:
        pages.write_text(original)
