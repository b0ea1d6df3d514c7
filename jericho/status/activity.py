"""An organization's requests counted by ten-minute bucket, kind, outcome and cause, as the
log's writer keeps them (storage/rollups.py): read here, never written."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select

from ..extensions import db
from ..storage.models import ActivityRollup
from ..storage.rollups import bucket_floor, microseconds, moment_of
from .cycles import Activity

_r = ActivityRollup


def activity_of(organization_id: int, *, since: datetime) -> list[Activity]:
    """The buckets from the one that holds `since` on: a range of the rollups' primary key."""
    rows = db.session.connection().execute(
        select(_r.bucket, _r.first, _r.last, _r.operation, _r.resource_type, _r.failed, _r.count, _r.cause,
               _r.latest_event_id)
        .where(_r.organization_id == organization_id, _r.bucket >= microseconds(bucket_floor(since)))
    )
    return [
        Activity(moment_of(bucket), moment_of(first), moment_of(last), operation, resource_type or None, failed,
                 count, cause or None, example_id)
        for bucket, first, last, operation, resource_type, failed, count, cause, example_id in rows
    ]


def _total(organization_id: int, *conditions, limit: int | None = None) -> int:
    counts = select(_r.count).where(_r.organization_id == organization_id, *conditions).limit(limit).subquery()
    return db.session.execute(select(func.coalesce(func.sum(counts.c.count), 0))).scalar_one()


def creates_before(organization_id: int, moment: datetime, *, enough: int) -> int:
    """The successful creations in the buckets before the one that holds `moment`, counted until
    there are `enough` (each bucket adds at least one)."""
    return _total(organization_id, _r.bucket < microseconds(bucket_floor(moment)), _r.operation == "create",
                  _r.failed.is_(False), limit=enough)


def deleted_users(organization_id: int) -> int:
    """The user deletions the log still holds."""
    return _total(organization_id, _r.operation == "delete", _r.resource_type == "User", _r.failed.is_(False))
