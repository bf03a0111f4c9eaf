"""Fixtures for the chart tier: the real helm binary and a render() helper returning parsed objects."""

import copy

import pytest
import yaml

from tests.chart.chartlib import find_tool, run_helm, template_args


@pytest.fixture(scope="session")
def helm():
    return find_tool("helm")


@pytest.fixture(scope="session")
def promtool():
    return find_tool("promtool")


@pytest.fixture(scope="session")
def render(helm):
    """render(values={"a.b": 1}, files=[...], api_versions=[...]) -> list of objects (dicts)."""
    cache = {}

    def _render(values=None, files=(), api_versions=(), extra=()):
        args = template_args(values, files, api_versions, extra)
        key = tuple(args)
        if key not in cache:
            cache[key] = [d for d in yaml.safe_load_all(run_helm(helm, *args).stdout) if d]
        return copy.deepcopy(cache[key])  # tests may modify what they get

    return _render
