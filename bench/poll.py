"""Poll a URL until its answer passes a check: the "first 200" and "new content served" clocks."""

from __future__ import annotations

import time
import urllib.error
import urllib.request
from collections.abc import Callable


def get(url: str, timeout: float = 2) -> tuple[int, str] | None:
    """Status and body, or None when nothing answered (refused, reset, timed out)."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return response.status, response.read().decode(errors="replace")
    except urllib.error.HTTPError as error:
        return error.code, ""
    except OSError:
        return None


def wait(url: str, ok: Callable[[int, str], bool], timeout: float, alive: Callable[[], bool] = lambda: True) -> float:
    """The time.monotonic() instant a GET on url first passed ok(status, body), polling every 50 ms;
    bounded by timeout, and given up early when alive() turns false (the process meant to serve it died)."""
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        answer = get(url, timeout=min(2, timeout))
        if answer and ok(*answer):
            return time.monotonic()
        if not alive():
            raise RuntimeError(f"{url}: the process behind it exited while waiting")
        time.sleep(0.05)
    raise TimeoutError(f"{url}: no passing answer within {timeout} s")
