"""Tiny HTTP helpers over the standard library (one connection per request, like a fresh client)."""

from __future__ import annotations

import re
import socket
import urllib.error
import urllib.request
from dataclasses import dataclass
from email.message import Message


@dataclass
class Reply:
    status: int
    # Looked up without regard to case, as HTTP says: the pod's front (HAProxy) sends header names in lower case.
    headers: Message
    body: str


def get(url: str, headers: dict[str, str] | None = None, method: str = "GET", timeout: float = 10) -> Reply:
    req = urllib.request.Request(url, headers=headers or {}, method=method)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as response:
            return Reply(response.status, response.headers, response.read().decode("utf-8", "replace"))
    except urllib.error.HTTPError as error:
        return Reply(error.code, error.headers, error.read().decode("utf-8", "replace"))


def raw(host: str, port: int, data: bytes, timeout: float = 5) -> bytes:
    """Send bytes as they are (malformed requests included) and read the answers until close.

    The write side is shut after the bytes: the server sees the end of the input at once, so a request
    cut short ends in a close rather than a wait for the rest.
    """
    with socket.create_connection((host, port), timeout=timeout) as conn:
        try:
            conn.sendall(data)
            conn.shutdown(socket.SHUT_WR)
        except OSError:
            pass  # the server answered and closed before taking everything: its answer is still to be read
        chunks = []
        try:
            while chunk := conn.recv(65536):  # a server that neither answers nor closes raises TimeoutError
                chunks.append(chunk)
        except ConnectionResetError:
            pass
    return b"".join(chunks)


def route_count(metrics_text: str, path: str, method: str = "GET", status: str = "200") -> float:
    """Requests the exporter counted for one URL rule (the histogram's _count)."""
    pattern = (
        rf'^flask_http_request_duration_seconds_count\{{method="{method}",path="{re.escape(path)}",'
        rf'status="{status}"\}} (\S+)$'
    )
    match = re.search(pattern, metrics_text, re.MULTILINE)
    return float(match.group(1)) if match else 0.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
