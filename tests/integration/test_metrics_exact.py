"""Counts in /metrics are exact across several gunicorn workers, and survive a worker's death."""

import os
import signal
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.support.httpclient import get, route_count

WORKERS = 3


def hit(url: str, n: int) -> None:
    with ThreadPoolExecutor(8) as pool:
        statuses = list(pool.map(lambda _: get(url).status, range(n)))
    assert statuses == [200] * n


# Each live worker counts itself once, right after its fork.
ALL_LIVE = f"\nflask_service_workers {float(WORKERS)}\n"


@pytest.fixture
def multi(start_server):
    # Sync workers: one request per process at a time, so load spreads over every worker.
    server = start_server({"WEB_CONCURRENCY": str(WORKERS), "GUNICORN_THREADS": "1"})
    # Ready means one worker answers; the arbiter forks the others a little later (a CI run saw the first
    # worker serve 200 requests before the third booted).
    deadline = time.monotonic() + 20
    while ALL_LIVE not in get(server.url + "/metrics").body:
        if time.monotonic() > deadline:
            pytest.fail(f"not all {WORKERS} workers booted: {server.workers()}\n{server.logs()}")
        time.sleep(0.1)
    return server


def test_counts_are_exact_across_workers(multi):
    hit(multi.url + "/", 300)
    hit(multi.url + "/next", 120)
    text = get(multi.url + "/metrics").body
    assert route_count(text, "/") == 300
    assert route_count(text, "/next") == 120
    assert ALL_LIVE in text
    # The count is a sum over processes: more than one worker wrote to the metrics directory.
    writers = {p.name.rsplit("_", 1)[1] for p in multi.metrics_dir.glob("histogram_*.db")}
    assert len(writers) >= 2, writers


def test_counts_survive_a_killed_worker(multi):
    hit(multi.url + "/", 200)
    before = multi.workers()
    assert len(before) == WORKERS
    victim = sorted(before)[0]
    os.kill(victim, signal.SIGKILL)

    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        now = multi.workers()
        if len(now) == WORKERS and victim not in now:
            break
        time.sleep(0.1)
    else:
        pytest.fail(f"gunicorn did not replace worker {victim}: {multi.workers()}")

    assert route_count(get(multi.url + "/metrics").body, "/") == 200
    hit(multi.url + "/", 50)
    text = get(multi.url + "/metrics").body
    assert route_count(text, "/") == 250
    # The dead worker left the live count, its replacement joined it.
    assert ALL_LIVE in text


def test_metrics_dir_is_wiped_at_start(start_server, tmp_path):
    first = start_server()
    hit(first.url + "/", 20)
    assert first.stop() == 0
    second = start_server({"PROMETHEUS_MULTIPROC_DIR": str(first.metrics_dir)})
    assert route_count(get(second.url + "/metrics").body, "/") == 0


def test_app_info_and_name_filter(server):
    hit(server.url + "/", 5)
    response = get(server.url + "/metrics?name[]=flask_service_app_info&name[]=flask_http_request_total")
    assert response.status == 200
    assert 'flask_service_app_info{version="' in response.body
    assert 'flask_http_request_total{method="GET",status="200"} 5.0' in response.body
    assert "flask_http_request_duration_seconds" not in response.body
    # A repeated or unknown name is not an error either.
    assert get(server.url + "/metrics?name[]=nope&name[]=nope").status == 200


def test_scrape_while_a_worker_creates_its_file(server):
    hit(server.url + "/", 5)
    # A worker's first count creates its file with open() and sizes it after: a scrape can see it empty.
    (server.metrics_dir / "counter_0.db").touch()
    response = get(server.url + "/metrics")
    assert response.status == 200, response.body[:300]
    assert route_count(response.body, "/") == 5
