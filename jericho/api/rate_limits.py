"""Rate limits under /scim_v2 and /api/v1, holding across every server process: per SCIM token
or API key, and per client address for requests that fail authentication. Beyond a limit: 429
with Retry-After.

Each limit is a sustained rate plus a burst, kept by the generic cell rate algorithm (GCRA, a
token bucket stored as one timestamp): a key's `tat` ("theoretical arrival time") moves one
interval (1/rate) ahead per request, and a request is refused when that would put it more than
`burst` intervals ahead of now. The state is one row per key in the database every worker already
shares, so the limits hold across gunicorn workers and across hosts on one PostgreSQL — which
process-local counters cannot do. One INSERT ... ON CONFLICT DO UPDATE ... WHERE ... RETURNING
both decides and records, atomically: SQLite has a single writer, PostgreSQL locks the row. A row
whose `tat` has passed means the same as no row, so stale rows are swept on the failed-
authentication path, the only one whose keys (client addresses) are unbounded.

So that a busy token is not one write per request, a process takes a *lease*: a twentieth of the
burst, counted at once, which it then admits from memory for up to a second. What a lapsed lease
left unused is given back to the row with the process's next count. The limit stays exact (every
admitted request was counted in the shared row); when the row cannot give a whole lease,
requests are counted one by one.

The per-address limit counts failures only and only ever refuses failing requests: Entra calls
from Azure addresses that many tenants share, so a stranger's bad token must never block a
customer's good one.
"""
from __future__ import annotations

import hashlib
import math
import threading
from dataclasses import dataclass
from datetime import datetime

from flask import Flask, current_app
from sqlalchemy import bindparam, delete, func, select, text
from sqlalchemy.dialects import postgresql, sqlite

from ..extensions import db
from ..scim.errors import TooManyRequests
from ..storage.database import writes
from ..storage.models import RateLimit

LEASE_SHARE_OF_BURST = 20
LEASE_SECONDS = 1.0


def init_app(app: Flask) -> None:
    app.extensions["rate_limit_leases"] = Leases()


def limit_token(token_id: int, *, now: datetime) -> None:
    """Count one request of an authenticated token; TooManyRequests beyond its limit."""
    _take(f"token:{token_id}", "RATE_LIMIT_TOKEN", now=now, sweep=False)


def limit_api_key(key_id: int, *, now: datetime) -> None:
    """Count one request of an API key, against the same limits as a SCIM token."""
    _take(f"api key:{key_id}", "RATE_LIMIT_TOKEN", now=now, sweep=False)


def limit_expensive_filter(organization_id: int, *, now: datetime) -> None:
    """Count one filter dearer than Entra's and Okta's for an organization, across its tokens."""
    _take(f"expensive filter:{organization_id}", "RATE_LIMIT_EXPENSIVE_FILTER", now=now, sweep=False)


def limit_failed_authentication(remote_addr: str | None, *, now: datetime) -> None:
    """Count one failed authentication from this address; TooManyRequests beyond its limit."""
    _take(f"address:{remote_addr or 'unknown'}", "RATE_LIMIT_FAILED_AUTH", now=now, sweep=True)


def _take(name: str, setting: str, *, now: datetime, sweep: bool) -> None:
    config = current_app.config
    rate = config[f"{setting}_PER_SECOND"]
    if not rate:
        return
    key = hashlib.sha256(name.encode()).hexdigest()
    leases = current_app.extensions["rate_limit_leases"]
    moment = now.timestamp()
    if leases.use(key, moment):
        return
    interval, burst = 1 / rate, config[f"{setting}_BURST"]
    limit = {"key": key, "now": moment, "capacity": burst * interval, "sweep": sweep,
             "refund": leases.release(key) * interval}
    size = int(burst // LEASE_SHARE_OF_BURST)
    if size > 1 and _admit(**limit, cost=size * interval) is None:
        leases.grant(key, size - 1, moment)
        return
    wait = _admit(**limit, cost=interval)
    if wait is not None:
        raise TooManyRequests(
            "too many requests: slow down and retry after the time in Retry-After",
            retry_after=max(1, math.ceil(wait)),
        )


@dataclass
class _Lease:
    remaining: int
    expires: float


class Leases:
    """This process's leased requests per key (kept on the app, so each app has its own)."""

    def __init__(self) -> None:
        self._leases: dict[str, _Lease] = {}
        self._lock = threading.Lock()  # a threaded server admits from several threads

    def use(self, key: str, now: float) -> bool:
        with self._lock:
            lease = self._leases.get(key)
            if lease is None or lease.remaining == 0 or now >= lease.expires:
                return False
            lease.remaining -= 1
            return True

    def release(self, key: str) -> int:
        """End the key's lease; how many of its requests were left unused."""
        with self._lock:
            lease = self._leases.pop(key, None)
            return lease.remaining if lease is not None else 0

    def grant(self, key: str, requests: int, now: float) -> None:
        with self._lock:
            self._leases[key] = _Lease(requests, now + LEASE_SECONDS)


def _upsert(dialect, greatest):
    """The one statement that decides and counts; built once, run with bound values."""
    table = RateLimit.__table__
    # What a lapsed lease left unused is taken off first, as far as it is still ahead of now.
    start = greatest(table.c.tat - bindparam("refund"), bindparam("now")) + bindparam("cost")
    return (
        dialect.insert(table)
        .values(key=bindparam("key"), tat=bindparam("now") + bindparam("cost"))
        .on_conflict_do_update(
            index_elements=[table.c.key],
            set_={"tat": start},
            where=start - bindparam("now") <= bindparam("capacity"),
        )
        .returning(table.c.tat)
    )


_UPSERTS = {"sqlite": _upsert(sqlite, func.max), "postgresql": _upsert(postgresql, func.greatest)}


@writes
def _admit(*, key: str, now: float, cost: float, refund: float, capacity: float, sweep: bool) -> float | None:
    """None when the requests that `cost` (seconds of sustained rate) stands for are admitted and
    counted, less the `refund` of a lapsed lease; else the seconds until they would be."""
    dialect = db.engine.dialect.name
    if dialect == "postgresql":
        # A count lost in a crash costs nothing, so this commit need not wait for the disk.
        db.session.execute(text("SET LOCAL synchronous_commit TO OFF"))
    if sweep:
        db.session.execute(delete(RateLimit).where(RateLimit.tat < now))
    admitted = db.session.execute(
        _UPSERTS[dialect], {"key": key, "now": now, "cost": cost, "refund": refund, "capacity": capacity}
    ).first()
    if admitted is not None:
        return None
    tat = db.session.execute(select(RateLimit.tat).where(RateLimit.key == key)).scalar_one()
    return max(tat - refund, now) + cost - capacity - now
