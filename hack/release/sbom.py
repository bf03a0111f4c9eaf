"""The CycloneDX SBOM of a built image: its Python packages and its base's OS packages.

The Python part is made by cyclonedx-py (cyclonedx-bom, pinned in the dev lock) from
requirements.lock, the hashed lock that the image installs exactly, so every package carries its
version, purl and the lock's hashes. The OS part is read from the image itself (dpkg's database) and
added as `pkg:deb` components. Reproducible: the same image and lock give the same bytes.

Usage: python -m hack.release.sbom IMAGE [-o FILE]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DOCKER = os.environ.get("DOCKER", "docker")
MEDIA_TYPE = "application/vnd.cyclonedx+json"


def python_bom() -> dict:
    cyclonedx = Path(sys.executable).with_name("cyclonedx-py")
    proc = subprocess.run(
        [str(cyclonedx), "requirements", "--pyproject", str(ROOT / "pyproject.toml"), "--output-reproducible",
         "--of", "JSON", str(ROOT / "requirements.lock")],
        capture_output=True, text=True, check=True, timeout=120,
    )  # fmt: skip
    return json.loads(proc.stdout)


def os_packages(image: str) -> list[dict]:
    fmt = "${Package}\t${Version}\t${Architecture}\t${db:Status-Abbrev}\n"
    proc = subprocess.run(
        [DOCKER, "run", "--rm", "--network", "none", "--entrypoint", "dpkg-query", image, "-W", "-f", fmt],
        capture_output=True, text=True, check=True, timeout=120,
    )  # fmt: skip
    components = []
    for line in sorted(proc.stdout.splitlines()):
        name, version, arch, status = line.split("\t")
        if not status.startswith("ii"):  # removed packages keep an entry without files
            continue
        purl = f"pkg:deb/debian/{name}@{version}?arch={arch}"
        components.append({"type": "library", "bom-ref": purl, "name": name, "version": version, "purl": purl})
    return components


def image_bom(image: str) -> dict:
    bom = python_bom()
    bom["components"] = bom.get("components", []) + os_packages(image)
    bom["metadata"]["component"]["description"] = f"container image {image}"
    return bom


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("image")
    parser.add_argument("-o", "--output", type=Path)
    args = parser.parse_args()
    text = json.dumps(image_bom(args.image), indent=2, sort_keys=True) + "\n"
    if args.output:
        args.output.write_text(text)
    else:
        sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
