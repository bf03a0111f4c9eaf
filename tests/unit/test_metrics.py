import re


def count(client, path, status="200", method="GET"):
    text = client.get("/metrics").get_data(as_text=True)
    pattern = (
        rf'^flask_http_request_duration_seconds_count\{{method="{method}",path="{re.escape(path)}",'
        rf'status="{status}"\}} (\S+)$'
    )
    match = re.search(pattern, text, re.MULTILINE)
    return float(match.group(1)) if match else 0.0


def test_requests_are_counted_by_url_rule(client):
    for _ in range(3):
        client.get("/")
    client.get("/next")
    assert count(client, "/") == 3
    assert count(client, "/next") == 1


def test_unknown_paths_share_one_label(client):
    for path in ("/a", "/b/c", "/d?x=1"):
        client.get(path)
    text = client.get("/metrics").get_data(as_text=True)
    assert count(client, "<unmatched>", status="404") == 3
    assert 'path="/a"' not in text and 'path="/b/c"' not in text


def test_probes_and_scrapes_are_not_counted(client):
    client.get("/livez")
    client.get("/readyz")
    client.get("/metrics")
    text = client.get("/metrics").get_data(as_text=True)
    assert "/livez" not in text and "/readyz" not in text and 'path="/metrics"' not in text


def test_app_info_reports_the_version(make_app):
    client = make_app(APP_VERSION="9.8.7").test_client()
    assert 'flask_service_app_info{version="9.8.7"} 1.0' in client.get("/metrics").get_data(as_text=True)


def test_name_filter(client):
    client.get("/")
    response = client.get("/metrics?name[]=flask_service_app_info")
    assert response.status_code == 200
    text = response.get_data(as_text=True)
    assert "flask_service_app_info" in text
    assert "flask_http_request_duration_seconds" not in text


def test_metrics_can_be_disabled(make_app):
    assert make_app(METRICS_ENABLED=False).test_client().get("/metrics").status_code == 404


def test_an_accept_version_that_is_not_a_number_gets_the_default_format(client):
    # prometheus_client compares the version's parts with integers: "abc" or "1.x" raised TypeError (a 500).
    default = client.get("/metrics").headers["Content-Type"]
    for accept in ("text/plain; version=abc", "application/openmetrics-text; version=1.x"):
        response = client.get("/metrics", headers={"Accept": accept})
        assert response.status_code == 200, accept
        assert response.headers["Content-Type"] == default
        assert "flask_service_app_info" in response.get_data(as_text=True)


def test_a_well_formed_accept_still_chooses_the_format(client):
    response = client.get("/metrics", headers={"Accept": "application/openmetrics-text; version=1.0.0"})
    assert response.headers["Content-Type"].startswith("application/openmetrics-text; version=1.0.0")
    assert response.get_data(as_text=True).endswith("# EOF\n")
