"""The service's traces in the cluster's OpenTelemetry Collector (hack/addons/otel-collector) and its trace store,
Jaeger (hack/addons/jaeger): a release of chart/ in a namespace of its own, with the main release's image and the
chart's tracing values pointed at the collector's Service, exports a span per request; the collector's debug
exporter logs each one (the test reads that log through the API server) and passes it on to Jaeger, where a
request's trace is found by the trace id of its access log line. The release's service name is its namespace,
so spans of other runs are told apart.
"""

from __future__ import annotations

import json
import re
import time
from collections import Counter

import pytest

from service.version import VERSION

from .kube import (
    Target,
    container_port,
    fresh_namespace,
    image_values,
    install_chart,
    kill_in_pod,
    pod_get,
    wait_until,
    worker_pids,
)

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
JAEGER_SELECTOR = "app.kubernetes.io/name=jaeger"
JAEGER_QUERY_PORT = 16686


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


# --- Jaeger: from a log line to its trace ----------------------------------------------------------------


def jaeger(core) -> Target:
    pods = core.list_namespaced_pod(MONITORING, label_selector=JAEGER_SELECTOR).items
    ready = [p for p in pods if p.metadata.deletion_timestamp is None]
    assert len(ready) == 1, [p.metadata.name for p in pods]
    return Target(ready[0].metadata.name, JAEGER_QUERY_PORT)


def jaeger_api(core, path: str) -> list[dict]:
    """The `data` of an answer of Jaeger's HTTP query API (e.g. /api/traces/<id>); [] when it has none."""
    reply = pod_get(jaeger(core), path, namespace=MONITORING)
    if reply.status == 404:
        return []
    assert reply.status == 200, reply.body[:500]
    return json.loads(reply.body)["data"] or []


def tags(items: list[dict]) -> dict:
    return {t["key"]: t["value"] for t in items}


def stored_spans(traces: list[dict]) -> list[dict]:
    """Every span of the traces, its tags and its process's (resource's) tags merged under "tags"/"resource"."""
    spans = []
    for trace in traces:
        for span in trace["spans"]:
            process = trace["processes"][span["processID"]]
            spans.append(span | {"tags": tags(span["tags"]), "resource": tags(process["tags"])})
    return spans


def access_lines(core, namespace: str, pod: str, since: float) -> list[dict]:
    log = core.read_namespaced_pod_log(
        pod, namespace, container="flask-service", since_seconds=int(time.monotonic() - since) + 5
    )
    lines = []
    for text in log.splitlines():
        if text.startswith("{"):
            line = json.loads(text)
            if "http" in line:
                lines.append(line)
    return lines


def test_a_request_is_followed_from_its_log_line_to_its_trace_in_jaeger(traced, core):
    namespace, pod = traced
    start = time.monotonic()
    for _ in range(3):
        assert pod_get(pod, "/next", namespace=namespace).status == 200
    (line, *_) = [x for x in access_lines(core, namespace, pod.pod, start) if x["http"]["path"] == "/next"]
    trace_id, span_id = line["trace_id"], line["span_id"]
    assert re.fullmatch(r"[0-9a-f]{32}", trace_id) and re.fullmatch(r"[0-9a-f]{16}", span_id), line
    found: list[dict] = []

    def pending():
        found[:] = stored_spans(jaeger_api(core, f"/api/traces/{trace_id}"))
        return None if found else f"trace {trace_id} not in Jaeger yet"

    wait_until("Jaeger to hold the trace of the logged request", pending, timeout=EXPORT_WAIT, interval=2)
    (span,) = found
    assert (span["traceID"], span["spanID"], span["operationName"]) == (trace_id, span_id, "GET /next"), span
    assert span["tags"].get("http.route") == "/next", span["tags"]
    status = span["tags"].get("http.response.status_code", span["tags"].get("http.status_code"))
    assert int(status) == 200, span["tags"]
    assert span["resource"]["k8s.pod.name"] == pod.pod, span["resource"]
    assert span["resource"]["k8s.namespace.name"] == namespace, span["resource"]
    assert span["resource"]["service.version"] == VERSION, span["resource"]


def test_every_worker_traces_and_a_killed_one_is_replaced_by_one_that_traces(traced, core):
    # The SDK is set up after the fork, in each worker (service/tracing.py), so each worker's spans carry a
    # service.instance.id of their own (process.pid too, which Jaeger's query API leaves out).
    namespace, pod = traced

    def senders() -> set[str]:
        spans = stored_spans(jaeger_api(core, f"/api/traces?service={namespace}&limit=500&lookback=1h"))
        return {s["resource"]["service.instance.id"] for s in spans}

    workers = worker_pids(pod.pod, namespace)
    assert len(workers) >= 2, workers
    seen: set[str] = set()

    def every_worker_traces():
        for _ in range(10):  # the kernel hands connections to whichever worker accepts first
            pod_get(pod, "/", namespace=namespace)
        seen.update(senders())
        return None if len(seen) >= len(workers) else f"spans from {len(seen)} processes, {len(workers)} workers"

    wait_until("spans from every worker", every_worker_traces, timeout=EXPORT_WAIT * 2, interval=2)
    victim = min(workers)
    kill_in_pod(pod.pod, victim, "SIGKILL", namespace=namespace)
    wait_until(
        "the arbiter to replace the killed worker",
        lambda: None if len(now := worker_pids(pod.pod, namespace)) == len(workers) and victim not in now else now,
        timeout=60,
    )

    def replacement_traces():
        for _ in range(10):
            pod_get(pod, "/", namespace=namespace)
        return None if senders() - seen else "no span from a new worker yet"

    wait_until("a span from the replacement worker", replacement_traces, timeout=EXPORT_WAIT * 2, interval=2)
