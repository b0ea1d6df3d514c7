"""Wording shared by every page and message: counts of things, times and durations.

One helper per job, so that "1,204 users" and "3 hours 5 minutes ago" read the same everywhere.
Every function that depends on the time takes `now`.
"""
from __future__ import annotations

from datetime import datetime, timedelta, timezone


def counted(count: int, noun: str) -> str:
    """`count` and the noun, plural unless it is one: "1 user", "1,204 users"."""
    return f"{count:,} {noun}" if count == 1 else f"{count:,} {noun}s"


def clock(moment: datetime | None, now: datetime) -> str:
    """A time of day, with the date when it is not today: "09:40 UTC", "3 Dec, 09:40 UTC"."""
    if moment is None:
        return "never"
    moment = moment.astimezone(timezone.utc)
    if moment.date() == now.astimezone(timezone.utc).date():
        return moment.strftime("%H:%M UTC")
    if moment.year == now.year:
        return f"{moment.day} {moment:%b}, {moment:%H:%M} UTC"
    return f"{moment.day} {moment:%b %Y}, {moment:%H:%M} UTC"


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
