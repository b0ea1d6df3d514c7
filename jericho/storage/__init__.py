"""Storage: the data model, the database set-up, and the services that own each write's
transaction — SCIM resources (`resources`, with `filters` turning a SCIM filter into SQL),
organizations, admins and tokens (`accounts`, `tokens`), and the admin audit log (`audit`)."""
from flask import Flask

from . import database


def init_app(app: Flask) -> None:
    database.init_app(app)
