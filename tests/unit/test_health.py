def test_liveness_is_ok(client):
    response = client.get("/livez")
    assert response.status_code == 200
    assert response.json == {"status": "ok"}


def test_readiness_is_ok_without_drain(client):
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json == {"status": "ok"}


def test_readiness_fails_once_draining(make_app, tmp_path):
    flag = tmp_path / "draining"
    client = make_app(DRAIN_FLAG=str(flag)).test_client()
    assert client.get("/readyz").status_code == 200
    flag.touch()
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json == {"status": "draining"}
    # Liveness must not follow readiness: a draining pod is not broken.
    assert client.get("/livez").status_code == 200
