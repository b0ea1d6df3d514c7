"""Sync status: the dashboard, users and groups as received, the provisioning log, "why isn't
this person here?", CSV exports, and the log's retention."""
from flask import Flask

from . import views


def init_app(app: Flask) -> None:
    views.init_app(app)
