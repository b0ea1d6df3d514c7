"""The dashboard: the health banner's inputs, the sync window with its cycles and first sync,
the chart's activity and the errors by cause, each scoped to one organization.

The chart and cycles start at the bucket that holds the ACTIVITY_LIMIT-th latest request, so a
page costs the same on a log of any size and density (an initial sync sends hundreds of
requests a second).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select

from ..extensions import db
from ..storage.models import ProvisioningEvent
from . import activity
from .causes import ErrorGroup, error_groups_of
from .chart import Chart, ChartRange, chart_of, chart_window
from .counts import Counts, counts_of
from .cycles import ON_DEMAND_CREATES, Activity, Cycle, EventLike, FirstSync, cycles_of, first_sync_of
from .health import Health, HealthEvidence, health_of
from .kept import kept
from .activity import FAILED
from .log_queries import SUCCEEDED, latest_change, latest_event, unknown_token_branches

ACTIVITY_LIMIT = 50_000


def activity_of(organization_id: int, *, since: datetime) -> list[Activity]:
    """The requests since `since`, counted by bucket, kind and outcome."""
    return activity.own_activity(organization_id, since=since) + _unknown_token_activity(since=since)


def _unknown_token_activity(*, since: datetime) -> list[Activity]:
    # Counted from the log on each view: the failed-authentication rate limit keeps them few.
    return [item for branch in unknown_token_branches()
            for item in activity.counted(branch, ProvisioningEvent.occurred_at >= since)]



@dataclass(frozen=True)
class Sync:
    """Cycles from `window_start` to `until`, and where the first sync stands."""

    window_start: datetime
    until: datetime  # the last request, or now
    kept_as: tuple  # what the window depends on beside the log's version, for `kept`
    clipped: bool  # window_start is later than asked, for ACTIVITY_LIMIT
    activity: list[Activity]
    cycles: list[Cycle]
    first_sync: FirstSync


@dataclass(frozen=True)
class _Window:
    start: datetime
    clipped: bool
    activity: list[Activity]
    cycles: list[Cycle]
    earlier_creates: int


def sync_of(organization_id: int, *, now: datetime, span: timedelta, last_request: EventLike | None) -> Sync:
    # The window ends at the last request, so the cycles before a long silence still show.
    until = min(now, last_request.occurred_at) if last_request else now
    # The last request's time is named by the log's version: kept under the span alone, the
    # window of the last request replaces the one before instead of piling up beside it.
    kept_as = (span, None if last_request and until == last_request.occurred_at else until)
    window = kept(organization_id, ("sync", *kept_as), lambda: _window_of(organization_id, since=until - span))
    first_sync = first_sync_of(window.cycles, now=now, window_start=window.start,
                                        earlier_creates=window.earlier_creates)
    return Sync(window.start, until, kept_as, window.clipped, window.activity, window.cycles, first_sync)


def _window_of(organization_id: int, *, since: datetime) -> _Window:
    own = activity.own_activity(organization_id, since=since)
    window_start = _window_start(own, since=since)
    if window_start > since:  # a bucket's start: its counts are wholly in the window or wholly out
        own = [item for item in own if item.bucket >= window_start]
    items = own + _unknown_token_activity(since=window_start)
    earlier = select(ProvisioningEvent.id).where(
        ProvisioningEvent.organization_id == organization_id, ProvisioningEvent.operation == "create",
        SUCCEEDED, ProvisioningEvent.occurred_at < window_start,
    ).limit(ON_DEMAND_CREATES + 1).subquery()
    earlier_creates = db.session.execute(select(func.count()).select_from(earlier)).scalar_one()
    return _Window(window_start, window_start > since, items, cycles_of(items), earlier_creates)


def _window_start(own: list[Activity], *, since: datetime) -> datetime:
    """`since`, or, when more than ACTIVITY_LIMIT requests arrived since, the start of the bucket
    that holds the ACTIVITY_LIMIT-th latest one."""
    by_bucket: dict[datetime, int] = {}
    for item in own:
        by_bucket[item.bucket] = by_bucket.get(item.bucket, 0) + item.count
    remaining = ACTIVITY_LIMIT
    for bucket in sorted(by_bucket, reverse=True):
        if by_bucket[bucket] >= remaining:
            return max(bucket, since)
        remaining -= by_bucket[bucket]
    return since


@dataclass(frozen=True)
class LoggedRequest:
    """What the dashboard shows of a request: kept between views, unlike a row of the session."""

    id: int
    organization_id: int | None
    occurred_at: datetime
    status: int
    operation: str
    action: str
    error_detail: str | None

    @classmethod
    def of(cls, event: ProvisioningEvent | None) -> LoggedRequest | None:
        if event is None:
            return None
        return cls(event.id, event.organization_id, event.occurred_at, event.status, event.operation, event.action,
                   event.error_detail)


@dataclass(frozen=True)
class _Latest:
    request: LoggedRequest | None
    change: LoggedRequest | None
    failure: LoggedRequest | None


def _latest_of(organization_id: int) -> _Latest:
    return _Latest(*(LoggedRequest.of(event) for event in (
        latest_event(organization_id), latest_change(organization_id), latest_event(organization_id, FAILED))))


@dataclass(frozen=True)
class Dashboard:
    health: Health
    counts: Counts
    last_request: LoggedRequest | None
    last_change: LoggedRequest | None
    last_failure: LoggedRequest | None
    sync: Sync
    chart: Chart
    errors: list[ErrorGroup]  # within the chart's range

    @property
    def last_cycle(self) -> Cycle | None:
        return self.sync.cycles[-1] if self.sync.cycles else None

    def recent_cycles(self, limit: int = 30) -> list[Cycle]:
        return self.sync.cycles[::-1][:limit]


def dashboard_of(organization_id: int, *, now: datetime, chart_range: ChartRange) -> Dashboard:
    """Everything the dashboard shows. What depends only on the log is kept between views
    (`kept`); what depends on the time is worked out from it on each view."""
    counts = counts_of(organization_id)
    latest = kept(organization_id, ("latest",), lambda: _latest_of(organization_id))
    sync = sync_of(organization_id, now=now, span=chart_range.span, last_request=latest.request)
    latest_cycle = sync.cycles[-1] if sync.cycles else None
    latest_errors = _errors_since(organization_id, sync, latest_cycle.start) \
        if latest_cycle and latest_cycle.tally.errors else []
    health = health_of(HealthEvidence(
        now=now,
        last_request=latest.request,
        started=latest.change is not None or counts.users.users > 0 or counts.groups > 0,
        latest_cycle=latest_cycle,
        latest_errors=latest_errors,
        first_sync=sync.first_sync,
    ))
    # The chart depends on the time only through its window: whole buckets up to now.
    window = chart_window(chart_range, now)
    chart = kept(organization_id, ("chart", chart_range, *sync.kept_as, window),
                 lambda: chart_of(sync.activity, chart_range, now=now))
    return Dashboard(
        health=health,
        counts=counts,
        last_request=latest.request,
        last_change=latest.change,
        last_failure=latest.failure,
        sync=sync,
        chart=chart,
        errors=_errors_since(organization_id, sync, chart.start),
    )


def _errors_since(organization_id: int, sync: Sync, since: datetime) -> list[ErrorGroup]:
    """The failed requests since `since`, by cause. `since` starts a bucket or a cycle, so each
    bucket's counts are wholly before it or wholly after."""
    return kept(organization_id, ("errors", *sync.kept_as, since),
                lambda: _count_errors_since(organization_id, sync, since))


def _count_errors_since(organization_id: int, sync: Sync, since: datetime) -> list[ErrorGroup]:
    items = sync.activity if since >= sync.window_start else activity_of(organization_id, since=since)
    return error_groups_of(item for item in items if item.first >= since)


