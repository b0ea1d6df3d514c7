"""The provisioning log as the status pages read it: pages of requests, one request, the latest
requests, and failed requests grouped by cause. Each query is scoped to one organization and
served by an index; a text search (which no index serves) looks through the latest
SEARCH_LIMIT requests at most, so a page costs the same on a log of any size."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import (
    ColumnElement,
    Row,
    Select,
    and_,
    bindparam,
    func,
    literal,
    literal_column,
    or_,
    select,
    union_all,
)

from ..extensions import db
from ..storage.filters import with_ids
from ..storage.models import Group, Organization, ProvisioningEvent, ScimToken, User
from ..storage.rollups import FAILED, cause_filter, cause_key_sql
from .causes import CAUSES_BY_KEY, Cause, ErrorGroup, cause_of, merge_error_groups
from .cycles import CHANGES
from .filters import MAX_ID, Cursor, LogFilters
from .matching import contains

PAGE_SIZE = 50
HISTORY_SIZE = 50
SEARCH_LIMIT = 200_000

# api.authentication's detail for a bearer token that matches none.
UNKNOWN_TOKEN = "unknown token"

SUCCEEDED = ProvisioningEvent.status < literal_column("400")


def _mine(organization_id: int) -> ColumnElement:
    """An organization's own requests. Requests with a token that matched none belong to no
    organization: they are shown apart (unknown_token_requests), never among these."""
    return ProvisioningEvent.organization_id == organization_id


def _key(event: ProvisioningEvent | LatestEvent) -> tuple[datetime, int]:
    return event.occurred_at, event.id


def newest_first():
    return ProvisioningEvent.occurred_at.desc(), ProvisioningEvent.id.desc()


def latest_event(organization_id: int, *conditions) -> ProvisioningEvent | None:
    return db.session.execute(
        select(ProvisioningEvent).where(_mine(organization_id), *conditions).order_by(*newest_first()).limit(1)
    ).scalar_one_or_none()


# What the dashboard shows of a request, and what its health rules read (cycles.EventLike).
_SHOWN = (ProvisioningEvent.id, ProvisioningEvent.organization_id, ProvisioningEvent.occurred_at,
          ProvisioningEvent.status, ProvisioningEvent.operation, ProvisioningEvent.action,
          ProvisioningEvent.error_detail)
LatestEvent = Row  # of _SHOWN


def _newest(probe: str, *conditions) -> Select:
    newest = (select(literal(probe).label("probe"), *_SHOWN)
              .where(ProvisioningEvent.organization_id == bindparam("organization_id"), *conditions)
              .order_by(*newest_first()).limit(1).subquery())
    return select(newest)


# The latest request, the latest failure and the latest change of each kind (one indexed probe
# each: a single IN would sort every change ever made), in one statement built once.
_LATEST = union_all(
    _newest("request"),
    _newest("failure", FAILED),
    *(_newest("change", ProvisioningEvent.operation == operation, SUCCEEDED) for operation in CHANGES),
)


@dataclass(frozen=True)
class LatestEvents:
    request: LatestEvent | None
    change: LatestEvent | None  # that succeeded
    failure: LatestEvent | None


def latest_events(organization_id: int) -> LatestEvents:
    found: dict[str, LatestEvent] = {}
    for row in db.session.connection().execute(_LATEST, {"organization_id": organization_id}):
        if row.probe not in found or _key(row) > _key(found[row.probe]):
            found[row.probe] = row
    return LatestEvents(found.get("request"), found.get("change"), found.get("failure"))


def latest_floor(organization_id: int, count: int) -> datetime | None:
    """The time of the `count`-th latest request, None when there are fewer: one walk down the
    (organization_id, occurred_at) index."""
    return db.session.execute(
        select(ProvisioningEvent.occurred_at).where(ProvisioningEvent.organization_id == organization_id)
        .order_by(ProvisioningEvent.occurred_at.desc()).offset(count - 1).limit(1)
    ).scalar_one_or_none()


def error_groups(organization_id: int, *conditions, causes: dict[str, Cause] = CAUSES_BY_KEY) -> list[ErrorGroup]:
    """Failed requests (within `conditions`) grouped by cause, in one aggregate."""
    rows = select(cause_key_sql(db.engine.dialect).label("cause"), ProvisioningEvent.occurred_at,
                  ProvisioningEvent.id).where(_mine(organization_id), FAILED, *conditions).subquery()
    grouped = db.session.execute(
        select(rows.c.cause, func.count(), func.min(rows.c.occurred_at), func.max(rows.c.occurred_at),
               func.max(rows.c.id)).group_by(rows.c.cause)
    )
    return merge_error_groups(
        ErrorGroup(causes[key], count, first, last, example)
        for key, count, first, last, example in grouped
    )


def event_conditions(filters: LogFilters) -> list[ColumnElement]:
    """The filters as SQL conditions on the log."""
    e = ProvisioningEvent
    conditions = []
    if filters.outcome:
        conditions.append(FAILED if filters.outcome == "failed" else SUCCEEDED)
    if filters.operation:
        conditions.append(e.operation == filters.operation)
    if filters.object_type:
        conditions.append(e.resource_type.is_(None) if filters.object_type == "none"
                          else e.resource_type == filters.object_type)
    if filters.since:
        conditions.append(e.occurred_at >= filters.since)
    if filters.until:
        conditions.append(e.occurred_at < filters.until)
    if filters.resource_id:
        conditions.append(e.resource_id == filters.resource_id)
    if filters.cause:
        conditions.append(cause_filter(filters.cause))
    if filters.q:
        conditions.append(or_(contains(e.action, filters.q), contains(e.error_detail, filters.q),
                              e.resource_id == filters.q))
    return conditions


@dataclass(frozen=True)
class EventPage:
    events: list[ProvisioningEvent]
    newer: Cursor | None  # the page before, None on the newest
    older: Cursor | None  # the page after, None on the oldest
    objects: dict[tuple[str, str], str]  # (type, SCIM id) -> name, for the objects still here
    searched_from: datetime | None  # a text search without a start looked only this far back


def _after(cursor: Cursor, newer: bool) -> ColumnElement:
    """Past `cursor` in (occurred_at, id) order. The plain range on occurred_at is implied, and
    spelt out so that both databases start the index scan there."""
    e, at = ProvisioningEvent, cursor.occurred_at
    if newer:
        return and_(e.occurred_at >= at, or_(e.occurred_at > at, e.id > cursor.id))
    return and_(e.occurred_at <= at, or_(e.occurred_at < at, e.id < cursor.id))


def _events(organization_id: int, conditions: list, *, limit: int, newer: bool) -> list[ProvisioningEvent]:
    """Newest first (oldest first when `newer`)."""
    order = (ProvisioningEvent.occurred_at.asc(), ProvisioningEvent.id.asc()) if newer else newest_first()
    return list(db.session.execute(
        select(ProvisioningEvent).where(_mine(organization_id), *conditions).order_by(*order).limit(limit)
    ).scalars())


def events_page(
    organization_id: int, filters: LogFilters, *, before: Cursor | None = None, after: Cursor | None = None,
) -> EventPage:
    conditions, limit = event_conditions(filters), PAGE_SIZE
    searched_from = latest_floor(organization_id, SEARCH_LIMIT) if filters.q and not filters.since else None
    if searched_from is not None:
        conditions.append(ProvisioningEvent.occurred_at >= searched_from)
    if after is not None:
        found = _events(organization_id, conditions + [_after(after, True)], limit=limit + 1, newer=True)
        events = found[:limit][::-1]
        newer = _key(events[0]) if len(found) > limit else None
        older = _key(events[-1]) if events else (after.occurred_at, after.id)
    else:
        extra = [_after(before, False)] if before is not None else []
        found = _events(organization_id, conditions + extra, limit=limit + 1, newer=False)
        events = found[:limit]
        newer = _key(events[0]) if before is not None and events else None
        older = _key(events[-1]) if len(found) > limit else None
    return EventPage(
        events,
        Cursor(*newer) if newer else None,
        Cursor(*older) if older else None,
        object_names(organization_id, events),
        searched_from,
    )


def object_names(organization_id: int, events: list[ProvisioningEvent]) -> dict[tuple[str, str], str]:
    """The users and groups the events are about that are still here, in two queries."""
    names: dict[tuple[str, str], str] = {}
    for resource_type, model, label in (("User", User, User.user_name), ("Group", Group, Group.display_name)):
        ids = {e.resource_id for e in events if e.resource_type == resource_type and e.resource_id}
        if ids:
            names.update(((resource_type, scim_id), name) for scim_id, name in db.session.execute(
                select(model.id, label).where(with_ids(model, organization_id, ids))))
    return names


@dataclass(frozen=True)
class EventDetail:
    event: ProvisioningEvent
    token: ScimToken | None
    objects: dict[tuple[str, str], str]  # as in EventPage
    cause: Cause | None


def event_detail(organization_id: int, event_id: int, causes: dict[str, Cause] = CAUSES_BY_KEY) -> EventDetail | None:
    if event_id > MAX_ID:
        return None
    event = db.session.execute(select(ProvisioningEvent).where(
        ProvisioningEvent.id == event_id, _mine(organization_id))).scalar_one_or_none()
    if event is None:
        return None
    token = db.session.get(ScimToken, event.token_id) if event.token_id else None
    return EventDetail(
        event=event,
        token=token if token and token.organization_id == organization_id else None,
        objects=object_names(organization_id, [event]),
        cause=None if event.succeeded else cause_of(event, causes),
    )


def history_of(organization_id: int, resource_type: str, scim_id: str) -> list[ProvisioningEvent]:
    """The latest requests about one user or group. Entra's lookups name a userName, not an
    id, so they are in the log but not here."""
    return list(db.session.execute(
        select(ProvisioningEvent).where(
            ProvisioningEvent.organization_id == organization_id,
            ProvisioningEvent.resource_type == resource_type, ProvisioningEvent.resource_id == scim_id,
        ).order_by(*newest_first()).limit(HISTORY_SIZE)
    ).scalars())


def user_deletions(organization_id: int) -> list[ColumnElement]:
    # The type is written so that no index serves it. Without statistics, SQLite breaks the tie
    # between the (organization, type) index and the (organization, operation) one by which was
    # made last: with the first, counting deletions walks every request about a user.
    return [ProvisioningEvent.organization_id == organization_id, ProvisioningEvent.operation == "delete",
            ProvisioningEvent.resource_type.concat("") == "User", SUCCEEDED]


def events_batch(
    organization_id: int, filters: LogFilters, *, after: Cursor | None, limit: int,
) -> list[ProvisioningEvent]:
    """Up to `limit` requests the filters select, oldest first, after `after`."""
    conditions = event_conditions(filters) + ([_after(after, True)] if after else [])
    return _events(organization_id, conditions, limit=limit, newer=True)


def unknown_tokens_shown() -> bool:
    return db.session.execute(select(func.count(Organization.id))).scalar_one() == 1


def unknown_token_requests(*, limit: int) -> list[ProvisioningEvent] | None:
    """The latest requests refused for a bearer token that matched none, with the address they
    came from; None unless there is only one organization. They belong to no organization: on a
    single-organization install they are likely its identity provider with a mistyped token, and
    nobody else's to see; with several, no admin may see them. Requests without any token are
    never shown: they do not come from the provider."""
    if not unknown_tokens_shown():
        return None
    return list(db.session.execute(
        select(ProvisioningEvent).where(ProvisioningEvent.organization_id.is_(None),
                                        ProvisioningEvent.error_detail == UNKNOWN_TOKEN)
        .order_by(*newest_first()).limit(limit)
    ).scalars())
