"""kill -9 of the whole server under an Entra-shaped load (test_crash's load and ledger), then a
restart: every change answered 2xx has its event, the events are numbered without a gap, and
replaying them gives exactly the directory the server holds — so no event of a rolled-back change
was kept either."""
from __future__ import annotations

from conftest import new_token
from jericho.storage import accounts
from jericho.storage.api_keys import api_key_create
from servers import Server, running_server
from system.test_crash import CLIENTS, kill_under_load


def read_feed(server: Server, key: str) -> list[dict]:
    events, after = [], "0"
    while True:
        page = server.request("GET", f"/api/v1/events?after={after}&limit=1000", token=key).json()
        events += page["data"]
        after = page["next"]
        if not page["hasMore"]:
            return events


def replay(events: list[dict]) -> tuple[dict[str, dict], dict[str, dict], dict[str, set[str]]]:
    """Users, groups and members as a consumer following the feed would hold them."""
    users: dict[str, dict] = {}
    groups: dict[str, dict] = {}
    members: dict[str, set[str]] = {}
    for event in events:
        kind, data = event["type"], event["data"]
        if kind == "user.deleted":
            users.pop(data["id"])
            for group in members.values():
                group.discard(data["id"])
        elif kind.startswith("user."):
            users[data["id"]] = data
        elif kind == "group.deleted":
            groups.pop(data["id"])
            members.pop(data["id"])
        elif kind == "group.member_added":
            members[data["group"]["id"]].add(data["user"]["id"])
        elif kind == "group.member_removed":
            members[data["group"]["id"]].discard(data["user"]["id"])
        else:
            groups[data["id"]] = data
            members.setdefault(data["id"], set())
    return users, groups, members


def test_kill_9_under_load_loses_no_event_of_an_answered_change(app, tmp_path):
    token = new_token(app)
    with app.app_context():
        key = api_key_create(organization_id=accounts.organization_by_name("Contoso").id, label="crash")[1]
    with running_server(app.config["SQLALCHEMY_DATABASE_URI"], tmp_path, workers=4) as server:
        ledgers = kill_under_load(server, token)
        events = read_feed(server, key)
        stored_users = {user["id"]: user for user in
                        server.scim("GET", "/Users?count=1000", token).json()["Resources"]}
        stored_groups = {group["id"]: group for group in
                         server.scim("GET", "/Groups?count=100", token).json()["Resources"]}

    assert len(events) > CLIENTS, "the load did not get going"
    assert [event["id"] for event in events] == [str(number) for number in range(1, len(events) + 1)]

    # Every answered change has its event.
    seen = {(event["type"], event["data"]["id"]) for event in events if not event["type"].startswith("group.member")}
    titles = {(event["data"]["id"], event["data"]["title"]) for event in events if event["type"].startswith("user.")}
    added = {(event["data"]["group"]["id"], event["data"]["user"]["id"]) for event in events
             if event["type"] == "group.member_added"}
    for ledger in ledgers:
        for user_id, generation in ledger.users.items():
            assert ("user.created", user_id) in seen
            assert generation == 0 or (user_id, f"gen{generation}") in titles
        assert {("user.deactivated", user_id) for user_id in ledger.disabled} <= seen
        assert {("user.deleted", user_id) for user_id in ledger.deleted} <= seen
        assert {(group, user) for group, users in ledger.members.items() for user in users} <= added

    # And nothing else: the feed replayed is the directory as stored.
    users, groups, members = replay(events)
    assert users.keys() == stored_users.keys() and groups.keys() == stored_groups.keys()
    for user_id, user in users.items():
        stored = stored_users[user_id]
        assert (user["title"], user["displayName"], user["active"]) == (
            stored.get("title"), stored.get("displayName"), stored["active"])
    for group_id, group in groups.items():
        assert group["displayName"] == stored_groups[group_id]["displayName"]
        assert members[group_id] == {member["value"] for member in stored_groups[group_id].get("members", [])}
