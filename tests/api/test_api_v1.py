"""/api/v1: API keys, the directory read by cursor, the events feed, and errors that are JSON."""
from __future__ import annotations

import threading
import time
from datetime import datetime, timedelta, timezone
from typing import Iterator

import pytest
import sqlalchemy
from readme_samples import python_sample, run_sample
from sqlalchemy import select, update
from werkzeug.serving import make_server

from jericho.extensions import db
from jericho.security import IdCipher
from jericho.storage import accounts, directory, events
from jericho.storage.api_keys import api_key_create, api_key_revoke
from jericho.storage.consumer_models import ApiKey, DirectoryEvent
from jericho.storage.models import Group, User

from conftest import ScimClient, new_token

from conftest import ScimClient, new_token

PATCH_OP = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
NOW = datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc)


class ApiClient:
    """The test client reading /api/v1 with an API key, as the consuming product does."""

    def __init__(self, client, key: str) -> None:
        self.client, self.key = client, key

    def get(self, path: str, headers: dict | None = None, **params):
        headers = {"Authorization": f"Bearer {self.key}", **(headers or {})}
        return self.client.get("/api/v1" + path, query_string=params, headers=headers)

    def all(self, path: str, **params) -> list[dict]:
        """Every item of a list, page after page."""
        items, after = [], None
        while True:
            page = self.get(path, **params, **({"after": after} if after else {})).get_json()
            items += page["data"]
            after = page["next"]
            if after is None:
                return items


def new_api_key(app, organization: str = "Contoso") -> str:
    with app.app_context():
        return api_key_create(organization_id=accounts.organization_by_name(organization).id, label="training")[1]


@pytest.fixture
def api(app, scim, client) -> ApiClient:
    return ApiClient(client, new_api_key(app))


def create_user(scim, user_name: str, /, **attributes) -> str:
    response = scim.post("/Users", json={"userName": user_name, **attributes})
    assert response.status_code == 201, response.get_json()
    return response.get_json()["id"]


def create_group(scim, name: str, members=()) -> str:
    response = scim.post("/Groups", json={"displayName": name, "members": [{"value": m} for m in members]})
    assert response.status_code == 201
    return response.get_json()["id"]


def deactivate(scim, user_id: str) -> None:
    scim.patch(f"/Users/{user_id}", json={"schemas": [PATCH_OP], "Operations": [
        {"op": "Replace", "path": "active", "value": "False"}]})


# -- keys ----------------------------------------------------------------------------------------


def test_an_api_key_reads_and_a_scim_token_does_not(app, scim, api, client):
    assert api.get("/users").status_code == 200
    refused = client.get("/api/v1/users", headers={"Authorization": f"Bearer {scim.token}"})
    assert refused.status_code == 401
    assert refused.get_json() == {"error": "unauthorized", "message": "unknown API key"}
    assert refused.headers["WWW-Authenticate"] == 'Bearer realm="api"'


def test_an_api_key_is_refused_under_scim(app, scim, api):
    reader = ScimClient(app.test_client(), api.key)
    assert reader.get("/Users").status_code == 401
    assert reader.post("/Users", json={"userName": "mallory@contoso.com"}).status_code == 401


@pytest.mark.parametrize("authorization", [None, "", "Bearer ", "Basic abc", "Bearer jak_00000000_nothing"])
def test_requests_without_a_valid_key_are_refused(client, api, authorization):
    headers = {} if authorization is None else {"Authorization": authorization}
    response = client.get("/api/v1/users", headers=headers)
    assert response.status_code == 401
    assert response.mimetype == "application/json" and response.get_json()["error"] == "unauthorized"


def test_a_revoked_key_is_refused_at_once(app, api):
    with app.app_context():
        prefix = db.session.execute(select(ApiKey.prefix)).scalar_one()
        api_key_revoke(prefix=prefix, now=NOW)
    response = api.get("/users")
    assert response.status_code == 401 and response.get_json()["message"] == "this API key is revoked"


def test_keys_are_stored_hashed_with_their_own_prefix(app, api):
    assert api.key.startswith("jak_")
    with app.app_context():
        key = db.session.execute(select(ApiKey)).scalar_one()
        assert api.key.startswith(f"jak_{key.prefix}_") and api.key not in (key.secret_hash, key.prefix)


def test_the_last_use_and_last_poll_are_recorded(app, scim, api):
    create_user(scim, "ava@contoso.com")
    api.get("/users")
    with app.app_context():
        key = db.session.execute(select(ApiKey)).scalar_one()
        assert key.last_used_at is not None and key.last_poll_at is None
    api.get("/events")
    with app.app_context():
        key = db.session.execute(select(ApiKey)).scalar_one()
        assert key.last_poll_at is not None and key.last_poll_seq == 1


# -- the directory ------------------------------------------------------------------------------


def test_a_user_looks_the_same_in_every_answer(app, scim, api):
    manager = create_user(scim, "boss@contoso.com")
    ava = create_user(scim, "Ava@Contoso.com", displayName="Ava Lind", title="Analyst",
                      name={"givenName": "Ava", "familyName": "Lind"},
                      emails=[{"type": "other", "value": "ava@home.example"},
                              {"type": "work", "value": "ava@contoso.com"}],
                      **{ENTERPRISE: {"department": "Finance", "manager": manager}})
    finance = create_group(scim, "Finance", [ava])
    user = api.get(f"/users/{ava}").get_json()
    assert user | {"createdAt": None, "updatedAt": None, "raw": None} == {
        "id": ava, "userName": "Ava@Contoso.com", "email": "ava@contoso.com", "firstName": "Ava", "lastName": "Lind",
        "displayName": "Ava Lind", "title": "Analyst", "department": "Finance", "managerId": manager,
        "active": True, "groups": [finance], "createdAt": None, "updatedAt": None, "raw": None,
    }
    assert user["raw"]["emails"][0]["value"] == "ava@home.example"
    assert user["createdAt"].endswith("Z")
    assert [u for u in api.all("/users") if u["id"] == ava] == [user]
    assert api.all(f"/groups/{finance}/members") == [user]
    assert api.get("/events").get_json()["data"][-1]["data"]["user"] == user


def test_lists_page_by_cursor_without_repeats_or_gaps(scim, api):
    ids = [create_user(scim, f"p{number}@contoso.com") for number in range(7)]
    first = api.get("/users", limit=3).get_json()
    assert [u["id"] for u in first["data"]] == ids[:3] and first["next"]
    second = api.get("/users", limit=3, after=first["next"]).get_json()
    third = api.get("/users", limit=3, after=second["next"]).get_json()
    assert [u["id"] for u in second["data"] + third["data"]] == ids[3:]
    assert third["next"] is None
    exactly = api.get("/users", limit=7).get_json()
    assert len(exactly["data"]) == 7 and exactly["next"] is None
    # A user deleted between two pages moves nothing.
    scim.delete(f"/Users/{ids[3]}")
    assert [u["id"] for u in api.get("/users", limit=3, after=first["next"]).get_json()["data"]] == ids[4:7]


def test_page_cursors_tell_nothing_of_other_organizations(app, scim, other_scim, api):
    """Users and groups are keyed across organizations: a key as it is would let a consumer count
    the users and groups the others add. A cursor carries it through a keyed permutation, and a
    raw key is no cursor."""
    for number in range(3):
        create_user(scim, f"p{number}@contoso.com")
        create_user(other_scim, f"p{number}@fabrikam.com")
        create_group(scim, f"Team {number}")
        create_group(other_scim, f"Team {number}")
    with app.app_context():
        own = {name: list(db.session.execute(select(model.pk).where(model.organization_id == 1).order_by(model.pk))
                          .scalars()) for name, model in (("users", User), ("groups", Group))}
    assert own == {"users": [1, 3, 5], "groups": [1, 3, 5]}
    for name, keys in own.items():
        cursors = [api.get(f"/{name}", limit=1).get_json()["next"]]
        cursors.append(api.get(f"/{name}", limit=1, after=cursors[0]).get_json()["next"])
        assert None not in cursors and not set(cursors) & {str(key) for key in keys}
        for cursor in (str(keys[0]), *(IdCipher(app.config["SECRET_KEY"], "api page cursors").hide(beyond)
                                       for beyond in (2**63, 2**64 - 1))):  # past what any key can be
            refused = api.get(f"/{name}", after=cursor)
            assert refused.status_code == 400 and refused.get_json()["error"] == "invalid_cursor"


def test_users_filter_by_state_and_by_group(scim, api):
    ava, bo, cy = (create_user(scim, f"{name}@contoso.com") for name in ("ava", "bo", "cy"))
    finance = create_group(scim, "Finance", [bo, cy])
    deactivate(scim, cy)
    assert [u["id"] for u in api.all("/users", active="false")] == [cy]
    assert [u["id"] for u in api.all("/users", active="true")] == [ava, bo]
    assert [u["id"] for u in api.all("/users", group=finance)] == [bo, cy]
    assert [u["id"] for u in api.all("/users", group=finance, active="TRUE")] == [bo]
    assert [u["id"] for u in api.all(f"/groups/{finance}/members", active="false")] == [cy]
    assert [u["id"] for u in api.all(f"/groups/{finance}/members", limit=1)] == [bo, cy]


def test_groups_are_listed_and_read(scim, api):
    finance, sales = create_group(scim, "Finance"), create_group(scim, "Sales")
    assert [(g["id"], g["displayName"]) for g in api.all("/groups", limit=1)] == [(finance, "Finance"), (sales, "Sales")]
    group = api.get(f"/groups/{sales}").get_json()
    assert set(group) == {"id", "displayName", "externalId", "createdAt", "updatedAt", "raw"}


@pytest.mark.parametrize("path", ["/users/{id}", "/groups/{id}", "/groups/{id}/members", "/users?group={id}"])
@pytest.mark.parametrize("scim_id", ["00000000-0000-0000-0000-000000000000", "x%00y", "../users", "' OR 1=1 --"])
def test_unknown_ids_answer_404_in_json(api, path, scim_id):
    url, _, query = path.format(id=scim_id).partition("?")
    response = api.get(url, **dict([query.split("=", 1)]) if query else {})
    assert response.status_code == 404
    assert response.get_json()["error"] == "not_found"


@pytest.mark.parametrize(("params", "message"), [
    ({"limit": "0"}, "limit must be a whole number from 1 to 1000"),
    ({"limit": "ten"}, "limit must be"),
    ({"limit": "-5"}, "limit must be"),
    ({"limit": "9" * 5000}, "limit must be"),
    ({"after": "abc"}, "after must be a cursor"),
    ({"after": "1" * 40}, "after must be a cursor"),
    ({"active": "maybe"}, "active must be true or false"),
])
def test_bad_parameters_answer_400_saying_why(api, params, message):
    response = api.get("/users", **params)
    assert response.status_code == 400
    assert message in response.get_json()["message"]


def test_a_large_limit_gives_the_largest_page(scim, api):
    create_user(scim, "ava@contoso.com")
    assert api.get("/users", limit="999999").status_code == 200


def test_errors_are_json_never_html_nor_a_traceback(app, api, client):
    missing = api.get("/nothing-here")
    assert missing.status_code == 404 and missing.get_json()["error"] == "not_found"
    wrong_method = client.post("/api/v1/users", headers={"Authorization": f"Bearer {api.key}"})
    assert wrong_method.status_code == 405 and wrong_method.get_json()["error"] == "method_not_allowed"
    assert wrong_method.headers["Allow"]


def test_an_unexpected_error_is_a_json_500_without_a_traceback(api, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("secret internals")

    monkeypatch.setattr(directory, "users_page", broken)
    response = api.get("/users")
    assert response.status_code == 500 and response.mimetype == "application/json"
    assert response.get_json()["error"] == "internal_server_error" and response.get_json()["message"]
    assert b"secret internals" not in response.data and b"RuntimeError" not in response.data


def test_answers_are_never_cached(api):
    assert api.get("/users").headers["Cache-Control"] == "no-store"
    assert api.get("/nothing").headers["Cache-Control"] == "no-store"


def test_an_organization_sees_only_its_own_directory(app, scim, other_scim, api):
    ava = create_user(scim, "ava@contoso.com")
    finance = create_group(scim, "Finance", [ava])
    someone = create_user(other_scim, "someone@fabrikam.com")
    fabrikam = ApiClient(app.test_client(), new_api_key(app, "Fabrikam"))
    assert [u["id"] for u in fabrikam.all("/users")] == [someone]
    assert fabrikam.all("/groups") == []
    for path in (f"/users/{ava}", f"/groups/{finance}", f"/groups/{finance}/members"):
        assert fabrikam.get(path).status_code == 404
    assert fabrikam.get("/users", group=finance).status_code == 404
    assert [e["data"]["userName"] for e in fabrikam.get("/events").get_json()["data"]] == ["someone@fabrikam.com"]
    assert fabrikam.get("/events/latest").get_json() == {"cursor": "1"}
    assert [u["id"] for u in api.all("/users")] == [ava]


# -- the events feed ----------------------------------------------------------------------------


def test_the_feed_pages_with_after_and_says_whether_more_follows(scim, api):
    assert api.get("/events").get_json() == {"data": [], "next": "0", "hasMore": False}
    ids = [create_user(scim, f"p{number}@contoso.com") for number in range(5)]
    first = api.get("/events", limit=2).get_json()
    assert [e["id"] for e in first["data"]] == ["1", "2"] and first["next"] == "2" and first["hasMore"] is True
    rest = api.get("/events", after=first["next"]).get_json()
    assert [e["data"]["id"] for e in rest["data"]] == ids[2:] and rest["hasMore"] is False
    assert api.get("/events", after=rest["next"]).get_json() == {"data": [], "next": "5", "hasMore": False}
    assert api.get("/events/latest").get_json() == {"cursor": "5"}
    event = first["data"][0]
    assert set(event) == {"id", "type", "occurredAt", "data"} and event["type"] == "user.created"


def test_a_pruned_cursor_answers_410_with_what_to_do(app, scim, api):
    for number in range(3):
        create_user(scim, f"p{number}@contoso.com")
    with app.app_context():
        db.session.execute(update(DirectoryEvent).values(occurred_at=NOW - timedelta(days=40)))
        db.session.commit()
        events.events_prune(now=NOW, days=30)
    response = api.get("/events", after="1")
    assert response.status_code == 410
    body = response.get_json()
    assert body["error"] == "cursor_expired" and "/api/v1/users" in body["message"]
    assert api.get("/events", after="3").status_code == 200


def test_a_change_committed_while_the_feed_is_read_never_makes_a_cursor_look_expired(app, scim, api):
    create_user(scim, "ava@contoso.com")
    writes: list[threading.Thread] = []

    def commit_a_change_meanwhile(conn, cursor, statement, *args) -> None:
        # Once the feed's first query of the events has run: another connection commits event 2.
        if not writes and "FROM directory_events" in statement:
            writes.append(threading.Thread(target=create_user, args=(ScimClient(app.test_client(), scim.token),
                                                                      "bo@contoso.com")))
            writes[0].start()
            writes[0].join()

    with app.app_context():
        engine = db.engine
    sqlalchemy.event.listen(engine, "after_cursor_execute", commit_a_change_meanwhile)
    try:
        response = api.get("/events", after="1")
    finally:
        sqlalchemy.event.remove(engine, "after_cursor_execute", commit_a_change_meanwhile)
    assert writes and response.status_code == 200, response.get_json()
    assert [e["id"] for e in api.get("/events", after=response.get_json()["next"]).get_json()["data"]] == ["2"]


def test_a_cursor_past_the_last_event_is_refused(scim, api):
    create_user(scim, "ava@contoso.com")
    response = api.get("/events", after="2")
    assert response.status_code == 400 and response.get_json()["error"] == "invalid_cursor"


def test_a_consumer_that_follows_the_feed_sees_every_change_once(scim, api):
    seen, after = [], "0"
    for number in range(4):
        create_user(scim, f"p{number}@contoso.com")
        page = api.get("/events", after=after, limit=1).get_json()
        seen += page["data"]
        after = page["next"]
    seen += api.get("/events", after=after).get_json()["data"]
    assert [e["id"] for e in seen] == ["1", "2", "3", "4"]


# -- the README's consumer ----------------------------------------------------------------------


@pytest.fixture
def served(app) -> Iterator[str]:
    """The app over HTTP on 127.0.0.1, for a client that speaks HTTP itself."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, args=(0.02,), daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/api/v1"
    server.shutdown()
    thread.join(10)


class Waiting(Exception):
    """The consumer has read all there is, and would sleep now."""


def run_readme_consumer(api_url: str, key: str, capsys, monkeypatch) -> list[str]:
    """The README's polling consumer, as written, until it would wait for more; what it printed."""
    def sleep(seconds: float) -> None:
        raise Waiting

    monkeypatch.setattr(time, "sleep", sleep)
    with pytest.raises(Waiting):
        run_sample(python_sample("jericho-cursor.txt"),
                   {'"https://scim.example.com/api/v1", "jak_…"': f"{api_url!r}, {key!r}"})
    return capsys.readouterr().out.splitlines()


def test_the_readme_consumer_reads_the_directory_then_follows_the_feed(app, scim, api, served, tmp_path, capsys,
                                                                        monkeypatch):
    monkeypatch.chdir(tmp_path)
    cursor = tmp_path / "jericho-cursor.txt"
    ava = create_user(scim, "ava@contoso.com")
    assert run_readme_consumer(served, api.key, capsys, monkeypatch) == [f"store {[ava]}", "store []"]
    assert cursor.read_text() == "1"

    bo = create_user(scim, "bo@contoso.com")
    finance = create_group(scim, "Finance", [bo])
    assert run_readme_consumer(served, api.key, capsys, monkeypatch) == [
        "apply 2 user.created", "apply 3 group.created", "apply 4 group.member_added"]
    assert cursor.read_text() == "4"

    # Its cursor older than the events kept: 410, and it reads the directory again.
    cursor.write_text("1")
    with app.app_context():
        db.session.execute(update(DirectoryEvent).values(occurred_at=NOW - timedelta(days=40)))
        db.session.commit()
        events.events_prune(now=NOW, days=30)
    assert run_readme_consumer(served, api.key, capsys, monkeypatch) == [f"store {[ava, bo]}", f"store {[finance]}"]
    assert cursor.read_text() == "4"


# -- the command line ---------------------------------------------------------------------------


def test_api_key_commands(app, runner):
    new_token(app)  # Contoso exists
    created = runner.invoke(args=["jericho", "api-key", "create", "--org", "Contoso", "--label", "Training"])
    assert created.exit_code == 0
    key = created.stdout.strip()
    assert key.startswith("jak_") and len(created.stdout.splitlines()) == 1
    prefix = key.split("_")[1]
    listing = runner.invoke(args=["jericho", "api-key", "list", "--org", "Contoso"])
    assert prefix in listing.stdout and "Training" in listing.stdout and key not in listing.stdout
    assert runner.invoke(args=["jericho", "api-key", "revoke", prefix]).exit_code == 0
    assert "revoked" in runner.invoke(args=["jericho", "api-key", "list", "--org", "Contoso"]).stdout


def test_api_key_command_errors(runner):
    created = runner.invoke(args=["jericho", "api-key", "create", "--org", "Nobody"])
    assert created.exit_code == 1 and "no organization named 'Nobody'" in created.output and created.stdout == ""
    revoked = runner.invoke(args=["jericho", "api-key", "revoke", "deadbeef"])
    assert revoked.exit_code == 1 and "no API key with prefix 'deadbeef'" in revoked.output
