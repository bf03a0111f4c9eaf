"""Fault injection for proving alerts end to end: answer any status, or answer late (podinfo's model).

Registered only when FAULTS_ENABLED is true (default false); otherwise these paths are unknown and
answer 404 like any other. Arguments are checked, so bad input is a 400 or 404, never a 500.
"""

import time

from flask import Blueprint, abort

bp = Blueprint("faults", __name__)

# A delayed request holds a thread; the cap keeps it well under gunicorn's graceful timeout (20 s).
MAX_DELAY = 10.0
STATUSES = range(200, 600)
# HTTP forbids a body on these.
NO_BODY = (204, 304)


@bp.get("/status/<int:code>")
def status(code: int):
    if code not in STATUSES:
        abort(400, f"status must be {STATUSES.start}..{STATUSES.stop - 1}")
    if code in NO_BODY:
        return "", code
    return {"status": code}, code


@bp.get("/delay/<seconds>")
def delay(seconds: str):
    try:
        value = float(seconds)
    except ValueError:
        abort(400, "delay must be a number of seconds")
    if not 0 <= value <= MAX_DELAY:  # also refuses nan and inf
        abort(400, f"delay must be 0..{MAX_DELAY:g} seconds")
    time.sleep(value)
    return {"delay": value}
