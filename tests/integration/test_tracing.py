"""Traces: a real gunicorn with two workers exports spans over OTLP/HTTP to a receiver the test runs."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import Counter

import pytest

from tests.integration.conftest import ROOT
from tests.support.httpclient import get
from tests.support.otlp import Receiver

OTEL_APP = "tests.support.otelapp"
SPAN_KIND_SERVER = 2
TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
PARENT_ID = "00f067aa0ba902b7"
# path -> (span name, status, times requested)
TRACED = {
    "/": ("GET /", 200, 3),
    "/next": ("GET /next", 200, 2),
    "/no/such/page": ("GET", 404, 1),
    "/another-unknown": ("GET", 404, 1),
}
UNTRACED = ("/livez", "/readyz", "/metrics", "/livez?x=1")


@pytest.fixture
def receiver():
    receiver = Receiver()
    yield receiver
    receiver.close()


def access_lines(log: str) -> list[dict]:
    lines = [json.loads(line) for line in log.splitlines() if line.startswith("{")]
    return [line for line in lines if line["logger"] == "gunicorn.access"]


def status_of(span: dict) -> object:
    attributes = span["attributes"]
    return attributes.get("http.response.status_code", attributes.get("http.status_code"))


def test_spans_per_request_named_by_rule_with_the_incoming_parent(start_server, receiver):
    server = start_server(
        {"OTEL_EXPORTER_OTLP_ENDPOINT": receiver.endpoint, "OTEL_BSP_SCHEDULE_DELAY": "100"}, module=OTEL_APP
    )
    for path, (_, status, times) in TRACED.items():
        for _ in range(times):
            assert get(server.url + path).status == status
    for path in UNTRACED:
        assert get(server.url + path).status == 200
    traceparent = f"00-{TRACE_ID}-{PARENT_ID}-01"
    assert get(server.url + "/next", headers={"traceparent": traceparent}).status == 200
    # Tracing is on in the workers: the SDK is loaded where requests are served.
    assert "opentelemetry.sdk.trace" in json.loads(get(server.url + "/otel-modules").body)["modules"]

    expected = sum(times for _, _, times in TRACED.values()) + 2  # + the traceparent request + /otel-modules
    spans = receiver.wait(expected)
    workers = server.workers()
    assert server.stop() == 0
    spans = receiver.spans  # and whatever the workers flushed on exit: nothing more is expected
    assert len(spans) == expected, [s["name"] for s in spans]

    assert all(span["kind"] == SPAN_KIND_SERVER for span in spans)
    names = Counter(span["name"] for span in spans)
    want = Counter()
    for name, _, times in TRACED.values():
        want[name] += times
    want["GET /next"] += 1
    want["GET /otel-modules"] += 1
    assert names == want
    by_name = {(span["name"], status_of(span)) for span in spans}
    assert by_name == {("GET /", 200), ("GET /next", 200), ("GET", 404), ("GET /otel-modules", 200)}
    # Probes and scrapes are absent, raw paths are never names.
    for span in spans:
        target = str(span["attributes"].get("http.target", span["attributes"].get("url.path", "")))
        assert not target.startswith(("/livez", "/readyz", "/metrics")), span
    assert all(s["resource"]["service.name"] == "flask-service" for s in spans)
    assert all(s["resource"].get("service.version") for s in spans)
    # Each span names the worker process that sent it: the server's own workers, never its arbiter.
    senders = {s["resource"].get("process.pid") for s in spans}
    assert senders and senders <= workers, (senders, workers)

    child = [s for s in spans if s["trace_id"] == TRACE_ID]
    assert len(child) == 1
    assert child[0]["name"] == "GET /next"
    assert child[0]["parent_span_id"] == PARENT_ID
    others = [s for s in spans if s["trace_id"] != TRACE_ID]
    assert all(not s["parent_span_id"] for s in others)  # no traceparent: each request starts a trace
    assert len({s["trace_id"] for s in others}) == len(others)

    # Each worker set the SDK up after its fork.
    log = server.logs()
    assert log.count("tracing on: spans exported over OTLP/HTTP") == 2, log
    # The access log lines of traced requests carry their span's IDs.
    ids = {(s["trace_id"], s["span_id"]) for s in spans}
    lines = access_lines(log)
    assert len(lines) == expected
    for line in lines:
        assert (line.get("trace_id"), line.get("span_id")) in ids, line
    assert [line["http"]["path"] for line in lines if line["trace_id"] == TRACE_ID] == ["/next"]


def test_off_without_an_endpoint(start_server):
    env = {name: "" for name in ("OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")}
    server = start_server(env, module=OTEL_APP)
    for _ in range(4):  # with two workers, most likely both answer at least once
        assert json.loads(get(server.url + "/otel-modules").body)["modules"] == []
    assert get(server.url + "/", headers={"traceparent": f"00-{TRACE_ID}-{PARENT_ID}-01"}).status == 200
    assert server.stop() == 0
    lines = access_lines(server.logs())
    assert lines
    assert not [line for line in lines if "trace_id" in line or "span_id" in line]
    assert "tracing on" not in server.logs()


def test_off_when_the_sdk_is_disabled(start_server, receiver):
    env = {"OTEL_EXPORTER_OTLP_ENDPOINT": receiver.endpoint, "OTEL_SDK_DISABLED": "true"}
    server = start_server(env, module=OTEL_APP)
    assert json.loads(get(server.url + "/otel-modules").body)["modules"] == []
    assert server.stop() == 0
    assert receiver.requests == 0


@pytest.mark.parametrize(
    ("variable", "value", "extra"),
    [
        ("OTEL_TRACES_SAMPLER_ARG", "1.5", {"OTEL_TRACES_SAMPLER": "parentbased_traceidratio"}),
        ("OTEL_TRACES_SAMPLER", "sometimes", {}),
        ("OTEL_EXPORTER_OTLP_ENDPOINT", "collector:4318", {}),
        ("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc", {}),
        ("OTEL_BSP_SCHEDULE_DELAY", "soon", {}),
        ("OTEL_SDK_DISABLED", "maybe", {}),
    ],
)
def test_bad_otel_setting_stops_the_server(variable, value, extra, tmp_path):
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "PROMETHEUS_MULTIPROC_DIR": str(tmp_path),
        "OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:9",
        **extra,
        variable: value,
    }
    proc = subprocess.run(
        [sys.executable, "-m", "service"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=30
    )
    assert proc.returncode == 2, proc.stderr + proc.stdout
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith(f"flask-service: configuration error: {variable}")
