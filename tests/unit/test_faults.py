"""The fault routes: absent unless FAULTS_ENABLED, and strict about their arguments."""

import pytest

from service import faults
from service.settings import ConfigError, Settings

FAULT_PATHS = ["/status/500", "/delay/0"]


@pytest.fixture
def faulty(make_app):
    return make_app(FAULTS_ENABLED=True).test_client()


def test_off_by_default():
    assert Settings.from_env({}).faults_enabled is False
    assert Settings.from_env({"FAULTS_ENABLED": "true"}).faults_enabled is True
    with pytest.raises(ConfigError, match="FAULTS_ENABLED"):
        Settings.from_env({"FAULTS_ENABLED": "maybe"})


@pytest.mark.parametrize("path", FAULT_PATHS)
def test_off_the_routes_are_unknown_paths(client, path):
    # What any unknown path gets (but its own request ID), so a probe cannot tell the switch exists.
    def answer(url):
        response = client.get(url, headers={"Accept": "application/json"})
        return response.status_code, {**response.json, "request_id": None}

    assert answer(path) == answer("/no-such-page") == (404, {"error": "Not Found", "status": 404, "request_id": None})


@pytest.mark.parametrize("code", [200, 404, 429, 500, 503, 599])
def test_status_answers_the_code(faulty, code):
    response = faulty.get(f"/status/{code}")
    assert response.status_code == code
    assert response.json == {"status": code}


def test_status_without_body_where_http_forbids_one(faulty):
    response = faulty.get("/status/204")
    assert response.status_code == 204 and response.data == b""


@pytest.mark.parametrize(
    ("path", "code"),
    [("/status/199", 400), ("/status/600", 400), ("/status/0", 400), ("/status/abc", 404), ("/status/-1", 404)],
)
def test_status_refuses_bad_codes(faulty, path, code):
    response = faulty.get(path)
    assert response.status_code == code
    assert b"Traceback" not in response.data


def test_delay_sleeps_as_asked(faulty, monkeypatch):
    slept = []
    monkeypatch.setattr(faults.time, "sleep", slept.append)
    response = faulty.get("/delay/1.5")
    assert response.status_code == 200 and response.json == {"delay": 1.5}
    assert faulty.get("/delay/10").status_code == 200
    assert slept == [1.5, 10.0]


@pytest.mark.parametrize("arg", ["10.01", "-1", "abc", "nan", "inf", "1e9", ""])
def test_delay_refuses_bad_seconds(faulty, monkeypatch, arg):
    monkeypatch.setattr(faults.time, "sleep", lambda _: pytest.fail("slept on bad input"))
    response = faulty.get(f"/delay/{arg}", headers={"Accept": "application/json"})
    assert response.status_code in (400, 404)
    assert response.json["status"] == response.status_code


def test_fault_requests_are_counted_by_rule(make_app):
    # The SLO rules see fault traffic like any other, under a bounded path label.
    client = make_app(FAULTS_ENABLED=True).test_client()
    client.get("/status/503")
    text = client.get("/metrics").data.decode()
    assert 'flask_http_request_total{method="GET",status="503"} 1.0' in text
    assert 'path="/status/<int:code>",status="503"' in text
