"""What the status pages keep per process until the provisioning log changes."""
from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Callable, TypeVar

from flask import current_app, g
from sqlalchemy import Integer, bindparam, func, literal_column, select

from ..extensions import db
from ..storage.models import Organization, ProvisioningEvent, utcnow

T = TypeVar("T")

# What the status pages show changes only with a request from Entra, which the log records
# after the change, or with pruning. Each process keeps counts, and whatever else a page asks to
# keep, with the log's version when they were made, and makes them again when it differs: the
# largest id, which every new request raises, and the first request (the organization's own,
# and those of no organization), which pruning changes. A request's log entry is stored after
# its change, so a value made before the change is made again once the entry is there. The
# number of organizations is part of the version too: it decides who sees unknown tokens.
# SQLite has one writer at a time, so ids are committed in order; PostgreSQL may commit a
# smaller id after a larger one, so there a value is kept only when no other session of the
# database was in a write transaction as the version was read. A value is kept for KEPT_FOR at
# most, in case a request's log entry could not be stored.
KEPT_FOR = timedelta(minutes=1)
KEPT = "jericho.status_kept"
KEPT_ENTRIES = 200  # per process, the least recently used forgotten first: most are pages of ~30 kB


@dataclass(frozen=True)
class _Kept:
    version: tuple
    made_at: datetime
    value: Any


def kept(organization_id: int, key: tuple, make: Callable[[], T]) -> T:
    """make(), or what it made for the organization and `key` while the log's version was the
    same. `key` names everything else the value depends on."""
    version, settled = log_version(organization_id)
    store: _KeptStore = current_app.extensions.setdefault(KEPT, _KeptStore())
    full_key = (organization_id, *key)
    found = store.get(full_key)
    if found is not None and found.version == version and utcnow() < found.made_at + KEPT_FOR:
        return found.value
    made_at = utcnow()
    value = make()
    if settled:
        store.put(full_key, _Kept(version, made_at, value))
    return value


class _KeptStore:
    """A bounded mapping, safe to share between a process's threads."""

    def __init__(self) -> None:
        self._entries: OrderedDict[tuple, _Kept] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: tuple) -> _Kept | None:
        with self._lock:
            found = self._entries.get(key)
            if found is not None:
                self._entries.move_to_end(key)
            return found

    def put(self, key: tuple, value: _Kept) -> None:
        with self._lock:
            self._entries[key] = value
            self._entries.move_to_end(key)
            while len(self._entries) > KEPT_ENTRIES:
                self._entries.popitem(last=False)

    def values(self) -> list[_Kept]:
        with self._lock:
            return list(self._entries.values())


def _log_version_statement():
    e = ProvisioningEvent

    def first(condition, column):
        return select(column).where(condition).order_by(e.occurred_at, e.id).limit(1).scalar_subquery()

    mine, nobodys = e.organization_id == bindparam("organization_id"), e.organization_id.is_(None)
    return select(first(mine, e.occurred_at), first(mine, e.id), first(nobodys, e.occurred_at), first(nobodys, e.id),
                  select(func.max(e.id)).scalar_subquery(),
                  # Whether requests with an unknown token are the organization's (event_branches).
                  select(func.count(Organization.id)).scalar_subquery())


# Made once: building the statement costs more than running it (six index probes). On
# PostgreSQL, in the same statement, the database's other sessions then in a write transaction.
_LOG_VERSION = _log_version_statement()
_LOG_VERSION_WRITERS = select(*_LOG_VERSION.selected_columns, literal_column(
    "(SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
    " AND backend_xid IS NOT NULL AND pid <> pg_backend_pid())", Integer))


def log_version(organization_id: int) -> tuple[tuple, bool]:
    """The log's version for the organization (see KEPT_FOR), and whether values made now may be
    kept; read once per request (or app context)."""
    memo = g.setdefault("status_log_version", {})
    if organization_id not in memo:
        if db.engine.dialect.name == "postgresql":
            row = db.session.execute(_LOG_VERSION_WRITERS, {"organization_id": organization_id}).one()
            memo[organization_id] = tuple(row[:-1]), settled(row[-1])
        else:
            row = db.session.execute(_LOG_VERSION, {"organization_id": organization_id}).one()
            memo[organization_id] = tuple(row), True
    return memo[organization_id]


def settled(writers: int) -> bool:
    """Whether values may be kept while `writers` other sessions of the database are in a write
    transaction (PostgreSQL)."""
    return writers == 0
