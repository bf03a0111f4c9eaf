"""The service plus a route that lists the OpenTelemetry modules loaded in the worker that answers (for tests).

Production code has no such route; tests run this module instead of `python -m service`.
"""

import sys

from service import create_app
from service.__main__ import main


def build(config):
    app = create_app(config)

    @app.get("/otel-modules")
    def otel_modules():
        return {"modules": sorted(name for name in sys.modules if name.startswith("opentelemetry"))}

    return app


if __name__ == "__main__":
    main(build)
