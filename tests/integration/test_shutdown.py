"""SIGTERM: readiness turns 503 first, in-flight requests finish, the server exits 0."""

import signal
import threading
import time

from tests.support.httpclient import get

SLOW_APP = "tests.support.slowapp"


def test_sigterm_drains_then_finishes_in_flight_request(start_server):
    server = start_server({"SHUTDOWN_DELAY": "1.5", "GRACEFUL_TIMEOUT": "20"}, module=SLOW_APP)
    result = {}
    slow = threading.Thread(target=lambda: result.update(reply=get(server.url + "/slow?seconds=3", timeout=30)))
    slow.start()
    time.sleep(0.5)  # the slow request is in flight
    sent_at = time.monotonic()
    server.proc.send_signal(signal.SIGTERM)

    readiness = []
    while time.monotonic() - sent_at < 1.2:
        readiness.append(get(server.url + "/readyz", timeout=2).status)
        time.sleep(0.05)
    assert 503 in readiness, readiness
    # The page still serves while draining: only readiness changed.
    assert get(server.url + "/", timeout=2).status == 200

    slow.join(30)
    assert result["reply"].status == 200
    assert result["reply"].body.strip() == '{"slept":3.0}'
    assert server.proc.wait(30) == 0
    assert "draining for 1.5s" in server.logs()


def test_sigterm_without_delay_still_finishes_in_flight_request(start_server):
    server = start_server({"SHUTDOWN_DELAY": "0"}, module=SLOW_APP)
    result = {}
    slow = threading.Thread(target=lambda: result.update(reply=get(server.url + "/slow?seconds=2", timeout=30)))
    slow.start()
    time.sleep(0.5)
    server.proc.send_signal(signal.SIGTERM)
    slow.join(30)
    assert result["reply"].status == 200
    assert server.proc.wait(30) == 0


def test_second_sigterm_stops_at_once(start_server):
    server = start_server({"SHUTDOWN_DELAY": "60"})
    server.proc.send_signal(signal.SIGTERM)
    time.sleep(0.5)
    assert get(server.url + "/readyz").status == 503
    server.proc.send_signal(signal.SIGTERM)
    assert server.proc.wait(15) == 0
