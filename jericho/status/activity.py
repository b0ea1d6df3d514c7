"""An organization's requests counted by ten-minute bucket, kind, outcome and cause, and by
bucket alone, as the log's writer keeps them (storage/rollups.py): read here, never written."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import bindparam, func, select

from ..extensions import db
from ..storage.models import ActivityBucket, ActivityRollup
from ..storage.rollups import TALLIED, bucket_floor, microseconds, moment_of
from .causes import CAUSES_BY_KEY, Cause, ErrorGroup, merge_error_groups
from .cycles import BucketActivity, Tally

_r = ActivityRollup


# The failed requests from bucket `since` on, by cause (a failed rollup always has one).
_FAILURES = (
    select(_r.cause, func.sum(_r.count), func.min(_r.first), func.max(_r.last), func.max(_r.latest_event_id))
    .where(_r.organization_id == bindparam("organization_id"), _r.bucket >= bindparam("since"), _r.failed.is_(True))
    .group_by(_r.cause)
)


def error_groups_since(
    organization_id: int, *, since: datetime, causes: dict[str, Cause] = CAUSES_BY_KEY
) -> list[ErrorGroup]:
    """The failed requests from the bucket that holds `since` on, by cause in `causes`' words,
    added up by the database. From a cycle's start or a chart's, that is every request since
    then: a cycle starts with the first request of a bucket, and a chart with a bucket."""
    rows = db.session.connection().execute(
        _FAILURES, {"organization_id": organization_id, "since": microseconds(bucket_floor(since))}
    )
    return merge_error_groups(
        ErrorGroup(causes[cause], count, moment_of(first), moment_of(last), example_id)
        for cause, count, first, last, example_id in rows
    )


_b = ActivityBucket
_BUCKETS = (
    select(_b.bucket, _b.first, _b.last, *(_b.__table__.c[name] for name in TALLIED))
    .where(_b.organization_id == bindparam("organization_id"), _b.bucket >= bindparam("since"))
    .order_by(_b.bucket)
)


def buckets_of(organization_id: int, *, since: datetime) -> list[BucketActivity]:
    """The buckets from the one that holds `since` on, each with its requests counted: one row
    per ten minutes, added up as the log was written."""
    rows = db.session.connection().execute(
        _BUCKETS, {"organization_id": organization_id, "since": microseconds(bucket_floor(since))}
    )
    return [
        BucketActivity(moment_of(bucket), moment_of(first), moment_of(last), Tally(*counts))
        for bucket, first, last, *counts in rows
    ]


_EARLIER_CREATES = select(_r.count).where(
    _r.organization_id == bindparam("organization_id"), _r.bucket < bindparam("before"), _r.operation == "create",
    _r.failed.is_(False)).limit(bindparam("enough")).subquery()
_CREATES_BEFORE = select(func.coalesce(func.sum(_EARLIER_CREATES.c.count), 0))


def creates_before(organization_id: int, moment: datetime, *, enough: int) -> int:
    """The successful creations in the buckets before the one that holds `moment`, counted until
    there are `enough` (each bucket adds at least one)."""
    return db.session.connection().execute(_CREATES_BEFORE, {
        "organization_id": organization_id, "before": microseconds(bucket_floor(moment)), "enough": enough,
    }).scalar_one()


# The user deletions the log still holds: a few rows of the rollups' index by kind.
DELETED_USERS = select(func.coalesce(func.sum(_r.count), 0)).where(
    _r.organization_id == bindparam("organization_id"), _r.operation == "delete", _r.resource_type == "User",
    _r.failed.is_(False))


def deleted_users(organization_id: int) -> int:
    return db.session.connection().execute(DELETED_USERS, {"organization_id": organization_id}).scalar_one()
