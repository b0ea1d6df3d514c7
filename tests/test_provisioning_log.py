"""Every /scim_v2 request leaves one ProvisioningEvent in plain words, without secrets; servers
store them in batches."""
import os
import subprocess
import sys
import time

import pytest

from jericho import provisioning_log
from jericho.extensions import db
from conftest import make_app
from jericho.models import ProvisioningEvent
from servers import running_server

PATCH = "urn:ietf:params:scim:api:messages:2.0:PatchOp"


def events(app):
    with app.app_context():
        return db.session.execute(db.select(ProvisioningEvent).order_by(ProvisioningEvent.id)).scalars().all()


def test_actions_in_plain_words(app, scim):
    scim.get("/Users?filter=userName+eq+%227d420df3-9995-4831-a406-ecf8166f5f6a%22")
    scim.get('/Users?filter=userName+eq+%22ava%40contoso.com%22')
    user = scim.post("/Users", json={"userName": "ava@contoso.com"}).get_json()
    scim.patch(f"/Users/{user['id']}", json={"Operations": [{"op": "Replace", "path": "active", "value": "False"}]})
    group = scim.post("/Groups", json={"displayName": "Finance"}).get_json()
    scim.patch(f"/Groups/{group['id']}", json={"schemas": [PATCH], "Operations": [
        {"op": "Add", "path": "members", "value": [{"value": user["id"]}]}]})
    scim.patch(f"/Groups/{group['id']}", json={"schemas": [PATCH], "Operations": [
        {"op": "Remove", "path": "members", "value": [{"value": user["id"]}]}]})
    scim.delete(f"/Users/{user['id']}")
    scim.post("/Users", json={"userName": "ava@contoso.com"})
    scim.post("/Users", json={"userName": "AVA@contoso.com"})

    logged = [(e.operation, e.action, e.status) for e in events(app)]
    assert logged == [
        ("test_connection", "Test Connection: lookup of a random GUID", 200),
        ("lookup", "look up user ava@contoso.com", 200),
        ("create", "create user ava@contoso.com", 201),
        ("disable", "disable user ava@contoso.com", 200),
        ("create", "create group Finance", 201),
        ("members", "add 1 member to Finance", 204),
        ("members", "remove 1 member from Finance", 204),
        ("delete", "delete user ava@contoso.com", 204),
        ("create", "create user ava@contoso.com", 201),
        ("create", "create user AVA@contoso.com", 409),
    ]
    last = events(app)[-1]
    assert last.scim_type == "uniqueness" and "already exists" in last.error_detail
    assert last.resource_type == "User" and last.duration_ms >= 0


def test_rejected_requests_are_logged_without_the_token(app, client, scim):
    client.get("/scim_v2/Users", headers={"Authorization": "Bearer not-a-real-token"})
    client.get("/scim_v2/Users")
    scim.get("/NoSuchEndpoint")
    rejected = events(app)
    assert [(e.operation, e.status, e.organization_id is None) for e in rejected] == [
        ("rejected", 401, True), ("rejected", 401, True), ("rejected", 404, False)]
    assert rejected[0].error_detail == "unknown token"
    for event in rejected:
        for column in ProvisioningEvent.__table__.columns:
            value = getattr(event, column.key)
            assert "not-a-real-token" not in str(value) and scim.token not in str(value)


def test_revoked_token_is_logged_for_its_organization(app, scim):
    from jericho import accounts

    prefix = scim.token.split("_")[1]
    with app.app_context():
        accounts.token_revoke(prefix=prefix)
    assert scim.get("/Users").status_code == 401
    event = events(app)[-1]
    assert event.organization_id is not None and event.error_detail == "revoked token"


def test_a_failing_log_never_fails_the_request(app, scim, monkeypatch, caplog):
    def broken(batch):
        raise RuntimeError("disk full")

    monkeypatch.setattr(provisioning_log, "_insert", broken)
    assert scim.get("/Users").status_code == 200
    assert "could not record 1 provisioning events" in caplog.text


def test_token_last_use_is_recorded_at_most_once_a_minute(app, scim):
    from jericho.models import ScimToken

    scim.get("/Users")
    with app.app_context():
        first = db.session.execute(db.select(ScimToken.last_used_at)).scalar()
    scim.get("/Users")
    with app.app_context():
        assert db.session.execute(db.select(ScimToken.last_used_at)).scalar() == first
    assert first is not None


# -- the batched writer (PROVISIONING_LOG_FLUSH_SECONDS > 0, as servers run) ------------------------

BATCHED = pytest.mark.parametrize("app_config", [{"PROVISIONING_LOG_FLUSH_SECONDS": 60}])


@BATCHED
def test_events_wait_for_the_writer_and_are_stored_together_in_order(app, scim, monkeypatch):
    batches = []
    insert = provisioning_log._insert
    monkeypatch.setattr(provisioning_log, "_insert", lambda batch: batches.append(len(batch)) or insert(batch))
    scim.get("/Users")
    scim.post("/Users", json={"userName": "ava@contoso.com"})
    scim.get("/Groups")
    assert events(app) == []
    app.extensions[provisioning_log.EXTENSION].flush()
    assert batches == [3]
    assert [e.operation for e in events(app)] == ["list", "create", "list"]


@BATCHED
def test_a_page_shows_what_this_process_has_received(app, scim, client):
    scim.post("/Users", json={"userName": "ava@contoso.com"})
    client.get("/sign-in")
    assert [e.action for e in events(app)] == ["create user ava@contoso.com"]


@pytest.mark.parametrize("app_config", [{"PROVISIONING_LOG_FLUSH_SECONDS": 0.05}])
def test_the_writer_stores_events_on_its_own(app, scim):
    scim.get("/Users")
    deadline = time.monotonic() + 10
    while not events(app) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert [e.operation for e in events(app)] == ["list"]


def test_pending_events_are_stored_when_the_process_exits(app, scim, tmp_path):
    # Another process on the same database, batching, exits at once after one request.
    script = f"""
from pathlib import Path
from conftest import make_app
app = make_app(Path({str(tmp_path)!r}), PROVISIONING_LOG_FLUSH_SECONDS=60)
answer = app.test_client().get("/scim_v2/Users", headers={{"Authorization": "Bearer {scim.token}"}})
assert answer.status_code == 200, answer.data
"""
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120,
                          env={**os.environ, "PYTHONPATH": ":".join(sys.path)})
    assert done.returncode == 0, done.stderr
    assert [e.operation for e in events(app)] == ["list"]


def test_a_server_stores_every_pending_event_when_it_stops(app, scim, tmp_path):
    url = app.config["SQLALCHEMY_DATABASE_URI"]
    with running_server(url, tmp_path, workers=2, config={"PROVISIONING_LOG_FLUSH_SECONDS": 60}) as server:
        for _ in range(6):
            assert server.scim("GET", "/Users", scim.token).status == 200
        assert events(app) == []
        server.process.terminate()  # gunicorn's graceful stop
        server.process.wait(60)
    assert [e.operation for e in events(app)] == ["list"] * 6


@pytest.mark.parametrize("value", [-1, "soon", 3600 * 24])
def test_a_wrong_flush_delay_stops_the_start(tmp_path, value):
    with pytest.raises(ValueError, match="PROVISIONING_LOG_FLUSH_SECONDS must be between 0 and 60"):
        make_app(tmp_path, PROVISIONING_LOG_FLUSH_SECONDS=value)
