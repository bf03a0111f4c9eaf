"""The service's gunicorn worker: gunicorn's gthread worker that gives a thread only to a complete request head.

gunicorn's ThreadWorker hands every accepted connection to a pool thread, which then blocks reading the request
head: a few clients that send their headers a byte a second (or connect and send nothing) hold every thread and
the service stops answering. Here the worker's main loop (the poller thread) reads request heads itself,
without blocking, and submits a connection to the pool only once its head is complete:

- a connection that has not delivered a complete head within HEADER_TIMEOUT seconds in total (counted from
  accept, or from the first byte of a kept-alive connection's next request) is closed, with a 408 when it sent
  anything; the closes are logged as one line per LOG_EVERY seconds at most, never one per connection;
- a head over MAX_HEAD bytes gets a 431 (gunicorn's own limits, 4094-byte request line, 8190-byte header
  lines, 100 fields, still apply below it);
- when MAX_QUEUED complete requests already wait for a thread, a new one is refused at once with
  503 + Retry-After instead of queueing into its client's timeout;
- the probes (/livez, /readyz) have a thread of their own, so they answer while the pool is saturated;
- a connection the worker closes itself is half-closed first and what the client still sends is read and
  discarded for LINGER seconds (Apache's lingering close): a close with input unread or still arriving answers
  with a TCP reset, which a copying proxy reports as an error, and `kubectl port-forward` then drops every
  connection it carries, not just the one that was cut.

An idle or slow connection then costs a socket and its few buffered bytes, not a thread. TLS and cleartext
HTTP/2 with prior knowledge (neither is used by the service) keep gunicorn's own path.
"""

from __future__ import annotations

import contextlib
import errno
import selectors
import socket
import threading
import time
from concurrent import futures
from functools import partial

from gunicorn import http
from gunicorn.http2 import negotiation
from gunicorn.workers.gthread import STOP_KEEPALIVE_LINGER, TConn, ThreadWorker

from .settings import Settings

MAX_HEAD = 32 * 1024  # bytes of request head buffered per connection (nginx's default total is 4 x 8 KiB)
RECV = 16 * 1024
LINGER = 2.0  # seconds a connection closed by the worker keeps being read (kubelet's port-forward waits 1 s)
LOG_EVERY = 10.0  # seconds between two log lines about timed-out heads or refused requests
PROBES = (b"/livez", b"/readyz")

RESPONSE_408 = b"HTTP/1.1 408 Request Timeout\r\nConnection: close\r\nContent-Length: 0\r\n\r\n"
RESPONSE_431 = b"HTTP/1.1 431 Request Header Fields Too Large\r\nConnection: close\r\nContent-Length: 0\r\n\r\n"
BODY_503 = b'{"status":"overloaded"}\n'
RESPONSE_503 = (
    b"HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\nRetry-After: 1\r\n"
    b"Content-Type: application/json\r\nX-Content-Type-Options: nosniff\r\n"
    b"Content-Length: " + str(len(BODY_503)).encode() + b"\r\n\r\n" + BODY_503
)


def head_end(buf: bytearray, start: int) -> int:
    """Index just past the blank line that ends a request head in `buf`, or -1 (leading blank lines skipped)."""
    lead = len(buf) - len(buf.lstrip(b"\r\n")) if buf[:1] in (b"\r", b"\n") else 0
    start = max(start, lead)
    ends = [i for i in (buf.find(b"\n\r\n", start), buf.find(b"\n\n", start)) if i >= 0]
    if not ends:
        return -1
    first = min(ends)
    return first + (3 if buf[first + 1 : first + 2] == b"\r" else 2)


def is_probe(buf: bytearray) -> bool:
    """Whether the request line asks for a probe path (any method; the app answers what it allows)."""
    head = bytes(buf).lstrip(b"\r\n")
    line = head[: head.find(b"\n")].split(b" ")
    return len(line) >= 2 and line[1].split(b"?", 1)[0] in PROBES


class Pool:
    """A thread pool and how many submitted requests still wait for one of its threads."""

    def __init__(self, threads: int, limit: int):
        self.executor = futures.ThreadPoolExecutor(max_workers=threads)
        self.limit = limit
        self.submitted = 0  # written by the main loop only
        self.started = 0  # written by the pool's threads, under the lock
        self.lock = threading.Lock()

    @property
    def waiting(self) -> int:
        return self.submitted - self.started

    def start(self) -> None:
        with self.lock:
            self.started += 1


class GuardedWorker(ThreadWorker):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        settings = getattr(self.app, "settings", None) or Settings()
        self.header_timeout = settings.header_timeout
        self.max_queued = settings.max_queued
        self.heads: dict[TConn, None] = {}  # connections reading their head
        self.lingering: dict[socket.socket, float] = {}  # half-closed by the worker: socket -> when to close
        self.pools: dict[bool, Pool] = {}
        self.notes = {"timeout": 0, "refused": 0}
        self.noted_at = {"timeout": float("-inf"), "refused": float("-inf")}
        self.last_client = None

    def get_thread_pool(self):
        # gunicorn's pool for the app, plus one thread that only the probes use.
        self.pools = {False: Pool(self.cfg.threads, self.max_queued), True: Pool(1, self.max_queued)}
        return self.pools[False].executor

    def handle_quit(self, sig, frame):
        self.pools[True].executor.shutdown(wait=False)
        super().handle_quit(sig, frame)

    # -- connections in: new and kept-alive ones read their head on the main loop --------------------------

    def accept(self, listener):
        try:
            sock, client = listener.accept()
        except OSError as error:
            if error.errno not in (errno.EAGAIN, errno.ECONNABORTED, errno.EWOULDBLOCK):
                raise
            return
        self.nr_conns += 1
        conn = TConn(self.cfg, sock, client, listener.getsockname())  # non-blocking from here
        if self.cfg.is_ssl or negotiation.prior_knowledge_allowed(self.cfg, client):
            sock.setblocking(True)
            self.enqueue_req(conn)  # gunicorn's own path: the handshake or preface is read in a thread
            return
        self.read_head(conn)

    def on_client_socket_readable(self, conn, client):
        self.poller.unregister(client)
        self.keepalived_conns.remove(conn)
        if conn.is_http2:
            self.enqueue_req(conn)
        else:
            self.read_head(conn)
            self.on_head_readable(conn, client)  # readable already: usually the whole head is there

    def read_head(self, conn: TConn) -> None:
        conn.sock.setblocking(False)
        conn.head = bytearray()
        conn.head_scanned = 0
        conn.head_deadline = time.monotonic() + self.header_timeout
        self.heads[conn] = None
        self.poller.register(conn.sock, selectors.EVENT_READ, partial(self.on_head_readable, conn))

    def on_head_readable(self, conn: TConn, client) -> None:
        if conn not in self.heads:
            return
        try:
            data = conn.sock.recv(RECV)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            self.drop(conn)
            return
        if not data:
            # The client closed its side: what it sent goes to gunicorn's parser, which answers malformed or
            # truncated heads as it always did (nothing sent: nothing to answer).
            if conn.head:
                self.dispatch(conn)
            else:
                self.drop(conn)
            return
        conn.head += data
        if head_end(conn.head, conn.head_scanned) >= 0:
            self.dispatch(conn)
        elif len(conn.head) > MAX_HEAD:
            self.drop(conn, RESPONSE_431)
        else:
            conn.head_scanned = max(len(conn.head) - 2, 0)

    def forget(self, conn: TConn) -> None:
        del self.heads[conn]
        with contextlib.suppress(KeyError, ValueError, OSError):
            self.poller.unregister(conn.sock)

    def drop(self, conn: TConn, answer: bytes = b"") -> None:
        """Close a connection from the main loop, after `answer` when the socket takes it without waiting."""
        if conn in self.heads:
            self.forget(conn)
        if answer:
            with contextlib.suppress(OSError):
                conn.sock.send(answer)
        self.nr_conns -= 1
        self.linger(conn.sock)

    def linger(self, sock: socket.socket) -> None:
        """Send FIN after what was written, then discard input until the client closes or LINGER passes."""
        try:
            sock.shutdown(socket.SHUT_WR)
            self.poller.register(sock, selectors.EVENT_READ, partial(self.on_linger_readable, sock))
        except (OSError, ValueError, KeyError):
            sock.close()
            return
        self.lingering[sock] = time.monotonic() + LINGER

    def on_linger_readable(self, sock: socket.socket, client) -> None:
        try:
            if sock.recv(RECV):
                return
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            pass
        self.unlinger(sock)

    def unlinger(self, sock: socket.socket) -> None:
        del self.lingering[sock]
        with contextlib.suppress(KeyError, ValueError, OSError):
            self.poller.unregister(sock)
        sock.close()

    # -- complete heads out: to a thread, or refused -------------------------------------------------------

    def dispatch(self, conn: TConn) -> None:
        self.forget(conn)
        head, conn.head = bytes(conn.head), None
        pool = self.pools[is_probe(head)]
        if pool.waiting >= pool.limit:
            self.note("refused", conn.client)
            self.drop(conn, RESPONSE_503)
            return
        if conn.parser is None:
            conn.parser = http.get_parser(self.cfg, conn.sock, conn.client)
        conn.parser.unreader.unread(head)
        conn.data_ready = True  # gunicorn's handle() must not wait for more before parsing
        conn.pool = pool
        pool.submitted += 1
        future = pool.executor.submit(self.handle, conn)
        future.add_done_callback(lambda fut: self.method_queue.defer(self.finish_request, conn, fut))

    def enqueue_req(self, conn):
        if conn.parser is not None and not conn.is_http2 and not self.cfg.is_ssl:
            # A kept-alive connection whose last request read ahead into the next one: those bytes may be
            # only part of a head, so they go through the main loop like any other.
            pending = conn.parser.unreader.take_buffered()
            self.read_head(conn)
            conn.head += pending
            if head_end(conn.head, 0) >= 0:
                self.dispatch(conn)
            return
        # gunicorn's own path (TLS, HTTP/2) uses the app pool, counted.
        conn.pool = self.pools[False]
        conn.pool.submitted += 1
        super().enqueue_req(conn)

    def handle(self, conn):
        conn.pool.start()
        return super().handle(conn)

    # -- the deadline, swept by the main loop once a second --------------------------------------------------

    def murder_pending(self):
        super().murder_pending()
        now = time.monotonic()
        if not self.alive:
            # Stopping: a connection that has not begun a request gets STOP_KEEPALIVE_LINGER seconds at most
            # (its request may be on the way), like gunicorn's kept-alive ones.
            for conn in self.heads:
                if not conn.head:
                    conn.head_deadline = min(conn.head_deadline, now + STOP_KEEPALIVE_LINGER)
        for sock in [sock for sock, until in self.lingering.items() if until <= now]:
            self.unlinger(sock)
        expired = [conn for conn in self.heads if conn.head_deadline <= now]
        for conn in expired:
            if self.alive or conn.head:
                self.note("timeout", conn.client)
            self.drop(conn, RESPONSE_408 if conn.head else b"")
        self.note(None, None)

    def note(self, kind: str | None, client) -> None:
        """Count an event; log the counts at most once per LOG_EVERY seconds per kind."""
        if kind:
            self.notes[kind] += 1
            self.last_client = client
        now = time.monotonic()
        for name, count in self.notes.items():
            if count and now - self.noted_at[name] >= LOG_EVERY:
                if name == "timeout":
                    self.log.warning(
                        "closed %d connection(s) without a complete request head within HEADER_TIMEOUT=%gs "
                        "(408 to those that had sent part of one; last from %s)",
                        count,
                        self.header_timeout,
                        self.last_client,
                    )
                else:
                    self.log.warning(
                        "refused %d request(s) with 503: more than MAX_QUEUED=%d waiting for a thread (last from %s)",
                        count,
                        self.max_queued,
                        self.last_client,
                    )
                self.notes[name] = 0
                self.noted_at[name] = now
