"""Draw bench/results/http.json, metrics.json, image.json, cluster.json, soak.json and slow_clients.json as one PNG
(bench/results/bench.png).

One function per panel, each drawing on the axes it is given: a new panel is a new function and an
entry in PANELS.
"""

from __future__ import annotations

import json

import matplotlib

matplotlib.use("Agg")  # no display: files only
import matplotlib.pyplot as plt  # after the backend choice
from matplotlib import ticker

from .runner import RESULTS

BASELINES = {
    "bare WSGI hello": "tab:grey",
    "Flask hello (floor)": "tab:olive",
    "naive Flask + exporter": "tab:green",
    "seed dev server": "tab:brown",
}


def colours(http: dict) -> list[str]:
    default = http["default"]["name"]
    return [BASELINES.get(n, "tab:orange" if n == default else "tab:blue") for n in http["configs"]]


def throughput(ax, http: dict, metrics: dict) -> None:
    names = list(http["configs"])
    ax.barh(names, [http["configs"][n]["rps"] for n in names], color=colours(http))
    ax.set_xlabel("requests/s (wrk, closed loop)")
    ax.set_title("orange: default; blue: sweep; others: baselines", fontsize=9)
    ax.invert_yaxis()


def p99(ax, http: dict, metrics: dict) -> None:
    """p99 at the maximum rate (wrk) and, hatched, paced at half the default's maximum (where measured)."""
    names = list(http["configs"])
    paced = http["paced_half_max"]
    y = range(len(names))
    ax.barh([i - 0.2 for i in y], [http["configs"][n]["p99_ms"] for n in names], height=0.4, color=colours(http))
    half = [paced["configs"].get(n, {}).get("p99_ms_median", float("nan")) for n in names]  # nan: not paced
    ax.barh([i + 0.2 for i in y], half, height=0.4, color=colours(http), hatch="//", alpha=0.6)
    ax.axvline(http["goals"]["p99_ms_at_half_max"], color="tab:red", linestyle="--", label="5 ms goal (half max)")
    ax.set_xscale("log")  # an overloaded config's seconds must not flatten the milliseconds of the others
    ax.xaxis.set_major_formatter(ticker.FormatStrFormatter("%g"))
    ax.xaxis.set_minor_formatter(ticker.NullFormatter())
    ax.set_xlabel(f"p99 ms (log): at max rate (solid), paced at {paced['target_rps']:.0f} rps (hatched)")
    ax.set_yticks(list(y), [])
    ax.invert_yaxis()
    ax.legend(fontsize=7, loc="lower right")


def ratios(ax, http: dict, metrics: dict) -> None:
    r = http["ratios"]
    goals = http["goals"]
    paced = http["paced_half_max"]
    bars = {
        "service / bare WSGI": (r["service_vs_bare_wsgi"], "tab:orange"),
        "Flask floor / bare WSGI": (r["flask_floor_vs_bare_wsgi"], "tab:olive"),
        "naive / bare WSGI": (r["naive_vs_bare_wsgi"], "tab:green"),
        "service / naive": (r["service_vs_naive"], "tab:orange"),
        "service / dev server / 4": (r["service_vs_dev_server"] / goals["vs_dev_server"], "tab:orange"),
        "metrics on / off": (metrics["ratio_on_vs_off"], "tab:orange"),
        "service p99 half max / 5 ms": (paced["service"]["p99_ms_median"] / goals["p99_ms_at_half_max"], "tab:orange"),
        "hello p99 same rate / 5 ms": (paced["bare_wsgi"]["p99_ms_median"] / goals["p99_ms_at_half_max"], "tab:grey"),
    }
    labels = list(bars)
    values = [v for v, _ in bars.values()]
    ax.barh(labels, values, color=[c for _, c in bars.values()])
    ax.axvline(goals["vs_bare_wsgi"], color="tab:red", linestyle="--", label="0.9 (goal vs bare WSGI)")
    ax.axvline(1.0, color="black", linewidth=0.8, label="1.0 (other goals; p99: lower is better)")
    for y, v in enumerate(values):
        ax.text(v, y, f" {v:.2f}", va="center", fontsize=8)
    ax.set_xscale("log")  # a p99 far over its goal must not flatten the other bars
    ax.xaxis.set_major_formatter(ticker.FormatStrFormatter("%g"))
    ax.xaxis.set_minor_formatter(ticker.NullFormatter())
    ax.set_title(f"same-run ratios (log); paced at {paced['target_rps']:.0f} rps", fontsize=9)
    ax.invert_yaxis()
    ax.legend(fontsize=7, loc="lower right")


def developer_loop(ax, http: dict, metrics: dict) -> None:
    """Seconds a developer waits (image.json, cluster.json): each orange bar beside its grey baseline."""
    image = json.loads((RESULTS / "image.json").read_text())
    cluster = json.loads((RESULTS / "cluster.json").read_text())
    up, dev = cluster["make_up"], cluster["dev"]
    bars = {
        "image: cold build": (image["cold_build_s"], "tab:grey"),
        "image: one-file rebuild": (image["rebuild_s"], "tab:orange"),
        "make up cold: first 200": (up["cold"]["first_200_s"], "tab:grey"),
        "make up warm: first 200": (up["warm"]["first_200_s"], "tab:orange"),
        "make up cold: deploy to Ready": (up["cold"]["deploy_to_ready_s"], "tab:blue"),
        "dev edit -> served: rebuild": (dev["rebuild_median_s"], "tab:grey"),
        "dev edit -> served: sync": (dev["sync_median_s"], "tab:orange"),
    }
    labels = list(bars)
    values = [v for v, _ in bars.values()]
    ax.barh(labels, values, color=[c for _, c in bars.values()])
    ax.axvline(dev["goal_sync_s"], color="tab:red", linestyle="--", label=f"{dev['goal_sync_s']:g} s (sync goal)")
    for y, v in enumerate(values):
        ax.text(v, y, f" {v:g}", va="center", fontsize=8)
    ax.set_xscale("log")
    ax.set_xlim(right=max(values) * 3)  # room for the last label
    ax.xaxis.set_major_formatter(ticker.FormatStrFormatter("%g"))
    ax.xaxis.set_minor_formatter(ticker.NullFormatter())
    ax.set_xlabel("seconds (log; medians)")
    ax.set_title(
        f"image {image['size_mb']:.0f} MB, {image['size_above_base_mb']:.0f} MB above base; private kind cluster",
        fontsize=9,
    )
    ax.invert_yaxis()
    ax.legend(fontsize=7, loc="lower right")


def soak(ax, http: dict, metrics: dict) -> None:
    """Pod memory over the soak through kubectl port-forward (soak.json): flat is the goal."""
    run = json.loads((RESULTS / "soak.json").read_text())
    for pod, figures in run["pods"].items():
        samples = figures["samples"]
        ax.plot([s["at_s"] for s in samples], [s["rss_mb"] for s in samples], marker="o", label=f"{pod[-5:]} RSS")
        ax.plot([s["at_s"] for s in samples], [s["pss_mb"] for s in samples], marker=".", label=f"{pod[-5:]} PSS")
    ax.set_ylim(bottom=0)
    ax.set_xlabel("seconds into the soak")
    ax.set_ylabel("MB, gunicorn processes of the pod")
    ax.set_title(
        f"soak: {run['requests']} requests at {run['achieved_rps']:g} rps, {run['errors']} errors",
        fontsize=9,
    )
    ax.legend(fontsize=7, loc="lower right")


def slow_clients(ax, http: dict, metrics: dict) -> None:
    """Ordinary p99 against the number of slow and idle clients held open (slow_clients.json), per worker."""
    run = json.loads((RESULTS / "slow_clients.json").read_text())
    for (name, panel), colour in zip(run["slow_clients"].items(), ("tab:orange", "tab:blue"), strict=False):
        levels = panel["levels"]
        ax.plot([int(n) for n in levels], [f["p99_ms"] for f in levels.values()], marker="o", color=colour, label=name)
    ax.axhline(run["goals"]["p99_ms_with_512_slow"], color="tab:red", linestyle="--", label="50 ms goal")
    ax.set_yscale("log")
    ax.yaxis.set_major_formatter(ticker.FormatStrFormatter("%g"))
    ax.set_xlabel("slow + idle connections held (half each)")
    ax.set_ylabel("ordinary GET / p99 ms (log; 2000 = client timeout)")
    ax.set_title("slow clients", fontsize=9)
    ax.legend(fontsize=7)


def overload(ax, http: dict, metrics: dict) -> None:
    """What the client sees at twice the maximum rate (slow_clients.json): served, refused, timed out."""
    run = json.loads((RESULTS / "slow_clients.json").read_text())
    names = list(run["overload"])
    kinds = {"200": "tab:green", "503": "tab:orange", "timeout": "tab:red"}
    left = [0] * len(names)
    for kind, colour in kinds.items():
        counts = [run["overload"][n]["outcomes"].get(kind, {}).get("count", 0) for n in names]
        labels = [run["overload"][n]["outcomes"].get(kind, {}).get("p99_ms") for n in names]
        bars = ax.barh(names, counts, left=left, color=colour, label=kind)
        ax.bar_label(bars, [f"p99 {v:g} ms" if v is not None else "" for v in labels], label_type="center", fontsize=7)
        left = [a + b for a, b in zip(left, counts, strict=True)]
    first = run["overload"][names[0]]
    ax.set_xlabel(f"requests at {first['offered_rps']:g} rps (2x max) for {run['method']['overload_seconds']:g} s")
    failed = ", ".join(f"{n}: {run['overload'][n]['probes']['failed']}" for n in names)
    ax.set_title(f"overload; failed probes {failed}", fontsize=9)
    ax.legend(fontsize=7, loc="lower right")
    ax.invert_yaxis()


PANELS = [
    (throughput, 3),
    (p99, 3),
    (ratios, 3),
    (developer_loop, 3),
    (soak, 2),
    (slow_clients, 3),
    (overload, 3),
]  # (panel, relative width)


def main() -> None:
    http = json.loads((RESULTS / "http.json").read_text())
    metrics = json.loads((RESULTS / "metrics.json").read_text())
    fig, axes = plt.subplots(
        1, len(PANELS), figsize=(5.7 * len(PANELS), 5.5), gridspec_kw={"width_ratios": [w for _, w in PANELS]}
    )
    for ax, (panel, _) in zip(axes, PANELS, strict=True):
        panel(ax, http, metrics)
    busy = http["machine"].get("busy_cpus_before")
    load = f"; rest of the machine busy: {busy} CPUs before the run" if busy is not None else ""
    fig.suptitle(f"flask-service on {http['machine']['cpus']} cores, loopback; same-run baselines{load}")
    fig.tight_layout()
    path = RESULTS / "bench.png"
    fig.savefig(path, dpi=80)
    print(f"wrote {path.relative_to(RESULTS.parent.parent)}")


if __name__ == "__main__":
    main()
