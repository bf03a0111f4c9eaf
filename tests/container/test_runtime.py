"""The image running as in production: read-only root, tmpfs /tmp, no capabilities."""

from __future__ import annotations

import threading
import time

from tests.support.httpclient import get, route_count

from .conftest import HARDENED, ROOT, docker, inspect


def test_read_only_container_serves_pages_health_and_exact_metrics(run_container):
    container = run_container(*HARDENED)
    container.wait_ready()

    config = inspect(container.id)["HostConfig"]
    assert config["ReadonlyRootfs"] is True
    # Nothing outside the tmpfs mounts is writable, for the app user or anyone it could become.
    probe = docker(
        "exec",
        container.id,
        "sh",
        "-c",
        "touch /app/x /opt/venv/x /x 2>/dev/null && echo writable; touch /tmp/x && echo tmp-ok",
    )
    assert probe.stdout.split() == ["tmp-ok"]
    status = docker("exec", container.id, "cat", "/proc/1/status").stdout
    assert "\nUid:\t10001\t10001\t10001\t10001\n" in status

    home = get(container.url + "/")
    assert home.status == 200 and "powderblue" in home.body
    assert "Welcome to IFT510-Project by Swetha" in home.body
    page = get(container.url + "/next")
    assert page.status == 200 and "tomato" in page.body
    assert "Publishing the docker container to GITHUB" in page.body
    assert get(container.url + "/livez").status == 200
    assert get(container.url + "/readyz").status == 200

    # Exact counts across both workers: the multiprocess files on the /tmp tmpfs are summed.
    for _ in range(7):
        assert get(container.url + "/").status == 200
    for _ in range(3):
        assert get(container.url + "/next").status == 200
    metrics = get(container.url + "/metrics")
    assert metrics.status == 200
    assert route_count(metrics.body, "/") == 8
    assert route_count(metrics.body, "/next") == 4
    assert docker("exec", container.id, "sh", "-c", "ls /tmp/metrics/*.db | wc -l").stdout.strip() != "0"


def test_healthcheck_turns_healthy(run_container):
    # The image's own check command; only the interval is shortened for the test.
    container = run_container(*HARDENED, "--health-interval", "1s", "--health-start-period", "1s")
    container.wait_ready()
    deadline = time.monotonic() + 20
    while (status := container.state()["Health"]["Status"]) != "healthy":
        assert status != "unhealthy", container.state()["Health"]
        assert time.monotonic() < deadline, container.state()["Health"]
        time.sleep(0.2)


def test_docker_stop_finishes_in_flight_request_and_exits_zero(run_container):
    # The production server with one extra slow route (tests/support/slowapp.py), mounted read-only.
    slowapp = ROOT / "tests" / "support" / "slowapp.py"
    grace = 15
    container = run_container(
        *HARDENED,
        "-v",
        f"{slowapp}:/app/slowapp.py:ro",
        "--stop-timeout",
        str(grace),
        "--entrypoint",
        "/opt/venv/bin/python",
        command=("/app/slowapp.py",),
    )
    container.wait_ready()

    replies = []
    client = threading.Thread(target=lambda: replies.append(get(container.url + "/slow?seconds=3", timeout=20)))
    client.start()
    time.sleep(0.5)  # the request is now being served
    started = time.monotonic()
    docker("stop", container.id, timeout=grace + 15)
    stopped_after = time.monotonic() - started
    client.join(20)

    assert replies and replies[0].status == 200, container.logs()
    assert '"slept"' in replies[0].body
    state = container.state()
    assert state["ExitCode"] == 0, f"exit code {state['ExitCode']} (137 = SIGKILL):\n{container.logs()}"
    assert not state["OOMKilled"]
    # It waited for the request (about 2.5 s left), and was not killed at the deadline.
    assert 1.5 < stopped_after < grace, stopped_after
