"""A real Docker engine: the image is built once per session from a clean copy of the tree.

Needs a running engine (`hack/tools/docker-engine.sh start`). Without a registry the base is the
local Debian image from hack/images/base-image.sh; set BASE_IMAGE to build FROM something else
(e.g. the Dockerfile's default, where a registry is reachable). EXTRA_CA_FILE, when set,
is passed as the `extra_ca` build secret (TLS-intercepting proxies).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.support.httpclient import free_port, get

ROOT = Path(__file__).resolve().parents[2]
# The 20.10 client that matches the engine; a newer docker first on PATH may lack BuildKit.
DOCKER = os.environ.get("DOCKER", "/usr/bin/docker")
IMAGE = "flask-service:container-test"
# Every container a test starts carries this label, so a crashed session can be cleaned up.
LABEL = "flask-service.test=container"
SOURCE_URL = "https://example.invalid/flask-service"


def docker(*args: str, check: bool = True, timeout: float = 120, **kwargs) -> subprocess.CompletedProcess:
    result = subprocess.run([DOCKER, *args], capture_output=True, text=True, timeout=timeout, check=False, **kwargs)
    if check and result.returncode != 0:
        raise AssertionError(f"docker {' '.join(args)} failed ({result.returncode}):\n{result.stderr}")
    return result


def project_version() -> str:
    text = (ROOT / "service" / "version.py").read_text()
    return re.search(r'^VERSION = "([^"]+)"', text, re.MULTILINE).group(1)


def git_revision() -> str:
    return subprocess.run(
        ["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.strip()


@pytest.fixture(scope="session")
def engine() -> str:
    if not Path(DOCKER).exists() or docker("info", check=False, timeout=30).returncode != 0:
        pytest.fail(f"no Docker engine answering through {DOCKER}: run `hack/tools/docker-engine.sh start` (as root)")
    return DOCKER


@pytest.fixture(scope="session")
def base_image(engine) -> str:
    if os.environ.get("BASE_IMAGE"):
        return os.environ["BASE_IMAGE"]
    made = subprocess.run(
        [str(ROOT / "hack" / "images" / "base-image.sh")], capture_output=True, text=True, timeout=900, check=False
    )
    assert made.returncode == 0, f"hack/images/base-image.sh failed:\n{made.stderr}"
    return made.stdout.strip().splitlines()[-1]


@pytest.fixture(scope="session")
def clean_tree(tmp_path_factory) -> Path:
    """The files git would check out (tracked, plus new ones not ignored), nothing else.

    Building from this copy proves the image needs no local venv, cache or tool download.
    """
    listed = (
        subprocess.run(
            ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
            cwd=ROOT,
            capture_output=True,
            check=True,
        )
        .stdout.decode()
        .split("\0")
    )
    tree = tmp_path_factory.mktemp("checkout")
    for name in filter(None, listed):
        source = ROOT / name
        if source.is_file():
            (tree / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, tree / name)
    return tree


@dataclass
class Build:
    image: str
    seconds: float
    output: str


def build_image(context: Path, base_image: str, tag: str = IMAGE) -> Build:
    build_args = {
        "BASE_IMAGE": base_image,
        "VERSION": project_version(),
        "REVISION": git_revision(),
        "SOURCE_URL": SOURCE_URL,
    }
    args = ["build", "--progress=plain", "-t", tag]
    for name, value in build_args.items():
        args += ["--build-arg", f"{name}={value}"]
    if os.environ.get("EXTRA_CA_FILE"):
        args += ["--secret", f"id=extra_ca,src={os.environ['EXTRA_CA_FILE']}"]
    started = time.monotonic()
    result = docker(*args, str(context), check=False, timeout=900, env={**os.environ, "DOCKER_BUILDKIT": "1"})
    seconds = time.monotonic() - started
    assert result.returncode == 0, f"docker build failed:\n{result.stderr[-4000:]}"
    return Build(tag, seconds, result.stderr)


@pytest.fixture(scope="session")
def built(engine, base_image, clean_tree) -> Build:
    return build_image(clean_tree, base_image)


@pytest.fixture(scope="session")
def image(built) -> str:
    return built.image


def inspect(obj: str) -> dict:
    return json.loads(docker("inspect", obj).stdout)[0]


@dataclass
class Container:
    id: str
    port: int
    started: float
    url: str = field(init=False)

    def __post_init__(self):
        self.url = f"http://127.0.0.1:{self.port}"

    def logs(self) -> str:
        result = docker("logs", self.id, check=False)
        return result.stdout + result.stderr

    def state(self) -> dict:
        return inspect(self.id)["State"]

    def wait_ready(self, timeout: float = 30) -> float:
        """Seconds from `docker run` to the first 200 on /readyz."""
        deadline = time.monotonic() + timeout
        last: object = None
        while time.monotonic() < deadline:
            try:
                last = get(self.url + "/readyz", timeout=1).status
                if last == 200:
                    return time.monotonic() - self.started
            except OSError as error:
                last = error
            if not self.state()["Running"]:
                pytest.fail(f"container exited:\n{self.logs()}")
            time.sleep(0.05)
        pytest.fail(f"not ready after {timeout}s (last: {last!r}):\n{self.logs()}")


# The production posture, as in compose.yaml and the chart.
HARDENED = ("--read-only", "--tmpfs", "/tmp", "--cap-drop", "ALL", "--security-opt", "no-new-privileges:true")


@pytest.fixture
def run_container(image):
    started: list[str] = []

    def run(*options: str, command: tuple[str, ...] = (), image_ref: str = image) -> Container:
        port = free_port()
        name = f"flask-service-test-{uuid.uuid4().hex[:8]}"
        begin = time.monotonic()
        container_id = docker(
            "run",
            "-d",
            "--name",
            name,
            "--label",
            LABEL,
            "-p",
            f"127.0.0.1:{port}:5000",
            *options,
            image_ref,
            *command,
        ).stdout.strip()
        started.append(container_id)
        return Container(container_id, port, begin)

    yield run
    for container_id in started:
        docker("rm", "-f", "-v", container_id, check=False)


def remove_labelled() -> None:
    leftovers = docker("ps", "-aq", "--filter", f"label={LABEL}", check=False).stdout.split()
    if leftovers:
        docker("rm", "-f", "-v", *leftovers, check=False)


@pytest.fixture(scope="session", autouse=True)
def _remove_leftovers(engine):
    """Before: containers of an interrupted session would hold ports. After: leave nothing."""
    remove_labelled()
    yield
    remove_labelled()
