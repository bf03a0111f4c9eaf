"""flask-service: the application factory."""

from __future__ import annotations

from collections.abc import Mapping

from flask import Flask

from . import errors, faults, headers, health, metrics, pages, request_id, tracing
from .settings import Settings


def create_app(config: Mapping[str, object] | None = None) -> Flask:
    """Build the app. `config` replaces the settings read from the environment (tests pass it)."""
    app = Flask(__name__)
    app.config.from_mapping(Settings().flask_config())
    app.config.from_mapping(DRAIN_FLAG=None)
    app.config.from_mapping(Settings.from_env().flask_config() if config is None else config)
    # Defence in depth: the server never runs Flask's debugger, even if someone sets FLASK_DEBUG.
    app.debug = False

    app.register_blueprint(pages.bp)
    app.register_blueprint(health.bp)
    # Off unless asked for: fault routes in production would let anyone burn the error budget.
    if app.config["FAULTS_ENABLED"]:
        app.register_blueprint(faults.bp)
    errors.init_app(app)
    headers.init_app(app)
    request_id.init_app(app)
    metrics.init_app(app)
    tracing.init_app(app)  # last: its hooks see the request ID and the metrics' start time set
    return app
