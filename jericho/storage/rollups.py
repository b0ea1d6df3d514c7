"""The provisioning log counted by organization, ten-minute bucket, kind, outcome and cause
(`ActivityRollup`): what the dashboard's chart, cycles and error groups are drawn from.

The log's writer adds each batch of requests to the rollups in the batch's own transaction
(`rollups_add`), so a page reads counts and never writes them. Requests of no organization (a
token nobody knows, or none) have no rollups. Migration 0009 built them from the log stored
before, with the statement `rollups_from_log` makes; pruning the log prunes its buckets too.
"""
from __future__ import annotations

import math
from datetime import datetime, timedelta, timezone
from typing import Iterable

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Insert,
    Integer,
    String,
    and_,
    case,
    cast,
    delete,
    func,
    literal_column,
    or_,
    select,
)

from ..extensions import db
from .cause_rules import CAUSE_RULES, CauseRule, cause_key
from .database import dialect_insert
from .models import ActivityRollup, ProvisioningEvent

# Shorter than half of Entra's 40-minute cycle, so no silence that ends a cycle fits inside one,
# and with each bucket's first and last request, cycles come out exact.
ACTIVITY_BUCKET = timedelta(minutes=10)
EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
MICROSECOND = timedelta(microseconds=1)
# Literal, not bound, so both databases can match the partial index on failed requests.
FAILED = ProvisioningEvent.status >= literal_column("400")
KEY = ("organization_id", "bucket", "operation", "resource_type", "failed", "cause")


def microseconds(moment: datetime) -> int:
    """`moment` as ActivityRollup stores it."""
    return (moment - EPOCH) // MICROSECOND


def moment_of(stored: int) -> datetime:
    return EPOCH + stored * MICROSECOND


def bucket_floor(moment: datetime) -> datetime:
    return EPOCH + math.floor((moment - EPOCH) / ACTIVITY_BUCKET) * ACTIVITY_BUCKET


def rollup_rows(events: Iterable[dict]) -> list[dict]:
    """Stored requests (column values with their id) counted as rollup rows, in key order (so
    that concurrent writers lock shared rows in the same order)."""
    rows: dict[tuple, dict] = {}
    for event in events:
        if event["organization_id"] is None:
            continue
        moment = microseconds(event["occurred_at"])
        cause = cause_key(status=event["status"], operation=event["operation"],
                          resource_type=event["resource_type"], scim_type=event["scim_type"],
                          error_detail=event["error_detail"])
        key = (event["organization_id"], microseconds(bucket_floor(event["occurred_at"])), event["operation"],
               event["resource_type"] or "", event["status"] >= 400, cause or "")
        row = rows.get(key)
        if row is None:
            rows[key] = {**dict(zip(KEY, key)), "first": moment, "last": moment, "count": 1,
                         "latest_event_id": event["id"]}
        else:
            row["first"], row["last"] = min(row["first"], moment), max(row["last"], moment)
            row["count"] += 1
            row["latest_event_id"] = max(row["latest_event_id"], event["id"])
    return [rows[key] for key in sorted(rows)]


def rollups_add(*, events: list[dict]) -> None:
    """Add stored requests to the rollups, within the caller's transaction."""
    rows = rollup_rows(events)
    if rows:
        db.session.execute(_upsert(), rows)


_upserts: dict[str, Insert] = {}


def _upsert() -> Insert:
    """The upsert, made once per database: building it costs more than running it."""
    name = db.engine.dialect.name
    if name not in _upserts:
        table = ActivityRollup.__table__
        statement = dialect_insert(table)
        smaller, larger = (func.least, func.greatest) if name == "postgresql" else (func.min, func.max)
        _upserts[name] = statement.on_conflict_do_update(index_elements=[table.c[column] for column in KEY], set_={
            "count": table.c.count + statement.excluded.count,
            "first": smaller(table.c.first, statement.excluded.first),
            "last": larger(table.c.last, statement.excluded.last),
            "latest_event_id": larger(table.c.latest_event_id, statement.excluded.latest_event_id),
        })
    return _upserts[name]


def rollups_prune(*, cutoff: datetime) -> None:
    """Forget the buckets wholly before `cutoff`, and count the one it falls in again from what
    the log still holds of it (within the caller's transaction, after the log was pruned)."""
    start, r, e = bucket_floor(cutoff), ActivityRollup, ProvisioningEvent
    db.session.execute(delete(r).where(r.bucket < microseconds(start)))
    if start < cutoff:
        db.session.execute(delete(r).where(r.bucket == microseconds(start)))
        db.session.execute(rollups_from_log(e.occurred_at >= start, e.occurred_at < start + ACTIVITY_BUCKET))


def cause_condition(rule: CauseRule) -> ColumnElement:
    """The SQL twin of CauseRule.matches; never NULL, so it can be negated."""
    e = ProvisioningEvent
    resource_type, scim_type, detail = (
        func.coalesce(column, "") for column in (e.resource_type, e.scim_type, e.error_detail))
    conditions = [or_(*(and_(e.status >= low, e.status < high) for low, high in rule.statuses))]
    if rule.operations:
        conditions.append(e.operation.in_(rule.operations))
    if rule.resource_types is not None:
        conditions.append(resource_type.in_([t or "" for t in rule.resource_types]))
    if rule.scim_types:
        conditions.append(scim_type.in_(rule.scim_types))
    if rule.detail_prefix is not None:
        conditions.append(detail.startswith(rule.detail_prefix, autoescape=True))
    return and_(*conditions)


def cause_filter(key: str) -> ColumnElement:
    """The failed requests of one cause: its rule matches and no earlier rule does."""
    conditions = [FAILED]
    for rule in CAUSE_RULES:
        if rule.key == key:
            conditions.append(cause_condition(rule))
            break
        conditions.append(~cause_condition(rule))
    return and_(*conditions)


_cause_sql: dict[str, ColumnElement] = {}


def cause_key_sql(dialect) -> ColumnElement:
    """The key of a failed request's cause in SQL, '' for a success. As SQL text made once per
    database: as an expression of a hundred nodes, it would be walked on every query to find
    the query's compiled form."""
    if dialect.name not in _cause_sql:
        expression = case(*[(and_(FAILED, cause_condition(rule)), rule.key) for rule in CAUSE_RULES], else_="")
        _cause_sql[dialect.name] = literal_column(
            str(expression.compile(dialect=dialect, compile_kwargs={"literal_binds": True})), String)
    return _cause_sql[dialect.name]


def _epoch_microseconds(column, dialect) -> ColumnElement:
    if dialect.name == "postgresql":
        return cast(func.round(func.extract("epoch", column) * 1_000_000), BigInteger)
    # SQLite keeps "YYYY-MM-DD HH:MM:SS.ffffff" in UTC.
    seconds = cast(func.strftime("%s", func.substr(column, 1, 19)), Integer)
    return seconds * 1_000_000 + cast(func.substr(column, 21, 6), Integer)


def rollups_from_log(*conditions, dialect=None):
    """An INSERT … SELECT that counts the organizations' requests `conditions` select into
    rollups (none may be there yet)."""
    dialect = dialect or db.engine.dialect
    e = ProvisioningEvent
    bucket_size = microseconds(EPOCH + ACTIVITY_BUCKET)
    at = _epoch_microseconds(e.occurred_at, dialect)
    rows = select(
        e.organization_id, (at - at % bucket_size).label("bucket"), e.operation,
        func.coalesce(e.resource_type, "").label("resource_type"), (e.status >= 400).label("failed"),
        cause_key_sql(dialect).label("cause"), at.label("at"), e.id,
    ).where(e.organization_id.is_not(None), *conditions).subquery()
    key = [rows.c[name] for name in KEY]
    r = ActivityRollup
    return r.__table__.insert().from_select(
        [*KEY, "first", "last", "count", "latest_event_id"],
        select(*key, func.min(rows.c.at), func.max(rows.c.at), func.count(), func.max(rows.c.id)).group_by(*key),
    )
