"""Both pages in a real browser (Debian's Chromium, headless) against a real gunicorn: the colour on screen,
the heading in the DOM, and a console without errors or CSP violations under the service's strict CSP.

The screenshots are copied to docs/screenshots/ on every passing run, beside the docs that show them.
Chromium comes from hack/tools/debian-package.sh chromium (`make test` runs it first); without it these tests fail.
"""

import shutil
from pathlib import Path

from service.settings import Settings
from tests.support import browser

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "docs" / "screenshots"
POWDERBLUE, TOMATO = browser.POWDERBLUE, browser.TOMATO


def test_pages_in_chromium(server, tmp_path):
    browser.need_chromium()
    settings = Settings.from_env()  # what the server was started with: the defaults unless set outside
    welcome = browser.check_page(server.url + "/", POWDERBLUE, settings.welcome_heading, tmp_path, "welcome")
    nxt = browser.check_page(server.url + "/next", TOMATO, settings.next_heading, tmp_path, "next")
    assert welcome.size == nxt.size == browser.WINDOW

    # The checks tell the pages apart: each page fails the other's colour and heading.
    assert not browser.close(welcome.background, TOMATO, 4) and not browser.close(nxt.background, POWDERBLUE, 4)
    assert len(browser.problems(welcome, TOMATO, settings.next_heading)) == 2
    assert len(browser.problems(nxt, POWDERBLUE, settings.welcome_heading)) == 2

    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(welcome.screenshot, SCREENSHOTS / "welcome.png")
    shutil.copyfile(nxt.screenshot, SCREENSHOTS / "next.png")


def test_console_check_sees_csp_violations(tmp_path):
    """The console check is not blind: a page whose CSP blocks its inline script is reported."""
    browser.need_chromium()
    page = tmp_path / "blocked.html"
    page.write_text(
        '<!doctype html><meta http-equiv="Content-Security-Policy" content="default-src \'none\'">'
        "<h1>Blocked</h1><script>document.title = 'ran'</script>"
    )
    loaded = browser.load(page.as_uri(), tmp_path, "blocked")
    assert loaded.texts("h1") == ["Blocked"]
    assert any("Content Security Policy" in line for line in loaded.console_errors), loaded.log
    assert "console: " in browser.problems(loaded, (255, 255, 255), "Blocked")[-1]
