"""Both pages, health and logs through the real server; odd requests never produce a 500."""

import itertools
import json

import pytest

from tests.support.httpclient import get, raw


def test_pages_and_health(server):
    home = get(server.url + "/")
    assert home.status == 200 and "powderblue" in home.body
    assert "Welcome to IFT510-Project by Swetha" in home.body
    nxt = get(server.url + "/next")
    assert nxt.status == 200 and "tomato" in nxt.body
    assert get(server.url + "/livez").status == 200
    assert get(server.url + "/readyz").status == 200
    assert get(server.url + "/", method="HEAD").status == 200


def test_configured_headings(start_server):
    server = start_server({"WELCOME_HEADING": "Hi <b>there</b>", "NEXT_HEADING": "Onwards"})
    assert "<h1>Hi &lt;b&gt;there&lt;/b&gt;</h1>" in get(server.url + "/").body
    assert "<h1>Onwards</h1>" in get(server.url + "/next").body


def test_access_log_is_json_with_request_id_and_skips_probes(server):
    get(server.url + "/next", headers={"X-Request-ID": "trace-42"})
    get(server.url + "/livez")
    get(server.url + "/readyz")
    assert server.stop() == 0
    entries = [json.loads(line) for line in server.logs().splitlines() if line.startswith("{")]
    access = [e for e in entries if e["logger"] == "gunicorn.access"]
    assert [e["http"]["path"] for e in access] == ["/next"]
    assert access[0]["request_id"] == "trace-42"
    assert access[0]["http"]["status"] == 200
    assert all(line.startswith("{") for line in server.logs().splitlines()), "every log line is JSON"


PATHS = [
    "/",
    "/next",
    "/%00",
    "/..%2f..%2fetc/passwd",
    "/" + "a" * 3000,
    "/next/",
    "//",
    "/metrics/x",
    "/?" + "q=1&" * 500,
    "/%ff%fe",
    "/\u00e9t\u00e9".encode().decode("latin-1"),
    "/readyz?x=<script>",
]
METHODS = ["GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS", "PATCH", "TRACE", "BREW"]


def test_sweep_of_odd_requests_never_500s(server):
    for path, method in itertools.product(PATHS, METHODS):
        head = f"{method} {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode("latin-1")
        answer = raw("127.0.0.1", server.port, head)
        status = int(answer.split(b" ", 2)[1])
        assert status < 500, (method, path, answer[:200])
        assert b"Traceback" not in answer
    assert get(server.url + "/readyz").status == 200


@pytest.mark.parametrize(
    "request_bytes",
    [
        b"GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 20000 + b"\r\n\r\n",
        b"GET /" + b"a" * 10000 + b" HTTP/1.1\r\nHost: x\r\n\r\n",
        b"GET / HTTP/1.1\r\n" + b"".join(b"X-H%d: v\r\n" % i for i in range(200)) + b"\r\n",
        b"GET / HTTP/1.1\r\nBad Header Line\r\n\r\n",
        b"NOT-HTTP\r\n\r\n",
        b"GET / HTTP/1.1\r\nHost: x\r\nX-Request-ID: a\x01b\r\n\r\n",
        b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
    ],
    ids=[
        "huge-header",
        "huge-request-line",
        "many-headers",
        "malformed-header",
        "not-http",
        "control-char",
        "cl-and-te",
    ],
)
def test_malformed_requests_get_4xx(server, request_bytes):
    answer = raw("127.0.0.1", server.port, request_bytes)
    status = int(answer.split(b" ", 2)[1])
    assert 400 <= status < 500, answer[:200]
    assert get(server.url + "/readyz").status == 200
