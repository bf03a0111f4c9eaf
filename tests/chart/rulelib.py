"""The chart's PrometheusRule as promtool sees it: rendered by real helm, its spec written as a rule file."""

import re

import yaml

from tests.chart import slo_scenarios
from tests.chart.chartlib import one, run_tool

RULE_API = "monitoring.coreos.com/v1/PrometheusRule"


def rule_spec(render, files=()):
    return one(render(files=files, api_versions=[RULE_API]), "PrometheusRule")["spec"]


def alerts(spec):
    return [rule for group in spec["groups"] for rule in group["rules"] if "alert" in rule]


def exprs(spec):
    return "\n".join(rule["expr"] for group in spec["groups"] for rule in group["rules"])


def run_rule_tests(promtool, tmp_path, spec, scenarios):
    """`promtool test rules` of the scenarios (slo_scenarios.py) against these rules."""
    # The synthetic histogram has the one bucket the rules read: the latency threshold.
    threshold = re.search(r'_bucket\{[^}]*le="([^"]+)"', exprs(spec)).group(1)
    rules = tmp_path / "rules.yaml"
    rules.write_text(yaml.safe_dump(spec))
    tests = tmp_path / "tests.yaml"
    suite = slo_scenarios.promtool_tests(str(rules), alerts(spec), threshold, scenarios)
    # Without an order promtool evaluates the groups in map order, which varies from run to run: alerts
    # evaluated before the records of the same instant see them one interval late, and an expectation at
    # the edge of a `for` then passes or fails by chance. Records first, as rendered.
    suite["group_eval_order"] = [group["name"] for group in spec["groups"]]
    tests.write_text(yaml.safe_dump(suite))
    result = run_tool(promtool, "test", "rules", str(tests), check=False)
    assert result.returncode == 0, result.stdout + result.stderr
