"""The cost of metrics: the service with METRICS_ENABLED=false vs true (multiprocess), same run, interleaved.

Needs wrk. Bounded like http_bench: SECONDS per run, CONNECTIONS connections, loopback only.
"""

from __future__ import annotations

import argparse

from . import runner, servers


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--seconds", type=int, default=2)
    parser.add_argument("--connections", type=int, default=16)
    args = parser.parse_args()

    from service.settings import Settings

    off = servers.service("metrics off", Settings.workers, Settings.threads, metrics=False)
    on = servers.service("metrics on (multiprocess)", Settings.workers, Settings.threads, metrics=True)
    try:
        runner.started([off, on])
        runs = runner.measure([off, on], args.rounds, args.seconds, args.connections)
    finally:
        off.stop()
        on.stop()

    data = {
        "benchmark": "metrics",
        "method": {
            "rounds": args.rounds,
            "seconds": args.seconds,
            "connections": args.connections,
            "workers": Settings.workers,
            "threads": Settings.threads,
            "path": "/",
        },
        "configs": {n: runner.summary(r) for n, r in runs.items()},
        "ratio_on_vs_off": runner.ratio(runs, on.name, off.name),
        "server_cpu_us_on_minus_off": round(
            runner.median(runs[on.name], "server_cpu_us") - runner.median(runs[off.name], "server_cpu_us"), 1
        ),
    }
    path = runner.write("metrics", data)
    print(f"\n{'config':28} {'rps':>9} {'p50 ms':>8} {'p99 ms':>8}")
    for n, s in data["configs"].items():
        print(f"{n:28} {s['rps']:9.0f} {s['p50_ms']:8.2f} {s['p99_ms']:8.2f}")
    print(f"metrics on / off throughput: {data['ratio_on_vs_off']:.3f}")
    print(f"metrics cost in server CPU: {data['server_cpu_us_on_minus_off']:.1f} µs per request")
    print(f"wrote {path.relative_to(runner.RESULTS.parent.parent)}")


if __name__ == "__main__":
    main()
