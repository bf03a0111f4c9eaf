"""Load generators: wrk for the closed-loop maximum rate, a paced asyncio client for latency at a fixed rate."""

from __future__ import annotations

import asyncio
import re
import shutil
import subprocess
import time
from urllib.parse import urlsplit

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


async def _paced(url: str, rate: float, seconds: float, connections: int) -> dict[str, float]:
    parts = urlsplit(url)
    request = f"GET {parts.path or '/'} HTTP/1.1\r\nHost: {parts.netloc}\r\n\r\n".encode()
    total = int(rate * seconds)
    cpu_start = time.process_time()
    start = time.monotonic() + 0.2
    latencies: list[float] = []
    failures = 0
    next_index = 0

    async def connection() -> None:
        nonlocal next_index, failures
        reader = writer = None
        try:
            while next_index < total:
                index = next_index
                next_index += 1
                scheduled = start + index / rate
                delay = scheduled - time.monotonic()
                if delay > 0:
                    await asyncio.sleep(delay)
                if writer is None:  # first request, or the server closed the last one (sync workers do)
                    reader, writer = await asyncio.open_connection(parts.hostname, parts.port)
                writer.write(request)
                head = await reader.readuntil(b"\r\n\r\n")
                length = int(re.search(rb"(?i)content-length:\s*(\d+)", head).group(1))
                await reader.readexactly(length)
                if not head.startswith(b"HTTP/1.1 200"):
                    failures += 1
                # Measured from the scheduled send time: a late send counts as latency (no coordinated omission).
                latencies.append((time.monotonic() - scheduled) * 1000)
                if re.search(rb"(?i)\r\nconnection:\s*close", head):
                    writer.close()
                    reader = writer = None
        finally:
            if writer is not None:
                writer.close()

    await asyncio.wait_for(asyncio.gather(*(connection() for _ in range(connections))), seconds + 30)
    elapsed = time.monotonic() - start
    cpu = time.process_time() - cpu_start
    latencies.sort()
    return {
        "target_rps": rate,
        "achieved_rps": len(latencies) / elapsed,
        "p50_ms": latencies[len(latencies) // 2],
        "p99_ms": latencies[int(len(latencies) * 0.99)],
        "requests": len(latencies),
        "failures": failures,
        # The client shares the cores with the server: its own cost is part of the story.
        "client_cpu_us_per_request": cpu / max(len(latencies), 1) * 1e6,
    }


PACED_METHOD = (
    "asyncio client in the bench process, open loop: request i is due at start + i/rate and its latency is "
    "measured from that due time (a late send counts; no coordinated omission); 32 keep-alive connections, "
    "reopened when the server closes them (sync workers), the connect counted in the latency"
)


def paced(url: str, rate: float, seconds: float, connections: int = 32) -> dict[str, float]:
    """Open loop: requests sent on a fixed schedule, `rate` per second for `seconds`, at most `connections` open."""
    return asyncio.run(_paced(url, rate, seconds, connections))
