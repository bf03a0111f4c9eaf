"""The chart's PrometheusRule, rendered by real helm, passes `promtool check rules` and `promtool test rules`.

The rule file is the rendered object's spec, never a copy, so the tests see what a cluster would load.
Synthetic traffic (slo_scenarios.py) proves every alert fires for its burn and stays silent on a normal day.
"""

import pytest
import yaml

from tests.chart import slo_scenarios
from tests.chart.chartlib import CHART, by_kind, prometheus_release, run_tool
from tests.chart.rulelib import RULE_API, alerts, rule_spec, run_rule_tests

DEMO_VALUES = CHART / "ci" / "slo-demo-values.yaml"


def test_promtool_is_the_pinned_version(promtool):
    assert f"promtool, version {prometheus_release()} " in run_tool(promtool, "--version").stdout


@pytest.mark.parametrize(
    ("values", "api_versions", "expected"),
    [
        ({}, [], 0),
        ({}, [RULE_API], 1),
        ({"slo.force": True}, [], 1),
        ({"slo.enabled": False}, [RULE_API], 0),
    ],
    ids=["no-api", "api", "forced", "disabled"],
)
def test_rule_only_with_the_api_or_forced(render, values, api_versions, expected):
    assert len(by_kind(render(values=values, api_versions=api_versions), "PrometheusRule")) == expected


@pytest.mark.parametrize("values", [None, DEMO_VALUES], ids=["defaults", DEMO_VALUES.name])
def test_rules_pass_promtool_check(render, promtool, tmp_path, values):
    rules = tmp_path / "rules.yaml"
    rules.write_text(yaml.safe_dump(rule_spec(render, [values] if values else [])))
    result = run_tool(promtool, "check", "rules", "--lint=all", "--lint-fatal", str(rules), check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout


def test_every_alert_fires_for_its_burn_and_is_silent_on_a_normal_day(render, promtool, tmp_path):
    spec = rule_spec(render)
    scenarios = slo_scenarios.scenarios()
    names = {alert["alert"] for alert in alerts(spec)}
    fired = set().union(*(firing for s in scenarios for firing in s.checks.values()))
    assert fired == names, f"alerts without a burn that fires them: {names - fired}"
    day = scenarios[0]
    assert day.name == "a normal day" and not any(day.checks.values())
    # The recording rules compute the shares the normal day is made of (to a tolerance: rates are floats).
    day.extra = [
        {
            "expr": f"abs(namespace_job:flask_http_request_{sli}:ratio_rate{window} - {share}) < bool 1e-9",
            "eval_time": "6h",
            "exp_samples": [{"labels": slo_scenarios.series("", slo_scenarios.SELECTOR), "value": 1}],
        }
        for sli, share in (("errors", day.phases[0].errors), ("slow", day.phases[0].slow))
        for window in ("5m", "30m", "1h", "6h")
    ]
    run_rule_tests(promtool, tmp_path, spec, scenarios)


def test_error_share_is_zero_before_the_first_error(render, promtool, tmp_path):
    # No 5xx series exists yet: the share must be 0, not absent, so panels and budgets see a perfect record.
    spec = rule_spec(render)
    flawless = slo_scenarios.Scenario(
        "never failed", [slo_scenarios.replace(slo_scenarios.NORMAL, steps=60, errors=0)], {}
    )
    flawless.extra = [
        {
            "expr": f"namespace_job:flask_http_request_errors:ratio_rate{window}",
            "eval_time": "1h",
            "exp_samples": [
                {
                    "labels": f"namespace_job:flask_http_request_errors:ratio_rate{window}"
                    + slo_scenarios.series("", slo_scenarios.SELECTOR),
                    "value": 0,
                }
            ],
        }
        for window in ("5m", "1h")
    ]
    run_rule_tests(promtool, tmp_path, spec, [flawless])


def test_demo_values_fire_within_two_minutes(render, promtool, tmp_path):
    # chart/ci/slo-demo-values.yaml: windows short enough to prove an alert in a cluster in minutes.
    spec = rule_spec(render, [DEMO_VALUES])
    fast = "FlaskServiceAvailabilityFastBurn"
    # 5-second steps: every request fails from step 720 (an hour) on; two minutes later it has fired.
    burn = slo_scenarios.burn(
        "every request fails", 24, [(0, set()), (24, {fast, "FlaskServiceAvailabilitySlowBurn"})], step=5, errors=1.0
    )
    run_rule_tests(promtool, tmp_path, spec, [burn])
