"""The fault switch through a real gunicorn: off by default, and when on, bounded and counted."""

import time

from tests.support.httpclient import get, route_count


def test_fault_routes_are_404_unless_enabled(server):
    for path in ("/status/500", "/delay/1"):
        assert get(server.url + path).status == 404


def test_enabled_faults_answer_and_are_counted(start_server):
    server = start_server({"FAULTS_ENABLED": "true"})
    assert get(server.url + "/status/503").status == 503
    start = time.monotonic()
    assert get(server.url + "/delay/0.6").status == 200
    assert time.monotonic() - start >= 0.6
    assert get(server.url + "/delay/11").status == 400
    assert get(server.url + "/status/700").status == 400
    text = get(server.url + "/metrics").body
    assert route_count(text, "/status/<int:code>", status="503") == 1
    assert route_count(text, "/delay/<seconds>") == 1
    # The slow request lands above the SLO's default latency threshold (0.5 s).
    assert 'le="0.5",method="GET",path="/delay/<seconds>",status="200"} 0.0' in text
    assert server.stop() == 0
    assert "Traceback" not in server.logs()
