"""Concurrent clients against a real gunicorn server with 4 workers, on the suite's database
(SQLite in WAL mode, or PostgreSQL when DATABASE_URL names one).

One server serves the whole module; each test is an organization of its own, so tests cannot see
each other's data. Every answer is checked, and so is the server's log: no traceback (so no
"database is locked" or deadlock reached a client as a 500), and no token or Authorization value.
"""
from __future__ import annotations

import random
import re
import sqlite3
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Callable, Iterable

import pytest
from flask import Flask
from sqlalchemy import text

from jericho.extensions import db
from jericho.storage import accounts

from conftest import ON_POSTGRES, fresh_app, new_token
from servers import Reply, Server, running_server

WORKERS = 4
CLIENTS = 8
ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"


@dataclass
class Shared:
    app: Flask
    server: Server
    tokens: list[str] = field(default_factory=list)


@pytest.fixture(scope="module")
def shared(tmp_path_factory, postgres_schema):
    path = tmp_path_factory.mktemp("concurrency")
    with fresh_app(path) as app:
        with running_server(app.config["SQLALCHEMY_DATABASE_URI"], path, workers=WORKERS) as server:
            shared = Shared(app, server)
            yield shared
        assert_clean_log(server.log(), shared.tokens)  # again, with the lines written at shutdown


@pytest.fixture
def shared_app(shared) -> Flask:
    return shared.app


@pytest.fixture
def token(shared) -> str:
    secret = new_token(shared.app, f"Concurrency {uuid.uuid4().hex[:8]}")
    shared.tokens.append(secret)
    return secret


@pytest.fixture
def server(shared, token):
    start = len(shared.server.log())
    yield shared.server
    assert_clean_log(shared.server.log()[start:], [token])


def assert_clean_log(log: str, tokens: list[str]) -> None:
    assert "Traceback" not in log and "unhandled error" not in log, log[-5000:]
    for token in tokens:
        assert token.split("_", 2)[2] not in log  # the secret part
    assert not re.search(r"authorization|bearer", log, re.IGNORECASE), "a header reached the log"


def at_once(call: Callable, arguments: Iterable) -> list[Reply]:
    """`call(argument)` for each argument, each on its own client thread, released together."""
    arguments = list(arguments)
    barrier = threading.Barrier(len(arguments))

    def run(argument):
        barrier.wait(timeout=30)
        return call(argument)

    with ThreadPoolExecutor(len(arguments)) as pool:
        return list(pool.map(run, arguments))


def create_user(server: Server, token: str, user_name: str) -> str:
    reply = server.scim("POST", "/Users", token, entra_user(user_name))
    assert reply.status == 201, reply.body
    return reply.json()["id"]


def entra_user(user_name: str) -> dict:
    """POST /Users as Entra's default mapping sends it (ENTRA.md §3.2)."""
    return {
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User", ENTERPRISE],
        "externalId": user_name.split("@")[0],
        "userName": user_name,
        "active": True,
        "displayName": user_name.split("@")[0].title(),
        "emails": [{"primary": True, "type": "work", "value": user_name}],
        ENTERPRISE: {"department": "Finance"},
    }


def add_members(user_ids: Iterable[str]) -> dict:
    return {
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [{"op": "Add", "path": "members", "value": [{"value": uid} for uid in user_ids]}],
    }


def member_ids(server: Server, token: str, group_id: str) -> set[str]:
    reply = server.scim("GET", f"/Groups/{group_id}", token)
    assert reply.status == 200
    return {member["value"] for member in reply.json().get("members", [])}


def statuses(replies: list[Reply]) -> list[int]:
    return sorted(reply.status for reply in replies)


def test_one_new_user_name_posted_by_8_clients_at_once_is_created_once(server, token):
    for round_ in range(3):
        # Different letter cases: userName is unique case-insensitively (RFC 7643 §4.1).
        names = [f"race{round_}@contoso.com".upper() if n % 2 else f"race{round_}@contoso.com" for n in range(CLIENTS)]
        replies = at_once(lambda name: server.scim("POST", "/Users", token, entra_user(name)), names)
        assert statuses(replies) == [201] + [409] * (CLIENTS - 1)
        assert {reply.json()["scimType"] for reply in replies if reply.status == 409} == {"uniqueness"}
        found = server.scim("GET", f'/Users?filter=userName eq "race{round_}@contoso.com"'.replace(" ", "%20"), token)
        assert found.json()["totalResults"] == 1


def test_one_new_group_posted_by_8_clients_at_once_is_created_once(server, token):
    for round_ in range(3):
        body = {"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "displayName": f"Race {round_}"}
        replies = at_once(lambda _: server.scim("POST", "/Groups", token, body), range(CLIENTS))
        assert statuses(replies) == [201] + [409] * (CLIENTS - 1)
        assert {reply.json()["scimType"] for reply in replies if reply.status == 409} == {"uniqueness"}
        found = server.scim("GET", f"/Groups?filter=displayName%20eq%20%22Race%20{round_}%22", token)
        assert found.json()["totalResults"] == 1


def test_8_clients_adding_different_members_to_one_group_at_once_lose_none(server, token):
    group = server.scim("POST", "/Groups", token, {"displayName": "Finance"}).json()["id"]
    users = [create_user(server, token, f"member{n}@contoso.com") for n in range(CLIENTS * 3)]
    batches = [users[n::CLIENTS] for n in range(CLIENTS)]

    replies = at_once(lambda batch: server.scim("PATCH", f"/Groups/{group}", token, add_members(batch)), batches)
    assert statuses(replies) == [204] * CLIENTS
    assert member_ids(server, token, group) == set(users)

    # Then half of the clients remove their members while the other half add them back.
    def churn(index: int) -> Reply:
        batch = batches[index]
        if index % 2:
            body = {"Operations": [{"op": "Remove", "path": "members", "value": [{"value": uid} for uid in batch]}]}
        else:
            body = add_members(batch)
        return server.scim("PATCH", f"/Groups/{group}", token, body)

    assert statuses(at_once(churn, range(CLIENTS))) == [204] * CLIENTS
    kept = {uid for index, batch in enumerate(batches) if index % 2 == 0 for uid in batch}
    assert member_ids(server, token, group) == kept


def test_concurrent_patches_with_the_same_if_match_let_exactly_one_through(server, token):
    user = server.scim("POST", "/Users", token, entra_user("ava@contoso.com"))
    user_id, etag = user.json()["id"], user.headers["ETag"]

    def patch(n: int) -> Reply:
        body = {"Operations": [{"op": "Replace", "path": "title", "value": f"Title {n}"}]}
        return server.scim("PATCH", f"/Users/{user_id}", token, body, headers={"If-Match": etag})

    replies = at_once(patch, range(CLIENTS))
    assert statuses(replies) == [200] + [412] * (CLIENTS - 1)
    (winner,) = [reply.json() for reply in replies if reply.status == 200]
    stored = server.scim("GET", f"/Users/{user_id}", token)
    assert stored.json()["title"] == winner["title"]
    assert stored.headers["ETag"] == winner["meta"]["version"] != etag


def test_a_writer_holding_the_database_makes_requests_wait_not_fail(shared_app, server, token):
    """Another process holds the write lock (SQLite) or a conflicting table lock (PostgreSQL)
    for 1.5 s while 8 clients create users: all of them wait and succeed."""
    release = threading.Event()
    holding = threading.Event()

    def hold_lock():
        if ON_POSTGRES:
            with shared_app.app_context(), db.engine.connect() as connection:
                connection.execute(text("LOCK TABLE users IN SHARE ROW EXCLUSIVE MODE"))
                holding.set()
                release.wait(10)
                connection.rollback()
        else:
            path = shared_app.config["SQLALCHEMY_DATABASE_URI"].removeprefix("sqlite:///")
            connection = sqlite3.connect(path, isolation_level=None)
            connection.execute("BEGIN IMMEDIATE")
            holding.set()
            release.wait(10)
            connection.execute("ROLLBACK")
            connection.close()

    holder = threading.Thread(target=hold_lock)
    holder.start()
    try:
        assert holding.wait(10)
        threading.Timer(1.5, release.set).start()
        started = time.monotonic()
        replies = at_once(lambda n: server.scim("POST", "/Users", token, entra_user(f"wait{n}@contoso.com")),
                          range(CLIENTS))
        waited = time.monotonic() - started
    finally:
        release.set()
        holder.join(15)
    assert statuses(replies) == [201] * CLIENTS
    assert waited >= 1.0


def test_a_storm_of_mixed_writes_never_answers_5xx_and_leaves_consistent_data(server, token):
    """Creates, renames, disables, deletes and membership changes on a shared set of users and
    groups, 8 clients at a time: races may answer 404 or 409, never 5xx, and no membership may
    outlive its user or group."""
    users = [create_user(server, token, f"storm{n}@contoso.com") for n in range(12)]
    groups = [server.scim("POST", "/Groups", token, {"displayName": f"Storm {n}"}).json()["id"] for n in range(3)]

    def client(seed: int) -> list[int]:
        rng = random.Random(seed)
        answered = []
        for _ in range(12):
            user, group = rng.choice(users), rng.choice(groups)
            action = rng.randrange(6)
            if action == 0:
                reply = server.scim("PATCH", f"/Groups/{group}", token, add_members(rng.sample(users, 3)))
            elif action == 1:
                body = {"Operations": [{"op": "remove", "path": f'members[value eq "{user}"]'}]}
                reply = server.scim("PATCH", f"/Groups/{group}", token, body)
            elif action == 2:
                body = {"Operations": [{"op": "Replace", "path": "active", "value": rng.choice(["True", "False"])},
                                       {"op": "Replace", "path": "displayName", "value": f"Renamed {seed}"}]}
                reply = server.scim("PATCH", f"/Users/{user}", token, body)
            elif action == 3:
                reply = server.scim("DELETE", f"/Users/{user}", token)
            elif action == 4:
                reply = server.scim("POST", "/Users", token, entra_user(f"storm{rng.randrange(16)}@contoso.com"))
            else:
                reply = server.scim("GET", f"/Groups/{group}?excludedAttributes=members", token)
            answered.append(reply.status)
        return answered

    answered = [status for replies in at_once(client, range(CLIENTS)) for status in replies]
    assert set(answered) <= {200, 201, 204, 400, 404, 409}, answered
    assert answered.count(200) + answered.count(201) + answered.count(204) > len(answered) / 3

    listed = server.scim("GET", "/Users?count=1000&attributes=id", token).json()
    existing = {user["id"] for user in listed["Resources"]}
    for group in groups:
        assert member_ids(server, token, group) <= existing


def test_members_added_while_they_are_deleted_are_refused_or_removed_never_5xx(server, token):
    group = server.scim("POST", "/Groups", token, {"displayName": "Leavers"}).json()["id"]
    for round_ in range(4):
        users = [create_user(server, token, f"leaver{round_}.{n}@contoso.com") for n in range(CLIENTS // 2)]

        def delete_or_add(index: int) -> Reply:
            user = users[index % len(users)]
            if index < len(users):
                return server.scim("DELETE", f"/Users/{user}", token)
            return server.scim("PATCH", f"/Groups/{group}", token, add_members([user]))

        replies = at_once(delete_or_add, range(CLIENTS))
        assert statuses(replies[:len(users)]) == [204] * len(users)
        assert set(statuses(replies[len(users):])) <= {204, 400}
        assert member_ids(server, token, group) == set()


def test_revoking_a_token_refuses_it_at_once_on_every_worker(shared_app, server, token):
    assert {server.scim("GET", "/Users", token).status for _ in range(WORKERS * 3)} == {200}
    with shared_app.app_context():
        accounts.token_revoke(prefix=token.split("_")[1])
    replies = at_once(lambda _: server.scim("GET", "/Users", token), range(WORKERS * 4))
    assert statuses(replies) == [401] * (WORKERS * 4)
    assert {reply.json()["detail"] for reply in replies} == {"revoked token"}


def test_a_token_in_the_url_reaches_no_log(server, token):
    # A misconfigured client that puts its token in the Tenant URL's query string too; the
    # fixture then reads the whole log.
    reply = server.request("GET", f"/scim_v2/Users?access_token={token}&aadOptscim062020", token=token)
    assert reply.status == 200
    assert '"GET /scim_v2/Users" 200' in server.log()


def test_directory_counts_stay_right_through_concurrent_writes(shared_app, server, token):
    """Creates, deactivations, member changes and deletions from 8 clients at once, each group's
    members changed by several of them, and users deleted while they are being added to groups:
    the counts each write keeps equal a count of the rows."""
    from jericho.storage.counts import CountChange, directory_counts_of
    from jericho.storage.models import Group, Membership, ScimToken, User

    groups = [server.scim("POST", "/Groups", token, {"displayName": f"Counted {n}"}).json()["id"] for n in range(3)]
    users = [create_user(server, token, f"counted{n}@contoso.com") for n in range(CLIENTS * 4)]
    chooser = random.Random(11)

    def churn(index: int) -> list[int]:
        answers = []
        for step in range(12):
            user, group = chooser.choice(users), groups[(index + step) % len(groups)]
            kind = (index + step) % 4
            if kind == 0:
                reply = server.scim("PATCH", f"/Groups/{group}", token, add_members(chooser.sample(users, 5)))
            elif kind == 1:
                reply = server.scim("PATCH", f"/Groups/{group}", token, {"Operations": [
                    {"op": "Remove", "path": "members", "value": [{"value": uid} for uid in chooser.sample(users, 3)]}]})
            elif kind == 2:
                reply = server.scim("PATCH", f"/Users/{user}", token, {"Operations": [
                    {"op": "Replace", "path": "active", "value": bool(step % 2)}]})
            else:
                reply = server.scim("DELETE", f"/Users/{user}", token)
            answers.append(reply.status)
        return answers

    answers = [status for replies in at_once(churn, range(CLIENTS)) for status in replies]
    # A member deleted meanwhile makes an add fail as a whole (400); a user deleted twice is 404.
    assert set(answers) <= {200, 204, 400, 404}, answers
    with shared_app.app_context():
        organization_id = db.session.execute(
            db.select(ScimToken.organization_id).where(ScimToken.prefix == token.split("_")[1])).scalar_one()
        users_of = db.select(db.func.count()).select_from(User).where(User.organization_id == organization_id)
        groups_of = db.select(db.func.count()).select_from(Group).where(Group.organization_id == organization_id)
        counted = {
            "active_users": db.session.execute(users_of.where(User.active.is_(True))).scalar_one(),
            "deactivated_users": db.session.execute(users_of.where(User.active.is_(False))).scalar_one(),
            "groups": db.session.execute(groups_of).scalar_one(),
            "empty_groups": db.session.execute(groups_of.where(
                ~db.exists().where(Membership.group_pk == Group.pk))).scalar_one(),
            "memberships": db.session.execute(db.select(db.func.count()).select_from(Membership).join(
                Group, Group.pk == Membership.group_pk).where(Group.organization_id == organization_id)).scalar_one(),
        }
        stored = directory_counts_of(organization_id=organization_id)
        assert {name: getattr(stored, name) for name in vars(CountChange())} == counted
