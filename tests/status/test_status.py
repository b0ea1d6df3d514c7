"""The sync status dashboard over real SCIM requests: every state of the health banner on a
controlled clock, the counts, the last cycle, the cycles, the first sync and the chart."""
import re
from datetime import timedelta, timezone

import pytest
from sqlalchemy import text

from jericho.extensions import db
from jericho.storage.models import Organization, ProvisioningEvent, utcnow

from conftest import ON_POSTGRES
from status_helpers import (  # noqa: F401 (fixtures)
    TEST_CONNECTION,
    Activity,
    admin,
    age_log,
    deactivate,
    lookup,
    page_text,
    provision_group,
    provision_user,
    revoke_the_token,
)


def banner(client, **args) -> str:
    response = client.get("/status/", query_string=args)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    match = re.search(r'<section id="sync-health" class="sync-banner sync-banner--(\w+)"', html)
    return match.group(1)


def initial_sync(scim, users: int = 3) -> list[dict]:
    """Entra's first cycle in miniature: Test Connection, users matched and created, a group and
    its members."""
    scim.get(TEST_CONNECTION)
    created = [provision_user(scim, f"user{i}@contoso.com", displayName=f"User {i}") for i in range(users)]
    provision_group(scim, "Finance", [user["id"] for user in created])
    return created


def test_pages_are_for_signed_in_admins(client, scim, auth):
    auth.create()
    for path in ("/status/", "/status/users", "/status/export/users.csv", "/status/log/1"):
        response = client.get(path)
        assert response.status_code == 302 and "/sign-in" in response.location


def test_waiting_for_the_first_request(admin, clock):
    assert banner(admin) == "waiting"
    text = page_text(admin.get("/status/"))
    assert "Waiting for the first request" in text and "Nothing has arrived from Entra yet." in text
    assert "Last request none yet" in text


def test_connected_after_test_connection(admin, scim, clock):
    scim.get(TEST_CONNECTION)
    assert banner(admin) == "connected"
    text = page_text(admin.get("/status/"))
    assert "Entra's Test Connection works" in text
    assert "The first sync has not started" in text
    clock.advance(hours=5)  # provisioning has not started: silence is not staleness
    assert banner(admin) == "connected"


def test_connected_during_the_first_sync(admin, scim, clock):
    initial_sync(scim)
    assert banner(admin) == "connected"
    text = page_text(admin.get("/status/"))
    assert "The first sync is running since" in text and "3 users and 1 group created so far" in text
    assert re.search(r"Active users 3 Deactivated users 0 Deleted users \(in the log\) 0 Groups 1 "
                     r"Groups without members 0 Memberships 3", text)
    assert "Last successful change" in text and "add 3 members to Finance" in text


def test_the_first_sync_looks_finished_after_half_a_cycle(admin, scim, clock):
    initial_sync(scim)
    clock.advance(minutes=21)
    text = page_text(admin.get("/status/"))
    assert "The first sync looks finished: it ran from" in text and "created 3 users and 1 group" in text
    assert banner(admin) == "connected"


def test_stale_after_80_minutes_without_a_request(admin, scim, clock):
    initial_sync(scim)
    clock.advance(minutes=79)
    assert banner(admin) == "connected"
    clock.advance(minutes=1)
    assert banner(admin) == "stale"
    text = page_text(admin.get("/status/"))
    assert "No request from Entra for 1 hour 20 minutes" in text
    assert "paused, stopped or in quarantine" in text
    scim.get("/Users?filter=userName+eq+%22user0%40contoso.com%22")  # Entra is back
    assert banner(admin) == "connected"


def test_failing_with_a_revoked_token(app, admin, scim, clock):
    initial_sync(scim)
    revoke_the_token(app)
    assert lookup(scim, "user0@contoso.com").status_code == 401
    assert banner(admin) == "failing"
    text = page_text(admin.get("/status/"))
    assert "Main cause: Entra still sends a revoked token." in text
    assert "Create a token on the Tokens page" in text
    assert "Last rejected request" in text and "401: revoked token" in text


def test_unknown_tokens_never_reach_an_organizations_health(app, admin, client, scim, clock):
    """Anyone can send a wrong token, and with one organization they used to be counted as its
    own: a few dozen turned the banner to Failing and the setup guide's step 4 to Needs attention."""
    from jericho.wizard.onboarding import evidence_of
    initial_sync(scim)
    for _ in range(25):
        client.get("/scim_v2" + TEST_CONNECTION, headers={"Authorization": "Bearer mistyped"})
    assert banner(admin) == "connected"
    assert "unknown token" not in page_text(admin.get("/status/"))
    assert "unknown token" not in page_text(admin.get("/status/log/errors"))
    with app.test_request_context():
        evidence = evidence_of(db.session.get(Organization, 1), now=utcnow(), zone=timezone.utc,
                               url="https://scim.contoso.com/scim_v2", url_derived=False)
    assert evidence.last_refusal is None


def test_failing_when_a_tenth_of_the_cycle_fails(admin, scim, clock):
    initial_sync(scim, users=2)
    for _ in range(2):
        assert scim.post("/Users", json={"userName": "USER0@contoso.com"}).status_code == 409
    assert banner(admin) == "failing"
    text = page_text(admin.get("/status/"))
    assert "2 of the 10 requests in the last cycle failed." in text
    assert "Main cause: A user with the same userName is already here." in text
    assert "See the 2 failed requests" in text


def test_a_few_errors_do_not_fail_provisioning(admin, scim, clock):
    initial_sync(scim, users=6)
    scim.post("/Users", json={"userName": "USER0@contoso.com"})
    assert banner(admin) == "connected"
    assert "1 request in the last cycle failed. Mostly: A user with the same userName is already here." in page_text(
        admin.get("/status/"))


def test_stale_and_failing_says_both(admin, scim, clock):
    initial_sync(scim, users=1)
    for _ in range(3):
        scim.post("/Users", json={"userName": "USER0@contoso.com"})
    clock.advance(hours=3)
    assert banner(admin) == "failing"
    assert "Entra may have put the job in quarantine" in page_text(admin.get("/status/"))


def test_cycles_are_split_by_the_gaps_between_requests(app, admin, scim, clock):
    users = initial_sync(scim)
    age_log(app, timedelta(minutes=45))
    deactivate(scim, users[0]["id"])
    scim.patch(f"/Users/{users[1]['id']}", json={"Operations": [{"op": "Replace", "path": "displayName", "value": "New"}]})
    scim.delete(f"/Users/{users[2]['id']}")
    lookup(scim, "user2@contoso.com")
    text = page_text(admin.get("/status/"))
    page = admin.get("/status/").get_data(as_text=True)
    cycles = page[page.index('id="sync-cycles"'):page.index('id="sync-errors-heading"')]
    rows = re.findall(r"<tr>\s*<td><time[^>]*>[^<]*</time></td>(.*?)</tr>", cycles, flags=re.S)
    cells = [re.findall(r"<td>(?:<strong[^>]*>)?([^<]*)", row) for row in rows]
    # Newest first: length, what, created, updated, deactivated, deleted, lookups, errors.
    assert [c[1:8] for c in cells] == [
        ["Sync", "0", "1", "1", "1", "1", "0"],
        ["Sync ", "4", "1", "0", "0", "5", "0"],
    ]
    assert "First sync" in rows[1] and "First sync" not in rows[0]
    assert "The first sync looks finished" in text
    assert "lasting under a minute. Sync: 0 created, 1 updated, 1 deactivated, 1 deleted, 1 lookup, 0 errors." in text


def test_the_chart_shows_the_activity(app, admin, scim, clock):
    initial_sync(scim)
    scim.post("/Users", json={"userName": "user0@contoso.com"})
    # Into the middle of the previous half hour, so that the requests share one bar.
    last = clock.now
    age_log(app, last - last.replace(minute=last.minute // 30 * 30, second=0, microsecond=0) + timedelta(minutes=15))
    html = admin.get("/status/").get_data(as_text=True)
    assert '<svg class="sync-chart__svg" viewBox="0 0 720 200" role="img"' in html
    assert html.count('class="sync-chart__changes"') == 1
    assert html.count('class="sync-chart__errors"') == 1
    assert "11 requests: 5 changes, 5 lookups, 1 error." in html
    week = admin.get("/status/?range=7d").get_data(as_text=True)
    assert "one bar per 4 hours" in page_text(admin.get("/status/?range=7d")) and week.count("<rect") == 3
    assert "one bar per 30 minutes" in page_text(admin.get("/status/?range=nonsense"))


def test_an_empty_chart(admin, clock):
    text = page_text(admin.get("/status/"))
    assert "No request in the last 24 hours." in text and "No cycle in the last 24 hours." in text


def test_errors_of_the_range_with_their_fix(admin, auth, scim, clock):
    initial_sync(scim, users=1)
    scim.post("/Users", json={"userName": "user0@contoso.com"})
    scim.delete("/Users/00000000-0000-0000-0000-000000000000")
    text = page_text(admin.get("/status/"))
    errors = text.split("Errors, last 24 hours")[1]
    assert errors.index("A user with the same userName is already here") < errors.index("Deleted already Harmless")
    clock.advance(days=2)
    auth.sign_in()  # two days away: the session has ended
    assert "No failed request." in page_text(admin.get("/status/"))


def test_deleted_and_deactivated_users_are_counted(admin, scim, clock):
    users = initial_sync(scim)
    deactivate(scim, users[0]["id"])
    scim.delete(f"/Users/{users[1]['id']}")
    text = page_text(admin.get("/status/"))
    assert re.search(r"Active users 1 Deactivated users 1 Deleted users \(in the log\) 1 Groups 1 "
                     r"Groups without members 0 Memberships 2", text)


def test_unknown_tokens_are_shown_apart_where_there_is_one_organization(app, admin, client, scim, clock):
    client.get("/scim_v2/Users", headers={"Authorization": "Bearer mistyped"},
               environ_base={"REMOTE_ADDR": "203.0.113.7"})
    client.get("/scim_v2/Users", environ_base={"REMOTE_ADDR": "203.0.113.8"})  # no token at all: never Entra
    scim.get(TEST_CONNECTION)
    apart = page_text(admin.get("/status/log/unknown-tokens"))
    assert "203.0.113.7 GET /scim_v2/Users 401" in apart and "203.0.113.8" not in apart
    log = page_text(admin.get("/status/log"))
    assert "rejected: unknown token" not in log and "Requests with an unknown token" in log
    with app.app_context():
        addresses = db.session.execute(db.select(ProvisioningEvent.client_address)).scalars().all()
    assert sorted(addresses, key=str) == ["203.0.113.7", "203.0.113.8", None]  # only for no organization's


def test_unknown_tokens_are_no_admins_to_see_where_there_are_several_organizations(admin, client, scim, other_scim):
    client.get("/scim_v2/Users", headers={"Authorization": "Bearer mistyped"})
    assert admin.get("/status/log/unknown-tokens").status_code == 404
    assert "Requests with an unknown token" not in page_text(admin.get("/status/log"))


@pytest.mark.parametrize("path", ["/status/", "/status/?range=7d"])
def test_the_dashboard_works_without_javascript_and_inline_code(admin, scim, clock, path):
    initial_sync(scim)
    html = admin.get(path).get_data(as_text=True)
    assert "<script>" not in html and " style=" not in html and "onclick" not in html


def test_requests_are_counted_in_ten_minute_buckets(app, scim, clock):
    initial_sync(scim)
    with app.app_context():
        from jericho.status.activity import buckets_of
        buckets = buckets_of(1, since=utcnow() - timedelta(hours=1))
    assert 1 <= len(buckets) <= 2
    assert all(b.bucket.minute % 10 == 0 and b.bucket.second == 0 and b.bucket <= b.first <= b.last for b in buckets)
    assert sum(b.tally.users_created for b in buckets) == 3
    assert sum(b.tally.lookups for b in buckets) >= 3


def test_the_buckets_added_up_by_the_database_count_as_the_rules_count_each_kind(app, scim, clock):
    users = initial_sync(scim)
    deactivate(scim, users[0]["id"])
    assert scim.post("/Users", json={"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
                                     "userName": "user1@contoso.com"}).status_code == 409
    scim.get("/scim_v2/Users/no-such-user")
    clock.advance(minutes=15)
    lookup(scim, "ava@contoso.com")
    with app.app_context():
        from sqlalchemy import select

        from jericho.status.activity import buckets_of
        from jericho.status.cycles import Tally
        from jericho.storage.models import ActivityRollup as r
        from jericho.storage.rollups import moment_of
        since = utcnow() - timedelta(hours=1)
        buckets = buckets_of(1, since=since)
        expected: dict = {}
        for bucket, operation, resource_type, failed, count in db.session.execute(
                select(r.bucket, r.operation, r.resource_type, r.failed, r.count).where(r.organization_id == 1)):
            kind = Activity(moment_of(bucket), since, since, operation, resource_type or None, failed, count)
            expected.setdefault(kind.bucket, Tally()).add(kind.tally)
    assert len(buckets) == 2 and {b.bucket: b.tally for b in buckets} == expected
    assert sum(b.tally.errors for b in buckets) == 2 and sum(b.tally.disabled for b in buckets) == 1


def test_a_busy_log_is_counted_from_the_bucket_of_its_latest_requests(app, admin, scim, clock, monkeypatch):
    from jericho.status import dashboard
    monkeypatch.setattr(dashboard, "ACTIVITY_LIMIT", 2)
    initial_sync(scim)
    age_log(app, timedelta(hours=1))
    for name in ("bea@contoso.com", "cy@contoso.com", "di@contoso.com"):
        lookup(scim, name)
    text = page_text(admin.get("/status/"))
    assert "A busy log: the chart and the cycles count the latest 2 requests or more, since" in text
    assert "3 requests: 0 changes, 3 lookups, 0 errors." in admin.get("/status/").get_data(as_text=True)


def test_counts_follow_the_requests(app, admin, scim, clock):
    from jericho.status import retention
    users = initial_sync(scim)

    def figures() -> tuple[str, ...]:
        return re.search(r"Active users (\d+) Deactivated users (\d+) Deleted users \(in the log\) (\d+)",
                         page_text(admin.get("/status/"))).groups()

    assert figures() == ("3", "0", "0")
    deactivate(scim, users[0]["id"])
    assert figures() == ("2", "1", "0")
    scim.delete(f"/Users/{users[1]['id']}")
    assert figures() == ("1", "1", "1")
    assert "Active 1" in page_text(admin.get("/status/users"))
    age_log(app, timedelta(days=31))
    with app.app_context():
        retention.prune_log(now=clock.now, days=30, pause=0)
    assert figures() == ("1", "1", "0")  # the deletion left the log


def test_the_dashboard_follows_the_clock_and_the_log(app, admin, scim, clock):
    users = initial_sync(scim)
    made = page_text(admin.get("/status/"))
    assert page_text(admin.get("/status/")) == made
    clock.advance(minutes=80)  # what the page says of the time moves on with it
    assert banner(admin) == "stale"
    assert "No request from Entra for 1 hour 20 minutes" in page_text(admin.get("/status/"))
    deactivate(scim, users[0]["id"])  # the next request is on the next view
    text = page_text(admin.get("/status/"))
    assert banner(admin) == "connected"
    assert re.search(r"Active users 2 Deactivated users 1 ", text)
    assert "Last successful change" in text and "disable user user0@contoso.com" in text
    assert "1 deactivated" in text  # the last cycle's tally


@pytest.mark.skipif(ON_POSTGRES, reason="PostgreSQL plans from the statistics it keeps")
def test_deleted_users_are_counted_on_the_index_of_operations(app):
    """Without statistics, SQLite breaks a tie between indexes by the newest: with the index of
    requests by user made last (as a rebuilt table would), the count must still not walk every
    request about a user."""
    from sqlalchemy import func, select

    from jericho.status import log_queries
    with app.app_context():
        db.session.execute(text("DROP INDEX ix_provisioning_events_org_resource"))
        db.session.execute(text("CREATE INDEX ix_provisioning_events_org_resource "
                                "ON provisioning_events (organization_id, resource_type, resource_id)"))
        statement = select(func.count()).select_from(ProvisioningEvent).where(*log_queries.user_deletions(1))
        compiled = statement.compile(db.engine, compile_kwargs={"literal_binds": True})
        plan = " ".join(row[-1] for row in db.session.execute(text(f"EXPLAIN QUERY PLAN {compiled}")))
    assert "ix_provisioning_events_org_operation_time" in plan


