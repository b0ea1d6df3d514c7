"""Rate limits under /scim_v2, holding across every server process: per SCIM token, and per
client address for requests that fail authentication. Beyond a limit: 429 with Retry-After.

Each limit is a sustained rate plus a burst, kept by the generic cell rate algorithm (GCRA, a
token bucket stored as one timestamp): a key's `tat` ("theoretical arrival time") moves one
interval (1/rate) ahead per request, and a request is refused when that would put it more than
`burst` intervals ahead of now. The state is one row per key in the database every worker already
shares, so the limits hold across gunicorn workers and across hosts on one PostgreSQL — which
process-local counters cannot do. One INSERT ... ON CONFLICT DO UPDATE ... WHERE ... RETURNING
both decides and records, atomically: SQLite has a single writer, PostgreSQL locks the row. The
cost is one small write per request, beside the provisioning log's. A row whose `tat` has passed
means the same as no row, so stale rows are swept on the failed-authentication path, the only one
whose keys (client addresses) are unbounded.

The per-address limit counts failures only and only ever refuses failing requests: Entra calls
from Azure addresses that many tenants share, so a stranger's bad token must never block a
customer's good one.
"""
from __future__ import annotations

import hashlib
import math
from datetime import datetime

from flask import current_app
from sqlalchemy import bindparam, delete, func, select, text
from sqlalchemy.dialects import postgresql, sqlite

from .database import writes
from .extensions import db
from .models import RateLimit
from .scim.errors import TooManyRequests


def limit_token(token_id: int, *, now: datetime) -> None:
    """Count one request of an authenticated token; TooManyRequests beyond its limit."""
    _take(f"token:{token_id}", "RATE_LIMIT_TOKEN", now=now, sweep=False)


def limit_failed_authentication(remote_addr: str | None, *, now: datetime) -> None:
    """Count one failed authentication from this address; TooManyRequests beyond its limit."""
    _take(f"address:{remote_addr or 'unknown'}", "RATE_LIMIT_FAILED_AUTH", now=now, sweep=True)


def _take(name: str, setting: str, *, now: datetime, sweep: bool) -> None:
    rate = current_app.config[f"{setting}_PER_SECOND"]
    if not rate:
        return
    interval = 1 / rate
    wait = _admit(
        key=hashlib.sha256(name.encode()).hexdigest(),
        now=now.timestamp(),
        interval=interval,
        capacity=current_app.config[f"{setting}_BURST"] * interval,
        sweep=sweep,
    )
    if wait is not None:
        raise TooManyRequests(
            "too many requests: slow down and retry after the time in Retry-After",
            retry_after=max(1, math.ceil(wait)),
        )


def _upsert(dialect, greatest):
    """The one statement that decides and counts; built once, run with bound values."""
    table = RateLimit.__table__
    start = greatest(table.c.tat, bindparam("now")) + bindparam("interval")
    return (
        dialect.insert(table)
        .values(key=bindparam("key"), tat=bindparam("now") + bindparam("interval"))
        .on_conflict_do_update(
            index_elements=[table.c.key],
            set_={"tat": start},
            where=start - bindparam("now") <= bindparam("capacity"),
        )
        .returning(table.c.tat)
    )


_UPSERTS = {"sqlite": _upsert(sqlite, func.max), "postgresql": _upsert(postgresql, func.greatest)}


@writes
def _admit(*, key: str, now: float, interval: float, capacity: float, sweep: bool) -> float | None:
    """None when the request is admitted (and counted); else the seconds until it would be."""
    dialect = db.engine.dialect.name
    if dialect == "postgresql":
        # A count lost in a crash costs nothing, so this commit need not wait for the disk.
        db.session.execute(text("SET LOCAL synchronous_commit TO OFF"))
    if sweep:
        db.session.execute(delete(RateLimit).where(RateLimit.tat < now))
    admitted = db.session.execute(
        _UPSERTS[dialect],
        {"key": key, "now": now, "interval": interval, "capacity": capacity},
    ).first()
    if admitted is not None:
        return None
    tat = db.session.execute(select(RateLimit.tat).where(RateLimit.key == key)).scalar_one()
    return tat + interval - capacity - now
