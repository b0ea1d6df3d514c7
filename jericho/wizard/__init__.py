"""The setup wizard: one page per step of the organization's identity provider, each step's state
derived from what the provider sent."""
from flask import Flask

from . import views


def init_app(app: Flask) -> None:
    app.register_blueprint(views.bp)
