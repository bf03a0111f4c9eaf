"""Session fixtures of the e2e tier: a reachable kind cluster with the release rolled out.

The release is deployed with `skaffold run` when it is not installed yet (`make up` normally did
it; SKAFFOLD_PROFILE=offline and friends are honoured by skaffold itself). The tier runs on the
developer's own cluster and leaves it as it found it: every test gives back what it changed, the
release stays installed and the cluster stays up (`make down` deletes it). The session proves it:
`make up`'s port-forward (hack/cluster/port-forward.sh) runs through the whole session and must still serve
the welcome page at its end, after every rollout, drain and pod deletion the tests made.
"""

from __future__ import annotations

import json
import subprocess
import time

import pytest
from kubernetes import client

from tests.support.httpclient import free_port, get

from .kube import (
    CONTEXT,
    NAMESPACE,
    RELEASE,
    ROOT,
    SERVICE,
    SERVICE_PORT,
    api_client,
    helm,
    kept_revision,
    run,
    tool_env,
    wait_namespaces_gone,
    wait_rollout,
)

SKAFFOLD_TIMEOUT = 1800  # a cold image build on 2 cores plus the deploy
# Seconds `make up`'s port-forward may take to serve again at the session's end: it moves to another pod
# as soon as its pod starts to terminate, its port closed for about 0.6 s meanwhile.
PORT_FORWARD_BACK = 5


def release_installed() -> bool:
    proc = helm("status", RELEASE, "-o", "json", check=False, timeout=60)
    return proc.returncode == 0 and json.loads(proc.stdout)["info"]["status"] == "deployed"


@pytest.fixture(scope="session")
def api():
    try:
        api = api_client()
        version = client.VersionApi(api).get_code()
    except Exception as error:
        pytest.fail(f"kube context {CONTEXT} is not reachable ({error!r}); create the cluster first (make up)")
    print(f"e2e: {CONTEXT} runs Kubernetes {version.git_version}")
    yield api
    api.close()


@pytest.fixture(scope="session")
def release(api):
    """The installed, rolled-out release; it stays installed after the session."""
    if not release_installed():
        run(
            "skaffold", "run",
            "--kube-context", CONTEXT, "--namespace", NAMESPACE,
            "--port-forward=off", "--update-check=false", "--interactive=false",
            timeout=SKAFFOLD_TIMEOUT,
        )  # fmt: skip
    assert release_installed(), f"release {RELEASE} is not deployed after skaffold run"
    wait_rollout(client.AppsV1Api(api))
    yield RELEASE
    wait_namespaces_gone()


@pytest.fixture(scope="session", autouse=True)
def dev_port_forward(release):
    """`make up`'s port-forward, running from the first e2e test to the last: it still serves at the end."""
    port = free_port()
    cmd = [
        str(ROOT / "hack" / "cluster" / "port-forward.sh"),
        CONTEXT,
        NAMESPACE,
        f"svc/{SERVICE}",
        f"{port}:{SERVICE_PORT}",
    ]
    proc = subprocess.Popen(cmd, env=tool_env(), cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        yield port
        deadline = time.monotonic() + PORT_FORWARD_BACK
        while True:
            try:
                reply = get(f"http://127.0.0.1:{port}/", timeout=5)
            except OSError as error:
                reply = error
            if getattr(reply, "status", None) == 200 or time.monotonic() > deadline:
                break
            time.sleep(1)
        assert getattr(reply, "status", None) == 200, f"make up's port-forward no longer serves: {reply!r}"
        assert proc.poll() is None, f"hack/cluster/port-forward.sh exited {proc.returncode}"
    finally:
        proc.terminate()
        proc.wait(timeout=30)


@pytest.fixture(scope="session")
def core(api) -> client.CoreV1Api:
    return client.CoreV1Api(api)


@pytest.fixture(scope="session")
def apps(api) -> client.AppsV1Api:
    return client.AppsV1Api(api)


@pytest.fixture(scope="session")
def discovery(api) -> client.DiscoveryV1Api:
    return client.DiscoveryV1Api(api)


@pytest.fixture
def restore_release(release, apps):
    """Tests that upgrade the release get it back at its current revision and rolled out afterwards."""
    with kept_revision(apps):
        yield
