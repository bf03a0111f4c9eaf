"""A page as a real browser shows it: Debian's Chromium, headless, driven from the command line.

`load(url, out_dir)` runs Chromium twice on the URL, once with --dump-dom (the DOM after scripts and
styles ran) and once with --screenshot, both with the browser's log on stderr so that the page's
console messages (CSP violations included) can be collected. `check_page` loads a page and checks its
background colour, its <h1> and its console: it needs only a URL, so it serves a local gunicorn and an
e2e test's port-forward alike. Standard library only; the PNG is decoded here.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import struct
import subprocess
import tempfile
import zlib
from collections import Counter
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path

import pytest

INSTALL_HINT = "hack/tools/debian-package.sh chromium"
TIMEOUT = 60.0
WINDOW = (800, 600)
FLAGS = (
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--hide-scrollbars",
    f"--window-size={WINDOW[0]},{WINDOW[1]}",
    "--enable-logging=stderr",
    "--v=0",
)
# The page's console as Chromium logs it: `[pid:tid:time:INFO:CONSOLE:12] "message", source: URL (12)`.
# This build logs every console message at INFO, whatever its level (console.log as console.error), and
# its CSP violations read "... violates the following Content Security Policy directive ..." where older
# builds wrote "Refused to ...": every console line counts, and both wordings are matched besides.
_CONSOLE = re.compile(r":CONSOLE[:(]\d*\)?\]|Refused to |Content Security Policy|Uncaught ")


POWDERBLUE = (176, 224, 230)  # the welcome page's background
TOMATO = (255, 99, 71)  # the second page's


class BrowserMissingError(RuntimeError):
    """`chromium` is not on PATH."""


class BrowserError(RuntimeError):
    """Chromium failed, timed out or wrote no screenshot."""


@dataclass
class Page:
    url: str
    dom: str
    background: tuple[int, int, int]
    console_errors: list[str]
    screenshot: Path
    size: tuple[int, int]
    log: list[str] = field(repr=False, default_factory=list)

    def texts(self, tag: str) -> list[str]:
        """The text of every <tag> element in the dumped DOM, whitespace collapsed."""
        return element_texts(self.dom, tag)


def find_browser() -> str:
    path = shutil.which("chromium")
    if path is None:
        raise BrowserMissingError(f"chromium is not on PATH: run {INSTALL_HINT} (`make test` runs it first)")
    return path


def _run(args: list[str], timeout: float) -> tuple[str, str]:
    """Run Chromium in its own process group; on timeout the whole group (renderer, GPU process) is killed."""
    proc = subprocess.Popen(
        args,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        text=True,
        errors="replace",
        start_new_session=True,
    )
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        out, err = proc.communicate()
        raise BrowserError(f"chromium timed out after {timeout:g}s: {args[-1]}\n{_tail(err)}") from None
    if proc.returncode != 0:
        raise BrowserError(f"chromium exited with {proc.returncode}: {args[-1]}\n{_tail(err)}")
    return out, err


def _tail(text: str, lines: int = 20) -> str:
    return "\n".join(text.splitlines()[-lines:])


def need_chromium() -> None:
    """A missing browser fails the test (in its body, so it reports FAILED, not a setup error): never a skip."""
    try:
        find_browser()
    except BrowserMissingError as error:
        pytest.fail(str(error), pytrace=False)


def load(url: str, out_dir: Path, name: str = "page", timeout: float = TIMEOUT) -> Page:
    """Load `url` twice, for its DOM and for a screenshot at out_dir/<name>.png, each time in a fresh profile."""
    browser = find_browser()
    out_dir.mkdir(parents=True, exist_ok=True)
    screenshot = out_dir / f"{name}.png"
    screenshot.unlink(missing_ok=True)
    with tempfile.TemporaryDirectory(prefix="chromium-") as profiles:
        base = [browser, *FLAGS]
        dom, dom_log = _run([*base, f"--user-data-dir={profiles}/dom", "--dump-dom", url], timeout)
        _, shot_log = _run([*base, f"--user-data-dir={profiles}/shot", f"--screenshot={screenshot}", url], timeout)
    if not screenshot.is_file():
        raise BrowserError(f"chromium wrote no screenshot for {url}\n{_tail(shot_log)}")
    width, height, pixels = read_png(screenshot.read_bytes())
    log = dom_log.splitlines() + shot_log.splitlines()
    return Page(
        url=url,
        dom=dom,
        background=most_common(pixels),
        console_errors=[line for line in log if _CONSOLE.search(line)],
        screenshot=screenshot,
        size=(width, height),
        log=log,
    )


def close(actual: tuple[int, int, int], expected: tuple[int, int, int], tolerance: int) -> bool:
    return all(abs(a - e) <= tolerance for a, e in zip(actual, expected, strict=True))


def problems(page: Page, colour: tuple[int, int, int], heading: str, tolerance: int = 4) -> list[str]:
    """What differs from a page with this background colour and this one <h1>, and a silent console."""
    found = []
    if not close(page.background, colour, tolerance):
        found.append(f"background {page.background}, expected {colour} (±{tolerance})")
    if page.texts("h1") != [heading]:
        found.append(f"<h1> {page.texts('h1')}, expected [{heading!r}]")
    if page.console_errors:
        found.append("console: " + "\n  ".join(page.console_errors))
    return found


def check_page(
    url: str, colour: tuple[int, int, int], heading: str, out_dir: Path, name: str = "page", tolerance: int = 4
) -> Page:
    """Load `url` (a local server or a port-forward) and fail with every difference from what it should show."""
    page = load(url, out_dir, name)
    found = problems(page, colour, heading, tolerance)
    assert not found, f"{url} in chromium (screenshot {page.screenshot}):\n" + "\n".join(found)
    return page


# ---- DOM -------------------------------------------------------------------------------------


class _Texts(HTMLParser):
    def __init__(self, tag: str):
        super().__init__()
        self.tag, self.depth, self.texts, self.current = tag, 0, [], []

    def handle_starttag(self, tag, attrs):
        if tag == self.tag:
            self.depth += 1

    def handle_endtag(self, tag):
        if tag == self.tag and self.depth:
            self.depth -= 1
            if not self.depth:
                self.texts.append(" ".join("".join(self.current).split()))
                self.current = []

    def handle_data(self, data):
        if self.depth:
            self.current.append(data)


def element_texts(html: str, tag: str) -> list[str]:
    parser = _Texts(tag)
    parser.feed(html)
    parser.close()
    return parser.texts


# ---- PNG -------------------------------------------------------------------------------------


def read_png(data: bytes) -> tuple[int, int, list[bytes]]:
    """Width, height and the rows of RGB bytes (alpha dropped) of an 8-bit RGB or RGBA, non-interlaced PNG."""
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise ValueError("not a PNG")
    pos, header, idat = 8, None, []
    while pos + 8 <= len(data):
        length, kind = struct.unpack(">I4s", data[pos : pos + 8])
        body = data[pos + 8 : pos + 8 + length]
        if zlib.crc32(kind + body) != struct.unpack(">I", data[pos + 8 + length : pos + 12 + length])[0]:
            raise ValueError(f"PNG chunk {kind!r}: bad CRC")
        pos += 12 + length
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat.append(body)
        elif kind == b"IEND":
            break
    if header is None:
        raise ValueError("PNG without IHDR")
    width, height, depth, colour_type, _, _, interlace = header
    channels = {2: 3, 6: 4}.get(colour_type)
    if depth != 8 or channels is None or interlace != 0:
        raise ValueError(f"unsupported PNG: depth {depth}, colour type {colour_type}, interlace {interlace}")
    raw = zlib.decompress(b"".join(idat))
    stride = width * channels
    if len(raw) != height * (stride + 1):
        raise ValueError(f"PNG data is {len(raw)} bytes, expected {height * (stride + 1)}")
    rows, previous = [], bytes(stride)
    for y in range(height):
        start = y * (stride + 1)
        row = _unfilter(raw[start], bytearray(raw[start + 1 : start + 1 + stride]), previous, channels)
        previous = bytes(row)
        rows.append(previous if channels == 3 else bytes(b for i, b in enumerate(previous) if i % 4 != 3))
    return width, height, rows


def _unfilter(kind: int, row: bytearray, up: bytes, bpp: int) -> bytearray:
    if kind == 0:
        return row
    if kind == 2:  # Up
        return bytearray((a + b) & 0xFF for a, b in zip(row, up, strict=True))
    for i in range(len(row)):
        left = row[i - bpp] if i >= bpp else 0
        if kind == 1:  # Sub
            row[i] = (row[i] + left) & 0xFF
        elif kind == 3:  # Average
            row[i] = (row[i] + ((left + up[i]) >> 1)) & 0xFF
        elif kind == 4:  # Paeth
            upper_left = up[i - bpp] if i >= bpp else 0
            p = left + up[i] - upper_left
            pa, pb, pc = abs(p - left), abs(p - up[i]), abs(p - upper_left)
            predictor = left if pa <= pb and pa <= pc else up[i] if pb <= pc else upper_left
            row[i] = (row[i] + predictor) & 0xFF
        else:
            raise ValueError(f"PNG filter type {kind}")
    return row


def most_common(rows: list[bytes]) -> tuple[int, int, int]:
    """The most common RGB colour of the image: its background, for a page that is mostly background."""
    counts: Counter[tuple[int, int, int]] = Counter()
    for row in rows:
        counts.update(zip(row[0::3], row[1::3], row[2::3], strict=True))
    return counts.most_common(1)[0][0]
