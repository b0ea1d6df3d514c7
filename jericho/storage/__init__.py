"""Storage: the data model, the database set-up, and the services that own each write's
transaction — SCIM resources (`resources`, with `filters` turning a SCIM filter into SQL),
organizations, admins and tokens (`accounts`, `tokens`), the admin audit log (`audit`), and the
directory's consumers: their API keys (`api_keys`), the directory as they read it (`directory`),
the events outbox (`events`), webhook endpoints (`webhooks`) and their delivery (`deliveries`)."""
from flask import Flask

from . import database


def init_app(app: Flask) -> None:
    database.init_app(app)
