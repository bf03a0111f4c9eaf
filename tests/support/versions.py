"""The pinned versions of hack/versions.env (the single place versions live), for any tier."""

from pathlib import Path

VERSIONS_ENV = Path(__file__).resolve().parents[2] / "hack" / "versions.env"


def pins() -> dict[str, str]:
    """KEY=value pins from hack/versions.env."""
    found = {}
    for line in VERSIONS_ENV.read_text().splitlines():
        if "=" in line and not line.lstrip().startswith("#"):
            key, value = line.split("=", 1)
            found[key.strip()] = value.strip()
    return found
