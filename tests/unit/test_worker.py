"""The service worker's head scanning (no server; the worker itself runs in the integration tier)."""

import pytest

from service.worker import head_end, is_probe


@pytest.mark.parametrize(
    ("data", "end"),
    [
        (b"GET / HTTP/1.1\r\nHost: x\r\n\r\n", 27),
        (b"GET / HTTP/1.1\r\nHost: x\r\n\r\nbody", 27),
        (b"GET / HTTP/1.1\nHost: x\n\n", 24),  # bare LF: complete, gunicorn's parser answers 400
        (b"GET / HTTP/1.1\r\nHost: x\r\n", -1),
        (b"\r\n\r\n", -1),  # blank lines before a request are not a head
        (b"\r\nGET / HTTP/1.1\r\n\r\n", 20),
    ],
)
def test_head_end(data, end):
    assert head_end(bytearray(data), 0) == end


@pytest.mark.parametrize(
    ("data", "probe"),
    [
        (b"GET /livez HTTP/1.1\r\n\r\n", True),
        (b"\r\nGET /readyz?verbose HTTP/1.1\r\n\r\n", True),
        (b"HEAD /livez HTTP/1.1\r\n\r\n", True),
        (b"GET /livezz HTTP/1.1\r\n\r\n", False),
        (b"GET / HTTP/1.1\r\n\r\n", False),
        (b"garbage\r\n\r\n", False),
    ],
)
def test_probes_are_recognised_by_path(data, probe):
    assert is_probe(bytearray(data)) is probe
