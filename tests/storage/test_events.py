"""The events outbox: what each SCIM change records, in the order it committed, and nothing for a
change that changed nothing or failed."""
from __future__ import annotations

import json
import re
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone
from typing import Iterator

import pytest
import sqlalchemy
from sqlalchemy import select, update

from jericho.extensions import db
from jericho.storage import events
from jericho.storage.accounts import organization_by_name
from jericho.storage.consumer_models import DirectoryEvent

PATCH_OP = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
NOW = datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc)


def feed(app, organization: str = "Contoso", after: int | None = None) -> list[dict]:
    with app.app_context():
        organization_id = organization_by_name(organization).id
        return [json.loads(text) for text in events.events_after(organization_id, after=after, limit=10_000).events]


def operations(*ops) -> dict:
    return {"schemas": [PATCH_OP], "Operations": list(ops)}


def create_user(scim, user_name: str, /, **attributes) -> str:
    body = {"userName": user_name, "emails": [{"type": "work", "value": user_name}], **attributes}
    response = scim.post("/Users", json=body)
    assert response.status_code == 201, response.get_json()
    return response.get_json()["id"]


def create_group(scim, name: str, members=()) -> str:
    response = scim.post("/Groups", json={"displayName": name, "members": [{"value": m} for m in members]})
    assert response.status_code == 201, response.get_json()
    return response.get_json()["id"]


def summary(stream: list[dict], names: dict[str, str]) -> list[tuple]:
    """(type, whom) per event, ids replaced by the names the test gave them."""
    def name(resource: dict) -> str:
        return names[resource["id"]]
    return [(event["type"], *(name(event["data"][part]) for part in ("group", "user")))
            if event["type"].startswith("group.member") else (event["type"], name(event["data"]))
            for event in stream]


def test_every_kind_of_change_records_its_event_in_order(app, scim):
    ava = create_user(scim, "ava@contoso.com", name={"givenName": "Ava", "familyName": "Lind"})
    bo = create_user(scim, "bo@contoso.com")
    cy = create_user(scim, "cy@contoso.com")
    finance = create_group(scim, "Finance", [ava, bo])
    names = {ava: "ava", bo: "bo", cy: "cy", finance: "Finance"}

    scim.patch(f"/Users/{ava}", json=operations({"op": "Replace", "path": "title", "value": "Analyst"}))
    scim.patch(f"/Users/{ava}", json=operations({"op": "Replace", "path": "active", "value": "False"}))
    scim.patch(f"/Users/{ava}", json=operations({"op": "Replace", "path": "active", "value": "True"}))
    scim.patch(f"/Groups/{finance}", json=operations(
        {"op": "Remove", "path": "members", "value": [{"value": bo}]},
        {"op": "Add", "path": "members", "value": [{"value": cy}]},
    ))
    scim.patch(f"/Groups/{finance}", json=operations({"op": "Replace", "path": "displayName", "value": "Finance EU"}))
    scim.delete(f"/Users/{bo}")
    scim.delete(f"/Groups/{finance}")

    assert summary(feed(app), names) == [
        ("user.created", "ava"), ("user.created", "bo"), ("user.created", "cy"),
        ("group.created", "Finance"),
        ("group.member_added", "Finance", "ava"), ("group.member_added", "Finance", "bo"),
        ("user.updated", "ava"), ("user.deactivated", "ava"), ("user.reactivated", "ava"),
        ("group.member_removed", "Finance", "bo"), ("group.member_added", "Finance", "cy"),
        ("group.updated", "Finance"),
        ("user.deleted", "bo"),
        ("group.deleted", "Finance"),
    ]


def test_events_carry_the_resource_after_the_change(app, scim):
    manager = create_user(scim, "boss@contoso.com")
    ava = create_user(scim, "Ava@Contoso.com", displayName="Ava Lind", title="Analyst",
                      name={"givenName": "Ava", "familyName": "Lind"},
                      emails=[{"type": "work", "value": "ava@contoso.com"}],
                      **{ENTERPRISE: {"department": "Finance", "manager": {"value": manager}}})
    finance = create_group(scim, "Finance", [ava])
    scim.patch(f"/Users/{ava}", json=operations({"op": "Replace", "path": "active", "value": "False"}))

    created, *_, added, deactivated = feed(app)
    assert created["type"] == "user.created" and created["data"]["active"] is True
    user = deactivated["data"]
    assert user | {"raw": None, "createdAt": None, "updatedAt": None} == {
        "id": ava, "userName": "Ava@Contoso.com", "email": "ava@contoso.com", "firstName": "Ava", "lastName": "Lind",
        "displayName": "Ava Lind", "title": "Analyst", "department": "Finance", "managerId": manager,
        "active": False, "groups": [finance], "raw": None, "createdAt": None, "updatedAt": None,
    }
    assert user["raw"]["userName"] == "Ava@Contoso.com" and user["raw"]["active"] is False
    assert added["data"]["group"]["id"] == finance and added["data"]["group"]["displayName"] == "Finance"
    assert added["data"]["user"]["groups"] == [finance]
    assert [event["id"] for event in feed(app)] == ["1", "2", "3", "4", "5"]
    assert all(event["occurredAt"].endswith("Z") for event in feed(app))


def test_a_patch_that_changes_nothing_records_nothing(app, scim):
    ava = create_user(scim, "ava@contoso.com", title="Analyst")
    finance = create_group(scim, "Finance", [ava])
    before = len(feed(app))
    # Entra re-sends unchanged values every cycle.
    assert scim.patch(f"/Users/{ava}", json=operations(
        {"op": "Replace", "path": "title", "value": "Analyst"})).status_code == 200
    assert scim.patch(f"/Groups/{finance}", json=operations(
        {"op": "Add", "path": "members", "value": [{"value": ava}]})).status_code == 204
    # Removed and added again in one request: the member stayed.
    assert scim.patch(f"/Groups/{finance}", json=operations(
        {"op": "Remove", "path": "members", "value": [{"value": ava}]},
        {"op": "Add", "path": "members", "value": [{"value": ava}]})).status_code == 204
    # A PUT with the same members and name.
    assert scim.put(f"/Groups/{finance}", json={"displayName": "Finance", "members": [{"value": ava}]}).status_code == 200
    assert len(feed(app)) == before


def test_a_put_records_only_the_members_that_changed(app, scim):
    ava, bo, cy = (create_user(scim, f"{name}@contoso.com") for name in ("ava", "bo", "cy"))
    finance = create_group(scim, "Finance", [ava, bo])
    before = len(feed(app))
    scim.put(f"/Groups/{finance}", json={"displayName": "Finance", "members": [{"value": bo}, {"value": cy}]})
    assert summary(feed(app)[before:], {ava: "ava", bo: "bo", cy: "cy", finance: "Finance"}) == [
        ("group.member_removed", "Finance", "ava"), ("group.member_added", "Finance", "cy")]


def test_a_failed_change_records_nothing(app, scim):
    ava = create_user(scim, "ava@contoso.com")
    finance = create_group(scim, "Finance")
    before = len(feed(app))
    assert scim.post("/Users", json={"userName": "AVA@contoso.com"}).status_code == 409
    # Atomic PATCH: the first operation applied, the second failed, both rolled back.
    assert scim.patch(f"/Groups/{finance}", json=operations(
        {"op": "Add", "path": "members", "value": [{"value": ava}]},
        {"op": "Add", "path": "members", "value": [{"value": "00000000-0000-0000-0000-000000000000"}]},
    )).status_code == 400
    assert scim.patch(f"/Users/{ava}", json=operations({"op": "Replace", "path": "active", "value": False}),
                      headers={"If-Match": 'W/"99"'}).status_code == 412
    assert len(feed(app)) == before
    # The numbers they would have taken are the next change's.
    create_user(scim, "bo@contoso.com")
    assert feed(app)[-1]["id"] == str(before + 1)


def test_one_member_event_per_member(app, scim):
    people = [create_user(scim, f"p{number}@contoso.com") for number in range(120)]
    everyone = create_group(scim, "Everyone")
    before = len(feed(app))
    scim.patch(f"/Groups/{everyone}", json=operations({"op": "Add", "path": "members",
                                                       "value": [{"value": p} for p in people]}))
    added = feed(app)[before:]
    assert [event["type"] for event in added] == ["group.member_added"] * 120
    assert [event["data"]["user"]["id"] for event in added] == people
    scim.patch(f"/Groups/{everyone}", json=operations({"op": "Remove", "path": "members"}))
    assert [event["type"] for event in feed(app)[before + 120:]] == ["group.member_removed"] * 120


def test_a_group_as_a_member_makes_no_member_event(app, scim):
    parent, child = create_group(scim, "Parent"), create_group(scim, "Child")
    before = len(feed(app))
    scim.patch(f"/Groups/{parent}", json=operations({"op": "Add", "path": "members", "value": [{"value": child}]}))
    assert feed(app)[before:] == []


def test_each_organization_numbers_its_own_events(app, scim, other_scim):
    create_user(scim, "ava@contoso.com")
    create_user(other_scim, "someone@fabrikam.com")
    create_user(scim, "bo@contoso.com")
    assert [(e["id"], e["data"]["userName"]) for e in feed(app)] == [("1", "ava@contoso.com"), ("2", "bo@contoso.com")]
    assert [(e["id"], e["data"]["userName"]) for e in feed(app, "Fabrikam")] == [("1", "someone@fabrikam.com")]


@pytest.mark.parametrize("app_config", [{"RECORD_DIRECTORY_EVENTS": False}])
def test_the_benchmark_switch_records_nothing(app, scim):
    create_user(scim, "ava@contoso.com")
    with app.app_context():
        assert db.session.execute(select(DirectoryEvent)).first() is None


def test_the_feed_pages_by_cursor_and_refuses_pruned_and_unknown_cursors(app, scim):
    for number in range(5):
        create_user(scim, f"p{number}@contoso.com")
    with app.app_context():
        organization_id = organization_by_name("Contoso").id
        first = events.events_after(organization_id, after=None, limit=2)
        assert (len(first.events), first.next, first.has_more) == (2, 2, True)
        rest = events.events_after(organization_id, after=first.next, limit=10)
        assert (len(rest.events), rest.next, rest.has_more) == (3, 5, False)
        caught_up = events.events_after(organization_id, after=5, limit=10)
        assert (caught_up.events, caught_up.next, caught_up.has_more) == ([], 5, False)
        with pytest.raises(events.CursorUnknown):
            events.events_after(organization_id, after=6, limit=10)

        # Events 1 and 2 are older than the retention; 3 to 5 are not.
        db.session.execute(update(DirectoryEvent).where(DirectoryEvent.seq <= 2).values(occurred_at=NOW - timedelta(days=40)))
        db.session.execute(update(DirectoryEvent).where(DirectoryEvent.seq > 2).values(occurred_at=NOW - timedelta(days=1)))
        db.session.commit()
        assert events.events_prune(now=NOW, days=30, batch_size=1) == 2
        for expired in (None, 0, 1):
            if expired is None:
                assert json.loads(events.events_after(organization_id, after=None, limit=1).events[0])["id"] == "3"
            else:
                with pytest.raises(events.CursorExpired):
                    events.events_after(organization_id, after=expired, limit=10)
        assert len(events.events_after(organization_id, after=2, limit=10).events) == 3
        assert events.events_prune(now=NOW + timedelta(days=30), days=30) == 3
        with pytest.raises(events.CursorExpired):
            events.events_after(organization_id, after=2, limit=10)
        assert events.events_after(organization_id, after=5, limit=10).events == []
        # Nothing kept: a consumer without a cursor follows on from the last event.
        assert events.events_after(organization_id, after=None, limit=10).next == 5


def entra_cycle(scim) -> None:
    """A first cycle and an incremental one, as Entra sends them (both PATCH dialects)."""
    boss = create_user(scim, "boss@contoso.com")
    ava = create_user(scim, "ava@contoso.com", **{ENTERPRISE: {"manager": boss, "department": "Finance"}})
    bo = create_user(scim, "bo@contoso.com")
    finance = create_group(scim, "Finance")
    scim.patch(f"/Groups/{finance}", json=operations({"op": "Add", "path": "members",
                                                      "value": [{"value": ava}, {"value": bo}]}))
    scim.patch(f"/Users/{ava}", json=operations({"op": "replace", "value": {"title": "Lead", "active": False}}))
    scim.patch(f"/Users/{bo}", json=operations({"op": "Replace", "path": "title", "value": "Analyst"}))
    scim.patch(f"/Users/{bo}", json=operations({"op": "Replace", "path": "title", "value": "Analyst"}))
    scim.patch(f"/Groups/{finance}", json=operations({"op": "remove", "path": f'members[value eq "{ava}"]'}))
    scim.delete(f"/Users/{boss}")


def anonymised(stream: list[dict]) -> list[dict]:
    """The stream with each id (users', groups', the events' own) replaced by its order of
    appearance, and the times left out."""
    names: dict[str, str] = {}
    text = json.dumps([{"type": event["type"], "data": event["data"]} for event in stream])
    for found in dict.fromkeys(re.findall(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", text)):
        names[found] = f"id{len(names)}"
        text = text.replace(found, names[found])
    return json.loads(re.sub(r'"(createdAt|updatedAt)": "[^"]+"', r'"\1": "-"', text))


def test_the_same_traffic_gives_the_same_event_stream(app, scim, other_scim):
    entra_cycle(scim)
    entra_cycle(other_scim)
    contoso, fabrikam = feed(app, "Contoso"), feed(app, "Fabrikam")
    assert [event["id"] for event in contoso] == [event["id"] for event in fabrikam]
    assert anonymised(contoso) == anonymised(fabrikam)
    assert [event["type"] for event in contoso] == [
        "user.created", "user.created", "user.created", "group.created",
        "group.member_added", "group.member_added", "user.deactivated", "user.updated",
        "group.member_removed", "user.deleted",
    ]


def test_committed_events_are_announced_and_failed_ones_are_not(app, scim):
    """What wakes this process's webhook worker at once."""
    announced: list[int] = []
    events.committed.connect(announced.append, weak=False)
    try:
        create_user(scim, "ava@contoso.com")
        assert scim.post("/Users", json={"userName": "AVA@contoso.com"}).status_code == 409
        with app.app_context():
            assert announced == [organization_by_name("Contoso").id]
    finally:
        events.committed.disconnect(announced.append)


@contextmanager
def written_tables(app) -> Iterator[list[str]]:
    """The table each write statement names, in order, and "COMMIT" where a transaction ends."""
    seen: list[str] = []

    def statement(conn, cursor, sql, parameters, context, executemany):
        if found := re.match(r"\s*(?:INSERT INTO|UPDATE|DELETE FROM)\s+\"?(\w+)", sql, re.IGNORECASE):
            seen.append(found.group(1))

    def commit(conn):
        seen.append("COMMIT")

    with app.app_context():
        engine = db.engine
    listeners = [("before_cursor_execute", statement), ("commit", commit)]
    for name, listener in listeners:
        sqlalchemy.event.listen(engine, name, listener)
    try:
        yield seen
    finally:
        for name, listener in listeners:
            sqlalchemy.event.remove(engine, name, listener)


def test_every_write_ends_on_the_directory_counts_then_the_event_counter(app, scim):
    """Every write of an organization updates two rows that all its writes share: the directory
    counts, then the event counter, and nothing after them. In one order, two writes cannot each
    hold the row the other waits for (PostgreSQL would stop one of them after a second, and under
    load a request could run out of its time)."""
    ava, bo = create_user(scim, "ava@contoso.com"), create_user(scim, "bo@contoso.com")
    finance = create_group(scim, "Finance", [ava])
    writes = [
        ("POST", "/Users", {"userName": "cy@contoso.com"}),
        ("POST", "/Groups", {"displayName": "Sales", "members": [{"value": bo}]}),
        ("PUT", f"/Users/{bo}", {"userName": "bo@contoso.com", "active": False}),
        ("PATCH", f"/Users/{bo}", operations({"op": "replace", "path": "active", "value": True})),
        ("PATCH", f"/Groups/{finance}", operations({"op": "add", "path": "members", "value": [{"value": bo}]})),
        ("PUT", f"/Groups/{finance}", {"displayName": "Finance", "members": [{"value": bo}]}),
        ("DELETE", f"/Users/{ava}", {}),
        ("DELETE", f"/Groups/{finance}", {}),
    ]
    for method, path, body in writes:
        with written_tables(app) as seen:
            assert scim.request(method, path, **({"json": body} if body else {})).status_code < 300
        commits = [index for index, table in enumerate(seen) if table == "COMMIT"]
        write = next(seen[start + 1:end] for start, end in zip([-1, *commits], commits) if "directory_counts" in
                     seen[start + 1:end])
        shared = write[write.index("directory_counts"):]
        assert shared[:2] == ["directory_counts", "event_counters"], (method, path, write)
        assert set(shared[2:]) == {"directory_events"}, (method, path, write)
