"""Bearer authentication with the tokens a process remembers: a revocation still stops a token at
once, in every server process sharing the database, and a known token costs no transaction of
its own."""
from __future__ import annotations

import pytest

from jericho.api import provisioning_log
from jericho.extensions import db
from jericho.storage import accounts, token_checks
from jericho.storage.models import Organization, ScimToken, User
from jericho.storage.token_checks import TokenRefused

from conftest import START, ScimClient, make_app

USER_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:User"


@pytest.fixture
def second_app(app, tmp_path):
    """Another server process's app on the same database: its own remembered tokens, its own engine."""
    other = make_app(tmp_path / "second", DATABASE_URL=app.config["SQLALCHEMY_DATABASE_URI"])
    yield other
    with other.app_context():
        db.session.remove()
        db.engine.dispose()


def new_user(name: str) -> dict:
    return {"schemas": [USER_SCHEMA], "userName": name}


def revoke(app, token: str) -> None:
    with app.app_context():
        accounts.token_revoke(prefix=token.split("_")[1])


def test_a_token_both_processes_know_stops_in_both_at_once(app, second_app, scim):
    there = ScimClient(second_app.test_client(), scim.token)
    ava = scim.post("/Users", json=new_user("ava@contoso.com")).get_json()
    assert there.get(f"/Users/{ava['id']}").status_code == 200  # both remember the token now
    revoke(app, scim.token)
    for client in (scim, there):
        assert client.get(f"/Users/{ava['id']}").get_json()["detail"] == "revoked token"
        assert client.get("/Users?filter=userName eq \"ava@contoso.com\"").status_code == 401
        assert client.post("/Users", json=new_user("bo@contoso.com")).status_code == 401
        assert client.delete(f"/Users/{ava['id']}").status_code == 401
    with app.app_context():
        assert db.session.execute(db.select(User.user_name)).scalars().all() == ["ava@contoso.com"]


def test_a_revocation_in_another_process_stops_a_write(app, second_app, scim):
    there = ScimClient(second_app.test_client(), scim.token)
    ava = there.post("/Users", json=new_user("ava@contoso.com")).get_json()
    revoke(app, scim.token)
    response = there.patch(f"/Users/{ava['id']}", json={
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [{"op": "replace", "path": "active", "value": False}]})
    assert response.status_code == 401
    with app.app_context():
        assert db.session.execute(db.select(User.active)).scalar_one() is True


@pytest.mark.parametrize("path", ["/ServiceProviderConfig", "/Schemas", "/Nowhere", "/Bulk"])
def test_requests_that_read_no_table_refuse_a_revoked_token(app, scim, path):
    assert scim.get("/ServiceProviderConfig").status_code == 200
    revoke(app, scim.token)
    assert scim.get(path).get_json()["detail"] == "revoked token"


def test_a_refused_body_still_answers_401_to_a_revoked_token(app, scim):
    scim.get("/ServiceProviderConfig")
    revoke(app, scim.token)
    response = scim.post("/Users", data="{not json", content_type="application/scim+json")
    assert response.status_code == 401


def test_a_token_deleted_with_its_organization_is_unknown_at_once(app, scim):
    scim.get("/Users")
    with app.app_context():
        db.session.execute(db.delete(Organization))
        db.session.commit()
    assert scim.get("/Users").get_json()["detail"] == "unknown token"


def test_a_remembered_token_whose_id_now_names_another_token_is_unknown(app, scim):
    """SQLite gives a new row the largest id plus one, so a deleted token's id can come back as
    another token's: the check matches the remembered token's hash too, not just its id."""
    scim.get("/Users")
    with app.app_context():
        token = db.session.execute(db.select(ScimToken)).scalar_one()
        token.secret_hash = "0" * 64  # the same id, another token
        db.session.commit()
    assert scim.get("/Users").get_json()["detail"] == "unknown token"


def test_a_write_retried_after_a_rollback_checks_the_token_again(app, scim):
    """A write that lost a deadlock runs again in a new transaction (storage.database.writes):
    a revocation committed in between stops it."""
    scim.get("/Users")
    with app.test_request_context("/scim_v2/Users"):
        token_id, secret_hash = db.session.execute(db.select(ScimToken.id, ScimToken.secret_hash)).one()
        db.session.rollback()
        token_checks.check_in_first_transaction(token_id, secret_hash)
        db.session.execute(db.select(User.pk)).all()  # the first attempt, checked
        db.session.rollback()  # lost a deadlock
        with db.engine.begin() as elsewhere:  # another process revokes the token meanwhile
            elsewhere.execute(db.update(ScimToken).values(revoked_at=START))
        with pytest.raises(TokenRefused):
            db.session.execute(db.select(User.pk)).all()  # the retry


def test_a_known_token_costs_no_transaction_of_its_own(app, scim, monkeypatch, listen):
    ava = scim.post("/Users", json=new_user("ava@contoso.com")).get_json()
    # On a server the log is written apart from the request, in batches (test_provisioning_log.py).
    monkeypatch.setattr(app.extensions[provisioning_log.EXTENSION], "_store", lambda batch: None)
    transactions, statements = [], []
    listen("begin", transactions.append)
    listen("before_cursor_execute", lambda *args: statements.append(args[2]))
    assert scim.get(f"/Users/{ava['id']}").status_code == 200
    reads = [s for s in statements if s.lstrip().upper().startswith("SELECT")]
    assert len(transactions) == 1 and len(reads) == 2, statements  # the token's check, the user with its groups
    transactions.clear()
    assert scim.post("/Users", json=new_user("bo@contoso.com")).status_code == 201
    assert len(transactions) == 1
