"""Interleaved rounds: every server is measured once per round, so slow drift (other jobs on the machine)
hits all of them alike; figures are medians over rounds and ratios are taken within a round."""

from __future__ import annotations

import json
import os
import statistics
import time
from pathlib import Path

from . import loadgen
from .servers import Server

RESULTS = Path(__file__).resolve().parent / "results"


def measure(servers: list[Server], rounds: int, seconds: float, connections: int) -> dict[str, list[dict]]:
    runs: dict[str, list[dict]] = {s.name: [] for s in servers}
    for number in range(rounds):
        for server in servers:
            loadgen.wrk(server.url, 1, connections)  # warm-up: connections, caches, lazy imports
            cpu = server.cpu_seconds()
            result = loadgen.wrk(server.url, seconds, connections)
            # Server CPU per request: unlike the rate, it barely moves when other work shares the cores.
            result["server_cpu_us"] = (server.cpu_seconds() - cpu) / (result["rps"] * seconds) * 1e6
            if result["non_2xx"] or result["socket_errors"]:
                raise RuntimeError(f"{server.name}: errors under load: {result}")
            runs[server.name].append(result)
            print(f"  round {number + 1}/{rounds} {server.name:28} {result['rps']:9.0f} rps", flush=True)
    return runs


def median(runs: list[dict], key: str) -> float:
    return round(statistics.median(r[key] for r in runs), 3)


def ratio(runs: dict[str, list[dict]], name: str, baseline: str) -> float:
    """Median over rounds of the within-round ratio of throughputs."""
    pairs = zip(runs[name], runs[baseline], strict=True)
    return round(statistics.median(a["rps"] / b["rps"] for a, b in pairs), 3)


def summary(runs: list[dict]) -> dict[str, float]:
    return {key: median(runs, key) for key in ("rps", "p50_ms", "p99_ms", "server_cpu_us")}


def busy_cpus(seconds: float = 3) -> float:
    """CPUs' worth of work the rest of the machine is doing (from /proc/stat), before the servers start."""

    def sample() -> tuple[int, int]:
        fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
        return sum(fields), fields[3] + fields[4]  # all, idle + iowait

    total0, idle0 = sample()
    time.sleep(seconds)
    total1, idle1 = sample()
    return round((1 - (idle1 - idle0) / (total1 - total0)) * os.cpu_count(), 2)


def started(servers: list[Server]) -> list[Server]:
    for server in servers:
        server.start()
    time.sleep(1)
    return servers


def write(name: str, data: dict) -> Path:
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / f"{name}.json"
    path.write_text(json.dumps(data, indent=2) + "\n")
    return path
