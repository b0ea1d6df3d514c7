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
    assert text.clock(NOW.replace(hour=10, minute=42), NOW, timezone.utc) == "10:42 UTC"
    assert text.clock(NOW - timedelta(days=2), NOW, timezone.utc) == "28 Nov, 11:00 UTC"
    assert text.clock(NOW - timedelta(days=365), NOW, timezone.utc) == "30 Nov 2025, 11:00 UTC"
    assert text.clock(None, NOW, timezone.utc) == "never"


@pytest.mark.parametrize(
    "zone, moment, words",
    [
        ("Europe/Paris", NOW, "12:00 UTC+1"),
        ("Europe/Paris", NOW.replace(month=7), "30 Jul, 13:00 UTC+2"),  # summer time
        ("America/New_York", NOW.replace(hour=3), "29 Nov, 22:00 UTC-5"),  # still yesterday there
        ("Asia/Kolkata", NOW.replace(hour=20), "1 Dec, 01:30 UTC+5:30"),  # already tomorrow there
        ("Asia/Kathmandu", NOW, "16:45 UTC+5:45"),
        ("Europe/London", NOW, "11:00 UTC"),  # winter: no offset from UTC
        ("UTC", NOW.replace(year=2025), "30 Nov 2025, 11:00 UTC"),
    ],
)
def test_clock_shows_the_time_where_the_admin_is_with_its_offset(zone, moment, words):
    assert text.clock(moment, NOW, text.zone_named(zone)) == words


def test_times_in_words():
    assert text.ago(NOW - timedelta(seconds=30), now=NOW) == "just now"
    assert text.ago(NOW - timedelta(minutes=95), now=NOW) == "1 hour 35 minutes ago"
    assert text.ago(None, now=NOW) == ""
    assert text.lasting(timedelta(minutes=42)) == "42 minutes"
    assert text.counted(1, "group") == "1 group" and text.counted(12_000, "user") == "12,000 users"


def test_time_zones_are_the_places_of_the_time_zone_database():
    names = text.time_zone_names()
    assert names[0] == "UTC" and {"Europe/Paris", "America/Argentina/Buenos_Aires", "Asia/Kathmandu"} <= set(names)
    assert not {"US/Eastern", "Etc/GMT+5", "EST5EDT", "posixrules"} & set(names)  # aliases
    assert text.zone_named("Europe/Paris").utcoffset(NOW) == timedelta(hours=1)
    assert text.zone_named("Mars/Olympus_Mons") is timezone.utc
    assert text.zone_named("../../etc/passwd") is timezone.utc
