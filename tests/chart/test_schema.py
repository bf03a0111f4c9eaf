"""values.schema.json rejects bad values with a clear error, and stays self-contained."""

import json

import pytest

from tests.chart.chartlib import CHART, run_helm, template_args

SCHEMA = json.loads((CHART / "values.schema.json").read_text())


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"replicaCount": "two"}, "at '/replicaCount': got string, want integer"),
        ({"replicaCountt": 2}, "additional properties 'replicaCountt' not allowed"),
        ({"image.pullPolicy": "Sometimes"}, "at '/image/pullPolicy'"),
        ({"image.digest": "latest"}, "at '/image/digest'"),
        ({"config.workers": 0}, "at '/config/workers'"),
        ({"config.logLevel": "verbose"}, "at '/config/logLevel'"),
        ({"config.colour": "blue"}, "additional properties 'colour' not allowed"),
        ({"config.faultsEnabled": "yes"}, "at '/config/faultsEnabled': got string, want boolean"),
        ({"service.port": 70000}, "at '/service/port'"),
        ({"podDisruptionBudget.minAvailable": "half"}, "at '/podDisruptionBudget/minAvailable'"),
        ({"metrics.serviceMonitor.interval": "often"}, "at '/metrics/serviceMonitor/interval'"),
        ({"slo.availability.objective": 100}, "at '/slo/availability/objective'"),
        ({"slo.latency.threshold": "0.3"}, "at '/slo/latency/threshold'"),
        ({"slo.burnRates.fast.longWindow": "1 hour"}, "at '/slo/burnRates/fast/longWindow'"),
        ({"slo.burnRates.medium": {}}, "additional properties 'medium' not allowed"),
        ({"dashboard.labels.grafana_dashboard": None}, "at '/dashboard/labels'"),
        ({"autoscaling.behavior": {"scaleDown": {"stabilizationWindowSeconds": 7200}}}, "at '/autoscaling/behavior"),
        ({"autoscaling.behavior": {"scaleDwon": {}}}, "additional properties 'scaleDwon' not allowed"),
        (
            {"autoscaling.behavior.scaleUp.policies": [{"type": "Replicas", "value": 1, "periodSeconds": 15}]},
            "at '/autoscaling/behavior/scaleUp/policies/0/type'",
        ),
    ],
    ids=[
        "replicaCount-string",
        "unknown-top-level-key",
        "pullPolicy",
        "digest",
        "workers-0",
        "logLevel",
        "unknown-config-key",
        "faultsEnabled-string",
        "port-range",
        "pdb-percentage",
        "scrape-interval",
        "slo-objective-100",
        "latency-threshold-not-a-bucket",
        "burn-window",
        "unknown-burn-rate",
        "dashboard-without-sidecar-label",
        "hpa-stabilization-window-over-an-hour",
        "hpa-behavior-unknown-key",
        "hpa-policy-type",
    ],
)
def test_bad_values_are_rejected(helm, values, message):
    result = run_helm(helm, *template_args(values=values), check=False)
    assert result.returncode != 0, f"helm accepted {values}"
    assert "values don't meet the specifications of the schema" in result.stderr
    assert message in result.stderr, result.stderr


def test_latency_thresholds_are_the_histogram_buckets():
    # The threshold names a bucket by its `le` label, written as prometheus_client writes it.
    from prometheus_client import Histogram
    from prometheus_client.utils import floatToGoString

    allowed = SCHEMA["properties"]["slo"]["properties"]["latency"]["properties"]["threshold"]["enum"]
    assert allowed == [floatToGoString(b) for b in Histogram.DEFAULT_BUCKETS if b != float("inf")]


def walk(node, path="#"):
    if isinstance(node, dict):
        yield path, node
        for key, value in node.items():
            yield from walk(value, f"{path}/{key}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from walk(value, f"{path}/{index}")


def test_schema_has_no_remote_refs():
    # A remote $ref would make every install depend on the network.
    for path, node in walk(SCHEMA):
        ref = node.get("$ref")
        assert ref is None or ref.startswith("#"), f"{path}: remote $ref {ref}"


def test_schema_is_strict_where_it_describes_properties():
    # Every object schema that lists its properties closes the set, so typos are errors.
    for path, node in walk(SCHEMA):
        if "properties" in node:
            assert node.get("additionalProperties") is False, path
