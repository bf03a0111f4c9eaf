"""A faithful copy of the project's seed: a plain Flask app, two routes with inline HTML, `app.run()`.

It is the "before" baseline of the HTTP benchmark: Flask's development server (threaded, one process).
Only the bind address is a parameter, so the benchmark can use a free loopback port.
"""

import sys

from flask import Flask

app = Flask(__name__)


@app.route("/")
def home():
    return """
    <html>
    <head><title>IFT510 Project</title></head>
    <body style="background-color: powderblue;">
    <h1>Welcome to IFT510-Project by Swetha</h1>
    </body>
    </html>
    """


@app.route("/next")
def next_page():
    return """
    <html>
    <head><title>IFT510 Project</title></head>
    <body style="background-color: tomato;">
    <h1>Publishing the docker container to GITHUB</h1>
    </body>
    </html>
    """


if __name__ == "__main__":
    app.run(host="127.0.0.1", port=int(sys.argv[1]) if len(sys.argv) > 1 else 5000)
