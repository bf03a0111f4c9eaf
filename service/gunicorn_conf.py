"""gunicorn settings derived from the validated Settings, plus the server hooks.

Values here are the production defaults for a 2-core pod; every one can be changed through Settings.
"""

from __future__ import annotations

import glob
import os

from prometheus_client import multiprocess

from . import metrics, tracing
from .settings import Settings

TEMPLATES_DIR = os.path.join(os.path.dirname(__file__), "templates")


SHM = "/dev/shm"  # noqa: S108 - a memory filesystem, used for heartbeats only, not secrets


WORKER_CLASSES = {"guarded": "service.worker.GuardedWorker", "gthread": "gthread", "sync": "sync"}
WORKER_CONNECTIONS = 1000


def worker_tmp_dir() -> str | None:
    # Worker heartbeats are file writes: on a disk-backed /tmp they can stall and get workers killed.
    return SHM if os.path.isdir(SHM) and os.access(SHM, os.W_OK) else None


def wipe_metrics_dir(path: str) -> None:
    """Start from zero: files left by a previous server would add stale counts and dead PIDs."""
    os.makedirs(path, exist_ok=True)
    for leftover in glob.glob(os.path.join(path, "*.db")):
        os.unlink(leftover)


def child_exit(server, worker) -> None:
    # Counters of a dead worker stay in the sum; only its live gauges must go.
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        multiprocess.mark_process_dead(worker.pid)


def post_fork(server, worker) -> None:
    metrics.count_worker()
    # The span processor's thread and the exporter's connections must belong to the worker, not the arbiter.
    settings = getattr(server.app, "settings", None)
    if tracing.start(settings.app_version if settings else tracing.VERSION):
        worker.log.info("tracing on: spans exported over OTLP/HTTP")


def worker_exit(server, worker) -> None:
    tracing.stop()


def options(settings: Settings) -> dict[str, object]:
    return {
        "bind": [f"[{settings.host}]:{settings.port}" if ":" in settings.host else f"{settings.host}:{settings.port}"],
        "workers": settings.workers,
        "threads": settings.threads,
        "worker_class": WORKER_CLASSES[settings.worker_class],
        # Per worker: connections held at once, slow and idle ones included (gunicorn's default).
        "worker_connections": WORKER_CONNECTIONS,
        "timeout": settings.timeout,
        "graceful_timeout": settings.graceful_timeout,
        "keepalive": settings.keepalive,
        "worker_tmp_dir": worker_tmp_dir(),
        # Loading the app once in the arbiter makes a bad app fail the start, not loop in workers.
        # Reload needs the workers to import the code themselves.
        "preload_app": not settings.reload,
        "reload": settings.reload,
        # The reloader watches files, not directories.
        "reload_extra_files": sorted(glob.glob(os.path.join(TEMPLATES_DIR, "*"))) if settings.reload else [],
        "loglevel": settings.log_level,
        "accesslog": "-" if settings.access_log else None,
        "errorlog": "-",
        "logger_class": "service.logs.GunicornLogger",
        # The control socket wants a writable HOME; the pods have a read-only root filesystem.
        "control_socket_disable": True,
        # gunicorn takes SCRIPT_NAME and PATH_INFO headers from 127.0.0.1 by default, and kubectl
        # port-forward and sidecars connect from there, relaying the client's headers: a client could move
        # the app's root, or get a 500 naming a SCRIPT_NAME the path does not start with. No proxy in
        # front of the service sets them, so none is taken (with header_map "drop" they are ignored).
        "forwarder_headers": "",
        # X-Forwarded-Proto and the like are taken only from these peers; gunicorn's default trusts 127.0.0.1,
        # which is where kubectl port-forward and sidecars connect from, relaying any client's headers.
        "forwarded_allow_ips": settings.forwarded_allow_ips,
        # Behind the pod's front (front/haproxy.cfg) every connection comes from 127.0.0.1; the front names the
        # client in a PROXY protocol line, taken from 127.0.0.1 only. A connection without one (the kubelet's
        # probes) is served as it is.
        "proxy_protocol": "v1" if settings.proxy_protocol else "off",
        "proxy_allow_ips": "127.0.0.1",
        "proc_name": "flask-service",
        "child_exit": child_exit,
        "post_fork": post_fork,
        "worker_exit": worker_exit,
    }
