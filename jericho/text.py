"""Wording shared by every page and message: counts of things, times and durations.

One helper per job, so that "1,204 users" and "3 hours 5 minutes ago" read the same everywhere.
Every function that depends on the time takes `now`, and one that shows a time of day takes the
reader's time zone.
"""
from __future__ import annotations

import functools
from datetime import datetime, timedelta, timezone, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

# The areas of the time zone database whose zones are named after a place ("Europe/Paris"); the
# other names are aliases kept for old systems ("US/Eastern", "Etc/GMT+5" with its sign reversed).
ZONE_AREAS = frozenset(
    ("Africa", "America", "Antarctica", "Arctic", "Asia", "Atlantic", "Australia", "Europe", "Indian", "Pacific")
)


def counted(count: int, noun: str) -> str:
    """`count` and the noun, plural unless it is one: "1 user", "1,204 users"."""
    return f"{count:,} {noun}" if count == 1 else f"{count:,} {noun}s"


def clock(moment: datetime | None, now: datetime, zone: tzinfo = timezone.utc) -> str:
    """A time of day in `zone` with its offset from UTC, and the date when it is not today there:
    "09:40 UTC", "10:40 UTC+1", "3 Dec, 04:40 UTC-5"."""
    if moment is None:
        return "never"
    moment, today = moment.astimezone(zone), now.astimezone(zone)
    time_of_day = f"{moment:%H:%M} {utc_offset(moment)}"
    if moment.date() == today.date():
        return time_of_day
    if moment.year == today.year:
        return f"{moment.day} {moment:%b}, {time_of_day}"
    return f"{moment.day} {moment:%b %Y}, {time_of_day}"


def utc_offset(moment: datetime) -> str:
    """How far an aware time's zone is from UTC then: "UTC", "UTC+2", "UTC+5:30", "UTC-3"."""
    minutes = round(moment.utcoffset().total_seconds() / 60)
    if minutes == 0:
        return "UTC"
    hours, rest = divmod(abs(minutes), 60)
    return f"UTC{'+' if minutes > 0 else '-'}{hours}" + (f":{rest:02d}" if rest else "")


@functools.cache  # reading the database's folders takes a while, and they stay as they are
def time_zone_names() -> tuple[str, ...]:
    """UTC, then every place in the time zone database, by name."""
    return ("UTC", *sorted(name for name in available_timezones() if name.split("/")[0] in ZONE_AREAS))


def zone_named(name: str) -> tzinfo:
    """The time zone called `name`, or UTC for a name this server does not know."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return timezone.utc


def duration_words(minutes: float) -> str:
    if minutes < 1:
        return "under a minute"
    total = round(minutes)
    if total < 60:
        return counted(total, "minute")
    hours, rest = divmod(total, 60)
    words = counted(hours, "hour")
    if rest and hours < 10:
        words += " " + counted(rest, "minute")
    return words


def lasting(span: timedelta) -> str:
    return duration_words(span.total_seconds() / 60)


def ago(moment: datetime | None, *, now: datetime) -> str:
    if moment is None:
        return ""
    minutes = (now - moment).total_seconds() / 60
    return "just now" if minutes < 1 else f"{duration_words(minutes)} ago"
