"""The two pages kept from the original project."""

from flask import Blueprint, current_app, render_template

bp = Blueprint("pages", __name__)


@bp.get("/")
def welcome():
    return render_template("page.html", colour="powderblue", heading=current_app.config["WELCOME_HEADING"])


@bp.get("/next")
def next_page():
    return render_template("page.html", colour="tomato", heading=current_app.config["NEXT_HEADING"])
