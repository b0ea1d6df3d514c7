"""The events feed: an outbox of directory changes, written in the same transaction as the change.

`append` is called by each SCIM write (storage.resources) as its last step: the events of a
change that rolls back roll back with it, and an answered change has them, even through a crash.
Each organization numbers its events with a counter row, taken under the row's lock just before
the write commits. Two writes of one organization therefore get their numbers in the order they
commit, and a consumer that reads "after N" never skips an event committed later with a smaller
number (an autoincrement id gives no such promise on PostgreSQL). The lock is held only from the
counter's update to the commit.

Numbers have no gaps: a number is only taken with its events, in one transaction. So a feed read
that starts past `after + 1` has met pruned events, and the consumer must resynchronise.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Iterable

from blinker import Namespace
from flask import current_app
from sqlalchemy import bindparam, select
from sqlalchemy.dialects import postgresql, sqlite

from ..extensions import db
from ..scim.schema import timestamp
from .accounts import AccountError
from .consumer_models import DirectoryEvent, EventCounter
from .database import after_commit, chunks, delete_expired
from .directory import group_view, user_view, user_views, users_by_pk
from .models import Group, Organization, User, utcnow

USER_EVENTS = {
    "create": "user.created",
    "update": "user.updated",
    "disable": "user.deactivated",
    "enable": "user.reactivated",
    "delete": "user.deleted",
}
GROUP_EVENTS = {"create": "group.created", "update": "group.updated", "delete": "group.deleted"}
MEMBER_ADDED, MEMBER_REMOVED = "group.member_added", "group.member_removed"
EVENT_TYPES = (*USER_EVENTS.values(), *GROUP_EVENTS.values(), MEMBER_ADDED, MEMBER_REMOVED)


def event_types_of(patterns: str) -> tuple[str, ...]:
    """The event types that a comma-separated list of types and patterns (`user.*`, `*`) selects;
    AccountError naming an entry that selects none."""
    selected: list[str] = []
    for pattern in (part.strip() for part in patterns.split(",")):
        if not pattern:
            continue
        prefix = pattern.removesuffix("*")
        matches = [kind for kind in EVENT_TYPES if (kind.startswith(prefix) if pattern.endswith("*") else kind == pattern)]
        if not matches:
            raise AccountError(f"{pattern!r} is not an event type (they are {', '.join(EVENT_TYPES)}) nor a pattern such as user.*")
        selected += [kind for kind in matches if kind not in selected]
    if not selected:
        raise AccountError("choose the events to send, e.g. user.*,group.*")
    return tuple(kind for kind in EVENT_TYPES if kind in selected)

# Sent with the organization's id once events of it have committed: this process's webhook
# worker wakes at once instead of at its next poll.
committed = Namespace().signal("directory events committed")


class CursorExpired(LookupError):
    """Events after the cursor have been pruned: the consumer must read the directory again."""


class CursorUnknown(LookupError):
    """The cursor is past the organization's last event."""


@dataclass(frozen=True)
class Feed:
    events: list[str]  # each event as JSON text, in order
    next: int  # the cursor to read on from
    has_more: bool


# -- the outbox --------------------------------------------------------------------------------


def describe(
    row: User | Group,
    *,
    operation: str,
    document_changed: bool,
    users_added: Iterable[int] = (),
    users_removed: Iterable[int] = (),
) -> list[tuple[str, str]]:
    """The events of one SCIM write of `row`, as (type, JSON data): the resource's own event
    (none for an update that changed nothing), then one per user that left or joined a group.
    Read from `row` as it is now: describe a deletion before the row is deleted."""
    if not current_app.config["RECORD_DIRECTORY_EVENTS"]:
        return []
    events: list[tuple[str, dict]] = []
    if isinstance(row, User):
        if operation != "update" or document_changed:
            # A new user is in no group yet: no query for its groups.
            user = user_view(row, []) if operation == "create" else user_views([row])[0]
            events.append((USER_EVENTS[operation], user))
    else:
        group = group_view(row)
        if operation in GROUP_EVENTS and (operation != "update" or document_changed):
            events.append((GROUP_EVENTS[operation], group))
        for kind, pks in ((MEMBER_REMOVED, users_removed), (MEMBER_ADDED, users_added)):
            events += [(kind, {"group": group, "user": user}) for user in user_views(users_by_pk(sorted(pks)))]
    return [(kind, _json(data)) for kind, data in events]


def append(organization_id: int, events: list[tuple[str, str]]) -> None:
    """Add described events to the write's transaction. Call it from a `writes` function as the
    write's last step, after the directory counts: the counter row stays locked from here to
    the commit, and every write taking the two rows in one order cannot deadlock."""
    if not events:
        return
    # Core statements on the write's connection, built once: through the session's ORM paths,
    # these two statements took more than twice as long, on every change of the sync.
    connection = db.session.connection()
    last = connection.execute(
        _TAKE_NUMBERS[connection.dialect.name], {"organization_id": organization_id, "count": len(events)}
    ).scalar_one()
    first, now = last - len(events) + 1, utcnow()  # the time too is taken under the lock: in order
    rows = [
        {"organization_id": organization_id, "seq": first + offset, "type": kind, "occurred_at": now, "data": data}
        for offset, (kind, data) in enumerate(events)
    ]
    for chunk in chunks(rows):
        connection.execute(_INSERT_EVENTS, chunk if len(chunk) > 1 else chunk[0])  # one: no executemany
    after_commit(lambda: committed.send(organization_id))


_INSERT_EVENTS = DirectoryEvent.__table__.insert()


def _take_numbers(dialect):
    """One statement that creates or advances the counter and returns its new value."""
    counter = EventCounter.__table__
    statement = dialect.insert(counter).values(organization_id=bindparam("organization_id"), last_seq=bindparam("count"))
    return statement.on_conflict_do_update(
        index_elements=[counter.c.organization_id],
        set_={"last_seq": counter.c.last_seq + statement.excluded.last_seq},
    ).returning(counter.c.last_seq)


_TAKE_NUMBERS = {"sqlite": _take_numbers(sqlite), "postgresql": _take_numbers(postgresql)}


def _json(value: object) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def event_json(seq: int, kind: str, occurred_at: datetime, data: str) -> str:
    """An event as the feed lists it and a webhook posts it. `data` is stored JSON text, placed
    as it is; the id is a string, so that consumers keep it as the opaque cursor it is."""
    head = _json({"id": str(seq), "type": kind, "occurredAt": timestamp(occurred_at)})
    return f'{head[:-1]},"data":{data}}}'


# -- the feed ----------------------------------------------------------------------------------


def events_after(organization_id: int, *, after: int | None, limit: int) -> Feed:
    """Up to `limit` events after the cursor `after` (from the oldest kept when None), in order.
    CursorExpired when events after it were pruned; CursorUnknown when it is past the last one."""
    # The counter first: every event up to it has committed, so the query after it sees them all
    # (on PostgreSQL each statement sees what had committed when it began). Read after the
    # events, the counter could count a change committed in between, and the cursor would look
    # expired when it is not.
    latest = events_latest(organization_id)
    if after is not None and after > latest:
        raise CursorUnknown(after)
    statement = select(DirectoryEvent).where(DirectoryEvent.organization_id == organization_id)
    if after is not None:
        statement = statement.where(DirectoryEvent.seq > after)
    rows = list(db.session.execute(statement.order_by(DirectoryEvent.seq).limit(limit + 1)).scalars())
    if after is not None and after < latest and (not rows or rows[0].seq != after + 1):
        raise CursorExpired(after)
    page = rows[:limit]
    cursor = page[-1].seq if page else (after if after is not None else latest)
    return Feed([event_json(row.seq, row.type, row.occurred_at, row.data) for row in page], cursor, len(rows) > limit)


def events_latest(organization_id: int) -> int:
    """The cursor of the organization's last event (0 before the first)."""
    return db.session.execute(
        select(EventCounter.last_seq).where(EventCounter.organization_id == organization_id)
    ).scalar_one_or_none() or 0


# -- retention ---------------------------------------------------------------------------------


def events_prune(*, now: datetime, days: int, batch_size: int = 500) -> int:
    """Delete the events that happened `days` or more before `now`, oldest first, in short
    transactions of `batch_size`; returns how many."""
    organizations = db.session.execute(select(Organization.id)).scalars().all()
    # Times follow the numbers (both are taken under the counter's lock).
    return delete_expired(
        [DirectoryEvent.organization_id == organization_id for organization_id in organizations],
        key=DirectoryEvent.seq, moment=DirectoryEvent.occurred_at, cutoff=now - timedelta(days=days),
        batch_size=batch_size,
    )
