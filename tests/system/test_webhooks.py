"""Webhooks from real gunicorn servers, as `make run` starts them (the delivery thread of each
worker process): a receiver that fails, then recovers, gets every event once and in order, even
when the server is killed in between and restarted."""
from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone

import pytest

from conftest import new_token
from jericho.storage import accounts
from jericho.storage.api_keys import api_key_create
from jericho.webhooks.endpoints import endpoint_add
from jericho.webhooks.signing import verify
from receiver import Receiver
from servers import Server, running_server
from system.test_events_crash import read_feed

CONFIG = {"WEBHOOK_ALLOW_PRIVATE_NETWORKS": True}
USERS = 24
# The first retry comes 10 s after a failure; the second 30 s after that.
ARRIVAL_TIMEOUT = 90
CREATED = datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc)


@pytest.fixture
def app_config():
    return CONFIG


def traffic(server: Server, token: str) -> None:
    """Entra's first cycle for a small team, from four clients at once, then an incremental one."""
    def person(number: int) -> str:
        reply = server.scim("POST", "/Users", token, {"userName": f"p{number}@contoso.com", "active": True})
        assert reply.status == 201
        return reply.json()["id"]

    with ThreadPoolExecutor(4) as pool:
        people = list(pool.map(person, range(USERS)))
    group = server.scim("POST", "/Groups", token, {"displayName": "Everyone"}).json()["id"]
    for start in range(0, USERS, 8):
        body = {"Operations": [{"op": "Add", "path": "members", "value": [{"value": p} for p in people[start:start + 8]]}]}
        assert server.scim("PATCH", f"/Groups/{group}", token, body).status == 204
    assert server.scim("PATCH", f"/Users/{people[0]}", token,
                       {"Operations": [{"op": "Replace", "path": "active", "value": "False"}]}).status == 200
    assert server.scim("DELETE", f"/Users/{people[1]}", token).status == 204


def test_a_receiver_that_fails_then_recovers_gets_every_event_once_in_order(app, tmp_path):
    token = new_token(app)
    with Receiver() as receiver, app.app_context():
        organization_id = accounts.organization_by_name("Contoso").id
        key = api_key_create(organization_id=organization_id, label="system")[1]
        _, secret = endpoint_add(organization_id=organization_id, url=receiver.url, events="*", now=CREATED)
        receiver.answer(503, 500)  # down for the first two attempts: retried after 10 s, then 30 s
        with running_server(app.config["SQLALCHEMY_DATABASE_URI"], tmp_path, workers=4, config=CONFIG) as server:
            traffic(server, token)
            # Killed while the first event waits for its retry; the deliveries are rows.
            server.kill()
            server.start()
            expected = read_feed(server, key)
            assert receiver.wait_for(len(expected), timeout=ARRIVAL_TIMEOUT), server.log()[-3000:]

    assert [item.status for item in receiver.received[:2]] == [503, 500]
    assert {item.event()["id"] for item in receiver.received[:3]} == {"1"}
    assert receiver.delivered() == expected  # every event, once, in order
    for item in receiver.received:
        signed_at = int(item.headers["Jericho-Signature"].split(",")[0].removeprefix("t="))
        assert verify(secret, item.headers["Jericho-Signature"], item.body, now=signed_at)
        assert json.loads(item.body)["id"] == item.headers["Jericho-Event-Id"]
