"""Liveness and readiness for Kubernetes probes.

Liveness checks nothing but the process answering: restarting a pod never fixes a dependency.
Readiness turns 503 while the server drains after SIGTERM (the server creates the flag file), so
endpoints drop the pod before gunicorn stops accepting connections.
"""

import os

from flask import Blueprint, current_app

bp = Blueprint("health", __name__)

LIVENESS_PATH = "/livez"
READINESS_PATH = "/readyz"


@bp.get(LIVENESS_PATH)
def livez():
    return {"status": "ok"}


@bp.get(READINESS_PATH)
def readyz():
    flag = current_app.config["DRAIN_FLAG"]
    if flag and os.path.exists(flag):
        return {"status": "draining"}, 503
    return {"status": "ok"}
