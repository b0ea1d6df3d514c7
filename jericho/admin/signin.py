"""First run, sign-in and sign-out: the setup code that guards the first-run page, throttling of
failed attempts that holds across every server process, and the audit events they leave.

Throttling counts failures per (account, address) pair and per address. A few failures are
free; after them each attempt of that pair waits twice as long as the one before (1 s, 2 s,
4 s ...) up to LONGEST_DELAY. Only the pair waits: someone guessing an admin's password slows
down themselves, never the admin signing in from another address. The per-address count allows
more failures, as colleagues may share an address, and slows one address trying many accounts;
it too holds back only that address. A key's failures are forgotten after a day without one, and
a pair's at its next successful sign-in.

Passwords are checked outside any write transaction (Argon2 takes tens of milliseconds, and a
SQLite writer holds the database's only write lock)."""
from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import math
import re
from datetime import datetime, timedelta
from typing import NamedTuple

from flask import Flask
from sqlalchemy import delete, update
from sqlalchemy.exc import OperationalError, ProgrammingError

from ..extensions import db
from ..security import burn_password_check, verify_password
from ..storage import accounts
from ..storage.accounts import AccountError
from ..storage.audit import audit_record
from ..storage.database import transaction_lock, writes
from ..storage.models import AdminUser, SignInFailures
from ..text import counted

FREE_FAILURES_PER_PAIR = 5
FREE_FAILURES_PER_ADDRESS = 20
LONGEST_DELAY = timedelta(minutes=15)
FORGET_AFTER = timedelta(days=1)

WRONG_CREDENTIALS = "That email address and password do not match an admin account."
WRONG_SETUP_CODE = "That setup code is not right. Copy it again from the server log."
SETUP_COMPLETE = "Setup is already complete: sign in instead."

SETUP_CODE_CONTEXT = b"jericho first-run setup code v1"


class Counter(NamedTuple):
    """Failed attempts counted under `key`, of which `free` pass without a delay."""

    key: str
    free: int

    def delay(self, failures: int) -> timedelta:
        """How long after the latest of `failures` the next attempt must wait."""
        if failures < self.free:
            return timedelta()
        doublings = min(failures - self.free, 30)  # 2**30 s is far beyond LONGEST_DELAY already
        return min(timedelta(seconds=2**doublings), LONGEST_DELAY)


class TooManyAttempts(AccountError):
    def __init__(self, retry_after: timedelta) -> None:
        seconds = max(1, math.ceil(retry_after.total_seconds()))
        wait = counted(seconds, "second") if seconds < 60 else counted(math.ceil(seconds / 60), "minute")
        super().__init__(f"Too many failed attempts. Wait {wait} and try again.")
        self.retry_after = seconds


# The setup code is derived from SECRET_KEY instead of being stored: every worker and the
# `jericho setup-code` command agree on it without a file or a table, it changes with the key,
# and anyone able to read the key could forge a signed-in session anyway.
def setup_code(secret_key: str) -> str:
    digest = hmac.new(secret_key.encode(), SETUP_CODE_CONTEXT, hashlib.sha256).digest()
    letters = base64.b32encode(digest).decode()[:16]  # 80 bits
    return "-".join(letters[start : start + 4] for start in range(0, 16, 4))


def setup_code_matches(secret_key: str, candidate: str) -> bool:
    def normal(code: str) -> bytes:
        return re.sub(r"[\s-]", "", code).upper().encode()

    return hmac.compare_digest(normal(setup_code(secret_key)), normal(candidate))


def setup_needed() -> bool:
    return db.session.execute(db.select(AdminUser.id).limit(1)).first() is None


def log_setup_code(app: Flask, logger: logging.Logger) -> None:
    """At server start, while no admin exists, log the code that the first-run page asks for."""
    with app.app_context():
        try:
            needed = setup_needed()
        except (OperationalError, ProgrammingError):
            logger.warning("The database is not ready: run `flask --app app jericho init`.")
            return
        finally:
            # Workers are forked from the process that runs this: leave them no open connection.
            db.session.remove()
            db.engine.dispose()
        if not needed:
            return
        if not app.config.get("SECRET_KEY"):
            logger.warning("No SECRET_KEY: run `flask --app app jericho init` first.")
            return
        logger.warning(
            "First run: open this server in a browser and enter the setup code %s "
            "(`flask --app app jericho setup-code` prints it again).",
            setup_code(app.config["SECRET_KEY"]),
        )


def complete_setup(
    *,
    secret_key: str,
    code: str,
    organization_name: str,
    email: str,
    password: str,
    remote_addr: str | None,
    now: datetime,
) -> AdminUser:
    """Create the organization and its first admin, if the setup code is right."""
    if not setup_needed():
        raise AccountError(SETUP_COMPLETE)
    accounts.validate_admin(email, password)
    address = _address_counter(remote_addr)
    _attempt_begin([address], now=now)
    if not setup_code_matches(secret_key, code):
        raise AccountError(WRONG_SETUP_CODE)
    return _first_admin_create(
        address_key=address.key,
        organization_name=organization_name,
        email=email,
        password=password,
        remote_addr=remote_addr,
        now=now,
    )


def sign_in(*, email: str, password: str, remote_addr: str | None, now: datetime) -> AdminUser:
    """The admin, or AccountError with the same message whether or not the account exists."""
    email = email.strip().lower()
    pair, address = _pair_counter(email, remote_addr), _address_counter(remote_addr)
    _attempt_begin([pair, address], now=now)
    admin = db.session.execute(
        db.select(AdminUser).where(AdminUser.email == email)
    ).scalar_one_or_none()
    if admin is None:
        burn_password_check(password)  # as slow as a real check, so timing tells nothing either
    elif verify_password(admin.password_hash, password):
        return _sign_in_succeeded(
            admin_id=admin.id, pair_key=pair.key, address_key=address.key, remote_addr=remote_addr, now=now
        )
    else:
        _sign_in_failed(admin_id=admin.id, remote_addr=remote_addr, now=now)
    raise AccountError(WRONG_CREDENTIALS)


@writes
def sign_out(*, admin_id: int, remote_addr: str | None, now: datetime) -> None:
    """End every session of the admin: this browser's, any copy of its cookie, and the admin's
    sessions in other browsers (one version counts them all)."""
    admin = db.session.get(AdminUser, admin_id)
    if admin is not None:
        accounts.admin_sessions_end(admin)
        audit_record(admin=admin, action="signed out", remote_addr=remote_addr, now=now)


@writes
def sign_out_everywhere_else(*, admin_id: int, remote_addr: str | None, now: datetime) -> int:
    """End every session of the admin; returns the new session version, under which the caller
    keeps its own browser signed in."""
    admin = db.session.get(AdminUser, admin_id)
    version = accounts.admin_sessions_end(admin)
    audit_record(admin=admin, action="signed out everywhere else", remote_addr=remote_addr, now=now)
    return version


def _counter_key(*parts: str) -> str:
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()


def _pair_counter(email: str, remote_addr: str | None) -> Counter:
    return Counter(_counter_key("pair", email, remote_addr or "unknown"), FREE_FAILURES_PER_PAIR)


def _address_counter(remote_addr: str | None) -> Counter:
    return Counter(_counter_key("address", remote_addr or "unknown"), FREE_FAILURES_PER_ADDRESS)


@writes
def _attempt_begin(counters: list[Counter], *, now: datetime) -> None:
    """Refuse with TooManyAttempts while a counter makes its attempts wait; else count this
    attempt as a failure in each, until it succeeds.

    Counting and writing are one step per key (`transaction_lock`): parallel attempts are counted
    one after another, so they cannot all see the same count and all pass."""
    forgotten = now - FORGET_AFTER
    # Rows another attempt holds are left to a later sweep: waiting for them could deadlock.
    stale = (db.select(SignInFailures.key).where(SignInFailures.last_failed_at <= forgotten)
             .with_for_update(skip_locked=True))
    db.session.execute(delete(SignInFailures).where(SignInFailures.key.in_(stale.scalar_subquery())))
    for key in sorted(counter.key for counter in counters):
        transaction_lock(f"sign-in {key}")
    rows = {
        row.key: row
        for row in db.session.execute(
            db.select(SignInFailures).where(SignInFailures.key.in_([counter.key for counter in counters]))
        ).scalars()
    }
    for row in rows.values():
        if row.last_failed_at <= forgotten:  # left by the sweep
            row.failures = 0
    waits = [
        rows[counter.key].last_failed_at + counter.delay(rows[counter.key].failures) - now
        for counter in counters
        if counter.key in rows
    ]
    if max(waits, default=timedelta()) > timedelta():
        raise TooManyAttempts(max(waits))
    for counter in counters:
        row = rows.get(counter.key) or SignInFailures(key=counter.key, failures=0)
        row.failures += 1
        row.last_failed_at = now
        db.session.add(row)


def _attempt_succeeded(*, address_key: str, pair_key: str | None = None) -> None:
    """Take back the failure `_attempt_begin` counted. The pair's earlier failures are forgiven
    too; the address's are not, or signing in to one's own account would wipe a count of guesses
    at other accounts."""
    if pair_key is not None:
        db.session.execute(delete(SignInFailures).where(SignInFailures.key == pair_key))
    db.session.execute(
        update(SignInFailures)
        .where(SignInFailures.key == address_key)
        .values(failures=SignInFailures.failures - 1)
    )
    db.session.execute(
        delete(SignInFailures).where(SignInFailures.key == address_key, SignInFailures.failures <= 0)
    )


@writes
def _first_admin_create(
    *,
    address_key: str,
    organization_name: str,
    email: str,
    password: str,
    remote_addr: str | None,
    now: datetime,
) -> AdminUser:
    # One first run at a time: under READ COMMITTED, parallel ones would each find no admin.
    transaction_lock("first-run setup")
    if not setup_needed():  # another browser finished first
        raise AccountError(SETUP_COMPLETE)
    _attempt_succeeded(address_key=address_key)
    admin = accounts.admin_add(organization_name=organization_name, email=email, password=password)
    admin.last_sign_in_at = now
    audit_record(admin=admin, action="completed first-run setup", remote_addr=remote_addr, now=now)
    return admin


@writes
def _sign_in_succeeded(
    *, admin_id: int, pair_key: str, address_key: str, remote_addr: str | None, now: datetime
) -> AdminUser:
    _attempt_succeeded(pair_key=pair_key, address_key=address_key)
    admin = db.session.get(AdminUser, admin_id)
    admin.last_sign_in_at = now
    audit_record(admin=admin, action="signed in", remote_addr=remote_addr, now=now)
    return admin


@writes
def _sign_in_failed(*, admin_id: int, remote_addr: str | None, now: datetime) -> None:
    admin = db.session.get(AdminUser, admin_id)
    audit_record(
        admin=admin, action="failed sign-in (wrong password)", remote_addr=remote_addr, now=now
    )
