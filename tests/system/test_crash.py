"""kill -9 of the whole server in the middle of an Entra-shaped load, then a restart: every write
that was answered 2xx is there, no PATCH is half-applied, and a SQLite file passes its integrity
check (on PostgreSQL the answered writes are the check)."""
from __future__ import annotations

import http.client
import sqlite3
import threading
import time
from dataclasses import dataclass, field

import pytest

from conftest import ON_POSTGRES, new_token
from servers import Server, running_server

CLIENTS = 8
LOAD_SECONDS = 1.5
REQUEST_TIMEOUT = 5.0


@dataclass
class Ledger:
    """What the server acknowledged with 2xx, per client."""

    users: dict[str, int] = field(default_factory=dict)  # id -> highest generation answered
    disabled: set[str] = field(default_factory=set)
    deleted: set[str] = field(default_factory=set)
    delete_sent: set[str] = field(default_factory=set)  # answered or not: the kill may meet it after its commit
    members: dict[str, set[str]] = field(default_factory=dict)  # group id -> user ids


def generation(value: int) -> dict:
    # Two attributes in one PATCH, always the same value: a half-applied PATCH would differ.
    return {"Operations": [{"op": "Replace", "path": "displayName", "value": f"gen{value}"},
                           {"op": "Replace", "path": "title", "value": f"gen{value}"}]}


def entra_client(server: Server, token: str, client: int, ledger: Ledger, stop: threading.Event) -> None:
    """Entra's cycle for one person after another: look up, create, update, add to a group (a
    PATCH that also renames the group after its size), disable; every fifth is deleted."""

    def call(method: str, path: str, body=None):
        return server.scim(method, path, token, body, timeout=REQUEST_TIMEOUT)

    try:
        group = call("POST", "/Groups", {"displayName": f"Crew {client} of 0"}).json()["id"]
        ledger.members[group] = set()
        number = 0
        while not stop.is_set():
            number += 1
            name = f"person{client}.{number}@contoso.com"
            call("GET", f"/Users?filter=userName%20eq%20%22{name}%22")
            created = call("POST", "/Users", {"userName": name, "active": True, "displayName": "gen0", "title": "gen0"})
            if created.status != 201:
                continue
            user = created.json()["id"]
            ledger.users[user] = 0
            if call("PATCH", f"/Users/{user}", generation(1)).status == 200:
                ledger.users[user] = 1
            size = len(ledger.members[group]) + 1
            add = {"Operations": [{"op": "Add", "path": "members", "value": [{"value": user}]},
                                  {"op": "Replace", "path": "displayName", "value": f"Crew {client} of {size}"}]}
            if call("PATCH", f"/Groups/{group}", add).status == 204:
                ledger.members[group].add(user)
            disable = generation(2)
            disable["Operations"].append({"op": "Replace", "path": "active", "value": "False"})
            if call("PATCH", f"/Users/{user}", disable).status == 200:
                ledger.users[user] = 2
                ledger.disabled.add(user)
            if number % 5 == 0:
                ledger.delete_sent.add(user)
                if call("DELETE", f"/Users/{user}").status == 204:
                    ledger.deleted.add(user)
    except (OSError, http.client.HTTPException):
        pass  # the server was killed under this request: its outcome is unknown


def kill_under_load(server: Server, token: str) -> list[Ledger]:
    """The clients' load for LOAD_SECONDS, then kill -9 of the whole server under it, then a
    restart; what the server had acknowledged to each client."""
    ledgers = [Ledger() for _ in range(CLIENTS)]
    stop = threading.Event()
    clients = [threading.Thread(target=entra_client, args=(server, token, n, ledgers[n], stop))
               for n in range(CLIENTS)]
    for thread in clients:
        thread.start()
    time.sleep(LOAD_SECONDS)
    stop.set()  # no new requests; those under way meet the kill
    server.kill()
    for thread in clients:
        thread.join(REQUEST_TIMEOUT * 3)
    assert not any(thread.is_alive() for thread in clients)
    server.start()
    return ledgers


def test_kill_9_under_load_loses_no_answered_write(app, tmp_path):
    token = new_token(app)
    with running_server(app.config["SQLALCHEMY_DATABASE_URI"], tmp_path, workers=4) as server:
        ledgers = kill_under_load(server, token)
        users = {user["id"]: user for user in
                 server.scim("GET", "/Users?count=1000", token).json()["Resources"]}
        groups = {group["id"]: group for group in
                  server.scim("GET", "/Groups?count=100", token).json()["Resources"]}
        assert server.scim("POST", "/Users", token, {"userName": "after@contoso.com"}).status == 201

    assert sum(len(ledger.users) for ledger in ledgers) >= CLIENTS, "the load did not get going"
    for ledger in ledgers:
        for user_id, answered_generation in ledger.users.items():
            if user_id in ledger.deleted:
                assert user_id not in users
            elif user_id in users:
                assert int(users[user_id]["title"].removeprefix("gen")) >= answered_generation
                assert user_id not in ledger.disabled or users[user_id]["active"] is False
            elif user_id not in ledger.delete_sent:
                pytest.fail(f"user {user_id} was answered 201 and is gone without a DELETE")
        for group_id, answered in ledger.members.items():
            stored = {member["value"] for member in groups[group_id].get("members", [])}
            gone = answered - users.keys()  # deleted since, whether the DELETE was answered or not
            assert answered - gone <= stored
            # Each add renamed the group after its size in the same PATCH.
            assert int(groups[group_id]["displayName"].rsplit(" ", 1)[1]) == len(stored | gone)

    # Nothing half-applied, answered or not: each PATCH set these together.
    for user in users.values():
        assert user.get("displayName") == user.get("title")
        assert (user.get("title") == "gen2") == (user["active"] is False)

    if not ON_POSTGRES:
        path = app.config["SQLALCHEMY_DATABASE_URI"].removeprefix("sqlite:///")
        connection = sqlite3.connect(path)
        try:
            assert connection.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
            assert connection.execute("PRAGMA foreign_key_check").fetchall() == []
        finally:
            connection.close()
