"""The cluster loop as a developer meets it, on a private kind cluster (CLUSTER_NAME=flask-service-bench):

- `make up` cold (no cluster, no service image, no build cache for it) and warm (everything exists,
  nothing changed): seconds to the first 200 on / through `make up`'s port-forward, split into the
  cluster, image build, kind load, and helm deploy to Ready (deployment rolled out) from make's output;
- `make dev` (skaffold dev): seconds from a file edit to the new content served through skaffold's
  port-forward, for (a) an edit file sync handles (a template or a .py file: copied into the pod, gunicorn
  reloads) and (b) the same kind of edit plus a new file outside the sync rules, which makes skaffold
  rebuild the image, load it and roll the deployment. Rounds interleave (a) and (b); the baseline of
  (a) is (b) in the same run.

Everything runs in a throwaway copy of the tree with its own kubeconfig, so the shared tree, the user's
kubeconfig and any other cluster are never touched. The one-time machine artefacts (tools in .tools/bin,
the kind node image, the base image) must exist: `make cluster` builds them. Every step is bounded by a
timeout; the private cluster and the images built here are deleted at the end, also on failure.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import os
import re
import signal
import statistics
import subprocess
import threading
import time
from pathlib import Path

from . import poll, runner, tree
from .servers import free_port, stop_group

CLUSTER = "flask-service-bench"
DOCKER = os.environ.get("DOCKER", "/usr/bin/docker")
LOGS = runner.RESULTS / "tmp"
SYNC_GOAL_S = 3.0
UP_COLD_TIMEOUT = 1500
UP_WARM_TIMEOUT = 600
DEV_START_TIMEOUT = 900
SYNC_TIMEOUT = 120
REBUILD_TIMEOUT = 900
SETTLE_S = 3  # after a served change, before the next edit: reloads finish
SETTLE_TIMEOUT = 180


class Process:
    """A command in its own process group, its output lines kept with the time.monotonic() they arrived."""

    def __init__(self, name: str, argv: list[str], cwd: Path, env: dict[str, str]) -> None:
        LOGS.mkdir(parents=True, exist_ok=True)
        self.log = (LOGS / f"cluster-{name}.log").open("w")
        self.lines: list[tuple[float, str]] = []
        self.start = time.monotonic()
        self.proc = subprocess.Popen(
            argv, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True
        )
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self) -> None:
        for line in self.proc.stdout:
            self.lines.append((time.monotonic(), line.rstrip()))
            self.log.write(f"{time.monotonic() - self.start:8.2f} {line}")
            self.log.flush()

    def alive(self) -> bool:
        return self.proc.poll() is None

    def when(self, pattern: str) -> tuple[float, re.Match] | None:
        """The first line matching pattern so far, and when it came."""
        for at, line in list(self.lines):
            if match := re.search(pattern, line):
                return at, match
        return None

    def wait_for(self, pattern: str, timeout: float) -> tuple[float, re.Match]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if found := self.when(pattern):
                return found
            if not self.alive():
                raise RuntimeError(
                    f"exited with {self.proc.returncode} before printing {pattern!r} (see {self.log.name})"
                )
            time.sleep(0.1)
        raise TimeoutError(f"no {pattern!r} within {timeout} s (see {self.log.name})")

    def stop(self) -> None:
        """Ctrl-C, as a user would stop it; killed when it does not end in time."""
        stop_group(self.proc, signal.SIGINT, 90)
        self.reader.join(10)
        self.log.close()


def since(process: Process, pattern: str) -> float | None:
    found = process.when(pattern)
    return found[0] if found else None


def seconds(a: float | None, b: float | None) -> float | None:
    return round(b - a, 2) if a is not None and b is not None else None


def make_up(name: str, work: Path, env: dict[str, str], timeout: float, built: set[str]) -> dict:
    port = free_port()
    up = Process(name, ["make", "--no-print-directory", "up", f"LOCAL_PORT={port}"], work, env)
    try:
        served = poll.wait(
            f"http://127.0.0.1:{port}/", lambda status, body: status == 200, timeout=timeout, alive=up.alive
        )
    finally:
        up.stop()
        built |= tags(up)
    # skaffold prints "Starting deploy" before it loads the image into kind, then runs helm.
    publish = since(up, r"publish PUBLISH_ARGS=--snapshot")
    skaffold = since(up, r"^skaffold run ")
    deploy = since(up, r"Starting deploy")
    load = since(up, r"Loading images into kind")
    loaded = since(up, r"Images loaded in")
    ready = since(up, r'deployment "flask-service" successfully rolled out')
    created = up.when(r"cluster \S+ is up in (\d+) s")
    return {
        "first_200_s": seconds(up.start, served),
        "cluster_s": seconds(up.start, publish),
        "publish_s": seconds(publish, skaffold),
        "cluster_create_s": float(created[1][1]) if created else None,
        "build_s": seconds(skaffold, deploy),
        "kind_load_s": seconds(load, loaded),
        "deploy_to_ready_s": seconds(loaded or deploy, ready),
        "port_forward_to_200_s": seconds(ready, served),
        "image_built": up.when(r"Not found\. Building") is not None,
    }


def push_vs_load(rounds: int, built: set[str], nodes: list[str]) -> dict:
    """A rebuilt image into the cluster's `nodes`: `kind load` (the whole image, saved and imported into each)
    against a push to the local registry and each node's pull (only the layers it lacks), the pulls at once,
    as pods starting on several nodes pull. Each round makes a new image: the deployed one plus a new small
    layer, as a code change makes. Interleaved."""
    base = next(iter(sorted(built)))
    load, push = [], []
    for number in range(rounds):
        for way, times in (("load", load), ("push", push)):
            image = f"localhost:5001/bench-{os.getpid()}/flask-service:{way}-{len(nodes)}-{number}"
            dockerfile = f"FROM {base}\nRUN echo {time.time_ns()} > /tmp/bench-change\n"
            argv = [DOCKER, "build", "-q", "-t", image, "-"]
            subprocess.run(argv, input=dockerfile, text=True, check=True, capture_output=True, timeout=300)
            built.add(image)
            start = time.monotonic()
            if way == "load":
                kind = str(tree.TOOLS_BIN / "kind")
                run(kind, "load", "docker-image", image, "--name", CLUSTER, "--nodes", ",".join(nodes), timeout=600)
            else:
                run(DOCKER, "push", image, timeout=600)
                with concurrent.futures.ThreadPoolExecutor(len(nodes)) as pool:
                    pulls = [
                        pool.submit(run, DOCKER, "exec", node, "crictl", "pull", image, timeout=600) for node in nodes
                    ]
                    for pull in pulls:
                        pull.result()
            times.append(round(time.monotonic() - start, 2))
        print(f"  {len(nodes)} node(s), round {number + 1}/{rounds}: kind load {load[-1]} s, push + pull {push[-1]} s")
    return {
        "nodes": len(nodes),
        "kind_load_runs_s": load,
        "push_pull_runs_s": push,
        "kind_load_median_s": round(statistics.median(load), 3),
        "push_pull_median_s": round(statistics.median(push), 3),
        "ratio_push_vs_load": round(statistics.median(push) / statistics.median(load), 3),
    }


def tags(process: Process) -> set[str]:
    """The images skaffold deployed: all built here, since the tree and base are this run's own. Skaffold
    names them by the registry it pushes to (localhost:5001/flask-service:...), or bare when it loads them."""
    found = (re.search(r"flask-service -> ((?:\S+/)?flask-service:[^\s@]+)", line) for _, line in process.lines)
    return {m[1] for m in found if m}


def edit_template(work: Path, marker: str) -> None:
    tree.append(work / "service" / "templates" / "page.html", f"<!-- {marker} -->")


def edit_python(work: Path, marker: str) -> None:
    # The page's colour value is rendered into its style: a CSS comment after it changes the page only.
    pages = work / "service" / "pages.py"
    text, count = re.subn(r'colour="powderblue[^"]*"', f'colour="powderblue /* {marker} */"', pages.read_text())
    if count != 1:
        raise RuntimeError(f"{pages}: the welcome page's colour literal was not found once")
    pages.write_text(text)


def settle(env: dict[str, str]) -> None:
    """Wait until the release has only its current pods, then SETTLE_S: skaffold syncs into every pod
    of the image, and one still terminating after a rollout (or the read-only one `make up` left) would
    turn the next sync into errors and retries."""
    kubectl = [str(tree.TOOLS_BIN / "kubectl"), "--context", f"kind-{CLUSTER}", "--namespace", "default"]
    deadline = time.monotonic() + SETTLE_TIMEOUT
    while time.monotonic() < deadline:
        replicas = run(*kubectl, "get", "deployment", "flask-service", "-o", "jsonpath={.spec.replicas}", env=env)
        pods = run(*kubectl, "get", "pods", "-l", "app.kubernetes.io/instance=flask-service", "-o", "name", env=env)
        if len(pods.split()) == int(replicas):
            time.sleep(SETTLE_S)
            return
        time.sleep(0.5)
    raise TimeoutError(f"old pods still there after {SETTLE_TIMEOUT} s")


def change(work: Path, url: str, kind: str, alive, timeout: float, env: dict[str, str]) -> float:
    """Seconds from the edit to the first answer carrying it."""
    marker = f"bench-{kind}-{time.time_ns()}"
    edited = time.monotonic()
    if kind == "python":
        edit_python(work, marker)
    else:
        edit_template(work, marker)
        if kind == "rebuild":
            # Under service/, so in the image, but outside the sync rules: skaffold must rebuild.
            (work / "service" / "rebuild-marker.txt").write_text(marker + "\n")
    served = poll.wait(url, lambda status, body: status == 200 and marker in body, timeout=timeout, alive=alive)
    settle(env)
    return round(served - edited, 2)


def dev_loop(work: Path, env: dict[str, str], rounds: int, built: set[str]) -> dict:
    dev = Process("dev", ["make", "--no-print-directory", "dev"], work, env)
    try:
        _, forward = dev.wait_for(r"Port forwarding service/flask-service.*127\.0\.0\.1:(\d+)", DEV_START_TIMEOUT)
        dev.wait_for(r"Watching for changes", DEV_START_TIMEOUT)
        url = f"http://127.0.0.1:{forward[1]}/"
        served = poll.wait(url, lambda status, body: status == 200, timeout=120, alive=dev.alive)
        started = seconds(dev.start, served)
        print(f"  skaffold dev serving after {started} s on {url}", flush=True)
        settle(env)
        sync: list[tuple[str, float]] = []
        rebuild: list[float] = []
        for number in range(rounds):
            kind = ("template", "python")[number % 2]
            sync.append((kind, change(work, url, kind, dev.alive, SYNC_TIMEOUT, env)))
            rebuild.append(change(work, url, "rebuild", dev.alive, REBUILD_TIMEOUT, env))
            print(f"  round {number + 1}/{rounds}: sync ({kind}) {sync[-1][1]} s, rebuild {rebuild[-1]} s", flush=True)
    finally:
        dev.stop()
        built |= tags(dev)
    sync_median = round(statistics.median(s for _, s in sync), 2)
    rebuild_median = round(statistics.median(rebuild), 2)
    return {
        "start_to_served_s": started,
        "sync_runs_s": [{"edit": kind, "s": s} for kind, s in sync],
        "rebuild_runs_s": rebuild,
        "sync_median_s": sync_median,
        "rebuild_median_s": rebuild_median,
        "ratio_sync_vs_rebuild": round(sync_median / rebuild_median, 3),
        "goal_sync_s": SYNC_GOAL_S,
        "sync_meets_goal": sync_median <= SYNC_GOAL_S,
        "sync_errors": sum("sync error" in line for _, line in dev.lines),
    }


def run(*argv: str, env: dict[str, str] | None = None, timeout: float = 300) -> str:
    return subprocess.run(argv, env=env, check=True, capture_output=True, text=True, timeout=timeout).stdout.strip()


def fresh_base(env: dict[str, str]) -> str | None:
    """With the offline profile the base is BASE_IMAGE: the base plus one file of this run's own is a new
    root filesystem, so no cached layer of the service matches and the cold build is a first build (a new
    label alone would not do: BuildKit's cache keys follow the layers). Returns the new tag, or None (other
    profiles build FROM the Dockerfile's pinned base: the build cache as found)."""
    if "offline" not in env.get("SKAFFOLD_PROFILE", ""):
        return None
    base = env.get("BASE_IMAGE") or run(str(tree.ROOT / "hack" / "images" / "base-image.sh"), timeout=1800)
    tag = f"flask-service-base:bench-{os.getpid()}"
    dockerfile = f"FROM {base}\nRUN echo {time.time_ns()} > /etc/flask-service-bench\n"
    argv = [DOCKER, "build", "-q", "-t", tag, "-"]
    subprocess.run(argv, input=dockerfile, text=True, check=True, capture_output=True, timeout=300)
    return tag


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=4, help="sync/rebuild pairs under skaffold dev")
    args = parser.parse_args()

    kind = str(tree.TOOLS_BIN / "kind")
    busy = runner.busy_cpus()
    others = [c for c in run(kind, "get", "clusters").split() if c != CLUSTER]
    print(f"rest of the machine busy: {busy} CPUs; other kind clusters: {others or 'none'}", flush=True)
    built: set[str] = set()
    with tree.copy("bench-cluster") as work:
        # The tools are one-time machine artefacts: the copy uses the tree's.
        (work / ".tools").mkdir()
        (work / ".tools" / "bin").symlink_to(tree.TOOLS_BIN)
        env = {**os.environ, "CLUSTER_NAME": CLUSTER, "KUBECONFIG": str(work / ".kube" / "config")}
        env.pop("MAKEFLAGS", None)
        env.pop("MAKELEVEL", None)
        base = fresh_base(env)
        if base:
            env["BASE_IMAGE"] = base
        try:
            run(kind, "delete", "cluster", "--name", CLUSTER, env=env)  # a run killed earlier may have left it
            cold = make_up("up-cold", work, env, UP_COLD_TIMEOUT, built)
            print(f"  make up cold: {cold}", flush=True)
            warm = make_up("up-warm", work, env, UP_WARM_TIMEOUT, built)
            print(f"  make up warm: {warm}", flush=True)
            dev = dev_loop(work, env, args.rounds, built)
            nodes = run(kind, "get", "nodes", "--name", CLUSTER).split()
            delivery = [push_vs_load(args.rounds, built, nodes[:1]), push_vs_load(args.rounds, built, nodes)]
        finally:
            subprocess.run([kind, "delete", "cluster", "--name", CLUSTER], env=env, capture_output=True, timeout=300)
            for image in sorted(built) + ([base] if base else []):
                subprocess.run([DOCKER, "rmi", image], capture_output=True, timeout=120)

    if not cold["image_built"]:
        raise RuntimeError("the cold make up found the image already built: not a cold run")
    data = {
        "benchmark": "cluster",
        "method": {
            "cluster": CLUSTER,
            "present_before_cold": "tools (.tools/bin), kind node image, base image (one-time machine artefacts)",
            "cold": "no cluster, no service image, no build cache: built FROM the base plus one file of this "
            "run's own, so no cached layer matches"
            if base
            else "no cluster, no service image; the engine's build cache as found",
            "warm": "the same make up again: cluster, image and release exist, nothing changed",
            "first_200": "GET / through make up's kubectl port-forward, from the start of make",
            "phases": "from make's output: cluster = make start to `skaffold run` (prerequisites and kind create), "
            "build = to skaffold's deploy start (tagging, cache check, docker build), kind_load = kind load, "
            "deploy_to_ready = helm upgrade to `rollout status` done",
            "dev_sync": "append a comment to service/templates/page.html, or change a CSS comment in service/pages.py",
            "dev_rebuild": "the template edit plus a new file service/rebuild-marker.txt (outside the sync rules)",
            "served": "first GET / through skaffold's port-forward whose body carries the edit (polled every 50 ms); "
            "each edit starts once only the current pods are left, plus 3 s",
            "rounds": args.rounds,
        },
        "machine": {"cpus": os.cpu_count(), "busy_cpus_before": busy, "other_kind_clusters": others},
        "make_up": {"cold": cold, "warm": warm},
        "ratio_warm_vs_cold": round(warm["first_200_s"] / cold["first_200_s"], 3),
        "dev": dev,
        "image_delivery": delivery,
    }
    path = runner.write("cluster", data)
    columns = ("first_200_s", "cluster_s", "publish_s", "build_s", "kind_load_s", "deploy_to_ready_s")
    print("\nmake up, s " + " ".join(f"{c.removesuffix('_s'):>17}" for c in columns))
    for name, up in data["make_up"].items():
        print(f"{name:10} " + " ".join(f"{'-' if up[c] is None else up[c]:>17}" for c in columns))
    print(f"warm / cold: {data['ratio_warm_vs_cold']}")
    print(
        f"skaffold dev edit -> served: sync {dev['sync_median_s']} s, rebuild {dev['rebuild_median_s']} s "
        f"(sync / rebuild {dev['ratio_sync_vs_rebuild']}; goal sync <= {SYNC_GOAL_S} s: "
        f"{'met' if dev['sync_meets_goal'] else 'missed'})"
    )
    for way in delivery:
        print(
            f"rebuilt image into {way['nodes']} node(s): kind load {way['kind_load_median_s']} s, push + pull "
            f"{way['push_pull_median_s']} s (push / load {way['ratio_push_vs_load']})"
        )
    print(f"wrote {path.relative_to(tree.ROOT)}")


if __name__ == "__main__":
    main()
