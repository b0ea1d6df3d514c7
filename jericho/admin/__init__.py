"""The admin side: first run, sign-in and sign-out, SCIM tokens, and what every admin page
carries (security headers, the session cookie, template filters)."""
from flask import Flask

from . import auth, tokens, web


def init_app(app: Flask) -> None:
    web.init_app(app)  # first: its refusal of NUL characters comes before any page reads them
    auth.init_app(app)
    app.register_blueprint(tokens.bp)
