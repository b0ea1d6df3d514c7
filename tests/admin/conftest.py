"""The admin tests' clock: sign-in, throttling and sessions read `sessions.now`, which here
starts at a fixed moment and moves only when a test moves it."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from jericho.admin import sessions

START = datetime(2026, 12, 1, 9, 0, tzinfo=timezone.utc)


class Clock:
    def __init__(self, start: datetime) -> None:
        self.moment = start

    def __call__(self) -> datetime:
        return self.moment

    def advance(self, **delta: float) -> None:
        self.moment += timedelta(**delta)


@pytest.fixture(autouse=True)
def clock(monkeypatch) -> Clock:
    clock = Clock(START)
    monkeypatch.setattr(sessions, "now", clock)
    return clock
