"""The Entra setup wizard: one page per step, each step's state derived from what Entra sent."""
from flask import Flask

from . import views


def init_app(app: Flask) -> None:
    app.register_blueprint(views.bp)
