"""The chart against the policies Kyverno publishes, applied by Kyverno's own CLI to `helm template` of the chart.

The policies are the kyverno-policies chart of the pinned Kyverno module (hack/tools/kyverno-policies.sh): the Pod
Security Standards' restricted profile (which includes the baseline one) and the chart's other best-practice
policies, in Enforce mode. With the default values and with each ci/ values file no policy fails; a render that
may run as root, or may escalate privileges, is reported, so the check can fail. No cluster: the CLI evaluates
the policies as Kyverno's admission controller would.
"""

import json
import re
import subprocess
from pathlib import Path

import pytest
import yaml

from tests.chart.chartlib import CI_VALUES, ROOT, find_tool, run_helm, run_tool, template_args

POLICIES_SCRIPT = ROOT / "hack" / "tools" / "kyverno-policies.sh"
SUMMARY = re.compile(r"pass: (\d+), fail: (\d+), warn: (\d+), error: (\d+), skip: (\d+)")
# Among them, the ones the bad renders below break: they must be in the set, or those checks prove nothing.
EXPECTED = {"require-run-as-nonroot", "disallow-privilege-escalation", "restrict-seccomp-strict"}


@pytest.fixture(scope="module")
def kyverno():
    return find_tool("kyverno")


@pytest.fixture(scope="module")
def policies(helm, tmp_path_factory) -> tuple[Path, set[str]]:
    """The rendered policies file, and the names of its policies."""
    chart = Path(
        subprocess.run([str(POLICIES_SCRIPT)], capture_output=True, text=True, check=True, timeout=300).stdout.strip()
    )
    # The chart's other policies, each as its legacy and its CEL file: named by the legacy file.
    other = sorted(p.stem for p in (chart / "templates" / "other").glob("*.yaml") if ".cel." not in p.name)
    other.remove("custom-policies")
    rendered = run_helm(
        helm,
        *("template", "kyverno-policies", str(chart)),
        *("--set", "podSecurityStandard=restricted", "--set", "validationFailureAction=Enforce"),
        *("--set-json", f"includeOtherPolicies={json.dumps(other)}"),
    ).stdout
    names = {d["metadata"]["name"] for d in yaml.safe_load_all(rendered) if d}
    assert names >= EXPECTED, f"the policies chart renders {sorted(names)}"
    path = tmp_path_factory.mktemp("kyverno") / "policies.yaml"
    path.write_text(rendered)
    return path, names


def apply(kyverno, policies, renders: dict[str, str], tmp_path):
    """`kyverno apply` of the policies to each render (its objects moved to a namespace named after it, so that
    a failure names the render), and the counts of its summary line."""
    resources = []
    for name, text in renders.items():
        objects = [d for d in yaml.safe_load_all(text) if d]
        for obj in objects:
            obj["metadata"]["namespace"] = name
        resources += ["--resource", str(tmp_path / f"{name}.yaml")]
        (tmp_path / f"{name}.yaml").write_text(yaml.safe_dump_all(objects))
    result = run_tool(kyverno, "apply", str(policies), *resources, "--remove-color", check=False)
    match = SUMMARY.search(result.stdout)
    assert match, f"no summary from kyverno apply ({result.returncode}):\n{result.stdout}{result.stderr}"
    return result, dict(zip(("pass", "fail", "warn", "error", "skip"), map(int, match.groups()), strict=True))


def test_every_render_of_the_chart_meets_the_published_policies(helm, kyverno, policies, tmp_path):
    path, names = policies
    renders = {"default": run_helm(helm, *template_args()).stdout}
    renders |= {f.stem: run_helm(helm, *template_args(files=[f])).stdout for f in CI_VALUES}
    result, counts = apply(kyverno, path, renders, tmp_path)
    assert counts["fail"] == counts["error"] == counts["warn"] == 0, result.stdout
    assert result.returncode == 0, result.stdout + result.stderr
    # Each policy checked each render's Deployment at least: nothing was silently skipped.
    assert counts["pass"] >= len(names) * len(renders), result.stdout


BAD = {
    "runs-as-root": (
        {"podSecurityContext.runAsNonRoot": False, "securityContext.runAsNonRoot": False},
        "require-run-as-nonroot",
    ),
    "escalates": ({"securityContext.allowPrivilegeEscalation": True}, "disallow-privilege-escalation"),
    "no-seccomp": ({"podSecurityContext.seccompProfile": None}, "restrict-seccomp-strict"),
}


@pytest.fixture(scope="module")
def bad_results(helm, kyverno, policies, tmp_path_factory):
    """One `kyverno apply` of the policies to every bad render (one CLI start instead of three)."""
    renders = {name: run_helm(helm, *template_args(values)).stdout for name, (values, _) in BAD.items()}
    return apply(kyverno, policies[0], renders, tmp_path_factory.mktemp("bad"))


@pytest.mark.parametrize("name", BAD)
def test_a_render_that_breaks_a_policy_is_reported(bad_results, name):
    result, counts = bad_results
    assert f"policy {BAD[name][1]} -> resource {name}/Deployment/" in result.stdout, result.stdout
    assert counts["fail"] >= len(BAD)
    assert result.returncode != 0
