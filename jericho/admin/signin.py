"""First run and sign-in: the setup code that guards the first-run page, throttling of failed
attempts that holds across every server process, and the audit events both leave.

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
from sqlalchemy import delete
from sqlalchemy.exc import OperationalError, ProgrammingError

from ..storage import accounts
from ..storage.accounts import AccountError
from ..storage.audit import audit_record
from ..storage.database import writes
from ..extensions import db
from ..storage.models import AdminUser, SignInAttempt
from ..security import burn_password_check, verify_password

# Failed attempts count for this long; reaching a limit below within it locks the counter.
WINDOW = timedelta(minutes=15)
MAX_FAILURES_PER_ACCOUNT = 5
# Higher, because colleagues may share an address; stops one address trying many accounts.
MAX_FAILURES_PER_ADDRESS = 20

WRONG_CREDENTIALS = "That email address and password do not match an admin account."
WRONG_SETUP_CODE = "That setup code is not right. Copy it again from the server log."

SETUP_CODE_CONTEXT = b"jericho first-run setup code v1"


class Counter(NamedTuple):
    """Failed attempts counted under `key`; `limit` of them within WINDOW lock it."""

    key: str
    limit: int


class TooManyAttempts(AccountError):
    def __init__(self, retry_after: timedelta) -> None:
        minutes = max(1, math.ceil(retry_after.total_seconds() / 60))
        super().__init__(
            f"Too many failed attempts. Wait {minutes} minute{'s' if minutes > 1 else ''} "
            "and try again."
        )
        self.retry_after = retry_after


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
        raise AccountError("Setup is already complete: sign in instead.")
    accounts.validate_admin(email, password)
    attempt_ids = _attempt_begin([_address_counter(remote_addr)], now=now)
    if not setup_code_matches(secret_key, code):
        raise AccountError(WRONG_SETUP_CODE)
    return _first_admin_create(
        attempt_ids=attempt_ids,
        organization_name=organization_name,
        email=email,
        password=password,
        remote_addr=remote_addr,
        now=now,
    )


def sign_in(*, email: str, password: str, remote_addr: str | None, now: datetime) -> AdminUser:
    """The admin, or AccountError with the same message whether or not the account exists."""
    email = email.strip().lower()
    account = _account_counter(email)
    attempt_ids = _attempt_begin([account, _address_counter(remote_addr)], now=now)
    admin = db.session.execute(
        db.select(AdminUser).where(AdminUser.email == email)
    ).scalar_one_or_none()
    if admin is None:
        burn_password_check(password)  # as slow as a real check, so timing tells nothing either
    elif verify_password(admin.password_hash, password):
        return _sign_in_succeeded(
            admin_id=admin.id,
            attempt_ids=attempt_ids,
            account_key=account.key,
            remote_addr=remote_addr,
            now=now,
        )
    else:
        _sign_in_failed(admin_id=admin.id, remote_addr=remote_addr, now=now)
    raise AccountError(WRONG_CREDENTIALS)


@writes
def sign_out(*, admin_id: int, remote_addr: str | None, now: datetime) -> None:
    admin = db.session.get(AdminUser, admin_id)
    if admin is not None:
        audit_record(admin=admin, action="signed out", remote_addr=remote_addr, now=now)


def _counter(kind: str, value: str, limit: int) -> Counter:
    return Counter(hashlib.sha256(f"{kind}:{value}".encode()).hexdigest(), limit)


def _account_counter(email: str) -> Counter:
    return _counter("account", email, MAX_FAILURES_PER_ACCOUNT)


def _address_counter(remote_addr: str | None) -> Counter:
    return _counter("address", remote_addr or "unknown", MAX_FAILURES_PER_ADDRESS)


@writes
def _attempt_begin(counters: list[Counter], *, now: datetime) -> list[int]:
    """Refuse with TooManyAttempts while a counter is locked; else record one attempt in each."""
    db.session.execute(delete(SignInAttempt).where(SignInAttempt.occurred_at <= now - WINDOW))
    waits = []
    for key, limit in counters:
        times = list(
            db.session.execute(
                db.select(SignInAttempt.occurred_at)
                .where(SignInAttempt.key == key)
                .order_by(SignInAttempt.occurred_at)
            ).scalars()
        )
        if len(times) >= limit:
            # The key unlocks when enough of its oldest failures have left the window.
            waits.append(times[len(times) - limit] + WINDOW - now)
    if waits:
        raise TooManyAttempts(max(waits))
    attempts = [SignInAttempt(key=counter.key, occurred_at=now) for counter in counters]
    db.session.add_all(attempts)
    db.session.flush()
    return [attempt.id for attempt in attempts]


@writes
def _first_admin_create(
    *,
    attempt_ids: list[int],
    organization_name: str,
    email: str,
    password: str,
    remote_addr: str | None,
    now: datetime,
) -> AdminUser:
    if not setup_needed():  # another browser finished first
        raise AccountError("Setup is already complete: sign in instead.")
    db.session.execute(delete(SignInAttempt).where(SignInAttempt.id.in_(attempt_ids)))
    admin = accounts.admin_create(
        organization_name=organization_name, email=email, password=password
    )
    admin.last_sign_in_at = now
    audit_record(admin=admin, action="completed first-run setup", remote_addr=remote_addr, now=now)
    return admin


@writes
def _sign_in_succeeded(
    *,
    admin_id: int,
    attempt_ids: list[int],
    account_key: str,
    remote_addr: str | None,
    now: datetime,
) -> AdminUser:
    # The account's earlier failures are forgiven; the address's are not, or signing in to
    # one's own account would reset a count of guesses at other accounts.
    db.session.execute(
        delete(SignInAttempt).where(
            SignInAttempt.id.in_(attempt_ids) | (SignInAttempt.key == account_key)
        )
    )
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
