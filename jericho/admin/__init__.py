"""The admin side: first run, sign-in and sign-out, SCIM tokens, the API page (API keys and
webhooks), and what every admin page carries (security headers, the session cookie, template
filters)."""
from flask import Flask

from . import auth, consumers, tokens, web


def init_app(app: Flask) -> None:
    auth.init_app(app)
    web.init_app(app)
    app.register_blueprint(tokens.bp)
    app.register_blueprint(consumers.bp)
