"""Webhooks: each event of the feed POSTed, signed, to the endpoints an admin added — at least
once, in order per endpoint, retried for a day — by a worker thread in each server process; and
the background pruning of the events and of the delivery log."""
from flask import Flask

from . import cli, delivery


def init_app(app: Flask) -> None:
    delivery.init_app(app)
    cli.init_app(app)
