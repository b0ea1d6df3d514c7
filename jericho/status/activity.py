"""The provisioning log counted by ten-minute bucket, kind and outcome: what the dashboard's chart,
cycles and error groups are drawn from.

The app writes each request with the time it arrived, so the past never changes. It is counted
once, when a page first needs it, and the counts are stored (`ActivityRollup`), up to a moment
SEAL_DELAY ago in steps of SEAL_STEP — into the middle of the open bucket, so that even during
a sync of hundreds of requests a second a view counts only the last few seconds from the log,
plus the part of a bucket before the start of its window. A bucket stored in several steps is
merged into one set of rows as the next step is stored. `ActivitySeal` says up to when counts are
stored and up to which request id: a request that arrives later with an earlier time (a bulk
import) has a larger id, and is noticed before the stored counts are used. Pruning the log
forgets the buckets it touched (`forget_before`).
"""
from __future__ import annotations

import math
from datetime import datetime, timedelta, timezone

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Integer,
    String,
    and_,
    case,
    cast,
    delete,
    func,
    insert,
    literal_column,
    or_,
    select,
)
from sqlalchemy.exc import IntegrityError

from ..extensions import db
from ..storage.database import writes
from ..storage.models import ActivityRollup, ActivitySeal, ProvisioningEvent, utcnow
from .causes import CAUSES, Cause
from .cycles import ACTIVITY_BUCKET, Activity

EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
MICROSECOND = timedelta(microseconds=1)
# Counts are stored up to this long ago by the clock requests are written with (not the pages'
# clock): a request's time is taken a moment before its row is committed, and each process
# writes its requests in batches (provisioning_log.py).
SEAL_DELAY = timedelta(seconds=15)
SEAL_STEP = timedelta(seconds=10)

# Literal, not bound, so both databases can match the partial index on failed requests.
FAILED = ProvisioningEvent.status >= literal_column("400")


def microseconds(moment: datetime) -> int:
    """`moment` as stored in ActivityRollup."""
    return (moment - EPOCH) // MICROSECOND


def moment_of(stored: int) -> datetime:
    return EPOCH + stored * MICROSECOND


def bucket_floor(moment: datetime, size: timedelta = ACTIVITY_BUCKET) -> datetime:
    return EPOCH + math.floor((moment - EPOCH) / size) * size


def bucket_ceil(moment: datetime) -> datetime:
    return EPOCH + math.ceil((moment - EPOCH) / ACTIVITY_BUCKET) * ACTIVITY_BUCKET


def seal_point(now: datetime) -> datetime:
    """Up to when counts may be stored at `now`."""
    return bucket_floor(now - SEAL_DELAY, SEAL_STEP)


def cause_condition(cause: Cause) -> ColumnElement:
    """The SQL twin of Cause.matches; never NULL, so it can be negated."""
    e = ProvisioningEvent
    resource_type, scim_type, detail = (
        func.coalesce(column, "") for column in (e.resource_type, e.scim_type, e.error_detail))
    conditions = [or_(*(and_(e.status >= low, e.status < high) for low, high in cause.statuses))]
    if cause.operations:
        conditions.append(e.operation.in_(cause.operations))
    if cause.resource_types is not None:
        conditions.append(resource_type.in_([t or "" for t in cause.resource_types]))
    if cause.scim_types:
        conditions.append(scim_type.in_(cause.scim_types))
    if cause.detail_prefix is not None:
        conditions.append(detail.startswith(cause.detail_prefix, autoescape=True))
    return and_(*conditions)


_cause_sql: dict[str, ColumnElement] = {}


def cause_key() -> ColumnElement:
    """The key of a failed request's cause (the first rule that matches); NULL for a success.
    As SQL text made once per database: as an expression of a hundred nodes, it would be walked
    on every query to find the query's compiled form."""
    dialect = db.engine.dialect
    if dialect.name not in _cause_sql:
        expression = case(*[(cause_condition(cause), cause.key) for cause in CAUSES], else_=None)
        _cause_sql[dialect.name] = literal_column(
            str(expression.compile(dialect=dialect, compile_kwargs={"literal_binds": True})), String)
    return _cause_sql[dialect.name]


def _epoch_bucket() -> ColumnElement:
    seconds = int(ACTIVITY_BUCKET.total_seconds())
    if db.engine.dialect.name == "postgresql":
        return cast(func.floor(func.extract("epoch", ProvisioningEvent.occurred_at) / seconds), BigInteger)
    # SQLite keeps "YYYY-MM-DD HH:MM:SS.ffffff" in UTC. Whole seconds: its strftime rounds the
    # fraction to milliseconds, which would put a bucket's last half millisecond in the next one.
    seconds_text = func.strftime("%s", func.substr(ProvisioningEvent.occurred_at, 1, 19))
    return cast(seconds_text, Integer) // seconds


def counted(*conditions) -> list[Activity]:
    """The requests `conditions` select, counted from the log by bucket, kind, outcome and cause."""
    # Grouped by the subquery's columns: PostgreSQL does not see two renderings of an
    # expression with bound parameters as the same expression.
    rows = select(
        _epoch_bucket().label("bucket"), ProvisioningEvent.id, ProvisioningEvent.occurred_at,
        ProvisioningEvent.operation, ProvisioningEvent.resource_type,
        case((FAILED, 1), else_=0).label("failed"), cause_key().label("cause"),
    ).where(*conditions).subquery()
    grouped = db.session.execute(
        select(rows.c.bucket, func.min(rows.c.occurred_at), func.max(rows.c.occurred_at), rows.c.operation,
               rows.c.resource_type, rows.c.failed, func.count(), rows.c.cause, func.max(rows.c.id))
        .group_by(rows.c.bucket, rows.c.operation, rows.c.resource_type, rows.c.failed, rows.c.cause)
    )
    return [
        Activity(EPOCH + int(bucket) * ACTIVITY_BUCKET, first, last, operation, resource_type, bool(failed), count,
                 cause, example_id)
        for bucket, first, last, operation, resource_type, failed, count, cause, example_id in grouped
    ]


def own_activity(organization_id: int, *, since: datetime) -> list[Activity]:
    """The organization's own requests since `since`: stored buckets, and the rest from the log."""
    stored = _sealed(organization_id, since=since)
    mine = ProvisioningEvent.organization_id == organization_id
    if stored is None:
        return counted(mine, ProvisioningEvent.occurred_at >= since)
    start, end = stored
    r = ActivityRollup
    rows = db.session.connection().execute(
        select(r.bucket, r.first, r.last, r.operation, r.resource_type, r.failed, r.count, r.cause, r.latest_event_id)
        .where(r.organization_id == organization_id, r.bucket >= microseconds(start), r.bucket < microseconds(end))
    )
    return [
        *counted(mine, ProvisioningEvent.occurred_at >= since, ProvisioningEvent.occurred_at < start),
        *(Activity(moment_of(bucket), moment_of(first), moment_of(last), operation, resource_type, failed, count,
                   cause, example_id)
          for bucket, first, last, operation, resource_type, failed, count, cause, example_id in rows),
        *counted(mine, ProvisioningEvent.occurred_at >= end),
    ]


def _sealed(organization_id: int, *, since: datetime) -> tuple[datetime, datetime] | None:
    """The stored counts from `since` on, [start, end), after storing what has come up to the
    seal point since the last view; None when nothing from `since` on is old enough to store."""
    wanted = bucket_ceil(since), seal_point(utcnow())
    if wanted[0] >= wanted[1]:
        return None
    seal = _seal_of(organization_id)
    if seal is None or wanted[0] < seal.sealed_from or wanted[1] > seal.sealed_until or _arrived_late(seal):
        try:
            return _store(organization_id, *wanted)
        except IntegrityError:  # another process stored the organization's first buckets meanwhile
            return _store(organization_id, *wanted)
    return wanted[0], seal.sealed_until


def _seal_of(organization_id: int, *, for_update: bool = False) -> ActivitySeal | None:
    statement = select(ActivitySeal).where(ActivitySeal.organization_id == organization_id)
    if for_update:
        statement = statement.with_for_update()
    return db.session.execute(statement.execution_options(populate_existing=True)).scalar_one_or_none()


def _arrived_late(seal: ActivitySeal) -> bool:
    """Whether a request stored after the seal belongs in a stored bucket. The tenant condition is
    written so that no index serves it: the scan then starts from the id, over the few requests
    stored since, not from the time over every stored one."""
    e = ProvisioningEvent
    return db.session.execute(select(e.id).where(
        e.id > seal.last_event_id, e.organization_id + 0 == seal.organization_id,
        e.occurred_at >= seal.sealed_from, e.occurred_at < seal.sealed_until,
    ).limit(1)).first() is not None


@writes
def _store(organization_id: int, start: datetime, end: datetime) -> tuple[datetime, datetime]:
    """Count and store the buckets of [start, end) not stored yet, extending the stored range
    (one transaction; another process may have stored them meanwhile)."""
    seal = _seal_of(organization_id, for_update=True)
    if seal is not None and (start > seal.sealed_until or end < seal.sealed_from or _arrived_late(seal)):
        # Not adjacent (nobody looked for a long while), or out of date: start again.
        db.session.execute(delete(ActivityRollup).where(ActivityRollup.organization_id == organization_id))
        db.session.delete(seal)
        db.session.flush()
        seal = None
    # Read before counting: a request stored while counting has a larger id and is noticed.
    last_event_id = db.session.execute(select(func.max(ProvisioningEvent.id))).scalar_one() or 0
    if seal is None:
        missing = [(start, end)]
        seal = ActivitySeal(organization_id=organization_id, sealed_from=start, sealed_until=end)
        db.session.add(seal)
    else:
        missing = [(start, seal.sealed_from), (seal.sealed_until, end)]
        seal.sealed_from, seal.sealed_until = min(start, seal.sealed_from), max(end, seal.sealed_until)
    seal.last_event_id = last_event_id
    mine = ProvisioningEvent.organization_id == organization_id
    rows = [
        {"organization_id": organization_id, "bucket": microseconds(item.bucket), "operation": item.operation,
         "resource_type": item.resource_type, "failed": item.failed, "cause": item.cause,
         "first": microseconds(item.first), "last": microseconds(item.last), "count": item.count,
         "latest_event_id": item.example_id}
        for low, high in missing if low < high
        for item in counted(mine, ProvisioningEvent.occurred_at >= low, ProvisioningEvent.occurred_at < high)
    ]
    if rows:
        db.session.execute(insert(ActivityRollup), rows)
    for low, high in missing:
        if low < high and low != bucket_floor(low):  # the rest of a bucket stored in an earlier step
            _merge_bucket(organization_id, bucket_floor(low))
    return start, seal.sealed_until


def _merge_bucket(organization_id: int, bucket: datetime) -> None:
    """One row per kind and outcome for a bucket stored in several steps: the steps' rows added
    up into new rows, then removed."""
    r = ActivityRollup
    in_bucket = and_(r.organization_id == organization_id, r.bucket == microseconds(bucket))
    steps_until = db.session.execute(select(func.max(r.id)).where(in_bucket)).scalar_one()
    if steps_until is None:  # no request in the bucket so far
        return
    key = (r.organization_id, r.bucket, r.operation, r.resource_type, r.failed, r.cause)
    db.session.execute(insert(r).from_select(
        [*key, r.first, r.last, r.count, r.latest_event_id],
        select(*key, func.min(r.first), func.max(r.last), func.sum(r.count), func.max(r.latest_event_id))
        .where(in_bucket).group_by(*key),
    ))
    db.session.execute(delete(r).where(in_bucket, r.id <= steps_until))


def forget_before(moment: datetime) -> None:
    """Forget the stored buckets that begin before `moment`, whose requests are being pruned."""
    start = bucket_ceil(moment)
    db.session.execute(delete(ActivityRollup).where(ActivityRollup.bucket < microseconds(start)))
    db.session.execute(delete(ActivitySeal).where(ActivitySeal.sealed_until <= start))
    for seal in db.session.execute(select(ActivitySeal).where(ActivitySeal.sealed_from < start)).scalars():
        seal.sealed_from = start
