"""A bounded client that keeps requesting `/` through the API server while the test disrupts pods.

It behaves like a Service-aware load balancer: before every request it reads the Service's ready
endpoints (as kube-proxy would) and opens a new port-forward to one of them. A pod that starts
terminating leaves the ready endpoints first, and the chart's preStop sleep keeps it serving while
that news travels, so a correct chart and server give zero failed requests.

Bounded twice: at most MAX_REQUESTS per worker and MAX_SECONDS overall, whatever the test does.
"""

from __future__ import annotations

import itertools
import threading
import time
from collections import Counter
from dataclasses import dataclass, field

from kubernetes import client

from .kube import KubeError, pod_get, ready_targets

MAX_REQUESTS = 3000
MAX_SECONDS = 300
WORKERS = 2


@dataclass
class LoadResult:
    ok: int = 0
    failures: list[str] = field(default_factory=list)
    pods: Counter = field(default_factory=Counter)
    headings: Counter = field(default_factory=Counter)


class Load:
    def __init__(self, api: client.ApiClient, expect_text: str | None = None):
        self.core = client.CoreV1Api(api)
        self.discovery = client.DiscoveryV1Api(api)
        self.expect_text = expect_text
        self.result = LoadResult()
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._rr = itertools.count()
        self._threads = [threading.Thread(target=self._work, daemon=True) for _ in range(WORKERS)]
        self._deadline = 0.0

    def __enter__(self) -> Load:
        self._deadline = time.monotonic() + MAX_SECONDS
        for t in self._threads:
            t.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def stop(self) -> LoadResult:
        self._stop.set()
        for t in self._threads:
            t.join(timeout=30)
        return self.result

    def _work(self) -> None:
        for _ in range(MAX_REQUESTS):
            if self._stop.is_set() or time.monotonic() > self._deadline:
                return
            try:
                targets = ready_targets(self.core, self.discovery)
                if not targets:
                    raise KubeError("the Service has no ready endpoint")
                target = targets[next(self._rr) % len(targets)]
                reply = pod_get(target, "/")
                if reply.status != 200:
                    raise KubeError(f"status {reply.status} from {target.pod}")
            except Exception as error:  # every kind of failure is a failed request, recorded with its cause
                with self._lock:
                    self.result.failures.append(f"{time.strftime('%X')} {error!r}"[:500])
                continue
            with self._lock:
                self.result.ok += 1
                self.result.pods[target.pod] += 1
                if self.expect_text is not None:
                    self.result.headings[self.expect_text in reply.body] += 1
