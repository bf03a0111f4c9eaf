"""The README's by-hand installs after `make up`, each in a namespace and under a release name of its
own: `helm install` of chart/ with default values, `kubectl apply -k k8s/`, and `helm install` of the
chart published to the local registry (oci://). Each must serve `/` and `/next` through `kubectl
port-forward` with no other step: the image they name is pulled by the nodes from the local registry.
"""

from __future__ import annotations

import json
import re
import shlex
import uuid

import pytest

from service.version import VERSION
from tests.support.httpclient import free_port, get

from .kube import CONTEXT, INSTALL_TIMEOUT, ROOT, fresh_namespace, helm_in, kubectl_in, kubectl_port_forward, run

REGISTRY = "localhost:5001"


@pytest.fixture(scope="module")
def published(release):
    """What `make up` does before Skaffold: the working tree published to the local registry."""
    run("make", "--no-print-directory", "publish", "PUBLISH_ARGS=--snapshot", timeout=1200)


@pytest.fixture
def namespace(published):
    with fresh_namespace("by-hand") as name:
        yield name


def readme_commands() -> dict[str, list[str]]:
    """The install commands of the README's "By hand" block, by their first two words."""
    block = re.search(r"^## By hand.*?```sh\n(.*?)```", (ROOT / "README.md").read_text(), re.MULTILINE | re.DOTALL)
    commands = [shlex.split(line, comments=True) for line in block.group(1).splitlines()]
    return {" ".join(c[:2]): c for c in commands if c}


BY_HAND = readme_commands()


def release_name() -> str:
    return f"web-{uuid.uuid4().hex[:6]}"


def as_typed(command: str, namespace: str, release: str | None = None) -> list[str]:
    """The README's command, in the test's namespace and kube context, under another release name."""
    args = list(BY_HAND[command])
    if release:
        args[args.index("flask-service")] = release  # helm's first positional argument after the verb
    context = "--kube-context" if args[0] == "helm" else "--context"
    return [*args, context, CONTEXT, "--namespace", namespace]


def assert_serves_pages(namespace: str, service: str) -> None:
    port = free_port()
    with kubectl_port_forward(f"svc/{service}", port, namespace=namespace):
        welcome = get(f"http://127.0.0.1:{port}/")
        assert welcome.status == 200 and "powderblue" in welcome.body
        following = get(f"http://127.0.0.1:{port}/next")
        assert following.status == 200 and "tomato" in following.body


def app_images(namespace: str) -> set[str]:
    pods = kubectl_in(
        namespace, "get", "pods", "-l", "app.kubernetes.io/name=flask-service", "-o", "json", timeout=INSTALL_TIMEOUT
    ).stdout
    pods = json.loads(pods)
    return {c["image"] for p in pods["items"] for c in p["spec"]["containers"]}


def test_helm_install_of_the_chart_directory(namespace):
    release = release_name()
    run(*as_typed("helm upgrade", namespace, release), timeout=INSTALL_TIMEOUT)
    assert app_images(namespace) == {f"{REGISTRY}/flask-service:{VERSION}"}
    assert_serves_pages(namespace, f"{release}-flask-service")
    helm_in(namespace, "uninstall", release, "--wait")


def test_kubectl_apply_of_the_plain_manifests(namespace):
    run(*as_typed("kubectl apply", namespace), timeout=INSTALL_TIMEOUT)
    kubectl_in(namespace, "rollout", "status", "deployment/flask-service", "--timeout=240s", timeout=INSTALL_TIMEOUT)
    assert app_images(namespace) == {f"{REGISTRY}/flask-service:{VERSION}"}
    assert_serves_pages(namespace, "flask-service")
    kubectl_in(namespace, "delete", "-k", "k8s/", "--wait=true", timeout=INSTALL_TIMEOUT)


def test_helm_install_of_the_published_chart(namespace):
    release = release_name()
    command = as_typed("helm install", namespace, release)
    assert command[command.index("--version") + 1] == VERSION, "the README names another version than the service's"
    run(*command, timeout=INSTALL_TIMEOUT)
    images = app_images(namespace)
    assert len(images) == 1 and next(iter(images)).startswith(f"{REGISTRY}/flask-service@sha256:"), images
    assert_serves_pages(namespace, f"{release}-flask-service")
    helm_in(namespace, "uninstall", release, "--wait")
