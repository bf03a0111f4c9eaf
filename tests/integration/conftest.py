"""A real gunicorn, started as a subprocess on a free loopback port."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.support.httpclient import free_port, get

ROOT = Path(__file__).resolve().parents[2]


@dataclass
class RunningServer:
    proc: subprocess.Popen
    url: str
    port: int
    metrics_dir: Path
    log: Path

    def workers(self) -> set[int]:
        children = Path(f"/proc/{self.proc.pid}/task/{self.proc.pid}/children").read_text().split()
        return {int(pid) for pid in children}

    def logs(self) -> str:
        return self.log.read_text()

    def stop(self, timeout: float = 30) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(timeout)


def wait_ready(server: RunningServer, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    last: object = None
    while time.monotonic() < deadline:
        if server.proc.poll() is not None:
            pytest.fail(f"server exited with {server.proc.returncode}:\n{server.logs()}")
        try:
            last = get(server.url + "/readyz", timeout=1).status
            if last == 200:
                return
        except OSError as error:
            last = error
        time.sleep(0.1)
    pytest.fail(f"server not ready after {timeout}s (last: {last!r}):\n{server.logs()}")


@pytest.fixture
def start_server(tmp_path):
    started: list[RunningServer] = []

    def start(env: dict[str, str] | None = None, module: str = "service") -> RunningServer:
        port = free_port()
        metrics_dir = tmp_path / f"metrics-{port}"
        log = tmp_path / f"server-{port}.log"
        environ = {
            **os.environ,
            "PYTHONPATH": str(ROOT),
            "HOST": "127.0.0.1",
            "PORT": str(port),
            "WEB_CONCURRENCY": "2",
            "PROMETHEUS_MULTIPROC_DIR": str(metrics_dir),
            **(env or {}),
        }
        command = [sys.executable, "-m", module]
        with log.open("wb") as out:
            proc = subprocess.Popen(command, cwd=tmp_path, env=environ, stdout=out, stderr=subprocess.STDOUT)
        server = RunningServer(proc, f"http://127.0.0.1:{port}", port, metrics_dir, log)
        started.append(server)
        wait_ready(server)
        return server

    yield start
    for server in started:
        if server.proc.poll() is None:
            server.proc.kill()
            server.proc.wait()


@pytest.fixture
def server(start_server):
    return start_server()
