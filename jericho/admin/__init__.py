"""The admin side: first run, sign-in, sessions and sign-out, the account page and the admin's
time zone, SCIM tokens, the API page (API keys and webhooks), the admin commands, and what every
admin page carries (security headers, the session cookie, template filters)."""
from flask import Flask

from . import account, auth, cli, consumers, sessions, time_zone, tokens, web


def init_app(app: Flask) -> None:
    web.init_app(app)  # first: its refusal of NUL characters comes before any page reads them
    sessions.init_app(app)
    auth.init_app(app)
    app.register_blueprint(tokens.bp)
    app.register_blueprint(account.bp)
    app.register_blueprint(time_zone.bp)
    cli.init_app(app)
    app.register_blueprint(consumers.bp)
