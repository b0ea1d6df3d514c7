"""Every /scim_v2 request leaves one ProvisioningEvent in plain words, without secrets; servers
store them in batches."""
import time

import pytest

from jericho.api import provisioning_log
from jericho.extensions import db
from jericho.storage.models import ProvisioningEvent

from conftest import make_app

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
    from jericho.storage import accounts

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
    from jericho.storage.models import ScimToken

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


@pytest.mark.parametrize("value", [-1, "soon", 3600 * 24])
def test_a_wrong_flush_delay_stops_the_start(tmp_path, value):
    with pytest.raises(ValueError, match="PROVISIONING_LOG_FLUSH_SECONDS must be between 0 and 60"):
        make_app(tmp_path, PROVISIONING_LOG_FLUSH_SECONDS=value)
