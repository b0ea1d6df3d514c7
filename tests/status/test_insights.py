"""The provisioning rules on plain values, without the app: cycles, the first sync, the health
banner, causes of errors, the chart, and why someone has not arrived."""
from datetime import datetime, timedelta, timezone
from types import SimpleNamespace

import pytest

from jericho import text
from jericho.providers import ENTRA
from jericho.providers.severity import Level
from jericho.status import causes, directory, reasons
from jericho.status import chart as chart_rules
from jericho.status import cycles as cycle_rules
from jericho.status.causes import CAUSES_BY_KEY, ErrorGroup
from jericho.status.chart import CHART_RANGES
from jericho.status.cycles import Cycle, FirstSync, FirstSyncState, Tally
from jericho.status.health import HealthEvidence, HealthState, health_of
from jericho.status.reasons import Person, WhyEvidence
from jericho.storage.cause_rules import CAUSE_KEYS

from status_helpers import Activity

NOW = datetime(2026, 11, 30, 12, 0, tzinfo=timezone.utc)


def at(minutes: float) -> datetime:
    """`minutes` after 10:00 on the test day (negative: before)."""
    return datetime(2026, 11, 30, 10, 0, tzinfo=timezone.utc) + timedelta(minutes=minutes)


def activity(minute: float, operation: str, count: int = 1, *, resource_type: str | None = "User",
             failed: bool = False, length: float = 0.5) -> Activity:
    start = at(minute)
    bucket = start.replace(minute=start.minute // 10 * 10, second=0, microsecond=0)
    return Activity(bucket, start, start + timedelta(minutes=length), operation, resource_type, failed, count)


def event(minutes: float, status: int = 200, *, organization_id: int | None = 1, operation: str = "lookup"):
    return SimpleNamespace(id=1, organization_id=organization_id, occurred_at=at(minutes), status=status,
                           operation=operation, action="look up user ava@contoso.com", error_detail=None)


def failed(**fields):
    defaults = dict(status=400, operation="create", resource_type="User", scim_type=None, error_detail=None)
    return SimpleNamespace(**{**defaults, **fields})


def group(key: str, count: int, minute: float = 0) -> ErrorGroup:
    return ErrorGroup(CAUSES_BY_KEY[key], count, at(minute), at(minute), 7)


# --- cycles ---------------------------------------------------------------------------------

def test_requests_split_into_cycles_at_silences_of_half_a_cycle():
    cycles = cycle_rules.cycles_of([
        activity(0, "lookup", 3), activity(1, "create", 3), activity(5, "members"),
        activity(45, "update", 2),  # 39.5 minutes after the last: a new cycle
        activity(60, "disable"),  # 14.5 minutes after: the same cycle
    ])
    assert [(c.start, c.end) for c in cycles] == [(at(0), at(5.5)), (at(45), at(60.5))]
    first, second = cycles
    assert (first.tally.lookups, first.tally.created, first.tally.users_created, first.tally.updated) == (3, 3, 3, 1)
    assert (second.tally.updated, second.tally.disabled, second.tally.requests) == (2, 1, 3)


def test_a_failed_change_counts_as_an_error_only():
    (cycle,) = cycle_rules.cycles_of([activity(0, "create", 2), activity(0, "create", 1, failed=True),
                                   activity(0, "rejected", 4, resource_type=None, failed=True)])
    assert (cycle.tally.created, cycle.tally.errors, cycle.tally.requests, cycle.tally.changes) == (2, 5, 7, 2)


def test_activity_in_any_order_gives_the_same_cycles():
    items = [activity(50, "update"), activity(0, "create"), activity(2, "delete")]
    assert [(c.start, c.tally.requests) for c in cycle_rules.cycles_of(items)] == [(at(0), 2), (at(50), 1)]


@pytest.mark.parametrize("items, label", [
    ([activity(0, "test_connection")], "Test Connection"),
    ([activity(0, "lookup"), activity(0, "create")], "Provision on demand, or a small change"),
    ([activity(0, "lookup", 5)], "Checks only, nothing changed"),
    ([activity(0, "create", 5)], "Sync"),
    ([activity(0, "rejected", 3, resource_type=None, failed=True)], "Every request failed"),
])
def test_cycle_labels(items, label):
    assert cycle_rules.cycles_of(items)[0].label == label


# --- the first sync -------------------------------------------------------------------------

def first_sync(items, *, now=NOW, earlier_creates=0, window_start=at(-60)) -> FirstSync:
    return cycle_rules.first_sync_of(cycle_rules.cycles_of(items), now=now, window_start=window_start,
                                  earlier_creates=earlier_creates)


def test_no_creation_yet_is_not_started():
    assert first_sync([activity(0, "test_connection")]).state is FirstSyncState.NOT_STARTED


def test_one_user_at_a_time_is_provision_on_demand():
    sync = first_sync([activity(0, "lookup"), activity(0, "create"), activity(50, "create", resource_type="Group")])
    assert sync.state is FirstSyncState.ON_DEMAND_ONLY


def test_the_first_sync_runs_until_half_a_cycle_passes_without_a_request():
    items = [activity(0, "test_connection"), activity(30, "create", 40), activity(40, "create", 10)]
    running = first_sync(items, now=at(40.5) + cycle_rules.CYCLE_GAP - timedelta(seconds=1))
    assert running.state is FirstSyncState.IN_PROGRESS and running.cycle.tally.users_created == 50
    assert first_sync(items, now=at(40.5) + cycle_rules.CYCLE_GAP).state is FirstSyncState.FINISHED


def test_the_first_sync_is_finished_once_a_later_cycle_began():
    sync = first_sync([activity(0, "create", 5), activity(30, "update")], now=at(30.5))
    assert sync.state is FirstSyncState.FINISHED and sync.cycle.start == at(0)


def test_a_first_sync_before_the_window_is_earlier():
    assert first_sync([activity(0, "update")], earlier_creates=2).state is FirstSyncState.EARLIER


def test_a_first_sync_still_running_when_the_window_opened_continues():
    sync = first_sync([activity(-59, "create", 3)], earlier_creates=2, now=at(-58))
    assert sync.state is FirstSyncState.IN_PROGRESS


def test_first_sync_words():
    (cycle,) = cycle_rules.cycles_of([activity(0, "create", 1), activity(0, "create", 2, resource_type="Group")])
    words = cycle_rules.first_sync_words(FirstSync(FirstSyncState.FINISHED, cycle), now=NOW)
    assert words == "The first sync looks finished: it ran from 10:00 UTC to 10:00 UTC and created 1 user and 2 groups."


# --- health ---------------------------------------------------------------------------------

def health(*, last=None, started=True, items=(), errors=(), now=at(10), sync=None, provider=ENTRA):
    cycles = cycle_rules.cycles_of(items, provider.sync)
    return health_of(HealthEvidence(
        now=now, last_request=last, started=started, latest_cycle=cycles[-1] if cycles else None,
        latest_errors=causes.merge_error_groups(errors),
        first_sync=sync or FirstSync(FirstSyncState.EARLIER), provider=provider,
    ))


def test_waiting_for_the_first_request():
    result = health(started=False)
    assert result.state is HealthState.WAITING and "Test Connection" in result.details[0]


def test_connected_after_test_connection_says_what_comes_next():
    result = health(last=event(0, operation="test_connection"), started=False, items=[activity(0, "test_connection")],
                    sync=FirstSync(FirstSyncState.NOT_STARTED))
    assert result.state is HealthState.CONNECTED
    assert result.summary == "Entra's Test Connection works (last request at 10:00 UTC)."
    assert "Provisioning Status is On" in result.details[0]


def test_connected_with_a_few_errors_lists_them_without_alarm():
    items = [activity(0, "update", 95), activity(0, "create", 5, failed=True)]
    result = health(last=event(0), items=items, errors=[group("user_conflict", 5)])
    assert result.state is HealthState.CONNECTED and result.level is Level.AMBER
    assert result.title == "Connected, some users need you"
    assert result.details == ("5 requests in the last cycle failed. Mostly: A user with the same userName is "
                              "already here. The others arrive as usual. Entra retries them on later cycles. "
                              "They arrive once the cause is fixed.",)
    assert result.cause.cause.key == "user_conflict"


def test_failing_from_a_tenth_of_the_last_cycle():
    items = [activity(0, "update", 90), activity(0, "create", 10, failed=True)]
    result = health(last=event(0), items=items, errors=[group("user_conflict", 10)])
    assert result.state is HealthState.FAILING
    assert result.summary == "10 of the 100 requests in the last cycle failed."
    assert result.cause.cause.key == "user_conflict" and result.details[0].startswith("Main cause: A user with")


def test_failing_when_the_organizations_token_is_refused():
    items = [activity(0, "update", 500), activity(1, "rejected", resource_type=None, failed=True)]
    result = health(last=event(1, 401), items=items, errors=[group("revoked_token", 1)])
    assert result.state is HealthState.FAILING and result.summary.startswith("1 of the 501")
    assert result.cause.cause.key == "revoked_token"


def test_an_unknown_token_among_successes_counts_by_its_share():
    items = [activity(0, "update", 500), activity(1, "rejected", resource_type=None, failed=True)]
    result = health(last=event(1, 401, organization_id=None), items=items, errors=[group("unknown_token", 1)])
    assert result.state is HealthState.CONNECTED


def test_only_an_unknown_token_is_failing():
    items = [activity(0, "rejected", 3, resource_type=None, failed=True)]
    result = health(last=event(0, 401, organization_id=None), started=False, items=items,
                    errors=[group("unknown_token", 3)])
    assert result.state is HealthState.FAILING
    assert result.cause.cause.title == "Entra sends a token this server does not know"


def test_harmless_errors_never_fail():
    items = [activity(0, "delete", 3, failed=True)]
    assert health(last=event(0, 404), items=items, errors=[group("already_deleted", 3)]).state is HealthState.CONNECTED


def test_stale_after_two_cycles_without_a_request():
    items = [activity(0, "update")]
    assert health(last=event(0), items=items, now=at(79.9)).state is HealthState.CONNECTED
    result = health(last=event(0), items=items, now=at(80))
    assert result.state is HealthState.STALE
    assert result.summary == "No request from Entra for 1 hour 20 minutes (last at 10:00 UTC)."
    assert "quarantine" in result.details[0]


def test_silence_before_provisioning_started_is_not_stale():
    result = health(last=event(0, operation="test_connection"), started=False,
                    items=[activity(0, "test_connection")], now=at(600))
    assert result.state is HealthState.CONNECTED


def test_failing_and_silent_says_both():
    items = [activity(0, "create", 3, failed=True)]
    result = health(last=event(0, 400), items=items, errors=[group("rejected_value", 3)], now=at(200))
    assert result.state is HealthState.FAILING
    assert "quarantine" in result.details[1]


def test_users_here_but_no_request_in_the_log_is_stale():
    assert health(last=None, started=True).state is HealthState.STALE


# --- causes ---------------------------------------------------------------------------------

@pytest.mark.parametrize("fields, key", [
    (dict(status=401, operation="rejected", resource_type=None, error_detail="unknown token"), "unknown_token"),
    (dict(status=401, operation="rejected", resource_type=None, error_detail="revoked token"), "revoked_token"),
    (dict(status=401, operation="rejected", resource_type=None, error_detail="missing bearer token"), "no_token"),
    (dict(status=409, scim_type="uniqueness"), "user_conflict"),
    (dict(status=409, resource_type="Group", scim_type="uniqueness"), "group_conflict"),
    (dict(status=400, operation="members", resource_type="Group", scim_type="invalidValue",
          error_detail="no user or group with id 42 in this organization"), "missing_member"),
    (dict(status=400, operation="lookup", scim_type="invalidFilter"), "unsupported_filter"),
    (dict(status=404, operation="delete"), "already_deleted"),
    (dict(status=404, operation="update", resource_type="Group"), "unknown_object"),
    (dict(status=404, operation="rejected", resource_type=None), "wrong_address"),
    (dict(status=405, operation="rejected", resource_type=None), "wrong_address"),
    (dict(status=412, operation="update"), "changed_meanwhile"),
    (dict(status=413, operation="rejected", resource_type=None), "too_large"),
    (dict(status=400, scim_type="invalidValue", error_detail="'userName' is required"), "rejected_value"),
    (dict(status=501, operation="rejected", resource_type=None), "unsupported"),
    (dict(status=500), "server_error"),
    (dict(status=403), "other"),
])
def test_every_failure_has_a_cause(fields, key):
    assert causes.cause_of(failed(**fields)).key == key


def test_each_rule_has_its_cause_in_words_in_the_rules_order():
    assert tuple(CAUSES_BY_KEY) == CAUSE_KEYS


def test_error_groups_merge_by_cause_most_frequent_first_harmless_last():
    merged = causes.merge_error_groups([
        group("already_deleted", 50, 0), group("user_conflict", 2, 5), group("rejected_value", 3, 1),
        ErrorGroup(CAUSES_BY_KEY["user_conflict"], 4, at(-5), at(-1), 3),
    ])
    assert [(g.cause.key, g.count) for g in merged] == [("user_conflict", 6), ("rejected_value", 3), ("already_deleted", 50)]
    assert (merged[0].first_seen, merged[0].last_seen, merged[0].example_id) == (at(-5), at(5), 7)


def test_the_scim_error_body_as_answered():
    body = causes.scim_error_body(failed(status=409, scim_type="uniqueness", error_detail="a user with <b> exists"))
    assert body == ('{\n  "schemas": [\n    "urn:ietf:params:scim:api:messages:2.0:Error"\n  ],\n  "status": "409",\n'
                    '  "scimType": "uniqueness",\n  "detail": "a user with <b> exists"\n}')


# --- the chart ------------------------------------------------------------------------------

def test_the_chart_counts_each_kind_in_its_bucket():
    now = at(125)  # 12:05, in the 12:00-12:30 bucket
    chart = chart_rules.chart_of([activity(0, "create", 4), activity(1, "lookup", 6), activity(31, "update", 1, failed=True),
                               activity(-24 * 60 - 30, "create")], CHART_RANGES["24h"], now=now)
    assert (chart.start, chart.end) == (at(150) - timedelta(hours=24), at(150))
    assert len(chart.bars) == 48 and chart.total.requests == 11  # the request a day earlier is outside
    bar = next(b for b in chart.bars if b.start == at(0))
    assert (bar.tally.changes, bar.tally.lookups, bar.tally.errors) == (4, 6, 0)
    assert [s.kind for s in bar.segments] == ["changes", "lookups"]
    assert chart.y_max == 10 and chart.y_ticks[-1] == (chart_rules.TOP, 10)
    (changes, lookups) = bar.segments
    assert changes.height == pytest.approx((chart_rules.BOTTOM - chart_rules.TOP) * 0.4)
    assert lookups.y + lookups.height == pytest.approx(changes.y)
    small = next(b for b in chart.bars if b.start == at(30))
    assert small.segments[0].kind == "errors" and small.segments[0].height >= 2


def test_a_quiet_chart_is_empty_and_still_drawn():
    chart = chart_rules.chart_of([], CHART_RANGES["7d"], now=NOW)
    assert chart.empty and len(chart.bars) == 42 and chart.y_max == 2
    assert all(not bar.segments for bar in chart.bars)
    assert len(chart.x_labels) == 7


@pytest.mark.parametrize(
    "range_key, zone, labels",
    [
        # The window is 12:30 the day before to 12:30 UTC; labels fall on whole local hours.
        ("24h", "UTC", ["15:00", "18:00", "21:00", "00:00", "03:00", "06:00", "09:00"]),
        ("24h", "Asia/Kolkata", ["18:00", "21:00", "00:00", "03:00", "06:00", "09:00", "12:00", "15:00"]),
        ("24h", "Asia/Kathmandu", ["21:00", "00:00", "03:00", "06:00", "09:00", "12:00", "15:00"]),
        # 23 Nov 16:00 to 30 Nov 16:00 UTC: midnights in New York, five hours behind.
        ("7d", "America/New_York", ["Tue 24", "Wed 25", "Thu 26", "Fri 27", "Sat 28", "Sun 29", "Mon 30"]),
    ],
)
def test_the_chart_labels_the_admins_own_hours_and_days(range_key, zone, labels):
    now = at(125) if range_key == "24h" else NOW
    chart = chart_rules.chart_of([], CHART_RANGES[range_key], now=now, zone=text.zone_named(zone))
    assert [label for _, label in chart.x_labels] == labels
    # Each label stands where its time is on the axis (to the few seconds x's rounding leaves).
    span = chart.end - chart.start
    for x, label in chart.x_labels:
        moment = chart.start + span * ((x - chart_rules.LEFT) / (chart_rules.WIDTH - chart_rules.LEFT)) + timedelta(seconds=30)
        assert moment.astimezone(text.zone_named(zone)).strftime(CHART_RANGES[range_key].label_format) == label
        assert x <= chart_rules.WIDTH - chart_rules.LABEL_ROOM


@pytest.mark.parametrize("value, ceiling", [(0, 2), (3, 5), (10, 10), (11, 20), (28, 50), (51, 100), (12345, 20000)])
def test_nice_ceilings(value, ceiling):
    assert chart_rules._nice_ceiling(value) == ceiling


# --- deleted users ---

def test_the_user_name_in_a_deletion():
    assert directory.deleted_user_name("delete user ava@contoso.com") == "ava@contoso.com"


# --- why isn't this person here? ------------------------------------------------------------

def why(**fields) -> WhyEvidence:
    defaults = dict(
        query="jane@contoso.com", now=NOW, exact=None, similar=(), deleted_at=None, looked_up_at=None,
        refusals=(), first_sync=FirstSync(FirstSyncState.FINISHED, Cycle(at(0), at(1), Tally())), users=10,
        mail_mapped=True, domains=frozenset({"contoso.com"}), empty_groups=0,
    )
    return WhyEvidence(**{**defaults, **fields})


def reason_keys(evidence) -> list[str]:
    return [reason.key for reason in reasons.reasons_of(evidence)]


def test_never_seen_lists_the_reasons_in_their_usual_order():
    evidence = why()
    assert reasons.finding_of(evidence) is reasons.Finding.NEVER_SEEN
    assert reason_keys(evidence) == ["not_assigned", "nested_group", "no_mailbox", "disabled", "not_yet", "scoping_filter"]
    assert all(reason.where for reason in reasons.reasons_of(evidence))


def test_a_running_first_sync_comes_first():
    for state in (FirstSyncState.IN_PROGRESS, FirstSyncState.NOT_STARTED, FirstSyncState.ON_DEMAND_ONLY):
        assert reason_keys(why(first_sync=FirstSync(state)))[0] == "not_yet"


def test_a_mailbox_matters_only_when_user_name_comes_from_mail():
    keys = reason_keys(why(mail_mapped=False))
    assert "no_mailbox" not in keys and "other_name" in keys
    assert "no_mailbox" not in reason_keys(why(query="Jane Doe"))


def test_another_domain_suggests_another_user_name():
    assert "other_name" in reason_keys(why(query="jane@fabrikam.com"))


def test_similar_people_come_first():
    similar = [Person("1", "jane.doe@contoso.com", "Jane Doe", True)]
    assert reason_keys(why(similar=similar))[0] == "other_name"


@pytest.mark.parametrize("fields, finding", [
    (dict(exact=Person("1", "jane@contoso.com", None, True)), reasons.Finding.HERE),
    (dict(exact=Person("1", "jane@contoso.com", None, False)), reasons.Finding.DEACTIVATED),
    (dict(deleted_at=at(0)), reasons.Finding.DELETED),
    (dict(refusals=[group("user_conflict", 1)]), reasons.Finding.REFUSED),
    (dict(looked_up_at=at(0)), reasons.Finding.LOOKED_UP),
])
def test_what_was_found(fields, finding):
    evidence = why(**fields)
    assert reasons.finding_of(evidence) is finding
    here = finding in (reasons.Finding.HERE, reasons.Finding.DEACTIVATED, reasons.Finding.DELETED)
    assert bool(reasons.reasons_of(evidence)) is not here


def test_first_sync_words_when_it_began_before_the_window():
    (cycle,) = cycle_rules.cycles_of([activity(0, "create", 3)])
    running = FirstSync(FirstSyncState.IN_PROGRESS, cycle, continued=True)
    assert cycle_rules.first_sync_words(running, now=NOW) == (
        "The first sync is running; since 10:00 UTC, 3 users and 0 groups were created.")
    finished = FirstSync(FirstSyncState.FINISHED, cycle, continued=True)
    assert cycle_rules.first_sync_words(finished, now=NOW) == (
        "The first sync looks finished: it ended at 10:00 UTC; 3 users and 0 groups were created after 10:00 UTC.")
    assert first_sync([activity(-59, "create", 3)], earlier_creates=2, now=at(-58)).continued
