"""The service's traces in the cluster's OpenTelemetry Collector (hack/addons/prometheus): a release of chart/ in a
namespace of its own, with the main release's image and the chart's tracing values pointed at the collector's
Service, exports a span per request; the collector's debug exporter logs each one, and the test reads that log
through the API server. The release's service name is its namespace, so spans of other runs are told apart.
"""

from __future__ import annotations

import re
import time
from collections import Counter

import pytest

from .kube import Target, container_port, fresh_namespace, image_values, install_chart, pod_get, wait_until

COLLECTOR = "http://otel-collector.monitoring:4318"
MONITORING = "monitoring"
COLLECTOR_SELECTOR = "app.kubernetes.io/name=otel-collector"
TRACED_RELEASE = "traced"
TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
PARENT_ID = "00f067aa0ba902b7"
# path -> (span name, status, times requested); a path that matches no URL rule is named by its method alone
TRACED = {"/": ("GET /", 200, 3), "/next": ("GET /next", 200, 2), "/no/such/page": ("GET", 404, 1)}
UNTRACED = ("/livez", "/readyz", "/metrics")
EXPORT_WAIT = 60  # seconds: the SDK's 5 s batch delay, the collector's 200 ms batch, reading the log


@pytest.fixture(scope="module")
def traced(release, apps, core) -> tuple[str, Target]:
    """(namespace, pod) of a release that exports to the collector, its service named after its namespace."""
    with fresh_namespace("traces") as namespace:
        tracing = {"tracing.endpoint": COLLECTOR, "tracing.serviceName": namespace}
        install_chart(namespace, TRACED_RELEASE, image_values(apps) | tracing)
        pods = core.list_namespaced_pod(namespace, label_selector=f"app.kubernetes.io/instance={TRACED_RELEASE}").items
        assert len(pods) == 1, [p.metadata.name for p in pods]
        yield namespace, Target(pods[0].metadata.name, container_port(pods[0], "http"))


def collector_log(core, since: float) -> str:
    pods = core.list_namespaced_pod(MONITORING, label_selector=COLLECTOR_SELECTOR).items
    assert len(pods) == 1, [p.metadata.name for p in pods]
    seconds = int(time.monotonic() - since) + 5
    return core.read_namespaced_pod_log(pods[0].metadata.name, MONITORING, since_seconds=seconds)


FIELD = re.compile(r"^[ \t]*(Trace ID|Parent ID|Name)[ \t]*:[ \t]*(.*)$", re.MULTILINE)
ATTRIBUTE = re.compile(r"^[ \t]*-> ([\w.]+): \w+\((.*)\)$", re.MULTILINE)


def logged_spans(log: str, service: str) -> list[dict[str, str]]:
    """Spans of `service` in the debug exporter's detailed output: a "ResourceSpans #n" block per resource, with
    its attributes, then a "Span #n" block per span: fields ("Name     : GET /") and attributes ("-> k: Str(v)")."""
    spans = []
    for resource in re.split(r"\bResourceSpans #\d+$", log, flags=re.MULTILINE)[1:]:
        head, *blocks = re.split(r"^Span #\d+$", resource, flags=re.MULTILINE)
        if dict(ATTRIBUTE.findall(head)).get("service.name") != service:
            continue
        for block in blocks:
            spans.append(dict(FIELD.findall(block)) | dict(ATTRIBUTE.findall(block)))
    return spans


def test_the_collector_logs_a_span_per_request_named_by_rule_with_the_incoming_trace(traced, core):
    namespace, pod = traced
    start = time.monotonic()
    for path, (_, status, times) in TRACED.items():
        for _ in range(times):
            assert pod_get(pod, path, namespace=namespace).status == status
    for path in UNTRACED:
        assert pod_get(pod, path, namespace=namespace).status == 200
    headers = {"traceparent": f"00-{TRACE_ID}-{PARENT_ID}-01"}
    assert pod_get(pod, "/next", namespace=namespace, headers=headers).status == 200

    want = Counter()
    for name, _, times in TRACED.values():
        want[name] += times
    want["GET /next"] += 1
    spans: list[dict[str, str]] = []

    def pending():
        spans[:] = logged_spans(collector_log(core, start), namespace)
        return None if len(spans) >= want.total() else f"{len(spans)} of {want.total()} spans"

    wait_until("the collector to log the spans", pending, timeout=EXPORT_WAIT, interval=2)
    # Exactly one span per request made: the kubelet's probes and the test's /livez, /readyz, /metrics have none.
    assert Counter(s["Name"] for s in spans) == want, spans
    paths = {s.get("url.path", s.get("http.target")) for s in spans}
    assert paths == set(TRACED), paths
    # The incoming traceparent: its trace, with the caller's span as parent.
    joined = [s for s in spans if s["Trace ID"] == TRACE_ID]
    assert [(s["Name"], s["Parent ID"]) for s in joined] == [("GET /next", PARENT_ID)], spans
    assert len({s["Trace ID"] for s in spans}) == want.total(), "every other request starts a trace of its own"
