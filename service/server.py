"""The server: gunicorn's arbiter with the project's settings and a drain step on SIGTERM.

On the first SIGTERM the arbiter raises the drain flag (readiness answers 503) and keeps serving
for SHUTDOWN_DELAY seconds, so load balancers stop routing to it; then gunicorn's normal graceful
stop runs (stop accepting, let in-flight requests finish within GRACEFUL_TIMEOUT).
"""

from __future__ import annotations

import importlib
import os
import sys
import tempfile
import time
from collections.abc import Callable

from gunicorn.app.base import BaseApplication
from gunicorn.arbiter import Arbiter

from . import gunicorn_conf, logs
from .settings import Settings

AppFactory = Callable[[dict], object]


def fresh(factory: AppFactory) -> AppFactory:
    """The factory as the code on disk defines it now.

    Workers fork from the arbiter, which imported the package at start; without this a reloaded
    worker would serve the old code again.
    """
    for name in [m for m in sys.modules if m == "service" or m.startswith("service.")]:
        del sys.modules[name]
    if factory.__module__ == "__main__":
        return factory
    return getattr(importlib.import_module(factory.__module__), factory.__name__)


class DrainingArbiter(Arbiter):
    """The arbiter of a Server (self.app): its drain flag and the settings' shutdown delay."""

    _drain_deadline: float | None = None

    def handle_term(self):
        delay = self.app.settings.shutdown_delay
        if self._drain_deadline is not None or delay <= 0:
            raise StopIteration  # a second SIGTERM, or no delay wanted: stop now
        with open(self.app.drain_flag, "w"):
            pass
        self._drain_deadline = time.monotonic() + delay
        self.log.info("SIGTERM: draining for %.1fs before stopping", delay)

    def manage_workers(self):
        # The main loop calls this at least once a second, which bounds the drain overshoot.
        if self._drain_deadline is not None and time.monotonic() >= self._drain_deadline:
            raise StopIteration
        super().manage_workers()


class Server(BaseApplication):
    def __init__(self, settings: Settings, factory: AppFactory, drain_flag: str):
        self.settings = settings
        self.factory = factory
        self.drain_flag = drain_flag
        super().__init__()

    def load_config(self):
        for key, value in gunicorn_conf.options(self.settings).items():
            self.cfg.set(key, value)

    def load(self):
        factory = self.factory
        if self.settings.reload:
            factory = fresh(factory)
        return factory({**self.settings.flask_config(), "DRAIN_FLAG": self.drain_flag})

    def run(self):
        try:
            DrainingArbiter(self).run()
        finally:
            if os.path.exists(self.drain_flag):
                os.unlink(self.drain_flag)


def serve(settings: Settings, factory: AppFactory) -> None:
    logs.configure(settings.log_level)
    state_dir = gunicorn_conf.worker_tmp_dir() or tempfile.gettempdir()
    drain_flag = os.path.join(state_dir, f"flask-service-{os.getpid()}.draining")
    Server(settings, factory, drain_flag).run()
