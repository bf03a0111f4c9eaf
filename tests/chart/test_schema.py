"""values.schema.json rejects bad values with a clear error, stays self-contained, and describes exactly the keys of
values.yaml."""

import json

import pytest
import yaml

from tests.chart.chartlib import CHART, run_helm, template_args

SCHEMA = json.loads((CHART / "values.schema.json").read_text())
VALUES = yaml.safe_load((CHART / "values.yaml").read_text())


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
        ({"nodeLossTolerationSeconds": "30s"}, "at '/nodeLossTolerationSeconds'"),
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
        "nodeLossTolerationSeconds-string",
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


# Schema properties that are rightly not keys of values.yaml (nor described below it): what a user may set that
# has no default.
NOT_IN_VALUES = {
    "global": "Helm's global values, which a parent chart passes down; the schema must admit them",
    "resources.claims": "ResourceRequirements' optional field, passed through like requests and limits",
    "autoscaling.behavior.scaleUp": "the HPA's behavior, passed through; {} keeps Kubernetes' defaults",
    "autoscaling.behavior.scaleDown": "the HPA's behavior, passed through; {} keeps Kubernetes' defaults",
}


def resolve(node):
    """A schema node, its local $ref followed."""
    ref = node.get("$ref")
    if ref is None:
        return node
    target = SCHEMA
    for part in ref.removeprefix("#/").split("/"):
        target = target[part]
    return target


def schema_paths(node, path=()):
    """Every property path of the schema, following "properties" into nested objects."""
    for key, child in resolve(node).get("properties", {}).items():
        yield (*path, key)
        if ".".join((*path, key)) not in NOT_IN_VALUES:
            yield from schema_paths(child, (*path, key))


def value_paths(values, node, path=()):
    """Every key path of values.yaml, recursing into a mapping where the schema describes it property by property.
    Where the schema takes any keys (a pod securityContext, labels, resource quantities), the keys are data, not
    settings; a list's items are never keys."""
    for key, value in values.items():
        yield (*path, key)
        child = resolve(resolve(node).get("properties", {}).get(key, {}))
        if isinstance(value, dict) and "properties" in child:
            yield from value_paths(value, child, (*path, key))


def test_schema_describes_exactly_the_keys_of_values_yaml():
    # A key added to one file and not the other fails here, before any install: values.yaml keys the schema does
    # not know are refused by its additionalProperties: false, and schema properties without a default are
    # settings that values.yaml and the README do not document.
    in_values = {".".join(p) for p in value_paths(VALUES, SCHEMA)}
    in_schema = {".".join(p) for p in schema_paths(SCHEMA)}
    assert not in_values - in_schema, (
        f"keys of values.yaml missing from values.schema.json: {sorted(in_values - in_schema)}"
    )
    undocumented = in_schema - in_values - NOT_IN_VALUES.keys()
    assert not undocumented, f"values.schema.json properties missing from values.yaml: {sorted(undocumented)}"
    # The exceptions stay true: each is a property of the schema that values.yaml leaves out.
    assert NOT_IN_VALUES.keys() <= in_schema - in_values, sorted(NOT_IN_VALUES.keys() - (in_schema - in_values))
