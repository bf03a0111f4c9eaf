"""A throwaway copy of the working tree (the files git would check out, edits included), so a benchmark can
build from it and edit it while the shared tree is never touched."""

from __future__ import annotations

import contextlib
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TOOLS_BIN = ROOT / ".tools" / "bin"  # the pinned tools hack/tools/install-tools.sh installs


@contextlib.contextmanager
def copy(prefix: str) -> Iterator[Path]:
    work = Path(tempfile.mkdtemp(prefix=f"{prefix}-"))
    try:
        listed = subprocess.run(
            ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
            cwd=ROOT,
            check=True,
            capture_output=True,
            timeout=60,
        ).stdout.decode()
        for name in filter(None, listed.split("\0")):
            source = ROOT / name
            if source.is_file():  # a tracked file deleted in the working tree is not copied
                (work / name).parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(source, work / name)
        yield work
    finally:
        shutil.rmtree(work, ignore_errors=True)


def append(path: Path, line: str) -> None:
    with path.open("a") as f:
        f.write(line + "\n")
