"""The service plus a slow route and a route showing the peer, served by the project's own server (for tests).

Production code has no slow route; tests run this module instead of `python -m service`.
"""

import time

from flask import request

from service import create_app
from service.__main__ import main


def build(config):
    app = create_app(config)

    @app.get("/slow")
    def slow():
        seconds = min(float(request.args.get("seconds", "2")), 30.0)
        time.sleep(seconds)
        return {"slept": seconds}

    @app.get("/peer")
    def peer():
        # What the app believes of the client: X-Forwarded-* change it only from FORWARDED_ALLOW_IPS.
        return {"scheme": request.scheme, "remote_addr": request.remote_addr}

    return app


if __name__ == "__main__":
    main(build)
