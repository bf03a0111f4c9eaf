"""The Flask floor: the bare hello's page from a one-route Flask app, nothing else, under the service's
gunicorn config (`python -m service` path). No Flask app can beat it, so its ratio to the bare hello
bounds what any Flask service can reach in this benchmark.
"""

from flask import Flask

from service.__main__ import main

from .hello_wsgi import BODY


def factory(config):
    app = Flask(__name__)
    app.get("/")(lambda: BODY)
    return app


if __name__ == "__main__":
    main(factory=factory)
