"""The README's `kubectl port-forward svc/flask-service 5000:5000`, run as a user would.

The local port is a free one rather than 5000, which `make up` may already be forwarding.
"""

from __future__ import annotations

import select
import subprocess
import time

from tests.support.httpclient import free_port, get

from .kube import CONTEXT, NAMESPACE, ROOT, SERVICE, SERVICE_PORT, tool_env

READY_TIMEOUT = 30


def test_kubectl_port_forward_to_the_service(release):
    port = free_port()
    cmd = ["kubectl", "--context", CONTEXT, "--namespace", NAMESPACE]
    cmd += ["port-forward", f"svc/{SERVICE}", f"{port}:{SERVICE_PORT}"]
    proc = subprocess.Popen(cmd, env=tool_env(), cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        # kubectl prints this line once it listens.
        deadline = time.monotonic() + READY_TIMEOUT
        line = ""
        while f"127.0.0.1:{port}" not in line:
            remaining = deadline - time.monotonic()
            assert remaining > 0, f"kubectl port-forward printed no forwarding line in {READY_TIMEOUT} s"
            if not select.select([proc.stdout], [], [], remaining)[0]:
                continue
            line = proc.stdout.readline()
            assert line or proc.poll() is None, f"kubectl port-forward exited: {proc.stderr.read()}"
        assert f"Forwarding from 127.0.0.1:{port} -> " in line

        welcome = get(f"http://127.0.0.1:{port}/")
        assert welcome.status == 200 and "powderblue" in welcome.body
        following = get(f"http://127.0.0.1:{port}/next")
        assert following.status == 200 and "tomato" in following.body
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)
