"""What the project's kind cluster costs while nothing uses it: CPU and memory of each node container and of
the local registry (the Docker engine's cgroups), and, when metrics-server runs, each namespace's pods.

CPU is read as cgroup CPU time over a quiet window (not one `docker stats` sample); memory is the cgroup's
usage less its page cache, as `docker stats` shows it. Ratios are against the machine's cores and memory,
and each part against the platform's total, all from this run.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import time
from collections import defaultdict
from pathlib import Path

from . import runner, tree

CLUSTER = os.environ.get("CLUSTER_NAME", "flask-service")
DOCKER = os.environ.get("DOCKER", "/usr/bin/docker")
REGISTRY = "flask-service-registry"


def run(*argv: str) -> str:
    return subprocess.run(argv, check=True, capture_output=True, text=True, timeout=120).stdout


def cgroup_dir(controller: str, container_id: str) -> Path:
    """The container's cgroup: cgroup v1 with the cgroupfs driver, else cgroup v2 with systemd's scopes."""
    v1 = Path(f"/sys/fs/cgroup/{controller}/docker/{container_id}")
    return v1 if v1.exists() else Path(f"/sys/fs/cgroup/system.slice/docker-{container_id}.scope")


def cpu_seconds(container_id: str) -> float:
    v1 = cgroup_dir("cpuacct", container_id) / "cpuacct.usage"
    if v1.exists():
        return int(v1.read_text()) / 1e9
    stat = dict(line.split() for line in (cgroup_dir("cpu", container_id) / "cpu.stat").read_text().splitlines())
    return int(stat["usage_usec"]) / 1e6


def memory_bytes(container_id: str) -> int:
    """Usage less page cache (docker stats' figure)."""
    base = cgroup_dir("memory", container_id)
    if (base / "memory.usage_in_bytes").exists():
        stat = dict(line.split() for line in (base / "memory.stat").read_text().splitlines())
        return int((base / "memory.usage_in_bytes").read_text()) - int(stat["total_inactive_file"])
    stat = dict(line.split() for line in (base / "memory.stat").read_text().splitlines())
    return int((base / "memory.current").read_text()) - int(stat["inactive_file"])


def containers() -> dict[str, str]:
    """Name -> full ID of the cluster's node containers and the registry."""
    nodes = run(str(tree.TOOLS_BIN / "kind"), "get", "nodes", "--name", CLUSTER).split()
    return {name: run(DOCKER, "inspect", "--format", "{{.Id}}", name).strip() for name in [*nodes, REGISTRY]}


def pods_by_namespace() -> dict[str, dict[str, float]] | None:
    """CPU (millicores) and memory (MiB) of the pods per namespace from metrics-server, or None without it."""
    kubectl = str(tree.TOOLS_BIN / "kubectl")
    proc = subprocess.run(
        [kubectl, "--context", f"kind-{CLUSTER}", "top", "pods", "-A", "--no-headers"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    if proc.returncode != 0:
        return None
    usage: dict[str, dict[str, float]] = defaultdict(lambda: {"cpu_m": 0.0, "memory_mib": 0.0})
    for line in proc.stdout.splitlines():
        namespace, _, cpu, memory = line.split()
        usage[namespace]["cpu_m"] += float(cpu.removesuffix("m"))
        usage[namespace]["memory_mib"] += float(memory.removesuffix("Mi"))
    return dict(sorted(usage.items()))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=60, help="length of the quiet window")
    args = parser.parse_args()
    ids = containers()
    before = {name: cpu_seconds(cid) for name, cid in ids.items()}
    start = time.monotonic()
    busy = runner.busy_cpus(args.seconds)  # the whole machine over the same window
    elapsed = time.monotonic() - start
    parts = {
        name: {
            "cpu_cores": round((cpu_seconds(cid) - before[name]) / elapsed, 3),
            "memory_mib": round(memory_bytes(cid) / 2**20, 1),
        }
        for name, cid in ids.items()
    }
    total_cpu = sum(p["cpu_cores"] for p in parts.values())
    total_mem = sum(p["memory_mib"] for p in parts.values())
    for part in parts.values():
        part["share_of_cpu"] = round(part["cpu_cores"] / total_cpu, 3) if total_cpu else None
        part["share_of_memory"] = round(part["memory_mib"] / total_mem, 3)
    machine_mib = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**20
    data = {
        "benchmark": "platform-idle",
        "method": {
            "cluster": CLUSTER,
            "window_s": round(elapsed, 1),
            "cpu": "cgroup CPU time of each container over the window",
            "memory": "cgroup usage less inactive page cache, at the end of the window",
            "pods": "kubectl top pods -A (metrics-server), summed per namespace",
        },
        "machine": {"cpus": os.cpu_count(), "memory_mib": round(machine_mib), "busy_cpus_during": busy},
        "containers": parts,
        "total": {
            "cpu_cores": round(total_cpu, 3),
            "memory_mib": round(total_mem, 1),
            "ratio_cpu_vs_machine": round(total_cpu / os.cpu_count(), 3),
            "ratio_memory_vs_machine": round(total_mem / machine_mib, 3),
        },
        "pods_by_namespace": pods_by_namespace(),
    }
    path = runner.write("platform-idle", data)
    print(json.dumps(data["total"]), flush=True)
    for name, part in parts.items():
        print(f"  {name:32} {part['cpu_cores']:6.3f} cores {part['memory_mib']:8.1f} MiB")
    print(f"wrote {path.relative_to(tree.ROOT)}")


if __name__ == "__main__":
    main()
