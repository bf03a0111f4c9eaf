"""The naive baseline: a plain Flask app with prometheus-flask-exporter's stock multiprocess metrics.

The welcome page from the service's own template, the exporter's GunicornInternalPrometheusMetrics with
its defaults (per-request duration histogram and counter, /metrics on the app), no security headers,
request IDs or error pages. It runs under the service's gunicorn config (`python -m service` path),
as the bare hello does, so service / naive is what this project's code costs or saves against the
obvious way to write it.
"""

from flask import Flask, render_template
from prometheus_flask_exporter.multiprocess import GunicornInternalPrometheusMetrics

from service.__main__ import main
from service.gunicorn_conf import TEMPLATES_DIR


def factory(config):
    app = Flask(__name__, template_folder=TEMPLATES_DIR)
    app.config.from_mapping(config)

    @app.get("/")
    def welcome():
        return render_template("page.html", colour="powderblue", heading=app.config["WELCOME_HEADING"])

    GunicornInternalPrometheusMetrics(app)
    return app


if __name__ == "__main__":
    main(factory=factory)
