"""The dashboard's rollups and buckets: written with each batch of the log, they equal a count of
the log across bucket boundaries, batches, causes and pruning; requests of no organization have
none; and no status page writes anything."""
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import event, select

from jericho.api.provisioning_log import EXTENSION
from jericho.extensions import db
from jericho.status import dashboard as status_dashboard
from jericho.status import log_queries, retention
from jericho.status import views as status_views
from jericho.status.chart import CHART_RANGES
from jericho.storage.models import ActivityBucket, ActivityRollup, Organization, ProvisioningEvent
from jericho.storage.rollups import KEY, bucket_floor, bucket_rows, rollup_rows, rollups_count_log

from status_helpers import admin, provision_group, provision_user  # noqa: F401 (fixtures)

NOW = datetime(2026, 11, 30, 12, 5, tzinfo=timezone.utc)
START = bucket_floor(NOW - timedelta(hours=3))
TICK = timedelta(microseconds=1)


def contoso() -> int:
    return db.session.execute(select(Organization.id).where(Organization.name == "Contoso")).scalar_one()


def write(app, organization_id: int | None, *moments: datetime, status: int = 200, operation: str = "lookup",
          resource_type: str | None = "User", error_detail: str | None = None) -> None:
    """Requests handed to the log's writer, as a server's requests are: one batch."""
    writer = app.extensions[EXTENSION]
    writer.pending += [
        {"organization_id": organization_id, "token_id": None, "occurred_at": moment, "method": "GET",
         "path": "/scim_v2/Users", "status": status, "operation": operation, "action": "look up user ava@contoso.com",
         "resource_type": resource_type, "resource_id": None, "scim_type": "uniqueness" if status == 409 else None,
         "error_detail": error_detail, "duration_ms": 1.0}
        for moment in moments
    ]
    writer.flush()


ROLLUP_COLUMNS = (*KEY, "first", "last", "count", "latest_event_id")


def stored() -> list[tuple]:
    r = ActivityRollup.__table__
    return sorted(tuple(row) for row in db.session.execute(select(*(r.c[name] for name in ROLLUP_COLUMNS))))


def stored_buckets() -> list[tuple]:
    return sorted(tuple(row) for row in db.session.execute(select(*ActivityBucket.__table__.columns)))


def from_the_log() -> tuple[list[tuple], list[tuple]]:
    """The rollups and buckets as counting the whole log gives them, in Python and in SQL
    (migrations 0009 and 0016)."""
    events = [{column.key: getattr(e, column.key) for column in ProvisioningEvent.__table__.columns}
              for e in db.session.execute(select(ProvisioningEvent)).scalars()]
    rollups = rollup_rows(events)
    counted = sorted(tuple(row.values()) for row in rollups), [tuple(row.values()) for row in bucket_rows(rollups)]
    rollups_count_log(db.session.connection())
    assert (stored(), stored_buckets()) == counted
    db.session.rollback()
    return counted


@pytest.fixture
def log(app, scim):
    """Requests on both sides of bucket boundaries, in several batches, some failed."""
    provision_user(scim, "ava@contoso.com")
    with app.app_context():
        organization_id = contoso()
        write(app, organization_id, START, START + timedelta(minutes=10) - TICK, START + timedelta(minutes=10))
        write(app, organization_id, START + timedelta(minutes=25), START + timedelta(minutes=59, seconds=59))
        write(app, organization_id, START + timedelta(minutes=15))  # a later batch, an earlier time
        write(app, organization_id, START + timedelta(minutes=10), START + timedelta(minutes=95), status=409,
              operation="create")
        write(app, organization_id, START + timedelta(minutes=11), status=404, operation="rejected",
              resource_type=None, error_detail="no such endpoint")
        write(app, None, START + timedelta(minutes=12), status=401, operation="rejected", resource_type=None,
              error_detail="unknown token")
    return organization_id


def test_rollups_and_buckets_equal_a_count_of_the_log(app, log):
    with app.app_context():
        rows = stored()
        assert (rows, stored_buckets()) == from_the_log()
        assert None not in {row[0] for row in rows}  # no rollup for requests of no organization
        lookups = [row for row in rows if row[1] == microseconds_of(START + timedelta(minutes=10))
                   and row[2] == "lookup"]
        assert [row[8] for row in lookups] == [2]  # two batches added to one row
        causes = {row[5] for row in rows if row[4]}
        assert causes == {"user_conflict", "wrong_address"}


def microseconds_of(moment: datetime) -> int:
    return int((moment - datetime(1970, 1, 1, tzinfo=timezone.utc)) / TICK)


@pytest.mark.parametrize("cutoff", [timedelta(minutes=10), timedelta(minutes=14), timedelta(minutes=60, seconds=1)])
def test_pruning_keeps_the_rollups_and_buckets_equal_to_the_log(app, log, cutoff):
    with app.app_context():
        retention.prune_log(now=START + cutoff + timedelta(days=1), days=1, pause=0)
        assert (stored(), stored_buckets()) == from_the_log()


def test_the_dashboard_errors_match_the_log(app, log):
    with app.app_context():
        dashboard = status_dashboard.dashboard_of(log, now=NOW, chart_range=CHART_RANGES["24h"])
        assert dashboard.errors == log_queries.error_groups(log, ProvisioningEvent.occurred_at >= dashboard.chart.start)
        assert [(group.cause.key, group.count) for group in dashboard.errors] == [
            ("user_conflict", 2), ("wrong_address", 1)]


def test_no_status_page_writes(app, admin, scim, monkeypatch):
    monkeypatch.setattr(status_views, "now", lambda: NOW)
    user = provision_user(scim, "ava@contoso.com")
    group = provision_group(scim, "Finance", [user["id"]])
    scim.delete(f"/Users/{provision_user(scim, 'bob@contoso.com')['id']}")
    pages = ["/status/", "/status/?range=7d", "/status/users", "/status/users?state=deactivated&q=a",
             "/status/users/deleted", f"/status/users/{user['id']}", "/status/groups", f"/status/groups/{group['id']}",
             "/status/log", "/status/log?q=ava", "/status/log/errors", "/status/log/unknown-tokens",
             "/status/why?q=ava@contoso.com", "/status/export/users.csv", "/status/export/log.csv"]
    admin.get("/status/")  # the session's own first writes, if any
    with app.app_context():
        engine = db.engine
    writes = []

    def record(conn, cursor, statement, parameters, context, executemany):
        if statement.lstrip().split(" ", 1)[0].upper() in ("INSERT", "UPDATE", "DELETE"):
            writes.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    try:
        for page in pages:
            assert admin.get(page).status_code == 200, page
    finally:
        event.remove(engine, "before_cursor_execute", record)
    assert writes == []
