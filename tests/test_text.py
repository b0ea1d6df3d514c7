"""Wording shared by every page: counts, times and durations."""
from datetime import datetime, timedelta, timezone

import pytest

from jericho import text

NOW = datetime(2026, 11, 30, 11, 0, tzinfo=timezone.utc)


@pytest.mark.parametrize(
    "minutes, words",
    [(0.5, "under a minute"), (1, "1 minute"), (10, "10 minutes"), (60, "1 hour"),
     (80, "1 hour 20 minutes"), (121, "2 hours 1 minute"), (800, "13 hours")],
)
def test_duration_words(minutes, words):
    assert text.duration_words(minutes) == words


def test_clock_shows_the_date_only_when_it_is_not_today():
    assert text.clock(NOW.replace(hour=10, minute=42), NOW) == "10:42 UTC"
    assert text.clock(NOW - timedelta(days=2), NOW) == "28 Nov, 11:00 UTC"
    assert text.clock(NOW - timedelta(days=365), NOW) == "30 Nov 2025, 11:00 UTC"
    assert text.clock(None, NOW) == "never"


def test_times_in_words():
    assert text.ago(NOW - timedelta(seconds=30), now=NOW) == "just now"
    assert text.ago(NOW - timedelta(minutes=95), now=NOW) == "1 hour 35 minutes ago"
    assert text.ago(None, now=NOW) == ""
    assert text.lasting(timedelta(minutes=42)) == "42 minutes"
    assert text.counted(1, "group") == "1 group" and text.counted(12_000, "user") == "12,000 users"
