"""The README's `kubectl port-forward svc/flask-service 5000:5000`, run as a user would.

The local port is a free one rather than 5000, which `make up` may already be forwarding.
"""

from __future__ import annotations

from tests.support.httpclient import free_port, get

from .kube import SERVICE, SERVICE_PORT, kubectl_port_forward


def test_kubectl_port_forward_to_the_service(release):
    port = free_port()
    with kubectl_port_forward(f"svc/{SERVICE}", port) as line:
        assert f"Forwarding from 127.0.0.1:{port} -> {SERVICE_PORT}" in line
        welcome = get(f"http://127.0.0.1:{port}/")
        assert welcome.status == 200 and "powderblue" in welcome.body
        following = get(f"http://127.0.0.1:{port}/next")
        assert following.status == 200 and "tomato" in following.body
