"""Database behaviour shared by every write: SQLite tuned for several server processes, short
write transactions that retry when another writer holds the database, and deadlines for requests.

SQLite: WAL lets readers run beside the one writer; a busy timeout makes a writer wait for the
lock instead of failing; and write transactions begin with `BEGIN IMMEDIATE`, because a deferred
transaction that reads first and writes later fails at once (no waiting) when another process
wrote in between — the classic source of "database is locked".

Deadlines: once `limit_statements` has set one for this thread's work (the SCIM API does, per
request), a statement still running when it passes is stopped and raises StatementTimeout; the
transaction is then rolled back whole, by `writes` or at the end of the request. PostgreSQL stops
it with a `statement_timeout` of the time left when each transaction begins; SQLite with a
progress handler that looks at the clock every SQLITE_PROGRESS_INSTRUCTIONS instructions. Work
without a deadline (admin pages, the CLI, migrations, the provisioning log's writer) is never
stopped.
"""
from __future__ import annotations

import functools
import logging
import math
import sqlite3
import time
from contextvars import ContextVar
from datetime import datetime
from itertools import takewhile
from typing import Callable, Iterator, ParamSpec, TypeVar

from flask import Flask
from sqlalchemy import delete, event, select, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import OperationalError

from ..extensions import db

log = logging.getLogger(__name__)

SQLITE_BUSY_TIMEOUT_MS = 30_000
WRITE_ATTEMPTS = 4
# Ids are looked up in chunks, well below every database's bound-parameter limit.
CHUNK = 500

# The first key of every advisory lock this app takes ("JERI"), apart from other users of the
# database's advisory locks.
ADVISORY_LOCK_SPACE = 0x4A455249

# How often SQLite's progress handler looks at the clock: some tens of microseconds of work.
SQLITE_PROGRESS_INSTRUCTIONS = 10_000
QUERY_CANCELED = "57014"  # PostgreSQL's SQLSTATE for a statement stopped by statement_timeout

_writing: ContextVar[bool] = ContextVar("writing", default=False)
_deadline: ContextVar[float | None] = ContextVar("statement_deadline", default=None)
clock = time.monotonic  # tests set the time
_committed_callbacks: ContextVar[list[Callable[[], None]]] = ContextVar("committed_callbacks")

P = ParamSpec("P")
R = TypeVar("R")


def init_app(app: Flask) -> None:
    with app.app_context():
        engine = db.engine
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", configure_sqlite_connection)
        event.listen(engine, "connect", _watch_sqlite_deadline)
        event.listen(engine, "begin", _begin_sqlite_transaction)
    else:
        event.listen(engine, "begin", _begin_postgresql_transaction)
    event.listen(engine, "handle_error", _raise_statement_timeout)


def configure_sqlite_connection(dbapi_connection, connection_record=None) -> None:
    """The pragmas every SQLite connection gets (the benchmark's floor uses them too)."""
    # Let SQLAlchemy's "begin" event issue BEGIN, instead of the sqlite3 module's implicit one.
    dbapi_connection.isolation_level = None
    # Unicode-aware lower(), so case-insensitive SQL comparisons agree with Python's str.lower
    # (the built-in one folds ASCII only) and with PostgreSQL's.
    dbapi_connection.create_function("lower", 1, _lower, deterministic=True)
    cursor = dbapi_connection.cursor()
    cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA journal_mode = WAL")
    cursor.execute("PRAGMA synchronous = NORMAL")  # durable in WAL mode across process crashes
    cursor.execute("PRAGMA foreign_keys = ON")
    cursor.close()


def _lower(value):
    return value.lower() if isinstance(value, str) else value


def dialect_insert(table):
    """An INSERT with the database's own ON CONFLICT clauses (both speak the same)."""
    return (postgresql if db.engine.dialect.name == "postgresql" else sqlite).insert(table)


def _begin_sqlite_transaction(connection) -> None:
    connection.exec_driver_sql("BEGIN IMMEDIATE" if _writing.get() else "BEGIN")


class StatementTimeout(Exception):
    """A statement ran past the deadline of its work and was stopped."""


def limit_statements(seconds: float) -> None:
    """Stop this thread's statements once `seconds` from now have passed, until lifted."""
    _deadline.set(clock() + seconds)


def lift_statement_limit() -> None:
    _deadline.set(None)


def _watch_sqlite_deadline(dbapi_connection, connection_record=None) -> None:
    dbapi_connection.set_progress_handler(_past_deadline, SQLITE_PROGRESS_INSTRUCTIONS)


def _past_deadline() -> bool:
    deadline = _deadline.get()
    return deadline is not None and clock() > deadline


def _begin_postgresql_transaction(connection) -> None:
    deadline = _deadline.get()
    if deadline is not None:
        # SET LOCAL: for this transaction only. At least 1 ms: 0 would mean no limit.
        milliseconds = max(math.ceil((deadline - clock()) * 1000), 1)
        connection.exec_driver_sql(f"SET LOCAL statement_timeout = {milliseconds}")


def _raise_statement_timeout(context) -> None:
    error = context.original_exception
    stopped = ((isinstance(error, sqlite3.OperationalError) and error.sqlite_errorcode == sqlite3.SQLITE_INTERRUPT)
               or getattr(error, "sqlstate", None) == QUERY_CANCELED)
    if stopped and _deadline.get() is not None:
        raise StatementTimeout("a statement ran past the deadline of its request") from error


def writes(function: Callable[P, R]) -> Callable[P, R]:
    """Run `function` as one write transaction: commit on success, roll back on any error, and
    run it again when the database was busy or the transaction lost a deadlock."""

    @functools.wraps(function)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        if _writing.get():  # already inside a write transaction
            return function(*args, **kwargs)
        token = _writing.set(True)
        try:
            for attempt in range(1, WRITE_ATTEMPTS + 1):
                db.session.commit()  # end any read transaction, so the write begins afresh
                callbacks: list[Callable[[], None]] = []
                pending = _committed_callbacks.set(callbacks)
                try:
                    result = function(*args, **kwargs)
                    db.session.commit()
                except OperationalError as error:
                    db.session.rollback()
                    if attempt == WRITE_ATTEMPTS or not _is_transient(error):
                        raise
                    log.warning("database busy, retrying write (attempt %d)", attempt)
                    time.sleep(0.05 * attempt)
                    continue
                except BaseException:
                    db.session.rollback()
                    raise
                finally:
                    _committed_callbacks.reset(pending)
                for callback in callbacks:
                    callback()
                return result
        finally:
            _writing.reset(token)
        raise AssertionError("unreachable")

    return wrapper


def after_commit(callback: Callable[[], None]) -> None:
    """Run `callback` once the current write transaction has committed; never if it rolls back
    (a retried attempt starts without the callbacks of the one before). It must not fail."""
    _committed_callbacks.get().append(callback)


def _is_transient(error: OperationalError) -> bool:
    code = getattr(error.orig, "sqlstate", None)
    if code in {"40001", "40P01"}:  # PostgreSQL serialization failure, deadlock detected
        return True
    message = str(error.orig).lower()
    return "database is locked" in message or "database is busy" in message



def transaction_lock(name: str) -> None:
    """Hold the lock called `name` until the write transaction ends, so that transactions taking
    it run one after another. Needed where a transaction counts rows and then writes: under
    PostgreSQL's READ COMMITTED, two of them would count the same rows and both write. On
    SQLite a write transaction (`BEGIN IMMEDIATE`) already holds the only write lock.
    Take several locks in one order (sorted), or two transactions may wait for each other."""
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(
            text("SELECT pg_advisory_xact_lock(:space, hashtext(:name))"),
            {"space": ADVISORY_LOCK_SPACE, "name": name},
        )


def chunks(items: list) -> Iterator[list]:
    for start in range(0, len(items), CHUNK):
        yield items[start : start + CHUNK]


def days_to_keep(value, setting: str) -> int:
    """A retention setting's days: a whole number, 0 keeping everything. A wrong one raises
    ValueError, so that it stops the start rather than a prune later."""
    try:
        days = int(value)
    except (TypeError, ValueError):
        raise ValueError(f"{setting} must be a whole number of days, not {value!r}") from None
    if days < 0:
        raise ValueError(f"{setting} must be 0 (keep everything) or more, not {days}")
    return days


def delete_expired(owners: list, *, key, moment, cutoff: datetime, batch_size: int = CHUNK) -> int:
    """Delete the rows of each owner (a condition) whose `moment` is before `cutoff`, in `key`
    order and in short transactions of `batch_size`, so that a writer waits one batch at most.
    For tables whose times follow their keys: deletion stops at the first row still kept."""
    deleted = 0
    for owner in owners:
        while count := _delete_expired_batch(owner, key=key, moment=moment, cutoff=cutoff, batch_size=batch_size):
            deleted += count
            if count < batch_size:
                break
    return deleted


@writes
def _delete_expired_batch(owner, *, key, moment, cutoff: datetime, batch_size: int) -> int:
    oldest = db.session.execute(select(key, moment).where(owner).order_by(key).limit(batch_size)).all()
    expired = list(takewhile(lambda row: row[1] < cutoff, oldest))
    if not expired:
        return 0
    return db.session.execute(delete(key.class_).where(owner, key <= expired[-1][0])).rowcount
