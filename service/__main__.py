"""`python -m service`: validate the settings, then run the service under gunicorn.

gunicorn reads some variables (WEB_CONCURRENCY) when it is imported and fails with a traceback on a
bad value, so the settings are checked before anything imports gunicorn.
"""

from __future__ import annotations

import sys

from . import create_app, tracing
from .settings import ConfigError, Settings


def startup_settings() -> Settings:
    """The validated settings, or exit 2 with one line naming the bad setting."""
    try:
        settings = Settings.from_env()
        tracing.validate()
        if settings.metrics_enabled:
            if not settings.metrics_dir:
                raise ConfigError("PROMETHEUS_MULTIPROC_DIR must be set when METRICS_ENABLED is true")
            from .gunicorn_conf import wipe_metrics_dir

            try:
                wipe_metrics_dir(settings.metrics_dir)
            except OSError as error:
                raise ConfigError(f"PROMETHEUS_MULTIPROC_DIR={settings.metrics_dir!r}: {error.strerror}") from None
    except ConfigError as error:
        print(f"flask-service: configuration error: {error}", file=sys.stderr)
        sys.exit(2)
    return settings


def main(factory=create_app) -> None:
    settings = startup_settings()
    from .server import serve

    serve(settings, factory)


if __name__ == "__main__":
    main()
