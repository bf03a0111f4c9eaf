"""Both pages in a real browser (Debian's Chromium, headless) through the cluster path a developer uses:
`make up`'s port-forward (hack/cluster/port-forward.sh, run by the session) to the release's Service. The colour on
screen, the heading the release is configured with, and a console without errors or CSP violations."""

from __future__ import annotations

from tests.support import browser

from .kube import configured_headings


def test_pages_in_chromium_through_the_cluster(dev_port_forward, core, tmp_path):
    browser.need_chromium()
    headings = configured_headings(core)
    url = f"http://127.0.0.1:{dev_port_forward}"
    browser.check_page(url + "/", browser.POWDERBLUE, headings["/"], tmp_path, "welcome")
    browser.check_page(url + "/next", browser.TOMATO, headings["/next"], tmp_path, "next")
