"""Synthetic traffic for `promtool test rules`: a normal day, and a burn that each alert must catch.

Each scenario is a run of phases (steps of traffic, a minute each unless the scenario says otherwise,
with a share of 5xx and of slow requests, pods scraped, replicas available) and checks: at a step,
exactly these alerts fire. promtool_tests() turns
them into a test file in which every check lists every alert of the rules, so a scenario proves both
that its alert fires and that the others stay silent.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from tests.chart.chartlib import NAMESPACE, RELEASE

SELECTOR = {"namespace": NAMESPACE, "job": RELEASE}
KSM = {"namespace": NAMESPACE, "deployment": RELEASE, "job": "kube-state-metrics"}
PODS = 2
RPS = 10  # requests per second


@dataclass(frozen=True)
class Phase:
    steps: int
    errors: float = 0.0005  # share answered 5xx: half the availability budget (99.9%)
    slow: float = 0.005  # share over the latency threshold: half the latency budget (99%)
    up: int = PODS  # pods that answer scrapes
    ready: int = PODS  # available replicas (of PODS desired)


NORMAL = Phase(1)


@dataclass
class Scenario:
    name: str
    phases: list[Phase]
    checks: dict[int, set[str]]  # step -> the alerts firing then
    scraped: bool = True  # False: no `up` series at all
    step: int = 60  # seconds
    extra: list[dict] = field(default_factory=list)  # promql_expr_test entries


def burn(name, steps, checks, step=60, **change):
    """An hour of normal traffic, then `steps` of the changed phase; check steps count from the change."""
    before = 3600 // step
    phases = [replace(NORMAL, steps=before), replace(NORMAL, steps=steps, **change)]
    return Scenario(name, phases, {before + s: alerts for s, alerts in checks}, step=step)


def scenarios() -> list[Scenario]:
    # A normal day, with a 3-minute bad rollout at noon: too short for any window pair to page on.
    # Check steps leave a few minutes' margin to when each alert's `for` ends, by the rules' arithmetic.
    blip = replace(NORMAL, steps=3, errors=0.05, slow=0.3, ready=PODS - 1)
    day = [replace(NORMAL, steps=720), blip, replace(NORMAL, steps=717)]
    fast, slow = "FastBurn", "SlowBurn"
    return [
        Scenario("a normal day", day, {step: set() for step in range(10, 24 * 60 + 1, 10)}),
        burn(
            "availability: 20% errors",
            60,
            [
                (0, set()),
                (10, {"FlaskServiceAvailability" + fast}),
                (40, {"FlaskServiceAvailability" + fast, "FlaskServiceAvailability" + slow}),
            ],
            errors=0.2,
        ),
        burn(
            "availability: 1% errors",
            300,
            [(60, set()), (150, {"FlaskServiceAvailability" + slow}), (300, {"FlaskServiceAvailability" + slow})],
            errors=0.01,
        ),
        burn(
            "latency: every request slow",
            60,
            [
                (0, set()),
                (14, {"FlaskServiceLatency" + fast}),
                (45, {"FlaskServiceLatency" + fast, "FlaskServiceLatency" + slow}),
            ],
            slow=1.0,
        ),
        burn(
            "latency: 8% slow",
            300,
            [(120, set()), (240, {"FlaskServiceLatency" + slow}), (300, {"FlaskServiceLatency" + slow})],
            slow=0.08,
        ),
        burn("down: no pod answers scrapes", 20, [(3, set()), (8, {"FlaskServiceDown"})], up=0),
        burn("one pod down of two", 20, [(10, set()), (20, set())], up=1),
        Scenario("never scraped", [replace(NORMAL, steps=20)], {3: set(), 8: {"FlaskServiceDown"}}, scraped=False),
        burn("a pod not ready", 30, [(10, set()), (20, {"FlaskServicePodsNotReady"})], ready=PODS - 1),
    ]


def _number(value: float) -> str:
    # Fixed point: promtool's series notation would read the "+" of "1e+06" as an increment.
    return f"{value:.6f}".rstrip("0").rstrip(".")


def counter(phases: list[Phase], per_step) -> str:
    """promtool notation of a counter that grows by per_step(phase) every step of each phase."""
    parts, value = ["0"], 0.0
    for phase in phases:
        increment = per_step(phase)
        parts.append(f"{_number(value + increment)}+{_number(increment)}x{phase.steps - 1}")
        value += increment * phase.steps
    return " ".join(parts)


def gauge(phases: list[Phase], value) -> str:
    return " ".join([_number(value(phases[0]))] + [f"{_number(value(p))}x{p.steps - 1}" for p in phases])


def series(name: str, labels: dict[str, str]) -> str:
    return name + "{" + ", ".join(f'{k}="{v}"' for k, v in labels.items()) + "}"


def input_series(scenario: Scenario, threshold: str) -> list[dict]:
    phases = scenario.phases
    per_step = RPS * scenario.step
    request = {**SELECTOR, "method": "GET"}
    route = {**request, "path": "/", "status": "200"}
    out = [
        (
            series("flask_http_request_total", {**request, "status": "200"}),
            counter(phases, lambda p: per_step * (1 - p.errors)),
        ),
        (
            series("flask_http_request_duration_seconds_bucket", {**route, "le": threshold}),
            counter(phases, lambda p: per_step * (1 - p.slow)),
        ),
        (series("flask_http_request_duration_seconds_count", route), counter(phases, lambda p: per_step)),
        (series("kube_deployment_spec_replicas", KSM), gauge(phases, lambda p: PODS)),
        (series("kube_deployment_status_replicas_available", KSM), gauge(phases, lambda p: p.ready)),
    ]
    # Like the service, which has no 5xx series until its first 5xx.
    if any(p.errors for p in phases):
        out.append(
            (
                series("flask_http_request_total", {**request, "status": "500"}),
                counter(phases, lambda p: per_step * p.errors),
            )
        )
    for pod in range(PODS):
        workers = {**SELECTOR, "pod": f"pod-{pod}"}
        out.append((series("flask_service_workers", workers), gauge(phases, lambda p: 2)))
    if scenario.scraped:
        for pod in range(PODS):
            out.append(
                (series("up", {**SELECTOR, "instance": f"pod-{pod}"}), gauge(phases, lambda p, i=pod: int(i < p.up)))
            )
    return [{"series": name, "values": values} for name, values in out]


def expected_labels(alert: dict) -> dict[str, str]:
    """The labels an alert carries when it fires on the synthetic series."""
    source = KSM if alert["alert"] == "FlaskServicePodsNotReady" else SELECTOR
    return {**source, **alert.get("labels", {})}


def promtool_tests(rules_path: str, alerts: list[dict], threshold: str, all_scenarios: list[Scenario]) -> dict:
    tests = []
    for scenario in all_scenarios:
        checks = []
        for step, firing in scenario.checks.items():
            unknown = firing - {a["alert"] for a in alerts}
            assert not unknown, f"{scenario.name}: no such alert {unknown}"
            for alert in alerts:
                expected = [{"exp_labels": expected_labels(alert), "exp_annotations": alert["annotations"]}]
                checks.append(
                    {
                        "eval_time": f"{step * scenario.step}s",
                        "alertname": alert["alert"],
                        "exp_alerts": expected if alert["alert"] in firing else [],
                    }
                )
        tests.append(
            {
                "name": scenario.name,
                "interval": f"{scenario.step}s",
                "input_series": input_series(scenario, threshold),
                "alert_rule_test": checks,
                "promql_expr_test": scenario.extra,
            }
        )
    return {"rule_files": [rules_path], "evaluation_interval": "1m", "fuzzy_compare": True, "tests": tests}
