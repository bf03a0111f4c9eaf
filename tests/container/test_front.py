"""The front (front/haproxy.cfg) and gunicorn as the chart runs them: two containers of the image that share
one network namespace, gunicorn on 8080, the front on 5000.

A gunicorn worker killed with SIGKILL under a GET takes the request's connection with it; the front resends
the request and the client gets its answer. The same kill straight at gunicorn loses it (the control: it shows
what the front is there for). A front that gets SIGTERM answers the request in flight, answers the next
request of a kept-alive connection with "Connection: close", and exits 0.
"""

from __future__ import annotations

import http.client
import json
import threading
import time
import uuid

import pytest

from tests.support.httpclient import free_port, get
from tests.support.processes import GUNICORN_PROCESSES, parse_processes, workers

from .conftest import HARDENED, LABEL, docker

DELAY = 3  # seconds the request under the kill takes (the fault route /delay/<seconds>)
UPSTREAM_PORT = 8080


@pytest.fixture
def pod(run_container, image):
    """gunicorn with one worker (so the kill finds the request), and the front in its network namespace.
    Returns (the gunicorn container, the front's id, gunicorn's own port on the host)."""
    upstream = free_port()
    # Without Docker's HEALTHCHECK, as in Kubernetes.
    app = run_container(
        *HARDENED,
        "--no-healthcheck",
        "-p",
        f"127.0.0.1:{upstream}:{UPSTREAM_PORT}",
        "-e",
        f"PORT={UPSTREAM_PORT}",
        "-e",
        "WEB_CONCURRENCY=1",
        "-e",
        "FAULTS_ENABLED=true",
        "-e",
        "PROXY_PROTOCOL=true",
    )
    front = docker(
        "run",
        "-d",
        "--name",
        f"flask-service-test-front-{uuid.uuid4().hex[:8]}",
        "--label",
        LABEL,
        "--network",
        f"container:{app.id}",
        *HARDENED,
        "--no-healthcheck",
        "--entrypoint",
        "/app/front/start.sh",
        image,
    ).stdout.strip()
    try:
        app.wait_ready()  # its published port 5000 is the front's
        yield app, front, upstream
    finally:
        docker("rm", "-f", front, check=False)


def worker_pids(container_id: str) -> set[int]:
    out = docker("exec", container_id, "/opt/venv/bin/python", "-c", GUNICORN_PROCESSES).stdout
    return workers(parse_processes(out))


def kill_worker_under_a_request(app, url: str) -> tuple[list, int]:
    """GET /delay/DELAY on `url`, SIGKILL the one worker while it serves it; (what the client got, the pid)."""
    (victim,) = worker_pids(app.id)
    got: list = []

    def client():
        try:
            got.append(get(f"{url}/delay/{DELAY}", timeout=DELAY + 15))
        except OSError as error:
            got.append(error)

    thread = threading.Thread(target=client)
    thread.start()
    time.sleep(1)  # the request is being served: it sleeps DELAY seconds in the worker
    assert not got, f"answered before the kill: {got}"
    docker("exec", app.id, "/opt/venv/bin/python", "-c", f"import os; os.kill({victim}, 9)")
    thread.join(DELAY + 20)
    return got, victim


def front_log_lines(front: str) -> list[dict]:
    out = docker("logs", front, check=False)
    return [json.loads(line) for line in (out.stdout + out.stderr).splitlines() if line.startswith("{")]


def test_a_worker_killed_under_a_get_loses_nothing_through_the_front(pod):
    app, front, _ = pod
    got, victim = kill_worker_under_a_request(app, app.url)
    assert len(got) == 1 and not isinstance(got[0], Exception), f"the request failed: {got}\n{app.logs()}"
    assert got[0].status == 200 and json.loads(got[0].body) == {"delay": float(DELAY)}
    assert victim not in worker_pids(app.id), "the worker was not killed"
    # The front says it resent it (and logs nothing for requests answered the first time). Another request
    # that the worker held when it died (a CI run saw a /readyz, which only the fixture's wait sends) is resent too.
    resent = [line["http"] for line in front_log_lines(front)]
    delayed = [line for line in resent if line["path"] == f"/delay/{DELAY}"]
    assert len(delayed) == 1 and delayed[0]["retries"] >= 1, resent
    assert all(line["status"] == 200 and line["retries"] >= 1 for line in resent), resent


def test_the_same_kill_straight_at_gunicorn_loses_the_request(pod):
    app, _, upstream = pod
    got, _ = kill_worker_under_a_request(app, f"http://127.0.0.1:{upstream}")
    assert len(got) == 1 and isinstance(got[0], (http.client.RemoteDisconnected, ConnectionError)), got


def test_a_stopped_front_drains_kept_alive_connections_and_exits_zero(pod):
    app, front, _ = pod
    kept = http.client.HTTPConnection("127.0.0.1", app.port, timeout=10)
    kept.request("GET", "/")
    first = kept.getresponse()
    first.read()
    assert first.status == 200 and first.getheader("Connection") != "close"

    in_flight: list = []
    thread = threading.Thread(target=lambda: in_flight.append(get(f"{app.url}/delay/2", timeout=15)))
    thread.start()
    time.sleep(0.5)
    docker("kill", "--signal", "TERM", front)
    time.sleep(0.5)
    # The kept-alive connection's next request is answered, and told that the connection closes.
    kept.request("GET", "/")
    last = kept.getresponse()
    last.read()
    assert last.status == 200 and last.getheader("Connection") == "close"
    thread.join(15)
    assert in_flight and in_flight[0].status == 200, in_flight
    # New connections are no longer taken.
    with pytest.raises(OSError):
        get(app.url + "/", timeout=2)
    deadline = time.monotonic() + 15
    while docker("inspect", "-f", "{{.State.Running}}", front).stdout.strip() == "true":
        assert time.monotonic() < deadline, "the front did not exit within its drain"
        time.sleep(0.2)
    assert docker("inspect", "-f", "{{.State.ExitCode}}", front).stdout.strip() == "0"
