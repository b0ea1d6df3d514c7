"""Whether a SCIM bearer token still works, checked inside the transaction a request opens anyway.

A server process remembers which organization a token belongs to (api/authentication.py), so a
request need not look its token up before its work. What it may not skip is the check that the
token is still active: a revocation must stop a token at once, on every process. So the request
leaves the check pending (`check_in_first_transaction`), and the first transaction it begins, read
or write, runs it as its first statement, before anything is read or written; so does each next
one until a transaction commits (a write retried after a deadlock checks again). A revoked token
raises TokenRefused there, the write rolls back whole, and nothing is answered but 401. Only a
request that touches no table (discovery) runs the check on its own (`check_now`).
"""
from __future__ import annotations

from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime

from flask import Flask
from sqlalchemy import bindparam, event, select

from ..extensions import db
from .models import ScimToken


class TokenRefused(Exception):
    """The token a request was let in with is revoked, or gone, as of its first transaction."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason  # the provisioning log's wording: "revoked token", "unknown token"


@dataclass(frozen=True)
class TokenRow:
    id: int
    organization_id: int
    revoked_at: datetime | None
    last_used_at: datetime | None


# Built once: one of them runs on every request under /scim_v2.
_BY_HASH = select(
    ScimToken.id, ScimToken.organization_id, ScimToken.revoked_at, ScimToken.last_used_at
).where(ScimToken.secret_hash == bindparam("secret_hash"))
# By id and hash: a token deleted and its id given to another token (SQLite reuses the largest id)
# must not pass for the one remembered.
_REVOKED_AT = select(ScimToken.id, ScimToken.revoked_at).where(
    ScimToken.id == bindparam("token_id"), ScimToken.secret_hash == bindparam("secret_hash"))


@dataclass
class PendingCheck:
    token_id: int
    secret_hash: str
    checked: bool = False  # in the transaction now open


_pending: ContextVar[PendingCheck | None] = ContextVar("token_check_pending", default=None)


def init_app(app: Flask) -> None:
    for name, listener in _LISTENERS.items():  # one listener for every app
        if not event.contains(db.session, name, listener):
            event.listen(db.session, name, listener)


def token_by_hash(secret_hash: str) -> TokenRow | None:
    row = db.session.execute(_BY_HASH, {"secret_hash": secret_hash}).first()
    return TokenRow(*row) if row is not None else None


def check_in_first_transaction(token_id: int, secret_hash: str) -> None:
    """Check the token as the first statement of this context's next transaction."""
    _pending.set(PendingCheck(token_id, secret_hash))


def check_pending() -> bool:
    pending = _pending.get()
    return pending is not None and not pending.checked


def clear_pending() -> None:
    _pending.set(None)


def check_now() -> None:
    """Run the pending check, if any, in a transaction of its own; TokenRefused when it fails."""
    pending = _pending.get()
    if pending is not None:
        _pending.set(None)
        try:
            _check(db.session.connection(), pending)
        finally:
            db.session.rollback()  # a read: ends the transaction it opened


def _check_pending(session, transaction, connection) -> None:
    pending = _pending.get()
    if pending is not None and not pending.checked:
        pending.checked = True  # before the query, which must not check itself
        _check(connection, pending)


def _check_again(session) -> None:
    # A transaction rolled back (a write retried after a deadlock, a refused change): the next
    # one checks again, so a revocation committed in between is not missed.
    pending = _pending.get()
    if pending is not None:
        pending.checked = False


def _checked_for_good(session) -> None:
    # A transaction that ran the check committed: the request's work is done under an active
    # token. (A commit with nothing begun, as `writes` makes to end any read, checked nothing.)
    pending = _pending.get()
    if pending is not None and pending.checked:
        _pending.set(None)


def _check(connection, pending: PendingCheck) -> None:
    row = connection.execute(_REVOKED_AT, vars(pending)).first()
    if row is None:
        raise TokenRefused("unknown token")
    if row.revoked_at is not None:
        raise TokenRefused("revoked token")


_LISTENERS = {"after_begin": _check_pending, "after_rollback": _check_again, "after_commit": _checked_for_good}
