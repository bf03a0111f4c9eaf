"""Bounded load where clients are, and a metrics watch, for the disruption tests.

ClientLoad runs tests/e2e/loadclient.py (no retries; fresh or kept-alive connections) in a client pod in
the cluster or on the host, until stopped; its PathResult says what that client got, second by second, and
while it runs, `last_failure` says when it last failed.

CounterWatch scrapes /metrics of every ready pod once a second (through the API server's port-forward:
an observer, not a client) and records every sample of every counter and histogram, so a test can check
that no series ever went down within a pod's life, that no scrape failed, and what each pod served.

Both are bounded twice: in requests or scrapes, and at MAX_SECONDS overall, whatever the test does.
"""

from __future__ import annotations

import itertools
import json
import subprocess
import sys
import threading
import time
from collections import defaultdict
from dataclasses import dataclass

from kubernetes import client
from prometheus_client.parser import text_string_to_metric_families

from .kube import (
    CONTEXT,
    NAMESPACE,
    ROOT,
    SERVICE,
    KubeError,
    pod_get,
    ready_targets,
    tool_env,
)
from .loadclient import FAILED

MAX_SECONDS = 300
SCRAPE_INTERVAL = 1.0
MONOTONIC_SUFFIXES = ("_total", "_count", "_bucket", "_sum")  # durations are never negative, so _sum too
REQUEST_TOTAL = ("flask_http_request_total", ("method", "GET"), ("status", "200"))  # answered GETs (not probes)


class BadStatusError(KubeError):
    pass


def counter_samples(metrics_text: str) -> dict[tuple, float]:
    """Every sample of every counter and histogram, keyed by name and labels."""
    samples = {}
    for family in text_string_to_metric_families(metrics_text):
        if family.type not in ("counter", "histogram"):
            continue
        for s in family.samples:
            if s.name.endswith(MONOTONIC_SUFFIXES):
                samples[(s.name, *sorted(s.labels.items()))] = s.value
    return samples


class CounterWatch:
    """Scrapes every ready pod's counters, on a daemon thread, until stop() or MAX_SECONDS."""

    def __init__(self, api: client.ApiClient, namespace: str = NAMESPACE, service: str = SERVICE):
        self.core = client.CoreV1Api(api)
        self.discovery = client.DiscoveryV1Api(api)
        self.namespace, self.service = namespace, service
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._work, daemon=True)
        self._deadline = 0.0
        self.scrapes: dict[str, list[dict[tuple, float]]] = defaultdict(list)  # per pod, in order
        self.failures: list[str] = []  # scrapes a pod answered with an error, or that could not be read

    def __enter__(self):
        self._deadline = time.monotonic() + MAX_SECONDS
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=30)

    def _running(self) -> bool:
        return not self._stop.is_set() and time.monotonic() < self._deadline

    def _work(self) -> None:
        for _ in range(int(MAX_SECONDS / SCRAPE_INTERVAL)):
            if not self._running():
                return
            try:
                for target in ready_targets(self.core, self.discovery, service=self.service, namespace=self.namespace):
                    reply = pod_get(target, "/metrics", namespace=self.namespace)
                    if reply.status != 200:
                        raise BadStatusError(f"/metrics of {target.pod}: status {reply.status}: {reply.body[:300]}")
                    samples = counter_samples(reply.body)
                    with self._lock:
                        self.scrapes[target.pod].append(samples)
            except BadStatusError as error:
                self.failures.append(f"{time.strftime('%X')} {error}")
            except KubeError:
                pass  # a pod that is going away: its series simply end here
            except Exception as error:  # a scrape that cannot be read fails the test; it must not end the watch
                self.failures.append(f"{time.strftime('%X')} {error!r}"[:500])
            self._stop.wait(SCRAPE_INTERVAL)

    def served(self) -> dict[str, float]:
        """Per pod: the GETs it answered between its first and its last scrape."""
        return {
            pod: scrapes[-1].get(REQUEST_TOTAL, 0) - scrapes[0].get(REQUEST_TOTAL, 0)
            for pod, scrapes in self.scrapes.items()
            if scrapes
        }

    def check(self, min_scrapes: int) -> None:
        """No scrape failed, at least two pods were scraped, each at least `min_scrapes` times, and no series
        of any pod went down."""
        counts = {pod: len(scrapes) for pod, scrapes in self.scrapes.items()}
        assert not self.failures, self.failures[:5]
        assert len(counts) >= 2 and min(counts.values()) >= min_scrapes, f"too few scrapes per pod: {counts}"
        assert not self.decreases(), self.decreases()[:10]

    def decreases(self) -> list[str]:
        """Series that went down between two scrapes of the same pod (Prometheus would see a reset)."""
        found = []
        for pod, scrapes in self.scrapes.items():
            for before, after in itertools.pairwise(scrapes):
                for key, value in before.items():
                    if key in after and after[key] < value:
                        found.append(f"{pod} {key}: {value} -> {after[key]}")
                    elif key not in after:
                        found.append(f"{pod} {key}: {value} -> gone")
        return found


# --- Load where clients are: tests/e2e/loadclient.py in a client pod, or on the host ----------------------

LOADCLIENT = ROOT / "tests" / "e2e" / "loadclient.py"
CLIENT_PYTHON = "/opt/venv/bin/python"  # the release image's Python, which the client pods run
CLIENT_SECONDS = MAX_SECONDS


@dataclass
class PathResult:
    """What one load path (a place, a target and a connection mode) got; see loadclient.py."""

    name: str
    ok: int
    failed: int
    failures: list[dict]  # the first ones, with their causes
    per_second: dict[int, int]
    idle_closed: int
    close_asked: int
    connections: int

    def served_between(self, start: float, end: float) -> int:
        """Requests answered in the whole seconds from `start` to `end` (wall clock)."""
        return sum(n for second, n in self.per_second.items() if int(start) <= second <= int(end))

    def report(self) -> str:
        return (
            f"{self.name}: {self.ok} ok, {self.failed} failed {self.failures[:5]}, "
            f"{self.connections} connections, {self.idle_closed} idle ones closed by the server, "
            f"{self.close_asked} responses asking to close"
        )


class ClientLoad:
    """loadclient.py running as a process until stop() closes its standard input.

    `where`: a pod name (it runs there, through `kubectl exec`, so its requests start inside the cluster), or
    None for the host."""

    def __init__(
        self,
        name: str,
        where: str | None,
        host: str,
        port: int,
        mode: str,
        host_header: str = "",
        namespace: str = NAMESPACE,
        pause: float | None = None,
    ):
        self.name = name
        args = ["--host", host, "--port", str(port), "--mode", mode, "--until-eof", "--seconds", str(CLIENT_SECONDS)]
        if host_header:
            args += ["--host-header", host_header]
        if pause is not None:
            args += ["--pause", str(pause)]
        if where is None:
            cmd = [sys.executable, str(LOADCLIENT), *args]
        else:
            source = LOADCLIENT.read_text()
            cmd = ["kubectl", "--context", CONTEXT, "-n", namespace, "exec", "-i", where, "--"]
            cmd += [CLIENT_PYTHON, "-c", source, *args]
        self.last_failure = 0.0  # unix time of the latest failure the client has reported, 0 before any
        self._out: list[str] = []
        self._err: list[str] = []
        self.proc = subprocess.Popen(
            cmd, env=tool_env(), cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            text=True,
        )  # fmt: skip
        # Both pipes are drained as the client writes, so it never blocks on a full pipe.
        self._readers = [
            threading.Thread(target=self._read, args=(self.proc.stdout, self._out), daemon=True),
            threading.Thread(target=self._read, args=(self.proc.stderr, self._err), daemon=True),
        ]
        for reader in self._readers:
            reader.start()

    def _read(self, pipe, lines: list[str]) -> None:
        for line in pipe:
            if pipe is self.proc.stderr and line.startswith(f"{FAILED} "):
                self.last_failure = float(line.split()[1])
            else:
                lines.append(line)

    def stop(self) -> PathResult:
        self.proc.stdin.close()  # the client's end of file: it finishes its requests in flight and reports
        try:
            self.proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=10)
        for reader in self._readers:
            reader.join(timeout=10)
        out, err = "".join(self._out), "".join(self._err)
        if self.proc.returncode != 0:
            raise KubeError(f"load path {self.name} exited {self.proc.returncode}: {err[-2000:]}")
        data = json.loads(out)
        return PathResult(
            name=self.name,
            ok=data["ok"],
            failed=data["failed"],
            failures=data["failures"],
            per_second={int(k): v for k, v in data["per_second"].items()},
            idle_closed=data["idle_closed"],
            close_asked=data["close_asked"],
            connections=data["connections"],
        )
