"""The image: size and size above its base, a cold build (--no-cache) vs rebuilds after a one-line .py
change (the baseline is the cold build of the same run), and `docker run` to the first 200 on /readyz.

Builds from a throwaway copy of the tree (bench/tree.py). BASE_IMAGE, when set, is the base; otherwise the
local base from hack/images/base-image.sh (AIRGAP=1). EXTRA_CA_FILE, when set, is the extra_ca build secret.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import time

from . import poll, runner, tree
from .servers import free_port

DOCKER = os.environ.get("DOCKER", "/usr/bin/docker")
TAG = f"flask-service:bench-image-{os.getpid()}"
BUILD_TIMEOUT = 1800


def docker(*args: str, timeout: float = 120) -> str:
    return subprocess.run([DOCKER, *args], check=True, capture_output=True, text=True, timeout=timeout).stdout.strip()


def base_image() -> str:
    if os.environ.get("BASE_IMAGE"):
        return os.environ["BASE_IMAGE"]
    script = tree.ROOT / "hack" / "images" / "base-image.sh"
    return subprocess.run([script], check=True, stdout=subprocess.PIPE, text=True, timeout=1800).stdout.strip()


def build(work, base: str, built: set[str], *options: str) -> float:
    secret = ["--secret", f"id=extra_ca,src={os.environ['EXTRA_CA_FILE']}"] if os.environ.get("EXTRA_CA_FILE") else []
    start = time.monotonic()
    argv = ["build", "-q", "-t", TAG, "--build-arg", f"BASE_IMAGE={base}", *secret, *options, str(work)]
    docker(*argv, timeout=BUILD_TIMEOUT)
    elapsed = round(time.monotonic() - start, 2)
    built.add(docker("image", "inspect", "-f", "{{.Id}}", TAG))  # the next build moves the tag off it
    return elapsed


def start_to_ready() -> float:
    port = free_port()
    start = time.monotonic()
    container = docker("run", "-d", "--read-only", "--tmpfs", "/tmp", "-p", f"127.0.0.1:{port}:5000", TAG)
    try:
        ready = poll.wait(f"http://127.0.0.1:{port}/readyz", lambda status, _: status == 200, timeout=60)
        return round(ready - start, 2)
    finally:
        docker("rm", "-f", container)


def mb(size: int) -> float:
    return round(size / 1e6, 1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rebuilds", type=int, default=3)
    args = parser.parse_args()

    busy = runner.busy_cpus()
    base = base_image()
    print(f"base image {base}; rest of the machine busy: {busy} CPUs", flush=True)
    built: set[str] = set()
    try:
        with tree.copy("bench-image") as work:
            cold = build(work, base, built, "--no-cache")
            print(f"  cold build {cold} s", flush=True)
            rebuilds = []
            for number in range(args.rebuilds):
                # Unique content, or BuildKit could find this very change in its cache from an earlier run.
                tree.append(work / "service" / "version.py", f"# one line changed: {time.time_ns()}")
                rebuilds.append(build(work, base, built))
                print(f"  rebuild {number + 1}/{args.rebuilds} {rebuilds[-1]} s", flush=True)
        size = int(docker("image", "inspect", "-f", "{{.Size}}", TAG))
        base_size = int(docker("image", "inspect", "-f", "{{.Size}}", base))
        ready = start_to_ready()
    finally:
        subprocess.run([DOCKER, "rmi", TAG, *built], capture_output=True, timeout=120)

    rebuild = round(statistics.median(rebuilds), 2)
    data = {
        "benchmark": "image",
        "method": {
            "base_image": base,
            "cold": "docker build --no-cache of a copy of the tree",
            "rebuild": "the same copy after one comment line appended to service/version.py (unique content)",
            "rebuilds": args.rebuilds,
        },
        "machine": {"cpus": os.cpu_count(), "busy_cpus_before": busy},
        "size_mb": mb(size),
        "base_size_mb": mb(base_size),
        "size_above_base_mb": mb(size - base_size),
        "cold_build_s": cold,
        "rebuild_s": rebuild,
        "rebuild_runs_s": rebuilds,
        "ratio_rebuild_vs_cold": round(rebuild / cold, 3),
        "run_to_ready_s": ready,
    }
    path = runner.write("image", data)
    rows = [
        ("image size", f"{data['size_mb']} MB"),
        ("size above base", f"{data['size_above_base_mb']} MB"),
        ("cold build (--no-cache)", f"{cold} s"),
        ("rebuild after one .py change (median)", f"{rebuild} s"),
        ("rebuild / cold", f"{data['ratio_rebuild_vs_cold']}"),
        ("docker run to first 200 on /readyz", f"{ready} s"),
    ]
    print()
    for label, value in rows:
        print(f"{label:40} {value}")
    print(f"wrote {path.relative_to(tree.ROOT)}")


if __name__ == "__main__":
    main()
