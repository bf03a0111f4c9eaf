"""The two pages kept from the original project."""

from functools import lru_cache

from flask import Blueprint, current_app, render_template

bp = Blueprint("pages", __name__)


@lru_cache(maxsize=32)
def _page(colour: str, heading: str) -> bytes:
    # A page depends only on its colour and heading (settings), so it is rendered once, not per request:
    # the render was a quarter of a request in the profile (bench/profile_request.py). Keyed by the
    # values, so an app with other settings gets its own page; the templates are read at the first
    # render, and a reloaded worker (GUNICORN_RELOAD) imports this module, and so the cache, afresh.
    return render_template("page.html", colour=colour, heading=heading).encode()


@bp.get("/")
def welcome():
    return _page(colour="powderblue", heading=current_app.config["WELCOME_HEADING"])


@bp.get("/next")
def next_page():
    return _page(colour="tomato", heading=current_app.config["NEXT_HEADING"])
