"""The cluster's Prometheus (hack/addons/prometheus), asked through its HTTP API over the API server's
port-forward to its pod."""

from __future__ import annotations

import json
import urllib.parse

from .kube import Target, pod_get

MONITORING = "monitoring"
PROMETHEUS = Target("prometheus-prometheus-0", 9090)


def api(path: str, **params: str) -> dict:
    """The data of an answer of Prometheus's HTTP API, e.g. api("/api/v1/rules")."""
    query = "?" + urllib.parse.urlencode(params) if params else ""
    reply = pod_get(PROMETHEUS, path + query, namespace=MONITORING)
    assert reply.status == 200, reply.body
    body = json.loads(reply.body)
    assert body["status"] == "success", body
    return body["data"]


def query(promql: str) -> list[dict]:
    """The series an instant query returns, those whose sample is NaN (no data) left out."""
    return [r for r in api("/api/v1/query", query=promql)["result"] if r["value"][1] != "NaN"]


def scalar(promql: str) -> float | None:
    result = query(promql)
    return float(result[0]["value"][1]) if result else None
