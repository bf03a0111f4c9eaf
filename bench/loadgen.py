"""Load generators: wrk for the closed-loop maximum rate, oha paced for latency at a fixed rate (open loop)."""

from __future__ import annotations

import json
import os
import re
import resource
import shutil
import subprocess

from .tree import TOOLS_BIN

PACED_CONNECTIONS = 32

UNITS = {"us": 1e-3, "ms": 1.0, "s": 1e3}


def _ms(text: str) -> float:
    value, unit = re.fullmatch(r"([\d.]+)(us|ms|s)", text).groups()
    return float(value) * UNITS[unit]


def wrk(url: str, seconds: float, connections: int, threads: int = 2) -> dict[str, float]:
    """Closed loop: as fast as the server answers. Returns rps, p50 and p99 in ms, and error counts."""
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed (Debian: apt-get install -y wrk)")
    out = subprocess.run(
        ["wrk", f"-t{threads}", f"-c{connections}", f"-d{int(seconds)}s", "--latency", url],
        capture_output=True,
        text=True,
        check=True,
        timeout=seconds + 30,
    ).stdout
    dist = dict(re.findall(r"^\s+(50|99)%\s+(\S+)$", out, re.M))
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    socket_errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    return {
        "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),
        "p50_ms": _ms(dist["50"]),
        "p99_ms": _ms(dist["99"]),
        "non_2xx": int(errors.group(1)) if errors else 0,
        "socket_errors": sum(map(int, socket_errors.groups())) if socket_errors else 0,
    }


def oha() -> str:
    found = shutil.which("oha", path=os.pathsep.join([str(TOOLS_BIN), os.environ.get("PATH", "")]))
    if found is None:
        raise SystemExit("oha is not installed (hack/tools/install-tools.sh oha, which needs cargo)")
    return found


def paced(url: str, rate: float, seconds: float, connections: int = PACED_CONNECTIONS) -> dict[str, float]:
    """Open loop: `rate` requests a second for `seconds` (rate x seconds requests), at most `connections` open."""
    total = int(rate * seconds)
    argv = [oha(), "-n", str(total), "-q", str(rate), "-c", str(connections), "--latency-correction"]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    out = subprocess.run(
        [*argv, "--no-tui", "--output-format", "json", url],
        capture_output=True,
        text=True,
        check=True,
        timeout=seconds + 30,
    ).stdout
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    report = json.loads(out)
    answered = sum(report["statusCodeDistribution"].values())
    cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    return {
        "target_rps": rate,
        "achieved_rps": report["summary"]["requestsPerSec"],
        "p50_ms": report["latencyPercentiles"]["p50"] * 1000,
        "p99_ms": report["latencyPercentiles"]["p99"] * 1000,
        "requests": answered,
        "failures": total - report["statusCodeDistribution"].get("200", 0),
        # The client shares the cores with the server: its own cost is part of the story.
        "client_cpu_us_per_request": cpu / max(answered, 1) * 1e6,
    }


PACED_METHOD = (
    f"oha, open loop: rate requests a second on {PACED_CONNECTIONS} keep-alive connections, latency measured "
    "from each request's due time (--latency-correction: a late send counts; no coordinated omission)"
)
