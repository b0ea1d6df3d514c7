"""Helpers for the tests of deadlines (storage.database): a clock the test moves, and statements
that take some milliseconds or longer than any deadline of the tests."""
from __future__ import annotations

import pytest
from sqlalchemy import text

from jericho.extensions import db
from jericho.storage import database

SQLITE_SLOW = ("WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n WHERE x < 100000) "
               "SELECT count(*) FROM n")
SLOW = {"sqlite": SQLITE_SLOW, "postgresql": "SELECT count(*) FROM (SELECT pg_sleep(0.05)) AS slept"}
ENDLESS = {"sqlite": SQLITE_SLOW, "postgresql": "SELECT count(*) FROM (SELECT pg_sleep(60)) AS slept"}


class Clock:
    """The deadlines' clock, moved by the test."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def deadline_clock(monkeypatch) -> Clock:
    clock = Clock()
    monkeypatch.setattr(database, "clock", clock)
    return clock


def run(statements: dict[str, str], connection=None) -> int:
    sql = statements[db.engine.dialect.name]
    if connection is not None:
        return connection.exec_driver_sql(sql).scalar()
    return db.session.execute(text(sql)).scalar()


def stall(clock: Clock, connection=None) -> None:
    """Outlast the deadline in the transaction under way: SQLite's clock passes it, and on
    PostgreSQL the statement runs into the timeout set when the transaction began."""
    clock.now += 3600
    run(ENDLESS, connection)
