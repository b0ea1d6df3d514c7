"""Admin sessions, and when they end.

The session is Flask's signed cookie. Beside Flask-Login's admin id it carries:
- the admin's session version when the session began: the user loader accepts the session only
  while the version is still the admin's. Signing out, "sign out everywhere else" and a password
  reset raise it, which ends every session issued before, on every server process, copies of
  the cookie included;
- a keyed digest of the admin's password hash, whose salt is drawn for each admin: the session
  belongs to that account only, never to an admin created later with the same id (SQLite gives
  a removed row's id to the next row stored, and the new admin's session version starts where
  the removed one's may have been);
- when the admin signed in, and when the session was last seen. A session ends after
  ADMIN_SESSION_IDLE_MINUTES without a request, and ADMIN_SESSION_LIFETIME_HOURS after sign-in
  whatever happens. The last-seen time lives in the cookie, not the database, and is refreshed
  at most every SEEN_RESOLUTION, so a page view writes nothing and seldom sends a new cookie.
"""
from __future__ import annotations

import hashlib
import hmac
from datetime import datetime, timedelta, timezone

from flask import Flask, current_app, session
from flask_login import login_user

from ..storage.models import AdminUser

VERSION = "session_version"
ACCOUNT = "account"
SIGNED_IN = "signed_in_at"
SEEN = "seen_at"
# The idle limit is kept to within this; a longer one would re-send the cookie less often.
SEEN_RESOLUTION = timedelta(minutes=5)
LIMITS = {"ADMIN_SESSION_IDLE_MINUTES": "minutes", "ADMIN_SESSION_LIFETIME_HOURS": "hours"}



def init_app(app: Flask) -> None:
    """Check the limits at start: a wrong setting stops the server, not a sign-in later."""
    for setting, unit in LIMITS.items():
        value = app.config[setting]
        try:
            amount = int(value)
        except (TypeError, ValueError):
            amount = 0
        if amount < 1:
            raise ValueError(f"{setting} must be a whole number of {unit} above 0, not {value!r}")
        app.config[setting] = amount


def session_begin(admin: AdminUser, *, now: datetime) -> None:
    """Sign the admin in on this browser, in a fresh session (and so a fresh CSRF token)."""
    session.clear()
    login_user(admin)
    session[VERSION] = admin.session_version
    session[ACCOUNT] = _account_mark(admin)
    session[SIGNED_IN] = session[SEEN] = _seconds(now)


def session_continue(version: int) -> None:
    """Keep this browser signed in under the admin's new session version (the others ended)."""
    session[VERSION] = version


def session_version(*, now: datetime) -> int | None:
    """The session version this browser's session holds while it is within its limits; None
    once it has ended (its sign-in is then forgotten)."""
    version, signed_in, seen = (session.get(key) for key in (VERSION, SIGNED_IN, SEEN))
    if not all(isinstance(value, int) for value in (version, signed_in, seen)):
        return None  # a session from before these limits, or no sign-in
    moment = _seconds(now)
    idle = timedelta(minutes=current_app.config["ADMIN_SESSION_IDLE_MINUTES"])
    lifetime = timedelta(hours=current_app.config["ADMIN_SESSION_LIFETIME_HOURS"])
    if moment - seen > idle.total_seconds() or moment - signed_in > lifetime.total_seconds():
        session_forget()
        return None
    if moment - seen >= SEEN_RESOLUTION.total_seconds():
        session[SEEN] = moment
    return version


def session_is_of(admin: AdminUser) -> bool:
    """Whether this browser's session began for this very admin, not for one removed since whose
    id the admin now has."""
    return hmac.compare_digest(str(session.get(ACCOUNT, "")), _account_mark(admin))


def session_forget() -> None:
    """Drop the sign-in from this browser's session, and keep the rest (its CSRF token). The
    first keys are Flask-Login's, as logout_user drops them; the user loader cannot call it."""
    for key in ("_user_id", "_fresh", "_id", VERSION, ACCOUNT, SIGNED_IN, SEEN):
        session.pop(key, None)


def signed_in_at() -> datetime | None:
    seconds = session.get(SIGNED_IN)
    return datetime.fromtimestamp(seconds, timezone.utc) if isinstance(seconds, int) else None


def _account_mark(admin: AdminUser) -> str:
    key = hmac.new(current_app.config["SECRET_KEY"].encode(), b"jericho admin sessions v1", hashlib.sha256).digest()
    return hmac.new(key, admin.password_hash.encode(), hashlib.sha256).hexdigest()[:32]


def _seconds(moment: datetime) -> int:
    return int(moment.timestamp())
