"""The dashboard's counts by ten-minute bucket: closed buckets are counted once and stored, and
what is shown stays what counting the whole log would show — across bucket boundaries, for
requests that arrive after a view, for requests stored late with an earlier time, and after
pruning."""
from dataclasses import replace
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import func, insert, select

from jericho.extensions import db
from jericho.status import activity, retention
from jericho.status import dashboard as status_dashboard
from jericho.status import log_queries
from jericho.status.chart import CHART_RANGES
from jericho.status.cycles import Activity
from jericho.storage.models import ActivityRollup, ActivitySeal, Organization, ProvisioningEvent, utcnow

from status_helpers import admin, clock, lookup, page_text  # noqa: F401 (fixtures)

NOW = datetime.now(timezone.utc)
# Three hours ago, at the start of a bucket: every bucket from here on to two hours ago has closed.
START = activity.bucket_floor(NOW - timedelta(hours=3))


def contoso() -> int:
    return db.session.execute(select(Organization.id).where(Organization.name == "Contoso")).scalar_one()


def add_requests(organization_id: int, *moments: datetime, status: int = 200, operation: str = "lookup") -> None:
    """Requests stored at the given times, as a bulk import would store them."""
    db.session.execute(insert(ProvisioningEvent), [
        {"organization_id": organization_id, "occurred_at": moment, "method": "GET", "path": "/scim_v2/Users",
         "status": status, "operation": operation, "action": "look up user ava@contoso.com",
         "resource_type": "User", "scim_type": "uniqueness" if status == 409 else None,
         "error_detail": "exists" if status == 409 else None}
        for moment in moments
    ])
    db.session.commit()


def from_the_log(organization_id: int, since: datetime) -> list:
    return sorted(activity.counted(ProvisioningEvent.organization_id == organization_id,
                                   ProvisioningEvent.occurred_at >= since), key=repr)


def shown(organization_id: int, since: datetime) -> list:
    """What the dashboard counts, with a bucket stored in part and counted in part from the log
    added up, as counting the whole log gives it."""
    totals: dict[tuple, Activity] = {}
    for item in status_dashboard.activity_of(organization_id, since=since):
        key = item.bucket, item.operation, item.resource_type, item.failed, item.cause
        seen = totals.get(key)
        totals[key] = item if seen is None else replace(
            seen, first=min(seen.first, item.first), last=max(seen.last, item.last), count=seen.count + item.count,
            example_id=max(seen.example_id, item.example_id))
    return sorted(totals.values(), key=repr)


def stored_buckets(organization_id: int) -> set[datetime]:
    return {activity.moment_of(bucket) for bucket in db.session.execute(
        select(ActivityRollup.bucket).where(ActivityRollup.organization_id == organization_id)).scalars()}


@pytest.fixture
def log(app, scim):
    """Requests on both sides of bucket boundaries over the last three hours, some failed, and
    the requests of a SCIM lookup just now."""
    lookup(scim, "ava@contoso.com")
    with app.app_context():
        organization_id = contoso()
        tick = timedelta(microseconds=1)
        add_requests(organization_id, START, START + timedelta(minutes=10) - tick, START + timedelta(minutes=10),
                     START + timedelta(minutes=25), START + timedelta(minutes=59, seconds=59))
        add_requests(organization_id, START + timedelta(minutes=10), START + timedelta(minutes=95), status=409,
                     operation="create")
    return organization_id


@pytest.mark.parametrize("offset", [timedelta(), timedelta(minutes=10), timedelta(minutes=4), timedelta(minutes=59)])
def test_stored_buckets_count_what_the_log_holds(app, log, offset):
    with app.app_context():
        since = START + offset
        assert shown(log, since) == from_the_log(log, since)
        # Every bucket up to the seal point is stored; the requests since, and the part before
        # `since`, are not.
        assert stored_buckets(log) == {
            item.bucket for item in from_the_log(log, since)
            if item.bucket >= activity.bucket_ceil(since) and item.first < activity.seal_point(utcnow())}
        assert shown(log, since) == from_the_log(log, since)  # read back from the stored counts


def test_a_wider_window_stores_the_earlier_buckets_too(app, log):
    with app.app_context():
        shown(log, START + timedelta(minutes=60))
        assert shown(log, START) == from_the_log(log, START)
        assert min(stored_buckets(log)) == START


def test_a_request_after_a_view_shows_on_the_next(app, admin, scim, log, clock):
    assert "1 request:" not in admin.get("/status/").get_data(as_text=True)
    before = page_text(admin.get("/status/"))
    lookup(scim, "bea@contoso.com")
    after = page_text(admin.get("/status/"))
    assert "look up user bea@contoso.com" not in before and "look up user bea@contoso.com" in after
    with app.app_context():
        assert shown(log, START) == from_the_log(log, START)


def test_a_request_stored_late_with_an_earlier_time_is_counted(app, log):
    with app.app_context():
        shown(log, START)
        add_requests(log, START + timedelta(minutes=15), START + timedelta(minutes=15, seconds=1))
        assert shown(log, START) == from_the_log(log, START)
        counts = [item.count for item in shown(log, START) if item.bucket == START + timedelta(minutes=10)
                  and item.operation == "lookup"]
        assert counts == [3]


def test_buckets_close_by_the_clock_requests_are_written_with(app, scim, log, monkeypatch):
    """Once the clock has moved on, the bucket of the requests just made is stored too; a request
    that still arrives in it is noticed."""
    with app.app_context():
        monkeypatch.setattr(activity, "utcnow", lambda: utcnow() + timedelta(hours=1))
        shown(log, START)
        assert activity.bucket_floor(NOW) in stored_buckets(log)
        lookup(scim, "bea@contoso.com")
        assert shown(log, START) == from_the_log(log, START)


def test_two_processes_storing_the_first_buckets_at_once(app, log, monkeypatch):
    with app.app_context():
        shown(log, START)  # by the other process, committed after this one looked
        unseen, seal_of = [None, None], activity._seal_of
        monkeypatch.setattr(activity, "_seal_of", lambda organization_id, **options:
                            unseen.pop() if unseen else seal_of(organization_id, **options))
        assert shown(log, START) == from_the_log(log, START)
        assert unseen == []


def test_the_dashboard_errors_match_the_log(app, log):
    with app.app_context():
        dashboard = status_dashboard.dashboard_of(log, now=utcnow(), chart_range=CHART_RANGES["24h"])
        assert dashboard.errors == log_queries.error_groups(log, ProvisioningEvent.occurred_at >= dashboard.chart.start)
        assert [(group.cause.key, group.count) for group in dashboard.errors] == [("user_conflict", 2)]


def test_pruning_forgets_the_buckets_it_touched(app, log):
    with app.app_context():
        shown(log, START)
        cutoff = START + timedelta(minutes=25)
        retention.prune_log(now=cutoff + timedelta(days=1), days=1, pause=0)
        assert min(stored_buckets(log)) >= activity.bucket_ceil(cutoff)
        assert db.session.execute(select(func.min(ActivitySeal.sealed_from))).scalar_one() == activity.bucket_ceil(cutoff)
        assert shown(log, START) == from_the_log(log, START)


def test_the_open_bucket_is_stored_in_steps_and_merged(app, log, monkeypatch):
    """During a sync, counts are stored into the middle of the open bucket, so a view counts only
    the last seconds from the log; the bucket's steps end up as one row per kind."""
    bucket = START + timedelta(hours=2)  # empty so far
    with app.app_context():
        add_requests(log, bucket + timedelta(minutes=1), bucket + timedelta(minutes=2))
        add_requests(log, bucket + timedelta(minutes=5))
        moments = iter([bucket + timedelta(minutes=3) + activity.SEAL_DELAY, bucket + timedelta(hours=1)])
        monkeypatch.setattr(activity, "utcnow", lambda: next(moments))
        assert shown(log, START) == from_the_log(log, START)  # stored up to minute 3
        assert stored_count(log, bucket) == [2]
        assert shown(log, START) == from_the_log(log, START)  # the rest of the bucket
        assert stored_count(log, bucket) == [3]


def test_a_bucket_without_requests_is_stored_in_steps_too(app, log, monkeypatch):
    bucket = START + timedelta(hours=2)  # no request in it
    with app.app_context():
        moments = iter([bucket + timedelta(minutes=3) + activity.SEAL_DELAY,
                        bucket + timedelta(minutes=6) + activity.SEAL_DELAY])
        monkeypatch.setattr(activity, "utcnow", lambda: next(moments))
        assert shown(log, START) == from_the_log(log, START)
        assert shown(log, START) == from_the_log(log, START)  # stored on from the middle of the bucket
        assert stored_count(log, bucket) == []


def stored_count(organization_id: int, bucket: datetime) -> list[int]:
    return list(db.session.execute(select(ActivityRollup.count).where(
        ActivityRollup.organization_id == organization_id, ActivityRollup.bucket == activity.microseconds(bucket),
        ActivityRollup.operation == "lookup")).scalars())
