import pytest

PAGES = [
    ("/", "powderblue", "Welcome to IFT510-Project by Swetha"),
    ("/next", "tomato", "Publishing the docker container to GITHUB"),
]


@pytest.mark.parametrize(("path", "colour", "heading"), PAGES)
def test_page_has_its_colour_and_heading(client, path, colour, heading):
    response = client.get(path)
    assert response.status_code == 200
    assert response.mimetype == "text/html"
    body = response.get_data(as_text=True)
    assert f"background-color: {colour}" in body
    assert f"<h1>{heading}</h1>" in body
    assert f"<title>{heading}</title>" in body


@pytest.mark.parametrize("path", ["/", "/next"])
def test_head_has_headers_and_no_body(client, path):
    response = client.head(path)
    assert response.status_code == 200
    assert response.mimetype == "text/html"
    assert response.get_data() == b""


def test_headings_come_from_configuration(make_app):
    client = make_app(WELCOME_HEADING="Hello there", NEXT_HEADING="Second page").test_client()
    assert "<h1>Hello there</h1>" in client.get("/").get_data(as_text=True)
    assert "<h1>Second page</h1>" in client.get("/next").get_data(as_text=True)


def test_headings_are_escaped(make_app):
    client = make_app(WELCOME_HEADING='<script>alert("x")</script>').test_client()
    body = client.get("/").get_data(as_text=True)
    assert "<script>" not in body
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in body


def test_headings_read_from_environment(monkeypatch):
    from service import create_app

    monkeypatch.setenv("WELCOME_HEADING", "From the environment")
    body = create_app().test_client().get("/").get_data(as_text=True)
    assert "<h1>From the environment</h1>" in body
