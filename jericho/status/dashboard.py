"""The dashboard: the health banner's inputs, the sync window with its cycles and first sync,
the chart's activity and the errors by cause, each scoped to one organization.

Everything it counts is read from the rollups (activity.py), added up by bucket in the database,
and the directory counts; the log itself is read only for its latest requests, in one statement of
index probes. The chart and cycles start at
the bucket that holds the ACTIVITY_LIMIT-th latest request, so a view reads a bounded number of
rollups however dense the log (an initial sync sends hundreds of requests a second).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone, tzinfo

from ..providers import ENTRA, Provider
from ..storage.rollups import bucket_floor
from . import activity
from .causes import ErrorGroup, causes_of
from .chart import Chart, ChartRange, chart_of
from .counts import Counts, counts_of
from .cycles import ON_DEMAND_CREATES, BucketActivity, Cycle, FirstSync, cycles_of, first_sync_of
from .health import Health, HealthEvidence, health_of
from .log_queries import LatestEvent, latest_events

ACTIVITY_LIMIT = 50_000


@dataclass(frozen=True)
class Sync:
    """Cycles from `window_start` to `until`, and where the first sync stands."""

    window_start: datetime
    until: datetime  # the last request, or now
    clipped: bool  # window_start is later than asked, for ACTIVITY_LIMIT
    activity: list[BucketActivity]
    cycles: list[Cycle]
    first_sync: FirstSync


def sync_of(organization_id: int, *, now: datetime, span: timedelta,
            last_request: LatestEvent | None, provider: Provider = ENTRA) -> Sync:
    # The window ends at the last request, so the cycles before a long silence still show.
    until = min(now, last_request.occurred_at) if last_request else now
    since = bucket_floor(until - span)
    items = activity.buckets_of(organization_id, since=since)
    window_start = _window_start(items, since=since)
    if window_start > since:  # a bucket's start: its counts are wholly in the window or wholly out
        items = [item for item in items if item.bucket >= window_start]
    cycles = cycles_of(items, provider.sync)
    earlier_creates = activity.creates_before(organization_id, window_start, enough=ON_DEMAND_CREATES + 1)
    first_sync = first_sync_of(cycles, now=now, window_start=window_start, earlier_creates=earlier_creates)
    return Sync(window_start, until, window_start > since, items, cycles, first_sync)


def _window_start(items: list[BucketActivity], *, since: datetime) -> datetime:
    """`since`, or, when more than ACTIVITY_LIMIT requests arrived since, the start of the bucket
    that holds the ACTIVITY_LIMIT-th latest one."""
    by_bucket: dict[datetime, int] = {}
    for item in items:
        by_bucket[item.bucket] = by_bucket.get(item.bucket, 0) + item.tally.requests
    remaining = ACTIVITY_LIMIT
    for bucket in sorted(by_bucket, reverse=True):
        if by_bucket[bucket] >= remaining:
            return max(bucket, since)
        remaining -= by_bucket[bucket]
    return since


@dataclass(frozen=True)
class Dashboard:
    health: Health
    counts: Counts
    last_request: LatestEvent | None
    last_change: LatestEvent | None
    last_failure: LatestEvent | None
    sync: Sync
    chart: Chart
    errors: list[ErrorGroup]  # within the chart's range

    @property
    def last_cycle(self) -> Cycle | None:
        return self.sync.cycles[-1] if self.sync.cycles else None

    def recent_cycles(self, limit: int = 30) -> list[Cycle]:
        return self.sync.cycles[::-1][:limit]


def dashboard_of(
    organization_id: int, *, now: datetime, chart_range: ChartRange, zone: tzinfo = timezone.utc,
    provider: Provider = ENTRA,
) -> Dashboard:
    counts = counts_of(organization_id)
    latest = latest_events(organization_id)
    sync = sync_of(organization_id, now=now, span=chart_range.span, last_request=latest.request, provider=provider)
    latest_cycle = sync.cycles[-1] if sync.cycles else None
    causes = causes_of(provider)
    latest_errors = activity.error_groups_since(organization_id, since=latest_cycle.start, causes=causes) \
        if latest_cycle and latest_cycle.tally.errors else []
    chart = chart_of(sync.activity, chart_range, now=now, zone=zone)
    health = health_of(HealthEvidence(
        now=now,
        last_request=latest.request,
        started=latest.change is not None or counts.users.users > 0 or counts.groups > 0,
        latest_cycle=latest_cycle,
        latest_errors=latest_errors,
        first_sync=sync.first_sync,
        zone=zone,
        provider=provider,
    ))
    return Dashboard(
        health=health,
        counts=counts,
        last_request=latest.request,
        last_change=latest.change,
        last_failure=latest.failure,
        sync=sync,
        chart=chart,
        errors=activity.error_groups_since(organization_id, since=chart.start, causes=causes),
    )
