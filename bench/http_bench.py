"""Throughput and latency on loopback: the service vs a bare WSGI hello, the same hello as a one-route Flask
app (the Flask floor) and a naive Flask + exporter app, all under the same gunicorn config, vs the seed's
Flask development server; a sweep of worker class/count; the default without its access log; the default with
tracing switched off (an OTLP endpoint set, OTEL_SDK_DISABLED=true) and on (every request sampled, spans exported
to a sink on loopback); p99 at half the service's maximum rate, every worker config and the bare hello paced at
that same rate. `--tracing-only` measures just the default and its two tracing rows (wrk only, no oha needed);
`--front` the default straight and through the pod's front, HAProxy with front/haproxy.cfg (wrk and haproxy).

Needs wrk (Debian package `wrk`) and oha (hack/tools/install-tools.sh oha). Bounded: every wrk run lasts SECONDS
with CONNECTIONS connections; each paced run sends rate x PACED_SECONDS requests. Loopback only.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics

from . import loadgen, runner, servers
from .otlp_sink import Sink

# (workers, threads): threads == 1 is the sync worker, more is gthread (as service/gunicorn_conf.py does).
SWEEP = [(2, 1), (3, 1), (4, 1), (2, 2), (2, 4), (4, 2)]


def name(workers: int, threads: int) -> str:
    kind = "sync" if threads == 1 else f"gthread x{threads}"
    return f"service {workers}w {kind}"


def paced(targets: list[servers.Server], rate: float, rounds: int, seconds: float) -> dict[str, dict]:
    """Each target paced at the same rate, interleaved; per target the round with the median p99."""
    runs: dict[str, list[dict]] = {t.name: [] for t in targets}
    for number in range(rounds):
        for target in targets:
            result = loadgen.paced(target.url, rate, seconds)
            runs[target.name].append(result)
            print(f"  paced {number + 1}/{rounds} {target.name:28} p99 {result['p99_ms']:7.2f} ms", flush=True)
    out = {}
    for target, results in runs.items():
        p99 = statistics.median(r["p99_ms"] for r in results)
        middle = min(results, key=lambda r: abs(r["p99_ms"] - p99))
        out[target] = {**{k: round(v, 3) for k, v in middle.items()}, "p99_ms_median": round(p99, 3)}
    return out


def preamble(args, busy: float) -> dict:
    """The machine and the wrk method, as every result file of this benchmark states them."""
    return {
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "busy_cpus_before": busy},
        "method": {
            "rounds": args.rounds,
            "seconds": args.seconds,
            "connections": args.connections,
            "load": "wrk closed loop, interleaved rounds, medians",
            "server_cpu_us": "CPU time of the server's processes per request during the wrk run (/proc)",
            "path": "/",
        },
    }


def tracing_rows(default: servers.Server, sink: Sink) -> tuple[servers.Server, servers.Server]:
    """The default with tracing configured but switched off, and on with every request sampled."""
    workers, threads = int(default.env["WEB_CONCURRENCY"]), int(default.env["GUNICORN_THREADS"])
    endpoint = {"OTEL_EXPORTER_OTLP_ENDPOINT": sink.endpoint}
    off = servers.service(f"{default.name}, tracing off", workers, threads, **endpoint, OTEL_SDK_DISABLED="true")
    on = servers.service(
        f"{default.name}, tracing on", workers, threads, **endpoint, OTEL_TRACES_SAMPLER="parentbased_always_on"
    )
    return off, on


def tracing_only(args, service: servers.Server) -> None:
    """The default and its tracing rows, interleaved in one run; wrk only."""
    sink = Sink()
    off, on = tracing_rows(service, sink)
    everything = [service, off, on]
    busy = runner.busy_cpus()
    print(f"rest of the machine busy: {busy} CPUs", flush=True)
    try:
        runner.started(everything)
        runs = runner.measure(everything, args.rounds, args.seconds, args.connections)
    finally:
        for server in everything:
            server.stop()
        sink.close()
    data = {
        "benchmark": "http-tracing",
        **preamble(args, busy),
        "configs": {n: runner.summary(r) for n, r in runs.items()},
        "ratios": {
            "tracing_off_vs_service": runner.ratio(runs, off.name, service.name),
            "tracing_on_vs_service": runner.ratio(runs, on.name, service.name),
        },
        "sink": {"exports": sink.exports, "bytes": sink.bytes},
        "goals": {"tracing_off_vs_service": 0.98},
    }
    path = runner.write("http-tracing", data)
    table(data, runs, service.name, "x default", 40)
    print(f"sink: {sink.exports} exports, {sink.bytes} bytes")
    print(f"wrote {path.relative_to(runner.RESULTS.parent.parent)}")


def table(data: dict, runs: dict[str, list[dict]], baseline: str, against: str, width: int) -> None:
    """One row per config: medians, and the throughput ratio against `baseline` (column `against`)."""
    print(f"\n{'config':{width}} {'rps':>9} {'p50 ms':>8} {'p99 ms':>8} {against:>9} {'cpu µs':>7}")
    for n in runs:
        s = data["configs"][n]
        print(
            f"{n:{width}} {s['rps']:9.0f} {s['p50_ms']:8.2f} {s['p99_ms']:8.2f} {runner.ratio(runs, n, baseline):9.3f} "
            f"{s['server_cpu_us']:7.0f}"
        )


def front_only(args, service: servers.Server) -> None:
    """The default straight and through the pod's front (HAProxy, front/haproxy.cfg), interleaved; wrk only."""
    busy = runner.busy_cpus()
    print(f"rest of the machine busy: {busy} CPUs", flush=True)
    everything = [service]
    try:
        runner.started([service])
        front = servers.front(service)
        everything.append(front)
        runner.started([front])
        runs = runner.measure(everything, args.rounds, args.seconds, args.connections)
    finally:
        for server in everything:
            server.stop()
    data = {
        "benchmark": "http-front",
        **preamble(args, busy),
        "configs": {n: runner.summary(r) for n, r in runs.items()},
        "ratios": {"front_vs_service": runner.ratio(runs, front.name, service.name)},
        "note": "server_cpu_us of the front's row is HAProxy's own CPU per request; gunicorn's comes on top",
    }
    path = runner.write("http-front", data)
    table(data, runs, service.name, "x direct", 48)
    print(f"wrote {path.relative_to(runner.RESULTS.parent.parent)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--seconds", type=int, default=2)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--paced-rounds", type=int, default=3)
    parser.add_argument("--paced-seconds", type=float, default=5)
    parser.add_argument("--tracing-only", action="store_true", help="only the default and its tracing rows")
    parser.add_argument("--front", action="store_true", help="only the default, straight and through the front")
    args = parser.parse_args()

    from service.settings import Settings

    default = (Settings.workers, Settings.threads)
    if args.tracing_only:
        tracing_only(args, servers.service(name(*default), *default))
        return
    if args.front:
        front_only(args, servers.service(name(*default), *default, PROXY_PROTOCOL="true"))
        return
    loadgen.oha()  # before minutes of wrk runs, not after them
    # threads == 1 rows are gunicorn's sync worker, as before the service had a worker of its own.
    under_test = [servers.service(name(w, t), w, t, **({"WORKER_CLASS": "sync"} if t == 1 else {})) for w, t in SWEEP]
    service = next(s for s in under_test if s.name == name(*default))
    # The default before the service's worker: gunicorn's plain gthread (slow clients take it down).
    old = servers.service(f"{service.name}, plain gunicorn gthread", *default, WORKER_CLASS="gthread")
    under_test.append(old)
    # The JSON access log is on by default; this row prices it (many deployments log at the ingress).
    quiet = servers.service(f"{service.name}, no access log", *default, ACCESS_LOG="false")
    hello = servers.hello("bare WSGI hello", *default)
    floor = servers.flask_hello("Flask hello (floor)", *default)
    naive = servers.naive("naive Flask + exporter", *default)
    seed = servers.seed()
    sink = Sink()
    traced_off, traced_on = tracing_rows(service, sink)
    everything = [*under_test, quiet, traced_off, traced_on, hello, floor, naive, seed]
    busy = runner.busy_cpus()
    print(f"rest of the machine busy: {busy} CPUs", flush=True)
    try:
        runner.started(everything)
        runs = runner.measure(everything, args.rounds, args.seconds, args.connections)
        half = runner.median(runs[service.name], "rps") / 2
        # Every worker config at the same rate, so the latency column of the sweep is comparable.
        latency = paced([*under_test, hello], half, args.paced_rounds, args.paced_seconds)
    finally:
        for server in everything:
            server.stop()
        sink.close()

    data = {"benchmark": "http", **preamble(args, busy)}
    data["method"].update(paced=loadgen.PACED_METHOD, paced_rounds=args.paced_rounds, paced_seconds=args.paced_seconds)
    data |= {
        "default": {"workers": default[0], "threads": default[1], "name": service.name},
        "configs": {n: runner.summary(r) for n, r in runs.items()},
        "ratios": {
            "service_vs_bare_wsgi": runner.ratio(runs, service.name, hello.name),
            "service_vs_naive": runner.ratio(runs, service.name, naive.name),
            "service_vs_plain_gthread": runner.ratio(runs, service.name, old.name),
            "service_vs_flask_floor": runner.ratio(runs, service.name, floor.name),
            "service_vs_dev_server": runner.ratio(runs, service.name, seed.name),
            "no_access_log_vs_service": runner.ratio(runs, quiet.name, service.name),
            "no_access_log_vs_dev_server": runner.ratio(runs, quiet.name, seed.name),
            "tracing_off_vs_service": runner.ratio(runs, traced_off.name, service.name),
            "tracing_on_vs_service": runner.ratio(runs, traced_on.name, service.name),
            "naive_vs_bare_wsgi": runner.ratio(runs, naive.name, hello.name),
            "flask_floor_vs_bare_wsgi": runner.ratio(runs, floor.name, hello.name),
            "naive_vs_dev_server": runner.ratio(runs, naive.name, seed.name),
            "sweep_vs_bare_wsgi": {s.name: runner.ratio(runs, s.name, hello.name) for s in under_test},
        },
        "paced_half_max": {
            "target_rps": round(half, 1),
            "service": latency[service.name],
            "bare_wsgi": latency[hello.name],
            "configs": latency,
        },
        "goals": {
            "vs_bare_wsgi": 0.9,
            "vs_flask_floor": 0.85,
            "vs_plain_gthread": 0.95,
            "tracing_off_vs_service": 0.98,
            "vs_dev_server": 4.0,
            "p99_ms_at_half_max": 5.0,
        },
    }
    path = runner.write("http", data)

    print(
        f"\n{'config':30} {'rps':>9} {'p50 ms':>8} {'p99 ms':>8} {'x hello':>8} {'x naive':>8} {'x seed':>8} "
        f"{'p99 half':>9} {'cpu µs':>7}"
    )
    for n in runs:
        s = data["configs"][n]
        half_p99 = f"{latency[n]['p99_ms_median']:9.2f}" if n in latency else " " * 9
        print(
            f"{n:30} {s['rps']:9.0f} {s['p50_ms']:8.2f} {s['p99_ms']:8.2f} {runner.ratio(runs, n, hello.name):8.2f} "
            f"{runner.ratio(runs, n, naive.name):8.2f} {runner.ratio(runs, n, seed.name):8.2f} {half_p99} "
            f"{s['server_cpu_us']:7.0f}"
        )
    print(f"\npaced at {half:.0f} rps (half the max of {service.name}), median p99 over {args.paced_rounds} rounds:")
    for n, p in ((service.name, latency[service.name]), (hello.name, latency[hello.name])):
        print(
            f"  {n:28} p50 {p['p50_ms']:.2f} ms, p99 {p['p99_ms_median']:.2f} ms, {p['requests']} requests, "
            f"{p['failures']} failures, client {p['client_cpu_us_per_request']:.0f} µs CPU/request"
        )
    print(f"wrote {path.relative_to(runner.RESULTS.parent.parent)}")


if __name__ == "__main__":
    main()
