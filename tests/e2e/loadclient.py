"""A bounded HTTP load client that never retries, run where real clients are (standard library only).

It runs in a client pod inside the cluster (GETs to the Service's ClusterIP through kube-proxy and the
NetworkPolicy) and on the host (GETs through a gateway), with the same code and the same verdicts:

- `fresh`: a new TCP connection per request, closed after the response.
- `keepalive`: each thread keeps one connection open across requests, as an HTTP client's pool does. A
  connection the server closed between two requests is seen before the next request is written (the
  socket reads as closed) and replaced by a new one: that is not a retry, and it is counted apart. A
  response with `Connection: close` closes it too.

Every request is answered or it is a failure: refused, reset, timed out, cut short, or a status other than
200. Nothing is sent twice. The run stops at standard input's end of file (the driver closes it), or at
--seconds, or after --requests per thread, whichever comes first, and prints one JSON object: counts, the
failures with their times, and the successes per second (to show that the load spanned a fault). While it
runs, each failure's time is also written to standard error as it happens (`failed <time>`), so that a
driver can tell when a path has recovered without stopping it.
"""

from __future__ import annotations

import argparse
import http.client
import json
import select
import sys
import threading
import time
from collections import Counter

TIMEOUT = 5.0  # seconds for a connection or a response
KEPT_FAILURES = 50  # failures listed with their cause; all are counted
FAILED = "failed"  # the standard error line of a failure as it happens: FAILED <unix time>


def server_closed(conn: http.client.HTTPConnection) -> bool:
    """True when the kept connection can no longer carry a request: the peer closed it (or sent something
    unasked for). A readable idle socket is one of those two."""
    sock = conn.sock
    if sock is None:
        return True
    readable, _, _ = select.select([sock], [], [], 0)
    return bool(readable)


class Run:
    def __init__(self, args: argparse.Namespace):
        self.args = args
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.ok = 0
        self.failed = 0
        self.failures: list[dict] = []
        self.per_second: Counter = Counter()
        self.idle_closed = 0  # kept connections the server closed between requests (a new one replaced each)
        self.close_asked = 0  # responses that asked for the connection to be closed
        self.connections = 0

    def connect(self) -> http.client.HTTPConnection:
        with self.lock:
            self.connections += 1
        return http.client.HTTPConnection(self.args.host, self.args.port, timeout=TIMEOUT)

    def request(self, conn: http.client.HTTPConnection) -> bool:
        """One GET; True when the connection may carry another request."""
        headers = {"Host": self.args.host_header} if self.args.host_header else {}
        conn.request("GET", self.args.path, headers=headers)
        response = conn.getresponse()
        response.read()
        if response.status != 200:
            raise RuntimeError(f"status {response.status}")
        if response.will_close:
            with self.lock:
                self.close_asked += 1
            return False
        return True

    def worker(self) -> None:
        deadline = time.monotonic() + self.args.seconds
        conn = None
        for _ in range(self.args.requests):
            if self.stop.is_set() or time.monotonic() > deadline:
                break
            if conn is not None and server_closed(conn):
                conn.close()
                conn = None
                with self.lock:
                    self.idle_closed += 1
            if conn is None:
                conn = self.connect()
            reused = conn.sock is not None
            try:
                keep = self.request(conn)
            except Exception as error:  # every failure is recorded with its cause; none is sent again
                conn.close()
                conn = None
                failed_at = time.time()
                with self.lock:
                    self.failed += 1
                    if len(self.failures) < KEPT_FAILURES:
                        self.failures.append({"t": failed_at, "reused": reused, "error": repr(error)[:300]})
                print(f"{FAILED} {failed_at}", file=sys.stderr, flush=True)
            else:
                with self.lock:
                    self.ok += 1
                    self.per_second[int(time.time())] += 1
                if not keep or self.args.mode == "fresh":
                    conn.close()
                    conn = None
            if self.args.pause:
                self.stop.wait(self.args.pause)
        if conn is not None:
            conn.close()

    def main(self) -> dict:
        threads = [threading.Thread(target=self.worker, daemon=True) for _ in range(self.args.threads)]
        started = time.time()
        for t in threads:
            t.start()
        if self.args.until_eof:
            threading.Thread(target=lambda: (sys.stdin.read(), self.stop.set()), daemon=True).start()
        for t in threads:
            t.join(self.args.seconds + 2 * TIMEOUT)
        return {
            "mode": self.args.mode,
            "started": started,
            "ended": time.time(),
            "ok": self.ok,
            "failed": self.failed,
            "failures": self.failures,
            "per_second": {str(k): v for k, v in sorted(self.per_second.items())},
            "idle_closed": self.idle_closed,
            "close_asked": self.close_asked,
            "connections": self.connections,
        }


def parse(argv: list[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--host", required=True)
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--path", default="/")
    p.add_argument("--host-header", default="", help="the Host header, for a gateway's host-based route")
    p.add_argument("--mode", choices=("fresh", "keepalive"), required=True)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--pause", type=float, default=0.02, help="seconds each thread waits between requests")
    p.add_argument("--seconds", type=float, default=300, help="the run's bound in time")
    p.add_argument("--requests", type=int, default=20000, help="the run's bound in requests, per thread")
    p.add_argument("--until-eof", action="store_true", help="stop when standard input ends")
    return p.parse_args(argv)


if __name__ == "__main__":
    print(json.dumps(Run(parse(sys.argv[1:])).main()))
