"""Slow and idle clients, and overload: the default worker vs gunicorn's plain gthread (the old default).

Slow-client panel: N connections held open (half idle, half sending a request head a byte a second, reopened
when the server closes them), and an ordinary client beside them doing GETs of / one after another on fresh
connections (2 s timeout): its p50/p99 and failures, and the servers' memory, for N from 0 to 512.

Overload panel: the test app's /slow?seconds=SERVICE (a request that holds a thread for SERVICE seconds
without the CPU, so the maximum is workers x threads / SERVICE requests a second whatever the machine)
offered at twice that maximum, open loop, each request on a new connection with a 5 s client timeout;
beside it the kubelet's view: /livez and /readyz every 0.5 s with its 2 s timeout. What the client sees:
served, refused (503 with Retry-After) and timed out, with their latencies.

Bounded: every phase lasts a fixed number of seconds, opens a bounded number of connections, and talks to
127.0.0.1 only. Writes bench/results/slow_clients.json.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import statistics
import time
from collections import Counter
from pathlib import Path

from clients.slow import SlowClients

from . import poll, runner, servers

LEVELS = [0, 8, 64, 256, 512]
CONFIGS = {"default (guarded)": "guarded", "old default (gthread)": "gthread"}
CLIENT_TIMEOUT = 5.0
PROBE_TIMEOUT = 2.0  # the chart's probes' timeoutSeconds


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(len(ordered) * q))], 2)


def rss_mb(server: servers.Server) -> float:
    """Resident memory of the server's processes (arbiter and workers), MB."""
    total = 0
    for entry in Path("/proc").iterdir():
        try:
            stat = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            if int(stat[2]) == server.proc.pid:
                total += int(stat[21]) * os.sysconf("SC_PAGE_SIZE")  # field 24: rss in pages
        except (OSError, IndexError, ValueError):
            continue
    return round(total / 2**20, 1)


def workers(server: servers.Server) -> set[int]:
    return {int(p) for p in Path(f"/proc/{server.proc.pid}/task/{server.proc.pid}/children").read_text().split()}


def ordinary(url: str, seconds: float, limit: int = 2000) -> dict:
    latencies, statuses = [], Counter()
    end = time.monotonic() + seconds
    while time.monotonic() < end and len(latencies) < limit:
        start = time.monotonic()
        answer = poll.get(url, timeout=2)
        latencies.append((time.monotonic() - start) * 1000)
        statuses[str(answer[0]) if answer else "no answer"] += 1
        time.sleep(0.01)
    return {
        "requests": len(latencies),
        "p50_ms": percentile(latencies, 0.5),
        "p99_ms": percentile(latencies, 0.99),
        "failures": len(latencies) - statuses["200"],
        "statuses": dict(statuses),
    }


def slow_panel(kind: str, seconds: float) -> dict:
    server = servers.service(f"service 2w x4 {kind}", 2, 4, WORKER_CLASS=kind, ACCESS_LOG="false")
    server.start()
    try:
        time.sleep(1)
        before = workers(server)
        levels = {}
        for level in LEVELS:
            with SlowClients("127.0.0.1", server.port, idle=level // 2, slow=level - level // 2, seconds=seconds + 40):
                time.sleep(1)
                result = ordinary(server.url, seconds)
                result["rss_mb"] = rss_mb(server)
            levels[str(level)] = result
            print(
                f"  {kind:8} {level:4} slow/idle: p50 {result['p50_ms']:8.2f} ms p99 {result['p99_ms']:8.2f} ms, "
                f"{result['failures']}/{result['requests']} failed, {result['rss_mb']} MB",
                flush=True,
            )
        return {"levels": levels, "worker_restarts": len(workers(server) - before)}
    finally:
        server.stop()


async def fetch(port: int, path: str, timeout: float) -> tuple[str, float, bool]:
    """Status (or what went wrong), seconds, and whether a Retry-After came with it."""
    start = time.monotonic()
    try:
        async with asyncio.timeout(timeout):
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            try:
                writer.write(f"GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
                answer = await reader.read()
            finally:
                writer.close()
        status = answer.split(b" ", 2)[1].decode() if answer.startswith(b"HTTP/") else "closed"
        return status, time.monotonic() - start, b"\r\nretry-after:" in answer.lower()
    except TimeoutError:
        return "timeout", time.monotonic() - start, False
    except OSError as error:
        return type(error).__name__, time.monotonic() - start, False


async def offer(port: int, rate: float, seconds: float, service: float) -> tuple[list, list]:
    tasks, probes = [], []
    start = time.monotonic()
    total = int(rate * seconds)

    async def prober() -> None:
        while time.monotonic() - start < seconds:
            for path in ("/livez", "/readyz"):
                probes.append(await fetch(port, path, PROBE_TIMEOUT))
            await asyncio.sleep(0.5)

    probing = asyncio.create_task(prober())
    for number in range(total):
        due = start + number / rate
        await asyncio.sleep(max(0.0, due - time.monotonic()))
        tasks.append(asyncio.create_task(fetch(port, f"/slow?seconds={service}", CLIENT_TIMEOUT)))
    results = await asyncio.gather(*tasks)
    await probing
    return results, probes


def overload_panel(kind: str, seconds: float, service: float) -> dict:
    server = servers.gunicorn(
        f"slow app {kind}", "tests.support.slowapp", 2, 4, metrics=True, WORKER_CLASS=kind, ACCESS_LOG="false"
    )
    server.start()
    try:
        time.sleep(1)
        before = workers(server)
        capacity = 2 * 4 / service
        results, probes = asyncio.run(offer(server.port, 2 * capacity, seconds, service))
        by_status: dict[str, list[float]] = {}
        for status, took, _ in results:
            by_status.setdefault(status, []).append(took * 1000)
        out = {
            "capacity_rps": capacity,
            "offered_rps": 2 * capacity,
            "requests": len(results),
            "outcomes": {
                status: {"count": len(t), "p50_ms": percentile(t, 0.5), "p99_ms": percentile(t, 0.99)}
                for status, t in sorted(by_status.items())
            },
            "refused_with_retry_after": sum(1 for status, _, retry in results if status == "503" and retry),
            "probes": {
                "count": len(probes),
                "failed": sum(1 for status, _, _ in probes if status != "200"),
                "max_ms": round(max(t for _, t, _ in probes) * 1000, 1),
            },
            "rss_mb": rss_mb(server),
            "worker_restarts": len(workers(server) - before),
        }
        print(f"  {kind:8} overload at {2 * capacity:.0f} rps for {seconds:g} s: {out}", flush=True)
        return out
    finally:
        server.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=5, help="ordinary client's seconds per level")
    parser.add_argument("--overload-seconds", type=float, default=30)
    parser.add_argument("--service-seconds", type=float, default=0.05, help="what /slow holds a thread for")
    args = parser.parse_args()
    busy = runner.busy_cpus()
    print(f"rest of the machine busy: {busy} CPUs", flush=True)
    slow = {name: slow_panel(kind, args.seconds) for name, kind in CONFIGS.items()}
    overload = {
        name: overload_panel(kind, args.overload_seconds, args.service_seconds) for name, kind in CONFIGS.items()
    }
    data = {
        "benchmark": "slow_clients",
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "busy_cpus_before": busy},
        "method": {
            "slow": "half idle, half a byte a second; reopened when closed; ordinary GET / on fresh connections",
            "ordinary_seconds": args.seconds,
            "levels": LEVELS,
            "overload": "open loop at 2x workers x threads / service seconds, new connection per request",
            "overload_seconds": args.overload_seconds,
            "service_seconds": args.service_seconds,
            "client_timeout_s": CLIENT_TIMEOUT,
            "probe_timeout_s": PROBE_TIMEOUT,
            "configs": "2 workers x 4 threads, metrics on, access log off",
        },
        "slow_clients": slow,
        "overload": overload,
        "goals": {"p99_ms_with_512_slow": 50},
    }
    path = runner.write("slow_clients", data)
    for name, panel in slow.items():
        p99s = {level: figures["p99_ms"] for level, figures in panel["levels"].items()}
        print(f"{name:24} ordinary p99 ms by slow clients: {p99s}; median {statistics.median(p99s.values()):.1f}")
    print(f"wrote {path.relative_to(runner.RESULTS.parent.parent)}")


if __name__ == "__main__":
    main()
