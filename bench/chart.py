"""Draw bench/results/http.json and metrics.json as one PNG (bench/results/bench.png)."""

from __future__ import annotations

import json

import matplotlib

matplotlib.use("Agg")  # no display: files only
import matplotlib.pyplot as plt  # after the backend choice

from .runner import RESULTS


def main() -> None:
    http = json.loads((RESULTS / "http.json").read_text())
    metrics = json.loads((RESULTS / "metrics.json").read_text())
    names = list(http["configs"])
    rps = [http["configs"][n]["rps"] for n in names]
    p99 = [http["configs"][n]["p99_ms"] for n in names]
    colours = [
        "tab:orange" if n == http["default"]["name"] else "tab:grey" if "service" not in n else "tab:blue"
        for n in names
    ]

    fig, (left, middle, right) = plt.subplots(1, 3, figsize=(15, 5), gridspec_kw={"width_ratios": [3, 3, 2]})
    left.barh(names, rps, color=colours)
    left.set_xlabel("requests/s (wrk, closed loop; orange = default)")
    left.invert_yaxis()
    middle.barh(names, p99, color=colours)
    middle.set_xlabel("p99 ms at maximum rate")
    middle.invert_yaxis()
    middle.set_yticklabels([])

    r = http["ratios"]
    goals = http["goals"]
    paced = http["paced_half_max"]
    labels = ["vs bare WSGI", "vs dev server / 4", "metrics on/off", "p99 half max / 5ms"]
    values = [
        r["service_vs_bare_wsgi"],
        r["service_vs_dev_server"] / 4,
        metrics["ratio_on_vs_off"],
        paced["p99_ms"] / goals["p99_ms_at_half_max"],
    ]
    right.bar(labels, values, color="tab:blue")
    right.axhline(goals["vs_bare_wsgi"], color="tab:red", linestyle="--", label="0.9 (goal vs bare WSGI)")
    right.axhline(1.0, color="black", linewidth=0.8)
    for x, v in enumerate(values):
        right.text(x, v, f"{v:.2f}", ha="center", va="bottom")
    right.set_yscale("log")  # a p99 far over its goal must not flatten the other bars
    right.set_title("ratios, log scale (goals at 1.0; p99: lower is better)", fontsize=9)
    right.tick_params(axis="x", labelrotation=30)
    right.legend(fontsize=8)

    fig.suptitle(f"flask-service on {http['machine']['cpus']} cores, loopback; same-run baselines")
    fig.tight_layout()
    path = RESULTS / "bench.png"
    fig.savefig(path, dpi=80)
    print(f"wrote {path.relative_to(RESULTS.parent.parent)}")


if __name__ == "__main__":
    main()
