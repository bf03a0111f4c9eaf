"""The Grafana dashboard: shipped as a sidecar-labelled ConfigMap, and in step with the rules and the service.

Every recording rule a panel reads is in the rendered PrometheusRule, every other metric is one the
service exports (or Prometheus's `up` and kube-state-metrics' deployment series, named below), and every
query parses and returns data when promtool evaluates it on the synthetic normal day.
"""

import json
import os
import re
import subprocess
import sys

import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.chart import slo_scenarios
from tests.chart.chartlib import CHART, CI_VALUES, NAMESPACE, RELEASE, ROOT, by_kind, one
from tests.chart.rulelib import rule_spec, run_rule_tests

DASHBOARD = json.loads((CHART / "dashboards" / "flask-service.json").read_text())
# Not the service's: Prometheus's scrape health, and kube-state-metrics' (the alerts read them too).
EXTERNAL = {"up", "kube_deployment_spec_replicas", "kube_deployment_status_replicas_available"}
METRIC = re.compile(r"([a-zA-Z_:][a-zA-Z0-9_:]*)\{")


def queries():
    return [target["expr"] for panel in DASHBOARD["panels"] for target in panel["targets"]]


def variable_queries():
    """The metric selectors inside the template variables' label_values(…) queries."""
    return [
        re.fullmatch(r"label_values\((.*), \w+\)", v["query"]["query"]).group(1)
        for v in DASHBOARD["templating"]["list"]
        if v["type"] == "query"
    ]


def metric_names(exprs):
    return {name for expr in exprs for name in METRIC.findall(expr)}


def concrete(expr):
    """A query as Prometheus gets it from Grafana, for this chart tier's release."""
    return expr.replace("$__rate_interval", "5m").replace("$namespace", NAMESPACE).replace("$job", RELEASE)


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    """Names of the samples /metrics serves, in multiprocess mode as under gunicorn, after some requests."""
    script = (
        "from service import create_app, metrics\n"
        "metrics.count_worker()\n"
        "client = create_app().test_client()\n"
        "client.get('/')\n"
        "print(client.get('/metrics').get_data(as_text=True))\n"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT), "PROMETHEUS_MULTIPROC_DIR": str(tmp_path_factory.mktemp("metrics"))}
    text = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, check=True, timeout=60
    ).stdout
    return {sample.name for family in text_string_to_metric_families(text) for sample in family.samples}


def test_configmap_is_off_by_default_and_labelled_for_the_sidecar(render):
    assert not [c for c in by_kind(render(), "ConfigMap") if c["metadata"]["name"].endswith("-dashboard")]
    objects = render(values={"dashboard.enabled": True, "dashboard.annotations": {"grafana_folder": "services"}})
    configmap = one(
        [c for c in by_kind(objects, "ConfigMap") if c["metadata"]["name"].endswith("-dashboard")], "ConfigMap"
    )
    assert configmap["metadata"]["labels"]["grafana_dashboard"] == "1"
    assert configmap["metadata"]["annotations"] == {"grafana_folder": "services"}
    assert json.loads(configmap["data"]["flask-service.json"]) == DASHBOARD


@pytest.mark.parametrize("values", [None, *CI_VALUES], ids=lambda p: p.name if p else "defaults")
def test_recording_rules_it_reads_are_rendered(render, values):
    spec = rule_spec(render, [values] if values else [])
    recorded = {rule["record"] for group in spec["groups"] for rule in group["rules"] if "record" in rule}
    used = {name for name in metric_names(queries()) if ":" in name}
    assert used, "the dashboard reads no recording rule"
    assert used <= recorded, f"not recorded: {used - recorded}"


def test_other_metrics_it_reads_are_exported_by_the_service(exported):
    used = {name for name in metric_names(queries() + variable_queries()) if ":" not in name}
    assert used - EXTERNAL <= exported, f"not exported: {used - EXTERNAL - exported}"
    assert {"flask_service_workers", "flask_http_request_duration_seconds_bucket"} <= used


def test_every_query_returns_data_on_a_normal_day(render, promtool, tmp_path):
    # absent(query) is empty exactly when the query returns something; promtool also parses every query.
    spec = rule_spec(render)
    day = slo_scenarios.Scenario("a normal morning", [slo_scenarios.replace(slo_scenarios.NORMAL, steps=120)], {})
    day.extra = [{"expr": f"absent({concrete(q)})", "eval_time": "2h", "exp_samples": []} for q in queries()]
    run_rule_tests(promtool, tmp_path, spec, [day])
