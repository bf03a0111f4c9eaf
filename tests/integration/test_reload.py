"""GUNICORN_RELOAD=true serves an edited template and module without a restart (what `skaffold dev` relies on)."""

import shutil
import time

from tests.integration.conftest import ROOT
from tests.support.httpclient import get


def wait_for(url, text, timeout=20):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if text in get(url).body:
            return True
        time.sleep(0.2)
    return False


def test_edits_are_served_after_reload(start_server, tmp_path):
    shutil.copytree(ROOT / "service", tmp_path / "src" / "service", ignore=shutil.ignore_patterns("__pycache__"))
    server = start_server({"GUNICORN_RELOAD": "true", "PYTHONPATH": str(tmp_path / "src")})
    assert "powderblue" in get(server.url + "/").body

    template = tmp_path / "src" / "service" / "templates" / "page.html"
    template.write_text(template.read_text().replace("<h1>", "<h1 id='edited'>"))
    assert wait_for(server.url + "/", "<h1 id='edited'>")

    pages = tmp_path / "src" / "service" / "pages.py"
    pages.write_text(pages.read_text().replace('colour="tomato"', 'colour="gold"'))
    assert wait_for(server.url + "/next", "background-color: gold")
