"""Bounded load and a metrics watch for the disruption tests, both through the API server.

Load behaves like a Service-aware load balancer: before every request it reads the Service's ready
endpoints (as kube-proxy would) and opens a new port-forward to one of them. A pod that starts
terminating leaves the ready endpoints first, and the chart's preStop sleep keeps it serving while
that news travels, so a correct chart and server give zero failed requests. With `retry_broken`, a
request whose connection broke before a whole response arrived is sent once more, to a freshly chosen
pod, as proxies do for idempotent requests (a killed process takes its in-flight requests with it);
those retries are counted apart.

CounterWatch scrapes /metrics of every ready pod once a second and records every sample of every
counter and histogram, so a test can check that no series ever went down within a pod's life, and that
no scrape was answered with an error.

Both are bounded twice: in requests or scrapes, and at MAX_SECONDS overall, whatever the test does.
"""

from __future__ import annotations

import itertools
import threading
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field

from kubernetes import client
from prometheus_client.parser import text_string_to_metric_families

from .kube import NAMESPACE, SERVICE, BrokenConnectionError, KubeError, Target, pod_get, ready_targets

MAX_REQUESTS = 3000
MAX_SECONDS = 300
WORKERS = 2
SCRAPE_INTERVAL = 1.0
MONOTONIC_SUFFIXES = ("_total", "_count", "_bucket", "_sum")  # durations are never negative, so _sum too


class BadStatusError(KubeError):
    pass


@dataclass
class LoadResult:
    ok: int = 0
    failures: list[str] = field(default_factory=list)
    retried: list[str] = field(default_factory=list)
    pods: Counter = field(default_factory=Counter)

    def report(self) -> str:
        total = self.ok + len(self.failures)
        return f"{len(self.failures)} failed of {total}: {self.failures[:5]}; retried {len(self.retried)}"


class _Bounded:
    """A few daemon threads running `_work` until stop() or MAX_SECONDS."""

    threads = 1

    def __init__(self, api: client.ApiClient):
        self.core = client.CoreV1Api(api)
        self.discovery = client.DiscoveryV1Api(api)
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._threads = [threading.Thread(target=self._work, daemon=True) for _ in range(self.threads)]
        self._deadline = 0.0

    def __enter__(self):
        self._deadline = time.monotonic() + MAX_SECONDS
        for t in self._threads:
            t.start()
        return self

    def __exit__(self, *exc) -> None:
        self._halt()

    def _halt(self) -> None:
        self._stop.set()
        for t in self._threads:
            t.join(timeout=30)

    def _running(self) -> bool:
        return not self._stop.is_set() and time.monotonic() < self._deadline

    def _work(self) -> None:
        raise NotImplementedError


class Load(_Bounded):
    threads = WORKERS

    def __init__(
        self,
        api: client.ApiClient,
        retry_broken: bool = False,
        namespace: str = NAMESPACE,
        service: str = SERVICE,
        pause: float = 0.0,
    ):
        """Load on `service` in `namespace`; each worker waits `pause` seconds before each request (0: none)."""
        super().__init__(api)
        self.retry_broken = retry_broken
        self.namespace, self.service, self.pause = namespace, service, pause
        self.result = LoadResult()
        self._rr = itertools.count()

    def stop(self) -> LoadResult:
        self._halt()
        return self.result

    def _target(self) -> Target:
        targets = ready_targets(self.core, self.discovery, service=self.service, namespace=self.namespace)
        if not targets:
            raise KubeError("the Service has no ready endpoint")
        return targets[next(self._rr) % len(targets)]

    def _get(self) -> Target:
        target = self._target()
        reply = pod_get(target, "/", namespace=self.namespace)
        if reply.status != 200:
            raise BadStatusError(f"status {reply.status} from {target.pod}")
        return target

    def _work(self) -> None:
        for _ in range(MAX_REQUESTS):
            if not self._running() or (self.pause and self._stop.wait(self.pause)):
                return
            try:
                try:
                    target = self._get()
                except BrokenConnectionError as error:
                    if not self.retry_broken:
                        raise
                    with self._lock:
                        self.result.retried.append(f"{time.strftime('%X')} {error!r}"[:500])
                    target = self._get()
            except Exception as error:  # every kind of failure is a failed request, recorded with its cause
                with self._lock:
                    self.result.failures.append(f"{time.strftime('%X')} {error!r}"[:500])
                continue
            with self._lock:
                self.result.ok += 1
                self.result.pods[target.pod] += 1


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


class CounterWatch(_Bounded):
    def __init__(self, api: client.ApiClient):
        super().__init__(api)
        self.scrapes: dict[str, list[dict[tuple, float]]] = defaultdict(list)  # per pod, in order
        self.failures: list[str] = []  # scrapes a pod answered with an error, or that could not be read

    def stop(self) -> None:
        self._halt()

    def _work(self) -> None:
        for _ in range(int(MAX_SECONDS / SCRAPE_INTERVAL)):
            if not self._running():
                return
            try:
                for target in ready_targets(self.core, self.discovery):
                    reply = pod_get(target, "/metrics")
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
