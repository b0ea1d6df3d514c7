"""A new token's secret, shown on the one page view that follows the form that made it.

The form is answered with a redirect (post/redirect/get), so that neither Reload nor Back sends
it again. The secret waits for that view in the signed session cookie, which only this browser
holds, and the view takes it out: the server itself keeps nothing but the token's hash."""
from __future__ import annotations

from flask import session

from ..storage import tokens as token_admin
from ..storage.models import ScimToken

SESSION_KEY = "jericho.new_token"


def keep_for_next_view(token: ScimToken, secret: str) -> None:
    session[SESSION_KEY] = (token.prefix, secret)


def take_new_token(organization_id: int) -> tuple[ScimToken, str] | tuple[None, None]:
    """The token made just before and its secret, on the first view that asks; then never."""
    prefix, secret = session.pop(SESSION_KEY, None) or (None, None)
    token = token_admin.token_of(organization_id, prefix) if prefix else None
    return (token, secret) if token else (None, None)
