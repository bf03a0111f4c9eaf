"""front/await-exit.sh, gunicorn's preStop hook behind the front: it returns once the front's marker file is
there, and no later than its bound without one."""

from __future__ import annotations

import subprocess
import threading
import time
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[2] / "front" / "await-exit.sh"


def seconds_to_return(marker: Path, sleep: int, drain: int) -> float:
    started = time.monotonic()
    subprocess.run([str(SCRIPT), str(sleep), str(drain), str(marker)], check=True, timeout=sleep + drain + 10)
    return time.monotonic() - started


def test_it_returns_once_the_front_has_exited(tmp_path):
    marker = tmp_path / "front.exited"
    threading.Timer(0.5, marker.touch).start()
    assert 0.4 < seconds_to_return(marker, 0, 10) < 2


def test_without_the_front_it_waits_no_longer_than_its_bound(tmp_path):
    # SLEEP, then DRAIN counted in whole seconds of the clock (`date +%s`): DRAIN, or up to a second less.
    assert 1 < seconds_to_return(tmp_path / "never", 1, 1) < 1 + 1 + 1
