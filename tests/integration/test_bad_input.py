"""Bad input against the real gunicorn: a fixed corpus and a seeded generator of odd requests, sent as raw bytes.

What is right, from gunicorn 27's parser (gunicorn/http/message.py) and its error answers (Worker.handle_error):
- A request whose head is complete (ends in CRLF CRLF) gets an answer. A head the client cuts short is closed
  without one: there is no request to answer (gunicorn's NoMoreData).
- No answer is a 5xx, save 501 for a transfer coding gunicorn does not implement (RFC 9112 section 6.1).
- gunicorn's limits: a request line over 4094 bytes is 414; a header line over 8190 bytes (its CRLF counted),
  or more than 100 header fields, is 431. Other malformed heads are 400, an unknown expectation 417.
- No answer carries a traceback, and every X-Request-ID echoed is one that cannot forge a log line.
- Afterwards the same arbiter and workers serve, /readyz answers 200 and the log holds no error.
"""

from __future__ import annotations

import itertools
import json
import random
import re
import time
from dataclasses import dataclass
from urllib.parse import parse_qsl

from prometheus_client.openmetrics.parser import text_string_to_metric_families as parse_openmetrics
from prometheus_client.parser import text_string_to_metric_families as parse_text

from tests.support.httpclient import get, raw

SEED = 510
GENERATED = 1000
SWEEP_BUDGET = 120  # seconds: a guard against a hang, the loop's count bounds it first


@dataclass(frozen=True)
class Case:
    name: str
    data: bytes
    statuses: tuple[int, ...] | None = None  # the final statuses, in order; None: any, all below 500


def request(target=b"/", method=b"GET", headers=(), body=b"", *, host=b"x", close=True, version=b"HTTP/1.1"):
    lines = [b" ".join((method, target, version))]
    lines += [] if host is None else [b"Host: " + host]
    lines += [b"Connection: close"] if close else []
    return b"\r\n".join([*lines, *headers]) + b"\r\n\r\n" + body


def target_of(length: int) -> bytes:
    """A path that makes `GET <path> HTTP/1.1` exactly `length` bytes long."""
    return b"/" + b"a" * (length - len(b"GET / HTTP/1.1"))


def header_of(length: int) -> bytes:
    return b"X-Big: " + b"a" * (length - len(b"X-Big: "))


def fields(count: int) -> list[bytes]:
    return [b"X-F%d: v" % i for i in range(count)]


# --- the pieces requests are made of ---------------------------------------------------------------------

PATHS = [
    *(b"/", b"/next", b"/livez", b"/readyz", b"/metrics"),
    *(b"/next/", b"/next.html", b"/NEXT", b"/%6eext", b"/next%2f", b"/metrics/", b"/metrics.txt", b"/readyz/x"),
    *(b"/..%2f..%2fetc/passwd", b"/../../etc/passwd", b"/./next", b"/next/..", b"/static/../service/__init__.py"),
    *(b"//", b"//next", b"/next//", b"/a//b///c", b"/;x=1", b"/next;jsessionid=1", b"/\\next", b"/#frag"),
    *(b"/%00", b"/a%00b", b"/%", b"/%zz", b"/%ff%fe", b"/%c3%28", b"/%ed%a0%80", b"/%c3%a9t%c3%a9", b"/%F0%9F%92%A9"),
    *(b"/" + b"a" * 3000, b"/" + b"a/" * 1000, b"http://x/next", b"http://other.example/metrics"),
]
# Bytes a request-target may not hold (RFC 9112 3.2): gunicorn answers 400 before the app sees them.
RAW_TARGETS = [b"/\x00", b"/\xff\xfe", "/\u00e9t\u00e9".encode(), "/\u2603".encode(), b"/a\tb", b"/a\x7f", b""]
QUERIES = [
    *(b"", b"?", b"?q=1", b"?" + b"q=1&" * 500, b"?a=" + b"a" * 3000, b"?" + b"&" * 2000, b"?=&=&&"),
    *(b"?%", b"?%zz=%", b"?a=%ff%fe", b"?a=%00", b"?a[]=1&a[]=2", b"?+%2B+", b"?x=<script>alert(1)</script>"),
    *(b"?name[]=", b"?name[]=%ff", b"?name[]=flask_service_app_info", b"?" + b"name[]=up&" * 300),
    b"?name%5B%5D=flask_http_request_total",
]
METHODS = [b"GET", b"HEAD", b"POST", b"PUT", b"DELETE", b"OPTIONS", b"PATCH", b"TRACE", b"CONNECT", b"BREW"]
BAD_METHODS = [b"get", b"Get", b"GE", b"X" * 21, b"G\x00T", b"GET;", b"#GET", b"G(T"]
HOSTS = [b"x", b"", b"127.0.0.1:99999", b"[::1", b"a b", b"\xff\xfe", b"h" * 4000, b"x:80:90", None]
HEADER_GROUPS = [
    [header_of(8000)],
    fields(90),
    *([b"X-Request-ID: " + rid] for rid in (b"a" * 200, b"a b", b'"}{"level":"error', b"\xff", b"", b"../etc")),
    *([b"Accept: " + accept] for accept in (b"application/json", b"application/json;q=abc", b"*/*;q=1e999", b";,=")),
    [b"Accept: text/plain; version=abc"],
    [b"Accept: application/openmetrics-text; version=1.x; escaping=nonsense"],
    [b"Accept-Encoding: gzip;q=x, br"],
    [b"Content-Type: multipart/form-data; boundary="],
    [b"SCRIPT_NAME: /x"],
    [b"PATH_INFO: /metrics", b"X_Forwarded_For: 1.2.3.4"],
    [b"X-Forwarded-Proto: https", b"X-Forwarded-For: not-an-ip, ::zz", b"Forwarded: for=@;proto=gopher"],
    [b"Upgrade: h2c", b"HTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA"],
    [b"Upgrade: websocket", b"Sec-WebSocket-Key: x"],
    [b"Range: bytes=abc-", b"If-Modified-Since: yesterday", b"If-None-Match: *"],
    [b"Cookie: a=\xff; ;;=", b"Authorization: Basic !!!"],
    [b"X-Obs-Text: \x80\xff", b"X-Tab: a\tb", b"X-Spaces:    padded   "],
]
# Header lines gunicorn refuses (400): they go in the corpus with that status and, rarely, into generated requests.
BAD_HEADERS = {
    "no-colon": b"NoColon",
    "empty-name": b": v",
    "space-in-name": b"Bad Name: v",
    "space-before-colon": b"X-A : v",
    "control-in-name": b"X\x01: v",
    "nul-in-value": b"X-A: a\x00b",
    "del-in-value": b"X-A: a\x7fb",
    "escape-in-value": b"X-A: \x1b[31mred",
    "control-in-request-id": b"X-Request-ID: a\x01b",
    "obs-fold": b"X-A: a\r\n folded",
    "bare-lf": b"X-A: a\nX-B: b",
    "duplicate-host": b"Host: y",
    "duplicate-content-type": b"Content-Type: a/b\r\nContent-Type: c/d",
}
# Scheme headers that contradict each other are a 400 from a trusted proxy only (FORWARDED_ALLOW_IPS, none by
# default); from anyone else they are ignored (tests/integration/test_slow_clients.py covers the trusted case).
CONTRADICTORY_SCHEME = b"X-Forwarded-Proto: https\r\nX-Forwarded-Ssl: off"
CHUNKED = b"Transfer-Encoding: chunked"
# name -> (framing header lines, body bytes)
BODIES = {
    "none": ([], b""),
    "empty": ([b"Content-Length: 0"], b""),
    "text": ([b"Content-Length: 5"], b"hello"),
    "binary": ([b"Content-Length: 256", b"Content-Type: application/octet-stream"], bytes(range(256))),
    "large": ([b"Content-Length: 262144"], random.Random(SEED).randbytes(262144)),  # noqa: S311
    "bad-json": ([b"Content-Length: 5", b"Content-Type: application/json"], b'{"a":'),
    "length-short": ([b"Content-Length: 100"], b"hello"),
    "length-long": ([b"Content-Length: 2"], b"hello"),
    "length-huge": ([b"Content-Length: 99999999999999999999"], b"hello"),
    "chunked": ([CHUNKED], b"5\r\nhello\r\n0\r\n\r\n"),
    "chunked-large": ([CHUNKED], b"1000\r\n" + b"a" * 4096 + b"\r\n" + b"0\r\n\r\n"),
    "chunked-extension": ([CHUNKED], b"5;a=b\r\nhello\r\n0\r\n\r\n"),
    "chunked-trailer": ([CHUNKED], b"5\r\nhello\r\n0\r\nX-Trailer: 1\r\n\r\n"),
    "chunked-gzip-first": ([b"Transfer-Encoding: gzip, chunked"], b"0\r\n\r\n"),
    "chunked-bad-size": ([CHUNKED], b"zz\r\nhello\r\n0\r\n\r\n"),
    "chunked-negative-size": ([CHUNKED], b"-5\r\nhello\r\n0\r\n\r\n"),
    "chunked-huge-size": ([CHUNKED], b"ffffffffffffffffffff\r\nhello\r\n0\r\n\r\n"),
    "chunked-no-terminator": ([CHUNKED], b"5\r\nhelloXX0\r\n\r\n"),
    "chunked-truncated": ([CHUNKED], b"5\r\nhel"),
    "expect-100-continue": ([b"Expect: 100-continue", b"Content-Length: 5"], b"hello"),
}
# Framing gunicorn refuses before the app runs.
BAD_FRAMING = {
    "length-not-a-number": ([b"Content-Length: abc"], 400),
    "length-negative": ([b"Content-Length: -1"], 400),
    "length-exponent": ([b"Content-Length: 1e3"], 400),
    "length-plus": ([b"Content-Length: +5"], 400),
    "length-list": ([b"Content-Length: 5, 5"], 400),
    "length-twice": ([b"Content-Length: 5", b"Content-Length: 5"], 400),
    "length-and-chunked": ([b"Content-Length: 5", CHUNKED], 400),
    "chunked-twice": ([b"Transfer-Encoding: chunked, chunked"], 400),
    "chunked-not-last": ([b"Transfer-Encoding: chunked, gzip"], 400),
    "identity-coding": ([b"Transfer-Encoding: identity"], 400),
    "unknown-coding": ([b"Transfer-Encoding: xchunked"], 501),
    "unknown-expectation": ([b"Expect: teapot"], 417),
}


# --- the corpus and the generator ------------------------------------------------------------------------


def limit_cases() -> list[Case]:
    return [
        Case("request-line-of-4094", request(target_of(4094)), (404,)),
        Case("request-line-of-4095", request(target_of(4095)), (414,)),
        Case("query-of-10000", request(b"/?q=" + b"a" * 10000), (414,)),
        Case("method-of-5000", request(method=b"G" * 5000), (414,)),
        Case("header-line-of-8190", request(headers=[header_of(8188)]), (200,)),
        Case("header-line-of-8191", request(headers=[header_of(8189)]), (431,)),
        Case("header-of-20000", request(headers=[header_of(20000)]), (431,)),
        Case("host-of-9000", request(host=b"h" * 9000), (431,)),
        Case("100-fields", request(headers=fields(98)), (200,)),  # with Host and Connection
        Case("101-fields", request(headers=fields(99)), (431,)),
        Case("1000-fields", request(headers=fields(1000)), (431,)),
    ]


def post(headers: list[bytes], body: bytes = b"", **options) -> bytes:
    return request(b"/", b"POST", headers, body, **options)


def protocol_cases() -> list[Case]:
    get_next = request(b"/next")
    length = [b"Content-Length: %d" % len(get_next)]
    return [
        *(Case(f"method-{m[:8]!r}", request(method=m), (400,)) for m in BAD_METHODS),
        *(Case(f"target-{t[:8]!r}", request(t), (400,)) for t in RAW_TARGETS),
        *(Case(f"header-{name}", request(headers=[line]), (400,)) for name, line in BAD_HEADERS.items()),
        *(Case(f"framing-{name}", post(lines), (status,)) for name, (lines, status) in BAD_FRAMING.items()),
        Case("not-http", b"NOT-HTTP\r\n\r\n", (400,)),
        Case("http-0.9", b"GET /\r\n\r\n", (400,)),
        Case("http-2.0", request(version=b"HTTP/2.0"), (400,)),
        Case("lowercase-version", request(version=b"http/1.1"), (400,)),
        Case("h2-preface", b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", (400,)),
        Case("asterisk-with-get", request(b"*"), (400,)),
        Case("authority-with-get", request(b"x:443"), (400,)),
        Case("space-in-target", request(b"/a b"), (400,)),
        Case("chunked-on-http-1.0", post([CHUNKED], b"0\r\n\r\n", version=b"HTTP/1.0"), (400,)),
        Case("untrusted-contradictory-scheme", request(headers=[CONTRADICTORY_SCHEME]), (200,)),
        Case("script-name-header", request(headers=[b"SCRIPT_NAME: /x"]), (200,)),
        Case("script-name-prefix", request(b"/metrics", headers=[b"SCRIPT_NAME: /metrics"]), (200,)),
        Case("http-1.0-no-host", request(host=None, close=False, version=b"HTTP/1.0"), (200,)),
        Case("http-1.2", request(version=b"HTTP/1.2"), (200,)),
        Case("one-empty-line-first", b"\r\n" + get_next, (200,)),
        # Nothing to answer: the client ended the connection before the head was complete.
        Case("nothing", b"", ()),
        Case("request-line-cut", b"GET /ne", ()),
        Case("head-cut", b"GET / HTTP/1.1\r\nHost: x\r\n", ()),
        # Several requests on one connection: the framing decides what is a request, never the body's bytes.
        Case("pipelined", request(close=False) + get_next, (200, 200)),
        Case("pipelined-garbage", request(close=False) + b"NOT-HTTP\r\n\r\n", (200, 400)),
        Case("after-a-body", post([b"Content-Length: 5"], b"hello", close=False) + get_next, (405, 200)),
        Case("after-chunks", post([CHUNKED], b"5\r\nhello\r\n0\r\n\r\n", close=False) + get_next, (405, 200)),
        Case("smuggled-in-a-body", post(length, get_next, close=False), (405,)),
        Case("smuggled-past-length-and-chunked", post([*length, CHUNKED], get_next, close=False), (400,)),
    ]


def sweep_cases() -> list[Case]:
    """Every path with every method, then bodies and header groups on real routes, with and without keep-alive."""
    cases = [Case(f"{m.decode()} {p[:40]!r}", request(p, m)) for p, m in itertools.product(PATHS, METHODS)]
    for (name, (lines, body)), path, close in itertools.product(BODIES.items(), (b"/", b"/metrics"), (True, False)):
        cases.append(Case(f"body-{name} {path!r} close={close}", request(path, b"POST", lines, body, close=close)))
        cases.append(Case(f"body-{name} GET {path!r} close={close}", request(path, b"GET", lines, body, close=close)))
    groups = itertools.product(enumerate(HEADER_GROUPS), (b"/next", b"/metrics"))
    cases += [Case(f"headers-{i} {path!r}", request(path, headers=group)) for (i, group), path in groups]
    cases += [Case(f"host-{host!r:.20}", request(host=host)) for host in HOSTS]
    cases += [Case(f"query-{q[:30]!r}", request(p + q)) for p, q in itertools.product((b"/", b"/metrics"), QUERIES)]
    return cases


def generated_cases(count: int = GENERATED, seed: int = SEED) -> list[Case]:
    """Random combinations of the pieces above; a fifth of them with a few bytes of the head overwritten."""
    rng = random.Random(seed)  # noqa: S311 - a fixed seed makes every run send the same requests; nothing secret
    cases = []
    for i in range(count):
        method = rng.choice(BAD_METHODS) if rng.random() < 0.05 else rng.choice(METHODS)
        target = rng.choice(RAW_TARGETS) if rng.random() < 0.05 else rng.choice(PATHS) + rng.choice(QUERIES)
        headers = [line for group in rng.sample(HEADER_GROUPS, rng.randint(0, 3)) for line in group]
        if rng.random() < 0.1:
            headers.append(rng.choice(list(BAD_HEADERS.values())))
        framing, body = rng.choice(list(BODIES.values()))
        data = request(
            target,
            method,
            [*headers, *framing],
            body,
            host=rng.choice(HOSTS),
            close=rng.random() < 0.7,
            version=rng.choice([b"HTTP/1.1"] * 8 + [b"HTTP/1.0", b"HTTP/1.9"]),
        )
        if rng.random() < 0.2:
            head = bytearray(data[: data.find(b"\r\n\r\n") + 4])
            for _ in range(rng.randint(1, 3)):
                head[rng.randrange(len(head))] = rng.randrange(256)
            data = bytes(head) + data[len(head) :]
        cases.append(Case(f"generated-{i}", data))
    return cases


# --- checking answers ------------------------------------------------------------------------------------

# Status lines, wherever they are: no body echoes one, as no input here holds one.
STATUS_LINE = re.compile(rb"HTTP/1\.\d (\d{3}) ")
ECHOED_ID = re.compile(rb"\r\nX-Request-ID: ([^\r\n]*)\r\n")
SAFE_ID = re.compile(rb"[A-Za-z0-9._:-]{1,128}")


def final_statuses(answer: bytes) -> list[int]:
    return [status for status in map(int, STATUS_LINE.findall(answer)) if status >= 200]


def problems(case: Case, answer: bytes) -> list[str]:
    found = final_statuses(answer)
    wrong = []
    if case.statuses is None:
        if b"\r\n\r\n" in case.data and not found:
            wrong.append("no answer to a complete head")
        # The one right 5xx: 501 for a transfer coding gunicorn does not implement.
        allowed_5xx = {501} if b"transfer-encoding:" in case.data.lower() else set()
        if any(status >= 500 and status not in allowed_5xx for status in found):
            wrong.append(f"statuses {found}")
    elif tuple(found) != case.statuses:
        wrong.append(f"statuses {found}, expected {list(case.statuses)}")
    if b"Traceback" in answer or b'File "' in answer:
        wrong.append("a traceback in the answer")
    wrong += [f"unsafe X-Request-ID {rid[:40]!r}" for rid in ECHOED_ID.findall(answer) if not SAFE_ID.fullmatch(rid)]
    return wrong


def send_all(server, cases: list[Case]) -> None:
    deadline = time.monotonic() + SWEEP_BUDGET
    failures = []
    for sent, case in enumerate(cases):
        assert time.monotonic() < deadline, f"only {sent} of {len(cases)} cases sent in {SWEEP_BUDGET}s"
        try:
            answer = raw("127.0.0.1", server.port, case.data)
        except TimeoutError:
            failures.append(f"{case.name}: neither answered nor closed")
            continue
        failures += [f"{case.name}: {problem}; answer {answer[:100]!r}" for problem in problems(case, answer)]
    assert not failures, f"{len(failures)} failures in {len(cases)} cases:\n" + "\n".join(failures)


def booted_workers(server, count: int = 2, timeout: float = 20) -> set[int]:
    """The worker PIDs once all `count` of them (the fixture's WEB_CONCURRENCY) have booted.

    /readyz answers as soon as one worker does, so the second may not exist yet.
    """
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        workers = server.workers()
        if len(workers) == count and all(f"Booting worker with pid: {pid}" in server.logs() for pid in workers):
            return workers
        time.sleep(0.1)
    raise AssertionError(f"{count} workers did not boot in {timeout}s: {server.workers()}")


def assert_unharmed(server, workers: set[int]) -> None:
    """The arbiter and the workers that were there before still serve, and nothing went wrong in the log."""
    assert server.proc.poll() is None, "the arbiter exited"
    assert server.workers() == workers, "a worker was replaced"
    assert get(server.url + "/readyz").status == 200
    log = server.logs()
    assert "Traceback" not in log
    assert not re.search(r"Worker \(pid:\d+\) (exited|was sent)|WORKER TIMEOUT", log)
    assert log.count("Booting worker") == len(workers)
    assert [e for e in map(json.loads, log.splitlines()) if e["level"] in ("error", "critical")] == []


def one_answer(server, data: bytes) -> tuple[int, dict[str, str], bytes]:
    """Status, headers (lower-case names) and the bytes after the head of the only answer to `data`."""
    head, _, rest = raw("127.0.0.1", server.port, data).partition(b"\r\n\r\n")
    status_line, *lines = head.decode("latin-1").split("\r\n")
    headers = {name.lower(): value for name, _, value in (line.partition(": ") for line in lines)}
    return int(status_line.split(" ")[1]), headers, rest


# --- the tests -------------------------------------------------------------------------------------------


def test_limits_and_protocol_errors_get_their_exact_status(server):
    workers = booted_workers(server)
    send_all(server, limit_cases() + protocol_cases())
    assert_unharmed(server, workers)


def test_sweep_never_500s(server):
    workers = booted_workers(server)
    send_all(server, sweep_cases() + generated_cases())
    assert_unharmed(server, workers)


def test_generator_is_deterministic():
    assert generated_cases(50) == generated_cases(50)
    assert generated_cases(50) != generated_cases(50, seed=SEED + 1)


def test_head_and_options(server):
    workers = booted_workers(server)
    allowed = {"GET", "HEAD", "OPTIONS"}
    for path in (b"/", b"/next", b"/livez", b"/readyz", b"/metrics", b"/nope"):
        status, headers, body = one_answer(server, request(path))
        head_status, head_headers, head_body = one_answer(server, request(path, b"HEAD"))
        assert (head_status, head_headers["content-type"], head_body) == (status, headers["content-type"], b"")
        if path != b"/metrics":  # the only body that changes from one request to the next
            assert head_headers["content-length"] == str(len(body)), path
    for path in (b"/", b"/next", b"/livez", b"/readyz", b"/metrics"):
        status, headers, body = one_answer(server, request(path, b"OPTIONS"))
        assert (status, body) == (200, b""), path
        assert set(headers["allow"].split(", ")) == allowed
    for method in (b"POST", b"PUT", b"DELETE", b"PATCH", b"TRACE", b"BREW"):
        status, headers, body = one_answer(server, request(b"/", method, [b"X-Secret: s3cr3t"]))
        assert status == 405 and set(headers["allow"].split(", ")) == allowed, method
        assert b"s3cr3t" not in body, "the request is never echoed (TRACE)"
    # A client that waits for the go-ahead gets it; no route reads a body, so the answer follows at once.
    expect = [b"Expect: 100-continue", b"Content-Length: 5"]
    answer = raw("127.0.0.1", server.port, request(b"/next", headers=expect))
    assert answer.startswith(b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\n")
    answer = raw("127.0.0.1", server.port, request(b"/next", headers=expect, version=b"HTTP/1.0"))
    assert answer.startswith(b"HTTP/1.0 200 OK\r\n"), "HTTP/1.0 expectations are ignored (RFC 9110 10.1.1)"
    assert_unharmed(server, workers)


METRICS_QUERIES = [
    *(b"", b"name[]=", b"name[]=%ff%fe", b"name[]=%00", b"name[]=no_such_metric", b"name[]=" + b"x" * 3000),
    *(b"name[]", b"name[=x", b"name]]=x", b"name[]=%", b"%", b"%zz=%", b"name[]=a&name[]=b&name=c"),
    b"&".join([b"name[]=flask_service_app_info"] * 130),  # as many as fit in a request line
    b"name%5B%5D=flask_service_app_info",
    b"name[]=flask_http_request_total&name[]=flask_service_app_info",
]
METRICS_ACCEPTS = [
    *(None, b"text/plain; version=abc", b"application/openmetrics-text; version=1.x", b"application/openmetrics-text"),
    *(b"application/openmetrics-text; version=1.0.0; escaping=nonsense", b"application/openmetrics-text; version=-1"),
    *(b"text/plain;version=1.0.0;escaping=allow-utf-8", b"*/*;q=x", b";,,=", b"\xff"),
]


def test_metrics_with_bad_query_strings_and_accept_headers(server):
    workers = booted_workers(server)
    get(server.url + "/next")  # one request counted, so a filter has samples to keep or drop
    for query, accept in itertools.product(METRICS_QUERIES, METRICS_ACCEPTS):
        headers = [] if accept is None else [b"Accept: " + accept]
        status, answer_headers, body = one_answer(server, request(b"/metrics?" + query, headers=headers))
        assert status == 200, (query, accept)
        text = body.decode()
        openmetrics = answer_headers["content-type"].startswith("application/openmetrics-text")
        # The real parsers: whatever was asked, the answer is a valid exposition in the type it names.
        families = list(parse_openmetrics(text) if openmetrics else parse_text(text))
        names = [value for key, value in parse_qsl(query.decode(), keep_blank_values=True) if key == "name[]"]
        samples = {sample.name for family in families for sample in family.samples}
        if names:  # a filter keeps only the samples it names
            assert samples <= set(names), (query, samples)
        else:
            assert "flask_http_request_total" in samples, (query, accept)
    assert_unharmed(server, workers)
