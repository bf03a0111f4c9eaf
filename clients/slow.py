"""Misbehaving clients on loopback: connections that send nothing, or their request head a byte at a time.

One thread drives every connection with a selector. A connection the server closes (a 408, or a plain close)
is opened again, so `held` stays near the number asked for: the server sees a constant population of
slowloris clients, as it would from a client that keeps trying. Bounded: the thread stops after `seconds`,
or at stop(), and opens at most `limit` connections in total.
"""

from __future__ import annotations

import selectors
import socket
import threading
import time
from collections import Counter

# Never complete: the head goes on with header lines for as long as the client lives.
SLOW_HEAD = b"GET / HTTP/1.1\r\nHost: x\r\n" + b"X-Slow: " + b"a" * 100_000


class SlowClients:
    def __init__(
        self,
        host: str,
        port: int,
        idle: int = 0,
        slow: int = 0,
        seconds: float = 60,
        interval: float = 1.0,
        limit: int = 20_000,
    ):
        self.address = (host, port)
        self.wanted = {"idle": idle, "slow": slow}
        self.seconds = seconds
        self.interval = interval  # seconds between two bytes of a slow client
        self.limit = limit
        self.opened = 0
        self.answers: Counter[str] = Counter()  # the first bytes of what the server sent before closing
        self.closed = 0
        self.errors: Counter[str] = Counter()
        self.selector = selectors.DefaultSelector()
        self.conns: dict[socket.socket, dict] = {}
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self.run, name="slow-clients", daemon=True)

    @property
    def held(self) -> int:
        return len(self.conns)

    def __enter__(self) -> SlowClients:
        self.thread.start()
        deadline = time.monotonic() + 30
        while self.held < sum(self.wanted.values()) and time.monotonic() < deadline and self.thread.is_alive():
            time.sleep(0.05)
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def stop(self) -> None:
        self.stopping.set()
        self.thread.join(10)

    def open(self, kind: str) -> None:
        if self.opened >= self.limit:
            return
        self.opened += 1
        try:
            sock = socket.create_connection(self.address, timeout=2)
        except OSError as error:
            self.errors[type(error).__name__] += 1
            return
        sock.setblocking(False)
        self.conns[sock] = {"kind": kind, "sent": 0, "due": time.monotonic()}
        self.selector.register(sock, selectors.EVENT_READ)

    def close(self, sock: socket.socket) -> None:
        self.selector.unregister(sock)
        del self.conns[sock]
        sock.close()
        self.closed += 1

    def run(self) -> None:
        end = time.monotonic() + self.seconds
        try:
            while not self.stopping.is_set() and time.monotonic() < end:
                counts = Counter(c["kind"] for c in self.conns.values())
                for kind, wanted in self.wanted.items():
                    for _ in range(wanted - counts[kind]):
                        self.open(kind)
                for key, _ in self.selector.select(min(self.interval, 0.1)):
                    try:
                        data = key.fileobj.recv(4096)
                    except OSError:
                        data = b""
                    self.answers[data[:12].decode("latin-1") or "close"] += 1
                    self.close(key.fileobj)
                now = time.monotonic()
                for sock, state in list(self.conns.items()):
                    if state["kind"] == "slow" and state["due"] <= now:
                        try:
                            sock.send(SLOW_HEAD[state["sent"] : state["sent"] + 1])
                            state["sent"] += 1
                            state["due"] = now + self.interval
                        except OSError:
                            self.answers["reset"] += 1
                            self.close(sock)
        finally:
            for sock in list(self.conns):
                self.close(sock)
            self.selector.close()
