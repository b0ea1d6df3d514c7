"""Webhook delivery, driven one step at a time with a fixed clock against a real HTTP receiver on
127.0.0.1: every event once and in order, signed; retries that back off, then an endpoint marked
failing; leases; redelivery; addresses checked again at each delivery."""
from __future__ import annotations

import ipaddress
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select, update

from jericho import create_app
from jericho.extensions import db
from jericho.storage import events
from jericho.storage.accounts import organization_by_name
from jericho.storage.api_keys import api_key_create
from jericho.storage.consumer_models import DirectoryEvent, WebhookDelivery, WebhookEndpoint
from jericho.storage.deliveries import Attempt, delivery_batch, delivery_claim, delivery_record
from jericho.storage.events import events_prune
from jericho.storage.webhooks import (
    Health,
    organizations_with_endpoints,
    webhook_endpoint_disable,
    webhook_endpoint_resume,
    webhook_endpoints_of,
    webhook_redeliver,
)
from jericho.webhooks import addresses
from jericho.webhooks.addresses import WebhookUrlError
from jericho.webhooks.delivery import Worker, deliver_due, next_attempt_at, prune_expired
from jericho.webhooks.endpoints import endpoint_add
from jericho.webhooks.signing import verify

from conftest import Clock
from receiver import HANG, Receiver, receiver  # noqa: F401 (receiver: a fixture)

PATCH_OP = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
NOW = datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc)


@pytest.fixture
def app_config():
    return {"WEBHOOK_ALLOW_PRIVATE_NETWORKS": True}


@pytest.fixture
def clock(clock: Clock) -> Clock:
    """The app's own clock (conftest), at NOW: the changes and their deliveries share it."""
    clock.now = NOW
    return clock


def add_endpoint(app, url: str, events: str = "user.*,group.*", organization: str = "Contoso"):
    with app.app_context():
        endpoint, secret = endpoint_add(organization_id=organization_by_name(organization).id, url=url,
                                        events=events, now=NOW)
        return endpoint.id, secret


def deliver(app, clock: Clock) -> None:
    """What the worker thread does when woken: until no endpoint has anything due."""
    with app.app_context():
        while deliver_due(clock=clock, config=app.config):
            pass
        db.session.remove()


def create_users(scim, *names: str) -> list[str]:
    ids = []
    for name in names:
        response = scim.post("/Users", json={"userName": f"{name}@contoso.com"})
        assert response.status_code == 201
        ids.append(response.get_json()["id"])
    return ids


def log_of(app, endpoint_id: int) -> list[WebhookDelivery]:
    with app.app_context():
        rows = db.session.execute(select(WebhookDelivery).where(WebhookDelivery.endpoint_id == endpoint_id)
                                  .order_by(WebhookDelivery.id)).scalars().all()
        db.session.expunge_all()
        return rows


def endpoint_row(app, endpoint_id: int) -> WebhookEndpoint:
    with app.app_context():
        row = db.session.get(WebhookEndpoint, endpoint_id)
        db.session.expunge(row)
        return row


def test_every_event_arrives_once_in_order_and_signed(app, scim, receiver, clock):
    endpoint_id, secret = add_endpoint(app, receiver.url)
    ava, bo = create_users(scim, "ava", "bo")
    scim.post("/Groups", json={"displayName": "Finance", "members": [{"value": ava}, {"value": bo}]})
    deliver(app, clock)
    events = receiver.delivered()
    assert [e["id"] for e in events] == ["1", "2", "3", "4", "5"]
    assert [e["type"] for e in events] == ["user.created", "user.created", "group.created",
                                            "group.member_added", "group.member_added"]
    assert {e["occurredAt"] for e in events} == {"2026-03-02T09:00:00.000Z"}  # one clock for the app and the test
    for item in receiver.received:
        assert item.headers["Content-Type"] == "application/json"
        assert item.headers["Jericho-Event-Id"] == item.event()["id"]
        assert verify(secret, item.headers["Jericho-Signature"], item.body, now=int(NOW.timestamp()))
        assert not verify(secret, item.headers["Jericho-Signature"], item.body + b" ", now=int(NOW.timestamp()))
    assert [(d.outcome, d.status) for d in log_of(app, endpoint_id)] == [("delivered", 200)] * 5
    deliver(app, clock)
    assert len(receiver.received) == 5  # nothing twice


def test_the_body_is_the_event_as_the_feed_lists_it(app, scim, receiver, clock):
    add_endpoint(app, receiver.url)
    create_users(scim, "ava")
    deliver(app, clock)
    with app.app_context():
        secret = api_key_create(organization_id=organization_by_name("Contoso").id, label="")[1]
    feed = app.test_client().get("/api/v1/events", headers={"Authorization": f"Bearer {secret}"}).get_json()
    assert receiver.delivered() == feed["data"]


def test_an_endpoint_gets_the_events_from_its_creation_and_of_its_types(app, scim, receiver, clock):
    ava, = create_users(scim, "ava")
    add_endpoint(app, receiver.url, events="user.deactivated,group.member_*")
    bo, = create_users(scim, "bo")
    scim.patch(f"/Users/{ava}", json={"schemas": [PATCH_OP], "Operations": [
        {"op": "Replace", "path": "active", "value": False}]})
    scim.post("/Groups", json={"displayName": "Finance", "members": [{"value": bo}]})
    deliver(app, clock)
    assert [e["type"] for e in receiver.delivered()] == ["user.deactivated", "group.member_added"]
    with app.app_context():
        [status] = webhook_endpoints_of(organization_by_name("Contoso").id)
        assert status.backlog == 0 and status.health is Health.HEALTHY


def test_a_failed_delivery_is_retried_after_a_growing_pause_and_nothing_overtakes_it(app, scim, receiver, clock):
    endpoint_id, _ = add_endpoint(app, receiver.url)
    receiver.answer(503)
    create_users(scim, "ava", "bo")
    deliver(app, clock)
    assert [item.status for item in receiver.received] == [503]
    endpoint = endpoint_row(app, endpoint_id)
    assert endpoint.attempts == 1 and endpoint.next_attempt_at == NOW + timedelta(seconds=10)

    clock.advance(seconds=9)
    deliver(app, clock)
    assert len(receiver.received) == 1  # not due yet, and event 2 waits behind event 1
    clock.advance(seconds=1)
    deliver(app, clock)
    assert [e["id"] for e in receiver.delivered()] == ["1", "2"]
    log = log_of(app, endpoint_id)
    assert [(d.event_seq, d.outcome, d.status) for d in log] == [(1, "failed", 503), (1, "delivered", 200), (2, "delivered", 200)]
    assert log[0].error == "answered 503 Service Unavailable"
    assert len(log[0].response_excerpt) == 200 and log[0].response_excerpt.startswith("<h1>down")
    assert endpoint_row(app, endpoint_id).attempts == 0


def test_the_pauses_grow_from_seconds_to_hours_within_a_day():
    pauses, now, attempts = [], NOW, 0
    while (retry := next_attempt_at(first_failure_at=NOW, attempts=attempts + 1, now=now, retry_hours=24)):
        pauses.append(retry - now)
        now, attempts = retry, attempts + 1
    assert pauses[:4] == [timedelta(seconds=seconds) for seconds in (10, 30, 90, 270)]
    assert max(pauses) == timedelta(hours=6)
    assert now == NOW + timedelta(hours=24) and len(pauses) < 15


def test_after_a_day_of_failures_the_endpoint_is_failing_until_resumed(app, scim, receiver, clock):
    endpoint_id, _ = add_endpoint(app, receiver.url)
    receiver.answer(*[500] * 40)
    create_users(scim, "ava", "bo")
    while endpoint_row(app, endpoint_id).failing_since is None:
        deliver(app, clock)
        clock.now = endpoint_row(app, endpoint_id).next_attempt_at or clock.now
    endpoint = endpoint_row(app, endpoint_id)
    assert endpoint.failing_since == NOW + timedelta(hours=24)
    assert {item.event()["id"] for item in receiver.received} == {"1"}  # event 2 never went first
    with app.app_context():
        [status] = webhook_endpoints_of(organization_by_name("Contoso").id)
        assert status.health is Health.FAILING and status.backlog == 2

    attempts = len(receiver.received)
    clock.advance(days=3)
    deliver(app, clock)
    assert len(receiver.received) == attempts  # stopped

    receiver.script.clear()
    with app.app_context():
        webhook_endpoint_resume(organization_id=endpoint.organization_id, endpoint_id=endpoint_id, now=clock())
    deliver(app, clock)
    assert [e["id"] for e in receiver.delivered()] == ["1", "2"]


def test_a_receiver_that_does_not_answer_in_time_is_a_failure(app, scim, receiver, clock):
    app.config["WEBHOOK_TIMEOUT_SECONDS"] = 0.2
    endpoint_id, _ = add_endpoint(app, receiver.url)
    receiver.answer(HANG)
    create_users(scim, "ava")
    deliver(app, clock)
    [attempt] = log_of(app, endpoint_id)
    assert attempt.outcome == "failed" and attempt.status is None
    assert attempt.error == "no answer within 0.2 s"


def test_one_endpoint_is_held_by_one_worker_at_a_time(app, scim, receiver, clock):
    endpoint_id, _ = add_endpoint(app, receiver.url)
    create_users(scim, "ava")
    with app.app_context():
        first = delivery_claim(now=NOW, lease_id="first", lease_seconds=60)
        assert first is not None and first.endpoint_id == endpoint_id
        assert delivery_claim(now=NOW + timedelta(seconds=59), lease_id="second", lease_seconds=60) is None
        # The first worker died: its lease runs out, and another takes the endpoint.
        second = delivery_claim(now=NOW + timedelta(seconds=61), lease_id="second", lease_seconds=60)
        assert second is not None
        # The first worker's late answer no longer moves the endpoint.
        [item] = delivery_batch(first, limit=10)
        attempt = Attempt(NOW, 200, None, None, 1.0)
        assert delivery_record(first, item, attempt, retry_at=None, lease_seconds=60) is False
        assert db.session.get(WebhookEndpoint, endpoint_id).last_seq == 0
        [item] = delivery_batch(second, limit=10)
        assert delivery_record(second, item, attempt, retry_at=None, lease_seconds=60) is True
        assert db.session.get(WebhookEndpoint, endpoint_id).last_seq == 1


def test_an_admin_redelivers_a_past_event(app, scim, receiver, clock):
    endpoint_id, _ = add_endpoint(app, receiver.url)
    create_users(scim, "ava", "bo")
    deliver(app, clock)
    first = log_of(app, endpoint_id)[0]
    with app.app_context():
        organization_id = organization_by_name("Contoso").id
        webhook_redeliver(organization_id=organization_id, endpoint_id=endpoint_id, delivery_id=first.id, now=NOW)
    assert log_of(app, endpoint_id)[-1].outcome == "queued"
    clock.advance(minutes=1)
    deliver(app, clock)
    assert [e["id"] for e in receiver.delivered()] == ["1", "2", "1"]
    again = log_of(app, endpoint_id)[-1]
    assert (again.redelivery, again.outcome, again.event_seq, again.occurred_at) == (True, "delivered", 1, clock.now)


def test_a_disabled_endpoint_gets_nothing_until_it_is_enabled(app, scim, receiver, clock):
    endpoint_id, _ = add_endpoint(app, receiver.url)
    with app.app_context():
        organization_id = organization_by_name("Contoso").id
        webhook_endpoint_disable(organization_id=organization_id, endpoint_id=endpoint_id, now=NOW)
    create_users(scim, "ava")
    deliver(app, clock)
    assert receiver.received == []
    with app.app_context():
        webhook_endpoint_resume(organization_id=organization_id, endpoint_id=endpoint_id, now=NOW)
    deliver(app, clock)
    assert [e["id"] for e in receiver.delivered()] == ["1"]


def test_the_connection_goes_to_the_checked_address_with_the_name_as_host(app, scim, receiver, clock, monkeypatch):
    port = receiver.server.server_address[1]
    monkeypatch.setattr(addresses, "resolve", lambda host, port: [ipaddress.ip_address("127.0.0.1")])
    add_endpoint(app, f"http://hooks.consumer.test:{port}/in")
    create_users(scim, "ava")
    deliver(app, clock)
    [item] = receiver.received
    assert item.headers["Host"] == f"hooks.consumer.test:{port}"


def test_an_address_that_changed_since_the_check_is_refused_at_delivery(app, scim, receiver, clock, monkeypatch):
    app.config["WEBHOOK_ALLOW_PRIVATE_NETWORKS"] = False
    answers = {"hooks.consumer.test": "93.184.216.34"}
    monkeypatch.setattr(addresses, "resolve", lambda host, port: [ipaddress.ip_address(answers[host])])
    endpoint_id, _ = add_endpoint(app, "https://hooks.consumer.test/in")
    answers["hooks.consumer.test"] = "169.254.169.254"  # DNS rebinding to the metadata service
    create_users(scim, "ava")
    deliver(app, clock)
    [attempt] = log_of(app, endpoint_id)
    assert attempt.outcome == "failed" and attempt.status is None
    assert attempt.error.startswith("not sent: hooks.consumer.test resolves to 169.254.169.254, a link-local address")


@pytest.mark.parametrize("app_config", [{}])
def test_private_addresses_are_refused_without_the_setting(app, scim, receiver):
    with pytest.raises(WebhookUrlError, match="https://"):
        add_endpoint(app, receiver.url)
    with pytest.raises(WebhookUrlError, match="loopback"):
        add_endpoint(app, receiver.url.replace("http://", "https://"))
    with app.app_context():
        assert db.session.execute(select(WebhookEndpoint)).first() is None


def test_a_redelivery_of_a_pruned_event_says_so(app, scim, receiver, clock):
    endpoint_id, _ = add_endpoint(app, receiver.url)
    create_users(scim, "ava")
    deliver(app, clock)
    with app.app_context():
        organization_id = organization_by_name("Contoso").id
        db.session.execute(update(DirectoryEvent).values(occurred_at=NOW - timedelta(days=40)))
        db.session.commit()
        assert events_prune(now=NOW, days=30) == 1
        webhook_redeliver(organization_id=organization_id, endpoint_id=endpoint_id,
                          delivery_id=log_of(app, endpoint_id)[0].id, now=NOW)
    deliver(app, clock)
    assert log_of(app, endpoint_id)[-1].error == "not sent: the event is no longer kept (older than the retention)"
    assert len(receiver.received) == 1


def test_each_organization_s_endpoints_get_only_its_events(app, scim, other_scim, receiver, clock):
    with Receiver() as other:
        add_endpoint(app, receiver.url)
        add_endpoint(app, other.url, organization="Fabrikam")
        create_users(scim, "ava")
        other_scim.post("/Users", json={"userName": "someone@fabrikam.com"})
        deliver(app, clock)
        assert [e["data"]["userName"] for e in receiver.delivered()] == ["ava@contoso.com"]
        assert [e["data"]["userName"] for e in other.delivered()] == ["someone@fabrikam.com"]



def test_only_changes_of_organizations_with_webhooks_wake_the_worker(app, scim, other_scim, receiver):
    add_endpoint(app, receiver.url)
    worker = Worker(app)
    with app.app_context():
        worker.watched = frozenset(organizations_with_endpoints())
    events.committed.connect(worker._changed, weak=False)
    try:
        other_scim.post("/Users", json={"userName": "someone@fabrikam.com"})
        assert not worker.wake.is_set()  # Fabrikam has no webhook: its sync costs the worker nothing
        create_users(scim, "ava")
        assert worker.wake.is_set()
    finally:
        events.committed.disconnect(worker._changed)


@pytest.mark.parametrize(("retention", "days"), [
    ({}, 30),  # as long as the provisioning log
    ({"PROVISIONING_LOG_RETENTION_DAYS": "7"}, 7),
    ({"EVENT_RETENTION_DAYS": "7", "PROVISIONING_LOG_RETENTION_DAYS": "90"}, 7),
])
def test_the_worker_prunes_events_and_deliveries_past_their_retention(app, scim, receiver, clock, retention, days):
    app.config.update(retention)
    endpoint_id, _ = add_endpoint(app, receiver.url)
    create_users(scim, "old")
    deliver(app, clock)
    clock.advance(days=days - 1)
    create_users(scim, "recent")
    deliver(app, clock)
    clock.advance(days=1, minutes=1)
    with app.app_context():
        assert prune_expired(app, now=clock()) == 2  # the old event and its delivery
        key = api_key_create(organization_id=organization_by_name("Contoso").id, label="")[1]
    assert [d.event_seq for d in log_of(app, endpoint_id)] == [2]
    feed = app.test_client().get("/api/v1/events", query_string={"after": "0"},
                                 headers={"Authorization": f"Bearer {key}"})
    assert feed.status_code == 410


@pytest.mark.parametrize("app_config", [{"EVENT_RETENTION_DAYS": "0", "PROVISIONING_LOG_RETENTION_DAYS": "7"}])
def test_a_retention_of_zero_keeps_every_event(app, scim, clock):
    create_users(scim, "ava")
    clock.advance(days=400)
    with app.app_context():
        assert prune_expired(app, now=clock()) == 0
        assert db.session.execute(select(DirectoryEvent)).scalar_one().seq == 1


@pytest.mark.parametrize("value", ["thirty", "-1"])
def test_a_wrong_events_retention_stops_the_start(tmp_path, value):
    with pytest.raises(ValueError, match="EVENT_RETENTION_DAYS"):
        create_app({"SECRET_KEY": "x", "DATABASE_URL": f"sqlite:///{tmp_path / 'x.sqlite3'}",
                    "EVENT_RETENTION_DAYS": value}, instance_path=tmp_path)
