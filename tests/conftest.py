"""Each test is marked with its tier, taken from the directory it lives in (tests/<tier>/...)."""

from pathlib import Path

import pytest

TIERS = ("unit", "integration", "container", "chart", "e2e")
ROOT = Path(__file__).resolve().parent.parent


def pytest_collection_modifyitems(items):
    for item in items:
        tier = Path(item.fspath).relative_to(ROOT / "tests").parts[0]
        if tier in TIERS:
            item.add_marker(getattr(pytest.mark, tier))
