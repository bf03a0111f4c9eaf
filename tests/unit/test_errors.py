import pytest


def test_404_is_a_small_html_page(client):
    response = client.get("/nope")
    assert response.status_code == 404
    assert response.mimetype == "text/html"
    body = response.get_data(as_text=True)
    assert "404 Not Found" in body
    assert "Traceback" not in body


def test_404_answers_json_to_json_clients(client):
    response = client.get("/nope", headers={"Accept": "application/json"})
    assert response.status_code == 404
    assert response.json["error"] == "Not Found"
    assert response.json["status"] == 404
    assert response.json["request_id"] == response.headers["X-Request-ID"]


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE", "PATCH"])
def test_405_names_the_allowed_methods(client, method):
    response = client.open("/", method=method)
    assert response.status_code == 405
    assert set(response.headers["Allow"].split(", ")) == {"GET", "HEAD", "OPTIONS"}


def test_unexpected_exception_gives_500_page_and_logged_traceback(make_app, caplog):
    app = make_app()

    @app.get("/boom")
    def boom():
        raise RuntimeError("kaboom")

    response = app.test_client().get("/boom", headers={"X-Request-ID": "req-500"})
    assert response.status_code == 500
    body = response.get_data(as_text=True)
    assert "500 Internal Server Error" in body
    assert "kaboom" not in body and "Traceback" not in body
    assert "req-500" in body
    records = [r for r in caplog.records if r.exc_info]
    assert records and "kaboom" in str(records[-1].exc_info[1])


def test_debug_mode_is_never_on(monkeypatch, make_app):
    monkeypatch.setenv("FLASK_DEBUG", "1")
    assert make_app().debug is False
