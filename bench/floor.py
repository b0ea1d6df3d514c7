"""The machine's floor: the least any request can cost here. A bare WSGI app served by the same
gunicorn with the same config as Jericho, on SQLite with Jericho's own connection pragmas, so a
ratio to it compares like with like and leaves the machine's speed out.

    GET  /trivial       a fixed JSON body
    POST /insert        the posted JSON committed as one row (BEGIN IMMEDIATE ... COMMIT)
    GET  /lookup?key=k  one lookup on the rows' unique index

`gunicorn bench.floor:app` with BENCH_FLOOR_DB naming the database `prepare` made.
"""
from __future__ import annotations

import json
import os
import sqlite3
from pathlib import Path
from typing import Iterable
from urllib.parse import parse_qs

from jericho.storage.database import configure_sqlite_connection

SCHEMA = "CREATE TABLE rows (id INTEGER PRIMARY KEY, key TEXT NOT NULL UNIQUE, body TEXT NOT NULL)"

_connection: sqlite3.Connection | None = None  # one per worker process, opened on first use


def prepare(path: Path, keys: Iterable[str]) -> None:
    """Create the floor's database with one row per key, so lookups search as many rows as the
    app holds users."""
    connection = sqlite3.connect(path)
    configure_sqlite_connection(connection)
    with connection:
        connection.execute("BEGIN")
        connection.execute(SCHEMA)
        connection.executemany(
            "INSERT INTO rows (key, body) VALUES (?, ?)", ((key, json.dumps({"key": key})) for key in keys)
        )
    connection.close()


def _database() -> sqlite3.Connection:
    global _connection
    if _connection is None:
        _connection = sqlite3.connect(os.environ["BENCH_FLOOR_DB"])
        configure_sqlite_connection(_connection)
    return _connection


def app(environ, start_response):
    method, path = environ["REQUEST_METHOD"], environ["PATH_INFO"]
    if method == "GET" and path == "/trivial":
        return _json(start_response, "200 OK", {"ok": True})
    if method == "POST" and path == "/insert":
        body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
        key = json.loads(body)["key"]
        connection = _database()
        connection.execute("BEGIN IMMEDIATE")
        try:
            row_id = connection.execute("INSERT INTO rows (key, body) VALUES (?, ?)", (key, body)).lastrowid
            connection.execute("COMMIT")
        except BaseException:
            connection.execute("ROLLBACK")
            raise
        return _json(start_response, "201 Created", {"id": row_id})
    if method == "GET" and path == "/lookup":
        key = parse_qs(environ.get("QUERY_STRING", "")).get("key", [""])[0]
        rows = _database().execute("SELECT id, body FROM rows WHERE key = ?", (key,)).fetchall()
        return _json(start_response, "200 OK", {"Resources": [{"id": i, **json.loads(b)} for i, b in rows]})
    return _json(start_response, "404 Not Found", {"detail": "not found"})


def _json(start_response, status: str, payload: dict) -> list[bytes]:
    body = json.dumps(payload).encode()
    start_response(status, [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
    return [body]
