"""Slow and idle clients, overload and forwarded headers against a real gunicorn on loopback.

Bounded: every test holds at most a few hundred loopback connections for a few seconds.
"""

from __future__ import annotations

import json
import socket
import threading
import time

from clients.slow import SlowClients
from tests.support.httpclient import get, raw

SLOW_APP = "tests.support.slowapp"
# A request that waits behind a slow client waits for the header timeout (5 s by default) or the client's
# 30 s: a bound far below both and far above a loaded 2-core machine's scheduling noise (the p99 of this test
# was under 0.25 s until a CI run where it was not, with nothing else wrong).
STALL_SECONDS = 2


def timed_get(url: str, timeout: float = 5) -> tuple[float, int | str]:
    start = time.monotonic()
    try:
        status: int | str = get(url, timeout=timeout).status
    except OSError as error:
        status = type(error).__name__
    return time.monotonic() - start, status


def test_ordinary_requests_are_served_while_hundreds_of_slow_and_idle_clients_hold_connections(start_server):
    # The defaults (2 workers x 4 threads) that 8 slow clients used to stop.
    server = start_server({"ACCESS_LOG": "false"})
    deadline = time.monotonic() + 10
    while len(server.workers()) < 2 and time.monotonic() < deadline:
        time.sleep(0.1)
    workers = server.workers()
    with SlowClients("127.0.0.1", server.port, idle=200, slow=200, seconds=30) as clients:
        assert clients.held >= 390, clients.errors
        timings = [timed_get(server.url + "/") for _ in range(150)]
        for _ in range(10):
            seconds, status = timed_get(server.url + "/livez")
            assert status == 200 and seconds < 1
        held = clients.held
    statuses = {status for _, status in timings}
    assert statuses == {200}, statuses
    assert max(s for s, _ in timings) < STALL_SECONDS, sorted(s for s, _ in timings)[-5:]
    assert held >= 390
    assert server.workers() == workers  # no worker was restarted


def test_a_head_not_complete_within_the_header_timeout_gets_408_and_is_logged_once(start_server):
    server = start_server({"HEADER_TIMEOUT": "1", "WEB_CONCURRENCY": "1"})
    start = time.monotonic()
    with socket.create_connection(("127.0.0.1", server.port), timeout=5) as slow:
        slow.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n")
        answer = slow.recv(4096)
    assert answer.startswith(b"HTTP/1.1 408 "), answer
    assert 0.9 <= time.monotonic() - start < 3
    with socket.create_connection(("127.0.0.1", server.port), timeout=5) as idle:
        assert idle.recv(4096) == b""  # nothing sent, nothing answered: closed
    # Twenty more at once: the log gets a line now and then, not a line per connection.
    with SlowClients("127.0.0.1", server.port, slow=20, seconds=3, interval=0.2, limit=20) as clients:
        time.sleep(2.5)
    assert clients.answers["HTTP/1.1 408"] == 20, clients.answers
    lines = [line for line in server.logs().splitlines() if "without a complete request head" in line]
    assert 1 <= len(lines) <= 2, lines
    assert get(server.url + "/").status == 200


def test_a_client_cut_at_the_deadline_that_keeps_sending_gets_no_reset(start_server):
    # A reset is what makes kubelet's port-forward report an error, and `kubectl port-forward` then drops
    # every connection it carries: the worker half-closes and discards what still comes, for a while.
    server = start_server({"HEADER_TIMEOUT": "1", "WEB_CONCURRENCY": "1"})
    with socket.create_connection(("127.0.0.1", server.port), timeout=5) as slow:
        slow.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n")
        answer = b""
        while chunk := slow.recv(4096):
            answer += chunk
        assert answer.startswith(b"HTTP/1.1 408 "), answer
        for _ in range(4):  # a reset would fail the second send at the latest, or the recv below
            slow.sendall(b"X-Slow: a\r\n")
            time.sleep(0.2)
        assert slow.recv(4096) == b""


def test_a_complete_head_sent_in_pieces_is_served(start_server):
    server = start_server({"HEADER_TIMEOUT": "3"})
    with socket.create_connection(("127.0.0.1", server.port), timeout=5) as conn:
        for piece in (b"GET /next HTTP/1.1\r\n", b"Host: x\r\n", b"Connection: close\r\n", b"\r\n"):
            conn.sendall(piece)
            time.sleep(0.2)
        answer = b"".join(iter(lambda: conn.recv(65536), b""))
    assert answer.startswith(b"HTTP/1.1 200 "), answer[:100]


def test_overload_is_refused_fast_with_retry_after_while_the_probes_answer(start_server):
    server = start_server(
        {"WEB_CONCURRENCY": "1", "GUNICORN_THREADS": "2", "MAX_QUEUED": "2", "ACCESS_LOG": "false"}, module=SLOW_APP
    )
    results: list[tuple[float, int, str | None]] = []

    def slow_request() -> None:
        start = time.monotonic()
        reply = get(server.url + "/slow?seconds=2", timeout=10)
        results.append((time.monotonic() - start, reply.status, reply.headers.get("Retry-After")))

    threads = [threading.Thread(target=slow_request) for _ in range(16)]
    for thread in threads:
        thread.start()
        time.sleep(0.01)
    time.sleep(0.3)  # 2 served, 2 waiting, the rest refused by now
    probes = [timed_get(server.url + path) for path in ("/livez", "/readyz") * 3]
    for thread in threads:
        thread.join(15)
    served = [r for r in results if r[1] == 200]
    refused = [r for r in results if r[1] == 503]
    assert len(results) == 16
    assert 2 <= len(served) <= 5, results
    assert len(served) + len(refused) == 16, results
    assert all(seconds < 0.5 and retry_after == "1" for seconds, _, retry_after in refused), refused
    assert all(status == 200 and seconds < 0.5 for seconds, status in probes), probes
    assert "refused" in server.logs() and "MAX_QUEUED=2" in server.logs()


def test_forwarded_headers_are_trusted_only_from_the_configured_proxies(start_server):
    headers = {"X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.7"}
    default = start_server(module=SLOW_APP)
    assert json.loads(get(default.url + "/peer", headers=headers).body) == {
        "scheme": "http",
        "remote_addr": "127.0.0.1",
    }
    contradictory = b"GET / HTTP/1.1\r\nHost: x\r\nX-Forwarded-Proto: https\r\nX-Forwarded-Ssl: off\r\n\r\n"
    assert raw("127.0.0.1", default.port, contradictory).startswith(b"HTTP/1.1 200 ")

    trusting = start_server({"FORWARDED_ALLOW_IPS": "10.0.0.0/8, 127.0.0.1"}, module=SLOW_APP)
    assert json.loads(get(trusting.url + "/peer", headers=headers).body)["scheme"] == "https"
    assert raw("127.0.0.1", trusting.port, contradictory).startswith(b"HTTP/1.1 400 ")


def test_the_client_address_is_taken_from_a_proxy_protocol_line(start_server):
    # What the pod's front (front/haproxy.cfg, send-proxy) writes before the request it passes on.
    proxied = (
        b"PROXY TCP4 203.0.113.7 10.0.0.1 40000 5000\r\nGET /peer HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    )
    plain = b"GET /peer HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    behind_front = start_server({"PROXY_PROTOCOL": "true"}, module=SLOW_APP)
    answer = raw("127.0.0.1", behind_front.port, proxied)
    assert answer.startswith(b"HTTP/1.1 200 "), answer
    assert json.loads(answer.split(b"\r\n\r\n", 1)[1])["remote_addr"] == "203.0.113.7"
    # A connection without the line (the kubelet's probes go to gunicorn directly) is served as it is.
    answer = raw("127.0.0.1", behind_front.port, plain)
    assert json.loads(answer.split(b"\r\n\r\n", 1)[1])["remote_addr"] == "127.0.0.1"
    # Off (the default), the line is not a request.
    assert raw("127.0.0.1", start_server(module=SLOW_APP).port, proxied).startswith(b"HTTP/1.1 400 ")
