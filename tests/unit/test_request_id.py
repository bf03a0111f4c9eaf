import re

import pytest


def test_given_request_id_is_echoed(client):
    response = client.get("/", headers={"X-Request-ID": "abc-123.X_y:z"})
    assert response.headers["X-Request-ID"] == "abc-123.X_y:z"


@pytest.mark.parametrize("given", [None, "", "has space", "x" * 129, "tab\there", "<script>"])
def test_missing_or_unsafe_request_id_is_replaced(client, given):
    headers = {} if given is None else {"X-Request-ID": given}
    response = client.get("/", headers=headers)
    assert re.fullmatch(r"[0-9a-f]{32}", response.headers["X-Request-ID"])


def test_request_ids_differ_between_requests(client):
    assert client.get("/").headers["X-Request-ID"] != client.get("/").headers["X-Request-ID"]
