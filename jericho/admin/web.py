"""What every admin page carries: a refusal of NUL characters in its address, security headers,
a session cookie marked Secure whenever the request came over HTTPS, the ids admins see, and the
template filters for times (in the admin's time zone) and counts."""
from __future__ import annotations

import re
from datetime import datetime, timezone, tzinfo

from flask import Flask, Response, abort, current_app, has_request_context, request
from flask.sessions import SecureCookieSessionInterface
from flask_login import current_user
from jinja2 import pass_context
from jinja2.runtime import Context
from markupsafe import Markup, escape

from ..security import IdCipher, id_cipher
from ..storage.models import utcnow
from ..text import clock, counted
from ..urls import is_api_request, is_scim_request

# Scripts and styles only from static/ (no inline code, no CDN); no framing (clickjacking).
CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    )
)

# The context variable that holds what `moment` shows times against.
PAGE_TIME = "page_time"


class HttpsSessionInterface(SecureCookieSessionInterface):
    """SESSION_COOKIE_SECURE follows PUBLIC_URL; this also marks the cookie Secure whenever the
    request itself came over HTTPS (directly, or as a trusted proxy's X-Forwarded-Proto says)."""

    def get_cookie_secure(self, app: Flask) -> bool:
        return super().get_cookie_secure(app) or (has_request_context() and request.is_secure)


def init_app(app: Flask) -> None:
    app.session_interface = HttpsSessionInterface()
    app.before_request(refuse_nul_characters)
    app.after_request(add_security_headers)
    app.context_processor(page_time)
    app.add_template_filter(moment)
    app.add_template_filter(counted)
    app.add_template_filter(breakable)
    app.add_template_filter(shown_id)


def refuse_nul_characters() -> None:
    """A NUL character in a page's path or query string is a 400: no database stores one
    (PostgreSQL refuses it even in a query), so no page could answer it. Form fields say so
    themselves (forms.Form); /scim_v2 and /api/v1 answer with their own errors."""
    if is_scim_request() or is_api_request():
        return
    if "\x00" in request.path or any("\x00" in key + value for key, value in request.args.items(multi=True)):
        abort(400, description="The address contains a NUL character (%00), which no page accepts.")


def add_security_headers(response: Response) -> Response:
    if is_scim_request():
        return response
    headers = response.headers
    headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    headers.setdefault("X-Frame-Options", "DENY")  # for browsers that ignore frame-ancestors
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("Referrer-Policy", "same-origin")
    if response.mimetype == "text/html":
        # Pages show directory data and, once, a secret token: keep them out of every cache.
        headers["Cache-Control"] = "no-store"
    return response


def page_time() -> dict:
    """The time and time zone that every time on a page is shown against, read once per page
    (a page shows up to a hundred times)."""
    return {PAGE_TIME: (utcnow(), admin_zone())} if has_request_context() else {}


@pass_context
def moment(context: Context, value: datetime | None) -> Markup:
    """A time as pages show it: in the admin's time zone, with the exact time for machines. A
    filter rather than a macro, which would cost more."""
    if not value:
        return Markup("never")
    now, zone = context.get(PAGE_TIME) or (utcnow(), admin_zone())  # a macro imported without context
    # Markup.format would cost more than the rest of the filter.
    return Markup(f'<time datetime="{escape(value.isoformat())}">{escape(clock(value, now, zone))}</time>')


def shown_ids() -> IdCipher:
    """The ids that admins see of rows that every organization adds to (requests in the
    provisioning log, webhook endpoints and their deliveries): a row's own id would tell an admin
    how many the others add."""
    return id_cipher(current_app.config["SECRET_KEY"])


def shown_id(row_id: int) -> str:
    return shown_ids().hide(row_id)


def admin_zone() -> tzinfo:
    """The signed-in admin's time zone, which every time on a page is shown in."""
    return current_user.zone if current_user.is_authenticated else timezone.utc


# An email address or userName in a text, once escaped (an entity holds neither space nor dot).
_ADDRESS = re.compile(r"\S+@\S+")


def breakable(value: object) -> Markup:
    """`value` escaped, each address in it kept whole on a line where it fits (the class makes it
    an inline block), and otherwise broken after a dot or before the "@", never within a name."""
    return Markup(_ADDRESS.sub(_breakable_address, str(escape(value))))


def _breakable_address(match: re.Match) -> str:
    address = match.group().replace(".", ".<wbr>").replace("@", "<wbr>@")
    return f'<span class="address">{address}</span>'
