"""The provisioning log counted by organization, ten-minute bucket, kind, outcome and cause
(`ActivityRollup`), and each bucket's kinds added up as the dashboard counts them
(`ActivityBucket`): what the dashboard's chart, cycles and error groups are drawn from.

The log's writer adds each batch of requests to both in the batch's own transaction
(`rollups_add`), so a page reads counts and never writes them. Requests of no organization (a
token nobody knows, or none) have no rollups. Migration 0009 built them from the log stored
before, with the statement `rollups_from_log` makes; pruning the log prunes its buckets too.
"""
from __future__ import annotations

import functools
import math
from datetime import datetime, timedelta, timezone
from typing import Iterable

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Connection,
    Insert,
    Integer,
    String,
    Table,
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
from .models import ActivityBucket, ActivityRollup, ProvisioningEvent

# Shorter than half of Entra's 40-minute cycle, so no silence that ends a cycle fits inside one,
# and with each bucket's first and last request, cycles come out exact.
ACTIVITY_BUCKET = timedelta(minutes=10)
EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
MICROSECOND = timedelta(microseconds=1)
# Literal, not bound, so both databases can match the partial index on failed requests.
FAILED = ProvisioningEvent.status >= literal_column("400")
KEY = ("organization_id", "bucket", "operation", "resource_type", "failed", "cause")
BUCKET_KEY = ("organization_id", "bucket")

LOOKUPS = ("test_connection", "lookup", "list", "read", "discovery")
# What each count of a bucket takes, in the order of ActivityBucket's counts and of the fields of
# status.cycles.Tally: (operations, or None for any; resource type, or None for any; failed, or
# None for either). A refused change changed nothing: it counts as an error only.
TALLIED = {
    "requests": (None, None, None),
    "created": (("create",), None, False),
    "users_created": (("create",), "User", False),
    "groups_created": (("create",), "Group", False),
    "updated": (("update", "members", "enable"), None, False),  # attributes, reactivations, members
    "disabled": (("disable",), None, False),
    "deleted": (("delete",), None, False),
    "lookups": (LOOKUPS, None, False),
    "test_connections": (("test_connection",), None, None),
    "errors": (None, None, True),
}


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


@functools.cache
def tallied_in(operation: str, resource_type: str, failed: bool) -> tuple[str, ...]:
    """The counts of a bucket (TALLIED) that a request of this kind adds to."""
    return tuple(name for name, (operations, tallied_type, tallied_failed) in TALLIED.items()
                 if (operations is None or operation in operations)
                 and (tallied_type is None or resource_type == tallied_type)
                 and (tallied_failed is None or failed == tallied_failed))


def bucket_rows(rollups: Iterable[dict]) -> list[dict]:
    """Rollup rows (or what a batch adds to them) added up by organization and bucket, as
    ActivityBucket rows, in key order."""
    rows: dict[tuple, dict] = {}
    for rollup in rollups:
        key = (rollup["organization_id"], rollup["bucket"])
        row = rows.get(key)
        if row is None:
            row = rows[key] = {**dict(zip(BUCKET_KEY, key)), "first": rollup["first"], "last": rollup["last"],
                               **dict.fromkeys(TALLIED, 0)}
        else:
            row["first"], row["last"] = min(row["first"], rollup["first"]), max(row["last"], rollup["last"])
        for name in tallied_in(rollup["operation"], rollup["resource_type"], rollup["failed"]):
            row[name] += rollup["count"]
    return [rows[key] for key in sorted(rows)]


def rollups_add(*, events: list[dict]) -> None:
    """Add stored requests to the rollups and their buckets, within the caller's transaction.
    Both only add, so writers that commit in any order leave the same counts."""
    rows = rollup_rows(events)
    if rows:
        db.session.execute(_upsert(ActivityRollup.__table__, KEY), rows)
        db.session.execute(_upsert(ActivityBucket.__table__, BUCKET_KEY), bucket_rows(rows))


_upserts: dict[tuple[str, str], Insert] = {}


def _upsert(table: Table, key: tuple[str, ...]) -> Insert:
    """The upsert that adds to `table`'s rows, made once per table and database: building it
    costs more than running it."""
    name = db.engine.dialect.name
    if (table.name, name) not in _upserts:
        statement = dialect_insert(table)
        smaller, larger = (func.least, func.greatest) if name == "postgresql" else (func.min, func.max)
        combined = {"first": smaller, "last": larger, "latest_event_id": larger}
        _upserts[table.name, name] = statement.on_conflict_do_update(
            index_elements=[table.c[column] for column in key],
            set_={column.name: combined[column.name](column, statement.excluded[column.name])
                  if column.name in combined else column + statement.excluded[column.name]
                  for column in table.columns if column.name not in key},
        )
    return _upserts[table.name, name]


def rollups_prune(*, cutoff: datetime) -> None:
    """Forget the buckets wholly before `cutoff`, and count the one it falls in again from what
    the log still holds of it (within the caller's transaction, after the log was pruned)."""
    start, r, b, e = bucket_floor(cutoff), ActivityRollup, ActivityBucket, ProvisioningEvent
    for table in (b, r):
        db.session.execute(delete(table).where(table.bucket < microseconds(start)))
    if start < cutoff:
        for table in (b, r):
            db.session.execute(delete(table).where(table.bucket == microseconds(start)))
        db.session.execute(rollups_from_log(e.occurred_at >= start, e.occurred_at < start + ACTIVITY_BUCKET))
        buckets_from_rollups(db.session.connection(), r.bucket == microseconds(start))


def rollups_count_log(connection: Connection) -> None:
    """Count the whole log into rollups and buckets again: after the log was written other than
    by its writer (in bulk, or with its times changed)."""
    for table in (ActivityBucket, ActivityRollup):
        connection.execute(delete(table))
    connection.execute(rollups_from_log(dialect=connection.dialect))
    buckets_from_rollups(connection)


def buckets_from_rollups(connection: Connection, *conditions) -> None:
    """Add up the rollups `conditions` select into their buckets (none may be there yet)."""
    r = ActivityRollup
    rollups = connection.execute(
        select(*(r.__table__.c[name] for name in (*BUCKET_KEY, "operation", "resource_type", "failed", "first",
                                                  "last", "count"))).where(*conditions)
    ).mappings()
    rows = bucket_rows(rollups)
    if rows:
        connection.execute(ActivityBucket.__table__.insert(), rows)


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
