"""Both pages, health and logs through the real server (bad input: test_bad_input.py)."""

import json
import re

from tests.support.httpclient import get


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
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", access[0]["time"]), access[0]["time"]
    assert access[0]["level"] == "info" and access[0]["message"] == "request"
    assert all(line.startswith("{") for line in server.logs().splitlines()), "every log line is JSON"
