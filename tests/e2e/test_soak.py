"""Soak: minutes of steady load through `kubectl port-forward svc/flask-service`, the way the README
reaches the service. Zero errors, no container restart, and memory per pod flat: the summed RSS
(and PSS) of the gunicorn processes at the start and at the end are reported and compared.

SOAK_SECONDS (default 300) and SOAK_RPS (default 100) set the run; SOAK_REPORT names a JSON file
to write the figures to (the benchmarks use it). Bounded in requests and in time.
"""

from __future__ import annotations

import http.client
import json
import os
import threading
import time
from pathlib import Path

from tests.support.httpclient import free_port

from .kube import (
    SERVICE,
    gunicorn_processes,
    kubectl_port_forward,
    release_pods,
    restarts,
    wait_rollout,
)

SOAK_SECONDS = float(os.environ.get("SOAK_SECONDS", "300"))
SOAK_RPS = float(os.environ.get("SOAK_RPS", "100"))
CLIENTS = 4
WARMUP_SECONDS = 10  # imports, first renders and allocator arenas settle before the start figure
SAMPLE_SECONDS = 30
MAX_GROWTH = 0.10  # end memory may exceed start memory by this fraction, no more
PAGES = {"/": b"powderblue", "/next": b"tomato"}


class SteadyLoad:
    """CLIENTS keep-alive connections, each sending on a fixed schedule; errors are recorded, never raised."""

    def __init__(self, port: int, rate: float, seconds: float):
        self.port, self.seconds = port, seconds
        self.interval = CLIENTS / rate
        self.per_client = int(rate * seconds / CLIENTS)
        self.ok = 0
        self.errors: list[str] = []
        self._lock = threading.Lock()
        self._threads = [threading.Thread(target=self._client, daemon=True) for _ in range(CLIENTS)]

    def run(self) -> None:
        for t in self._threads:
            t.start()

    def join(self) -> None:
        for t in self._threads:
            t.join(timeout=self.seconds + 60)

    def _client(self) -> None:
        start = time.monotonic()
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        paths = list(PAGES)
        for i in range(self.per_client):
            delay = start + i * self.interval - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            if time.monotonic() - start > self.seconds + 30:
                break  # far behind schedule: stop rather than run on
            path = paths[i % len(paths)]
            try:
                conn.request("GET", path)
                response = conn.getresponse()
                body = response.read()
                if response.status != 200 or PAGES[path] not in body:
                    raise AssertionError(f"GET {path}: {response.status}")
            except Exception as error:  # every failure counts, with its cause; then a fresh connection
                with self._lock:
                    self.errors.append(f"{time.strftime('%X')} {error!r}"[:300])
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
                continue
            with self._lock:
                self.ok += 1
        conn.close()


def memory_mb(pod: str) -> dict[str, float]:
    processes = gunicorn_processes(pod).values()
    return {
        "rss_mb": round(sum(p["rss_kb"] for p in processes) / 1024, 1),
        "pss_mb": round(sum(p["pss_kb"] for p in processes) / 1024, 1),
        "processes": len(processes),
    }


def restart_counts(core) -> dict[str, int]:
    pods = release_pods(core)
    return {p.metadata.name: restarts(p) for p in pods}


def test_soak_through_kubectl_port_forward(release, core, apps):
    wait_rollout(apps)  # an earlier test may have left pods terminating
    pods = restart_counts(core)
    assert pods, "no pod to soak"
    port = free_port()
    samples: dict[str, list[dict]] = {pod: [] for pod in pods}
    with kubectl_port_forward(f"svc/{SERVICE}", port):
        load = SteadyLoad(port, SOAK_RPS, SOAK_SECONDS)
        started = time.monotonic()
        load.run()
        time.sleep(min(WARMUP_SECONDS, SOAK_SECONDS / 2))
        while True:
            elapsed = round(time.monotonic() - started)
            for pod in pods:
                samples[pod].append({"at_s": elapsed, **memory_mb(pod)})
            remaining = SOAK_SECONDS - (time.monotonic() - started)
            if remaining <= 1:
                break
            time.sleep(min(SAMPLE_SECONDS, remaining))
        load.join()
        elapsed = time.monotonic() - started

    report = {
        "seconds": round(elapsed, 1),
        "target_rps": SOAK_RPS,
        "requests": load.ok + len(load.errors),
        "errors": len(load.errors),
        "achieved_rps": round(load.ok / elapsed, 1),
        "pods": {
            pod: {"start": s[0], "end": s[-1], "growth": round(s[-1]["rss_mb"] / s[0]["rss_mb"] - 1, 4), "samples": s}
            for pod, s in samples.items()
        },
    }
    print("soak:", json.dumps({k: v for k, v in report.items() if k != "pods"}))
    for pod, figures in report["pods"].items():
        print(f"soak: {pod} RSS {figures['start']['rss_mb']} -> {figures['end']['rss_mb']} MB")
    if path := os.environ.get("SOAK_REPORT"):
        Path(path).write_text(json.dumps(report, indent=2) + "\n")

    assert not load.errors, f"{len(load.errors)} errors: {load.errors[:5]}"
    expected = SOAK_RPS * SOAK_SECONDS
    assert load.ok >= 0.9 * expected, f"only {load.ok} of {expected:.0f} requests were sent in time"
    assert restart_counts(core) == pods, "a container restarted during the soak"
    for pod, figures in report["pods"].items():
        assert len(figures["samples"]) >= 2
        assert figures["growth"] <= MAX_GROWTH, f"{pod}: memory grew {figures['growth']:.1%}: {figures['samples']}"
