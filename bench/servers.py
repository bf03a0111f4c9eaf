"""Start and stop the servers under test on free loopback ports (one process group each)."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from . import poll
from .tree import ROOT


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def stop_group(proc: subprocess.Popen, sig: int, timeout: float) -> None:
    """Send `sig` to the process group led by `proc`; SIGKILL the group when it has not ended in `timeout` s."""
    if proc.poll() is not None:
        return
    os.killpg(proc.pid, sig)
    try:
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(10)


@dataclass
class Server:
    name: str
    argv: list[str]
    env: dict[str, str] = field(default_factory=dict)
    scratch: str | None = None  # a directory of the server's own, removed when it stops
    port: int = 0
    proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/"

    def start(self, timeout: float = 30) -> None:
        self.port = free_port()
        own = {name: value.replace("{port}", str(self.port)) for name, value in self.env.items()}
        env = {**os.environ, "PYTHONPATH": str(ROOT), **own, "HOST": "127.0.0.1", "PORT": str(self.port)}
        argv = [a.replace("{port}", str(self.port)) for a in self.argv]
        # Output (the JSON access log) is discarded: a pipe nobody reads would block the workers.
        self.proc = subprocess.Popen(
            argv, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
        )
        try:
            poll.wait(self.url, lambda status, _: status == 200, timeout, alive=lambda: self.proc.poll() is None)
        except (RuntimeError, TimeoutError) as error:
            self.stop()
            raise RuntimeError(f"{self.name}: no 200 (exit status {self.proc.returncode}): {error}") from error

    def cpu_seconds(self) -> float:
        """CPU time (user + system) used so far by the server's processes: the arbiter and its live workers."""
        total = 0
        for entry in Path("/proc").iterdir():
            try:
                stat = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except (OSError, IndexError):
                continue  # not a process, or gone meanwhile
            if int(stat[2]) == self.proc.pid:  # field 5, the process group: the server's own (start_new_session)
                total += int(stat[11]) + int(stat[12])  # fields 14, 15: utime, stime
        return total / os.sysconf("SC_CLK_TCK")

    def stop(self) -> None:
        if self.proc:
            stop_group(self.proc, signal.SIGTERM, 20)
        if self.scratch:
            shutil.rmtree(self.scratch, ignore_errors=True)


def gunicorn(name: str, module: str, workers: int, threads: int, metrics: bool, **extra: str) -> Server:
    """`python -m module` where module runs an app under the service's gunicorn config (service.__main__)."""
    env = {
        "WEB_CONCURRENCY": str(workers),
        "GUNICORN_THREADS": str(threads),
        "METRICS_ENABLED": "true" if metrics else "false",
        **extra,
    }
    scratch = None
    if metrics:
        env["PROMETHEUS_MULTIPROC_DIR"] = scratch = tempfile.mkdtemp(prefix="bench-metrics-")
    return Server(name, [sys.executable, "-m", module], env, scratch)


def service(name: str, workers: int, threads: int, metrics: bool = True, **extra: str) -> Server:
    return gunicorn(name, "service", workers, threads, metrics, **extra)


def hello(name: str, workers: int, threads: int) -> Server:
    return gunicorn(name, "bench.hello_wsgi", workers, threads, metrics=False)


def flask_hello(name: str, workers: int, threads: int) -> Server:
    return gunicorn(name, "bench.flask_hello", workers, threads, metrics=False)


def naive(name: str, workers: int, threads: int) -> Server:
    return gunicorn(name, "bench.naive_app", workers, threads, metrics=True)


def front(upstream: Server) -> Server:
    """HAProxy with the pod's own configuration (front/haproxy.cfg) in front of `upstream`, already started
    with PROXY_PROTOCOL=true."""
    env = {"FRONT_ADDR": "127.0.0.1", "FRONT_PORT": "{port}", "UPSTREAM_PORT": str(upstream.port)}
    return Server(f"{upstream.name}, through the front", ["haproxy", "-db", "-f", "front/haproxy.cfg"], env)


def seed(name: str = "seed dev server") -> Server:
    return Server(name, [sys.executable, "bench/seed_app.py", "{port}"])
