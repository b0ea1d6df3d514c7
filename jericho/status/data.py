"""The queries behind the sync status pages and exports, each scoped to one organization.

Pages stay fast at 100k users, 1k groups and 1M requests in the log: every list is paginated in
SQL on an index, whatever a page shows beside its rows is loaded for the whole page in one query,
and the dashboard counts a bounded part of the log in ten-minute buckets, each request once
(activity.py), instead of reading it. Between two requests from Entra nothing they show changes,
so each process keeps what it made until the log does (`kept`).
"""
from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta, timezone, tzinfo
from typing import Any, Callable, Mapping, TypeVar

from flask import abort, current_app, g
from flask_sqlalchemy.pagination import Pagination
from sqlalchemy import ColumnElement, Integer, and_, bindparam, exists, func, literal_column, or_, select

from ..extensions import db
from ..scim.document import user_name_problem, work_email
from ..storage.filters import with_ids
from ..storage.models import Group, Membership, Organization, ProvisioningEvent, ScimToken, User, UserEmail, utcnow
from . import activity, insights
from .activity import FAILED, cause_condition
from .insights import (
    CAUSES,
    CAUSES_BY_KEY,
    CHANGES,
    Activity,
    ChartRange,
    Cycle,
    ErrorGroup,
    EventLike,
    FirstSync,
    Person,
)

PAGE_SIZE = 50
# Numbers from the query string beyond these are answered as "nothing there", not sent to SQL
# (ids are Integer columns: 32 bits on PostgreSQL, which refuses a larger number).
MAX_ID = 2**31 - 1
MAX_PAGE = 1_000_000
HISTORY_SIZE = 50
EXPORT_BATCH = 1000
SIMILAR_PEOPLE = 10
# The latest users read to tell how userName is mapped, as the setup guide does.
MAPPING_SAMPLE = 200

# scim_api.authenticate's detail for a bearer token that matches none.
UNKNOWN_TOKEN = "unknown token"

SUCCEEDED = ProvisioningEvent.status < literal_column("400")
T = TypeVar("T")


# --- Which requests an organization sees ------------------------------------------------------

def event_branches(organization_id: int) -> list[ColumnElement]:
    """The parts of the log an organization sees, each on an index: its own requests and, where
    it is the only organization, requests with a token that matched none — its Entra with a
    mistyped Secret Token, since Entra always sends one. Requests without any token are never
    shown: they do not come from Entra. Ordered reads query each part and merge."""
    return [ProvisioningEvent.organization_id == organization_id, *unknown_token_branches()]


def unknown_token_branches() -> list[ColumnElement]:
    if "status_only_organization" not in g:  # asked several times by a page: counted once
        g.status_only_organization = db.session.execute(select(func.count(Organization.id))).scalar_one() == 1
    if g.status_only_organization:
        return [and_(ProvisioningEvent.organization_id.is_(None), ProvisioningEvent.error_detail == UNKNOWN_TOKEN)]
    return []


def event_scope(organization_id: int) -> ColumnElement:
    return or_(*event_branches(organization_id))


def _key(event: ProvisioningEvent) -> tuple[datetime, int]:
    return event.occurred_at, event.id


def _newest_first():
    return ProvisioningEvent.occurred_at.desc(), ProvisioningEvent.id.desc()


def latest_event(organization_id: int, *conditions) -> ProvisioningEvent | None:
    found = [
        db.session.execute(
            select(ProvisioningEvent).where(branch, *conditions).order_by(*_newest_first()).limit(1)
        ).scalar_one_or_none()
        for branch in event_branches(organization_id)
    ]
    return max((event for event in found if event), key=_key, default=None)


def latest_change(organization_id: int) -> ProvisioningEvent | None:
    # One indexed probe per kind of change: a single IN query would sort every change ever made.
    found = [
        latest_event(organization_id, ProvisioningEvent.operation == operation, SUCCEEDED)
        for operation in CHANGES
    ]
    return max((event for event in found if event), key=_key, default=None)


# --- Aggregates over time ---------------------------------------------------------------------

# The dashboard's chart and cycles start at the bucket that holds the this-many-th latest request,
# and a text search (which no index serves) looks through at most SEARCH_LIMIT, so a page costs
# the same on a log of any size and density (an initial sync sends hundreds of requests a second).
ACTIVITY_LIMIT = 50_000
SEARCH_LIMIT = 200_000


def latest_floor(organization_id: int, count: int) -> datetime | None:
    """The time of the `count`-th latest request, None when there are fewer: one walk down the
    (organization_id, occurred_at) index."""
    return db.session.execute(
        select(ProvisioningEvent.occurred_at).where(ProvisioningEvent.organization_id == organization_id)
        .order_by(ProvisioningEvent.occurred_at.desc()).offset(count - 1).limit(1)
    ).scalar_one_or_none()


def activity_of(organization_id: int, *, since: datetime) -> list[Activity]:
    """The requests since `since`, counted by bucket, kind and outcome."""
    return activity.own_activity(organization_id, since=since) + _unknown_token_activity(since=since)


def _unknown_token_activity(*, since: datetime) -> list[Activity]:
    # Counted from the log on each view: the failed-authentication rate limit keeps them few.
    return [item for branch in unknown_token_branches()
            for item in activity.counted(branch, ProvisioningEvent.occurred_at >= since)]


def cause_filter(key: str) -> ColumnElement:
    """The failed requests of one cause: its rule matches and no earlier rule does."""
    conditions = [FAILED]
    for cause in CAUSES:
        if cause.key == key:
            conditions.append(cause_condition(cause))
            break
        conditions.append(~cause_condition(cause))
    return and_(*conditions)


def error_groups(organization_id: int, *conditions) -> list[ErrorGroup]:
    """Failed requests (within `conditions`) grouped by cause, in one aggregate."""
    rows = select(activity.cause_key().label("cause"), ProvisioningEvent.occurred_at, ProvisioningEvent.id).where(
        event_scope(organization_id), FAILED, *conditions
    ).subquery()
    grouped = db.session.execute(
        select(rows.c.cause, func.count(), func.min(rows.c.occurred_at), func.max(rows.c.occurred_at),
               func.max(rows.c.id)).group_by(rows.c.cause)
    )
    return insights.merge_error_groups(
        ErrorGroup(CAUSES_BY_KEY[key], count, first, last, example)
        for key, count, first, last, example in grouped
    )


# --- The dashboard ----------------------------------------------------------------------------

@dataclass(frozen=True)
class UserCounts:
    active: int
    deactivated: int
    deleted: int  # user deletions the log still holds

    @property
    def users(self) -> int:
        return self.active + self.deactivated


@dataclass(frozen=True)
class Counts:
    users: UserCounts
    groups: int
    empty_groups: int
    memberships: int


# What the status pages show changes only with a request from Entra, which the log records
# after the change, or with pruning. Each process keeps counts, and whatever else a page asks to
# keep, with the log's version when they were made, and makes them again when it differs: the
# largest id, which every new request raises, and the first request (the organization's own,
# and those of no organization), which pruning changes. A request's log entry is stored after
# its change, so a value made before the change is made again once the entry is there. The
# number of organizations is part of the version too: it decides who sees unknown tokens.
# SQLite has one writer at a time, so ids are committed in order; PostgreSQL may commit a
# smaller id after a larger one, so there a value is kept only when no other session of the
# database was in a write transaction as the version was read. A value is kept for KEPT_FOR at
# most, in case a request's log entry could not be stored.
KEPT_FOR = timedelta(minutes=1)
KEPT = "jericho.status_kept"
KEPT_ENTRIES = 200  # per process, the least recently used forgotten first: most are pages of ~30 kB


@dataclass(frozen=True)
class _Kept:
    version: tuple
    made_at: datetime
    value: Any


def counts_of(organization_id: int) -> Counts:
    return kept(organization_id, ("counts",), lambda: _count(organization_id))


def user_counts(organization_id: int) -> UserCounts:
    """What the users page needs of counts_of, counted on their own while none are kept."""
    return kept(organization_id, ("user counts",), lambda: _count_users(organization_id))


def kept(organization_id: int, key: tuple, make: Callable[[], T]) -> T:
    """make(), or what it made for the organization and `key` while the log's version was the
    same. `key` names everything else the value depends on."""
    version, settled = log_version(organization_id)
    store: _KeptStore = current_app.extensions.setdefault(KEPT, _KeptStore())
    full_key = (organization_id, *key)
    found = store.get(full_key)
    if found is not None and found.version == version and utcnow() < found.made_at + KEPT_FOR:
        return found.value
    made_at = utcnow()
    value = make()
    if settled:
        store.put(full_key, _Kept(version, made_at, value))
    return value


class _KeptStore:
    """A bounded mapping, safe to share between a process's threads."""

    def __init__(self) -> None:
        self._entries: OrderedDict[tuple, _Kept] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: tuple) -> _Kept | None:
        with self._lock:
            found = self._entries.get(key)
            if found is not None:
                self._entries.move_to_end(key)
            return found

    def put(self, key: tuple, value: _Kept) -> None:
        with self._lock:
            self._entries[key] = value
            self._entries.move_to_end(key)
            while len(self._entries) > KEPT_ENTRIES:
                self._entries.popitem(last=False)

    def values(self) -> list[_Kept]:
        with self._lock:
            return list(self._entries.values())


def _log_version_statement():
    e = ProvisioningEvent

    def first(condition, column):
        return select(column).where(condition).order_by(e.occurred_at, e.id).limit(1).scalar_subquery()

    mine, nobodys = e.organization_id == bindparam("organization_id"), e.organization_id.is_(None)
    return select(first(mine, e.occurred_at), first(mine, e.id), first(nobodys, e.occurred_at), first(nobodys, e.id),
                  select(func.max(e.id)).scalar_subquery(),
                  # Whether requests with an unknown token are the organization's (event_branches).
                  select(func.count(Organization.id)).scalar_subquery())


# Made once: building the statement costs more than running it (six index probes). On
# PostgreSQL, in the same statement, the database's other sessions then in a write transaction.
_LOG_VERSION = _log_version_statement()
_LOG_VERSION_WRITERS = select(*_LOG_VERSION.selected_columns, literal_column(
    "(SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
    " AND backend_xid IS NOT NULL AND pid <> pg_backend_pid())", Integer))


def log_version(organization_id: int) -> tuple[tuple, bool]:
    """The log's version for the organization (see KEPT_FOR), and whether values made now may be
    kept; read once per request (or app context)."""
    memo = g.setdefault("status_log_version", {})
    if organization_id not in memo:
        if db.engine.dialect.name == "postgresql":
            row = db.session.execute(_LOG_VERSION_WRITERS, {"organization_id": organization_id}).one()
            memo[organization_id] = tuple(row[:-1]), settled(row[-1])
        else:
            row = db.session.execute(_LOG_VERSION, {"organization_id": organization_id}).one()
            memo[organization_id] = tuple(row), True
    return memo[organization_id]


def settled(writers: int) -> bool:
    """Whether values may be kept while `writers` other sessions of the database are in a write
    transaction (PostgreSQL)."""
    return writers == 0


def _scalar(statement):
    return db.session.execute(statement).scalar_one()


def _count_users(organization_id: int) -> UserCounts:
    # Users and deactivated users: the few deactivated are a short range of the state index.
    users = _scalar(select(func.count()).select_from(User).where(User.organization_id == organization_id))
    deactivated = _scalar(select(func.count()).select_from(User).where(
        User.organization_id == organization_id, User.active.is_(False)))
    deleted = _scalar(select(func.count()).select_from(ProvisioningEvent).where(*_user_deletions(organization_id)))
    return UserCounts(users - deactivated, deactivated, deleted)


def _count(organization_id: int) -> Counts:
    return Counts(
        users=_count_users(organization_id),
        groups=_scalar(select(func.count()).select_from(Group).where(Group.organization_id == organization_id)),
        empty_groups=_scalar(select(func.count()).select_from(Group).where(
            Group.organization_id == organization_id, ~exists().where(Membership.group_pk == Group.pk))),
        memberships=_scalar(select(func.count()).select_from(Membership).join(Group, Group.pk == Membership.group_pk)
                            .where(Group.organization_id == organization_id)),
    )


@dataclass(frozen=True)
class Sync:
    """Cycles from `window_start` to `until`, and where the first sync stands."""

    window_start: datetime
    until: datetime  # the last request, or now
    kept_as: tuple  # what the window depends on beside the log's version, for `kept`
    clipped: bool  # window_start is later than asked, for ACTIVITY_LIMIT
    activity: list[Activity]
    cycles: list[Cycle]
    first_sync: FirstSync


@dataclass(frozen=True)
class _Window:
    start: datetime
    clipped: bool
    activity: list[Activity]
    cycles: list[Cycle]
    earlier_creates: int


def sync_of(organization_id: int, *, now: datetime, span: timedelta, last_request: EventLike | None) -> Sync:
    # The window ends at the last request, so the cycles before a long silence still show.
    until = min(now, last_request.occurred_at) if last_request else now
    # The last request's time is named by the log's version: kept under the span alone, the
    # window of the last request replaces the one before instead of piling up beside it.
    kept_as = (span, None if last_request and until == last_request.occurred_at else until)
    window = kept(organization_id, ("sync", *kept_as), lambda: _window_of(organization_id, since=until - span))
    first_sync = insights.first_sync_of(window.cycles, now=now, window_start=window.start,
                                        earlier_creates=window.earlier_creates)
    return Sync(window.start, until, kept_as, window.clipped, window.activity, window.cycles, first_sync)


def _window_of(organization_id: int, *, since: datetime) -> _Window:
    own = activity.own_activity(organization_id, since=since)
    window_start = _window_start(own, since=since)
    if window_start > since:  # a bucket's start: its counts are wholly in the window or wholly out
        own = [item for item in own if item.bucket >= window_start]
    items = own + _unknown_token_activity(since=window_start)
    earlier = select(ProvisioningEvent.id).where(
        ProvisioningEvent.organization_id == organization_id, ProvisioningEvent.operation == "create",
        SUCCEEDED, ProvisioningEvent.occurred_at < window_start,
    ).limit(insights.ON_DEMAND_CREATES + 1).subquery()
    earlier_creates = db.session.execute(select(func.count()).select_from(earlier)).scalar_one()
    return _Window(window_start, window_start > since, items, insights.cycles_of(items), earlier_creates)


def _window_start(own: list[Activity], *, since: datetime) -> datetime:
    """`since`, or, when more than ACTIVITY_LIMIT requests arrived since, the start of the bucket
    that holds the ACTIVITY_LIMIT-th latest one."""
    by_bucket: dict[datetime, int] = {}
    for item in own:
        by_bucket[item.bucket] = by_bucket.get(item.bucket, 0) + item.count
    remaining = ACTIVITY_LIMIT
    for bucket in sorted(by_bucket, reverse=True):
        if by_bucket[bucket] >= remaining:
            return max(bucket, since)
        remaining -= by_bucket[bucket]
    return since


@dataclass(frozen=True)
class LoggedRequest:
    """What the dashboard shows of a request: kept between views, unlike a row of the session."""

    id: int
    organization_id: int | None
    occurred_at: datetime
    status: int
    operation: str
    action: str
    error_detail: str | None

    @classmethod
    def of(cls, event: ProvisioningEvent | None) -> LoggedRequest | None:
        if event is None:
            return None
        return cls(event.id, event.organization_id, event.occurred_at, event.status, event.operation, event.action,
                   event.error_detail)


@dataclass(frozen=True)
class _Latest:
    request: LoggedRequest | None
    change: LoggedRequest | None
    failure: LoggedRequest | None


def _latest_of(organization_id: int) -> _Latest:
    return _Latest(*(LoggedRequest.of(event) for event in (
        latest_event(organization_id), latest_change(organization_id), latest_event(organization_id, FAILED))))


@dataclass(frozen=True)
class Dashboard:
    health: insights.Health
    counts: Counts
    last_request: LoggedRequest | None
    last_change: LoggedRequest | None
    last_failure: LoggedRequest | None
    sync: Sync
    chart: insights.Chart
    errors: list[ErrorGroup]  # within the chart's range

    @property
    def last_cycle(self) -> Cycle | None:
        return self.sync.cycles[-1] if self.sync.cycles else None

    def recent_cycles(self, limit: int = 30) -> list[Cycle]:
        return self.sync.cycles[::-1][:limit]


def dashboard_of(organization_id: int, *, now: datetime, zone: tzinfo, chart_range: ChartRange) -> Dashboard:
    """Everything the dashboard shows. What depends only on the log is kept between views
    (`kept`); what depends on the time is worked out from it on each view."""
    counts = counts_of(organization_id)
    latest = kept(organization_id, ("latest",), lambda: _latest_of(organization_id))
    sync = sync_of(organization_id, now=now, span=chart_range.span, last_request=latest.request)
    latest_cycle = sync.cycles[-1] if sync.cycles else None
    latest_errors = _errors_since(organization_id, sync, latest_cycle.start) \
        if latest_cycle and latest_cycle.tally.errors else []
    health = insights.health_of(insights.HealthEvidence(
        now=now,
        zone=zone,
        last_request=latest.request,
        started=latest.change is not None or counts.users.users > 0 or counts.groups > 0,
        latest_cycle=latest_cycle,
        latest_errors=latest_errors,
        first_sync=sync.first_sync,
    ))
    # The chart depends on the time only through its window: whole buckets up to now.
    window = insights.chart_window(chart_range, now)
    chart = kept(organization_id, ("chart", chart_range, *sync.kept_as, window, zone),
                 lambda: insights.chart_of(sync.activity, chart_range, now=now, zone=zone))
    return Dashboard(
        health=health,
        counts=counts,
        last_request=latest.request,
        last_change=latest.change,
        last_failure=latest.failure,
        sync=sync,
        chart=chart,
        errors=_errors_since(organization_id, sync, chart.start),
    )


def _errors_since(organization_id: int, sync: Sync, since: datetime) -> list[ErrorGroup]:
    """The failed requests since `since`, by cause. `since` starts a bucket or a cycle, so each
    bucket's counts are wholly before it or wholly after."""
    return kept(organization_id, ("errors", *sync.kept_as, since),
                lambda: _count_errors_since(organization_id, sync, since))


def _count_errors_since(organization_id: int, sync: Sync, since: datetime) -> list[ErrorGroup]:
    items = sync.activity if since >= sync.window_start else activity_of(organization_id, since=since)
    return insights.error_groups_of(item for item in items if item.first >= since)


# --- Filters from the query string ------------------------------------------------------------

def _like(text: str) -> str:
    """A LIKE pattern for `text` anywhere, its wildcards escaped (used with escape="\\")."""
    escaped = text.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _contains(column, text: str) -> ColumnElement:
    """`text` anywhere in `column`, ignoring case. SQLite's LIKE ignores ASCII case by itself;
    its lower() is the app's Unicode-aware Python function, one call per row scanned."""
    if db.engine.dialect.name == "sqlite":
        return column.like(_like(text), escape="\\")
    return column.ilike(_like(text), escape="\\")


def _equals_ignoring_case(column, text: str) -> ColumnElement:
    if db.engine.dialect.name == "sqlite":
        return column.collate("NOCASE") == text
    return func.lower(column) == text.lower()


def page_number(args: Mapping[str, str]) -> int:
    try:
        return min(max(int(args.get("page", 1)), 1), MAX_PAGE)
    except ValueError:
        return 1


USER_SORTS = {
    "user_name": (User.user_name_key.asc(),),
    "-user_name": (User.user_name_key.desc(),),
    "name": (User.display_name_key.asc(), User.user_name_key.asc()),
    "-name": (User.display_name_key.desc(), User.user_name_key.desc()),
    "-updated": (User.updated_at.desc(), User.pk.desc()),
    "updated": (User.updated_at.asc(), User.pk.asc()),
    "-created": (User.created_at.desc(), User.pk.desc()),
    "created": (User.created_at.asc(), User.pk.asc()),
}
USER_STATES = ("all", "active", "deactivated")


@dataclass(frozen=True)
class UserFilters:
    q: str = ""
    state: str = "all"
    group: str = ""  # a group's SCIM id: its direct members
    group_name: str = ""  # part of a group's name: the direct members of the groups it matches
    manager: str = ""  # a user's SCIM id: their direct reports
    sort: str = "user_name"
    page: int = 1

    @classmethod
    def from_args(cls, args: Mapping[str, str]) -> UserFilters:
        state, sort = args.get("state", "all"), args.get("sort", "user_name")
        return cls(
            q=args.get("q", "").strip(),
            state=state if state in USER_STATES else "all",
            group=args.get("group", "").strip(),
            group_name=args.get("group_name", "").strip(),
            manager=args.get("manager", "").strip(),
            sort=sort if sort in USER_SORTS else "user_name",
            page=page_number(args),
        )

    def args(self, **changes: Any) -> dict[str, Any]:
        """Query-string arguments for a link to these filters, changed by `changes`."""
        values = {**self.__dict__, **changes}
        defaults = UserFilters()
        return {key: value for key, value in values.items() if value != getattr(defaults, key)}


def users_statement(organization_id: int, filters: UserFilters):
    conditions = [User.organization_id == organization_id]
    if filters.q:
        pattern = _like(filters.q)
        emails = select(UserEmail.user_pk).where(
            UserEmail.organization_id == organization_id, UserEmail.value_key.like(pattern, escape="\\"))
        conditions.append(or_(
            User.user_name_key.like(pattern, escape="\\"),
            User.display_name_key.like(pattern, escape="\\"),
            User.pk.in_(emails),
        ))
    if filters.state != "all":
        conditions.append(User.active.is_(filters.state == "active"))
    if filters.group:
        members = select(Membership.user_pk).join(Group, Group.pk == Membership.group_pk).where(
            Group.organization_id == organization_id, Group.id == filters.group)
        conditions.append(User.pk.in_(members))
    if filters.group_name:
        members = select(Membership.user_pk).join(Group, Group.pk == Membership.group_pk).where(
            Group.organization_id == organization_id,
            Group.display_name_key.like(_like(filters.group_name), escape="\\"))
        conditions.append(User.pk.in_(members))
    if filters.manager:
        conditions.append(User.manager_id == filters.manager)
    return select(User).where(*conditions).order_by(*USER_SORTS[filters.sort], User.pk)


@dataclass(frozen=True)
class UserRow:
    user: User
    email: str | None
    groups: int
    deactivated_at: datetime | None


def users_page(organization_id: int, filters: UserFilters, counts: UserCounts) -> tuple[Pagination, list[UserRow]]:
    # Without a search, a group or a manager, the number of users is one of `counts`.
    known = None if filters.q or filters.group or filters.group_name or filters.manager else \
        {"all": counts.users, "active": counts.active, "deactivated": counts.deactivated}[filters.state]
    page = db.paginate(users_statement(organization_id, filters), page=filters.page, per_page=PAGE_SIZE,
                       error_out=False, count=known is None)
    if known is not None:
        page.total = known
    users = list(page.items)
    pks = [user.pk for user in users]
    groups = dict(db.session.execute(
        select(Membership.user_pk, func.count()).where(Membership.user_pk.in_(pks)).group_by(Membership.user_pk)
    ).all()) if pks else {}
    deactivated = deactivation_times(organization_id, [user for user in users if not user.active])
    rows = [UserRow(user, work_email(user.document), groups.get(user.pk, 0), deactivated.get(user.id)) for user in users]
    return page, rows


def deactivation_times(organization_id: int, users: list[User]) -> dict[str, datetime]:
    """When each deactivated user was deactivated: the latest disable the log holds, else their
    last change (the log may have been pruned since)."""
    if not users:
        return {}
    found = dict(db.session.execute(
        select(ProvisioningEvent.resource_id, func.max(ProvisioningEvent.occurred_at)).where(
            ProvisioningEvent.organization_id == organization_id, ProvisioningEvent.resource_type == "User",
            ProvisioningEvent.resource_id.in_([user.id for user in users]),
            ProvisioningEvent.operation == "disable", SUCCEEDED,
        ).group_by(ProvisioningEvent.resource_id)
    ).all())
    return {user.id: found.get(user.id, user.updated_at) for user in users}


# The users page lists the groups to filter by while they are this few; beyond, a list of a
# thousand names would make most of the page, and the filter takes a name (or part of one).
GROUP_CHOICES = 100


def group_choices(organization_id: int) -> list[tuple[str, str]] | None:
    """(SCIM id, name) of every group, by name; None when there are more than GROUP_CHOICES."""
    found = [tuple(row) for row in db.session.execute(
        select(Group.id, Group.display_name).where(Group.organization_id == organization_id)
        .order_by(Group.display_name_key).limit(GROUP_CHOICES + 1)
    )]
    return found if len(found) <= GROUP_CHOICES else None


def group_of(organization_id: int, scim_id: str) -> Group | None:
    return db.session.execute(
        select(Group).where(Group.organization_id == organization_id, Group.id == scim_id)
    ).scalar_one_or_none()


# --- One user ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class UserDetail:
    user: User
    manager: User | None
    reports: list[User]
    reports_total: int
    groups: list[Group]
    deactivated_at: datetime | None
    history: list[ProvisioningEvent]


def user_of(organization_id: int, scim_id: str) -> User:
    return db.first_or_404(select(User).where(User.organization_id == organization_id, User.id == scim_id))


def user_detail(organization_id: int, scim_id: str) -> UserDetail:
    user = user_of(organization_id, scim_id)
    manager = db.session.execute(
        select(User).where(User.organization_id == organization_id, User.id == user.manager_id)
    ).scalar_one_or_none() if user.manager_id else None
    reports = select(User).where(User.organization_id == organization_id, User.manager_id == user.id)
    return UserDetail(
        user=user,
        manager=manager,
        reports=list(db.session.execute(reports.order_by(User.user_name_key).limit(PAGE_SIZE)).scalars()),
        reports_total=db.session.execute(select(func.count()).select_from(reports.subquery())).scalar_one(),
        groups=list(db.session.execute(
            select(Group).join(Membership, Membership.group_pk == Group.pk)
            .where(Membership.user_pk == user.pk).order_by(Group.display_name_key)
        ).scalars()),
        deactivated_at=None if user.active else deactivation_times(organization_id, [user])[user.id],
        history=history_of(organization_id, "User", user.id),
    )


def history_of(organization_id: int, resource_type: str, scim_id: str) -> list[ProvisioningEvent]:
    """The latest requests about one user or group. Entra's lookups name a userName, not an
    id, so they are in the log but not here."""
    return list(db.session.execute(
        select(ProvisioningEvent).where(
            ProvisioningEvent.organization_id == organization_id,
            ProvisioningEvent.resource_type == resource_type, ProvisioningEvent.resource_id == scim_id,
        ).order_by(*_newest_first()).limit(HISTORY_SIZE)
    ).scalars())


# --- Deleted users ----------------------------------------------------------------------------

def _user_deletions(organization_id: int) -> list[ColumnElement]:
    # The type is written so that no index serves it. Without statistics, SQLite breaks the tie
    # between the (organization, type) index and the (organization, operation) one by which was
    # made last: with the first, counting deletions walks every request about a user.
    return [ProvisioningEvent.organization_id == organization_id, ProvisioningEvent.operation == "delete",
            ProvisioningEvent.resource_type.concat("") == "User", SUCCEEDED]


@dataclass(frozen=True)
class Deletion:
    event: ProvisioningEvent
    user_name: str
    back_as: str | None  # the SCIM id of a user here with the same userName, created again


def deletions_page(organization_id: int, page: int) -> tuple[Pagination, list[Deletion]]:
    """A SCIM DELETE removes the user (RFC 7644 §3.6); the log remembers who and when."""
    pagination = db.paginate(
        select(ProvisioningEvent).where(*_user_deletions(organization_id)).order_by(*_newest_first()),
        page=page, per_page=PAGE_SIZE, error_out=False,
    )
    names = {event.id: insights.deleted_user_name(event.action) for event in pagination.items}
    back = dict(db.session.execute(
        select(User.user_name_key, User.id).where(
            User.organization_id == organization_id, User.user_name_key.in_({n.lower() for n in names.values()}))
    ).all()) if names else {}
    return pagination, [Deletion(event, names[event.id], back.get(names[event.id].lower())) for event in pagination.items]


# --- Groups -----------------------------------------------------------------------------------

_MEMBER_COUNT = select(func.count()).where(Membership.group_pk == Group.pk).correlate(Group).scalar_subquery()
GROUP_SORTS = {
    "name": (Group.display_name_key.asc(),),
    "-name": (Group.display_name_key.desc(),),
    "members": (_MEMBER_COUNT.asc(), Group.display_name_key),
    "-members": (_MEMBER_COUNT.desc(), Group.display_name_key),
    "-created": (Group.created_at.desc(), Group.pk.desc()),
    "created": (Group.created_at.asc(), Group.pk.asc()),
}


@dataclass(frozen=True)
class GroupFilters:
    q: str = ""
    empty: bool = False
    sort: str = "name"
    page: int = 1

    @classmethod
    def from_args(cls, args: Mapping[str, str]) -> GroupFilters:
        sort = args.get("sort", "name")
        return cls(q=args.get("q", "").strip(), empty=args.get("empty") == "1",
                   sort=sort if sort in GROUP_SORTS else "name", page=page_number(args))

    def args(self, **changes: Any) -> dict[str, Any]:
        values = {**self.__dict__, **changes}
        values["empty"] = "1" if values["empty"] else ""
        defaults = {"q": "", "empty": "", "sort": "name", "page": 1}
        return {key: value for key, value in values.items() if value != defaults[key]}


def groups_page(organization_id: int, filters: GroupFilters) -> tuple[Pagination, dict[int, int]]:
    conditions = [Group.organization_id == organization_id]
    if filters.q:
        conditions.append(Group.display_name_key.like(_like(filters.q), escape="\\"))
    if filters.empty:
        conditions.append(~exists().where(Membership.group_pk == Group.pk))
    page = db.paginate(select(Group).where(*conditions).order_by(*GROUP_SORTS[filters.sort]), page=filters.page,
                       per_page=PAGE_SIZE, error_out=False)
    pks = [group.pk for group in page.items]
    counts = dict(db.session.execute(
        select(Membership.group_pk, func.count()).where(Membership.group_pk.in_(pks)).group_by(Membership.group_pk)
    ).all()) if pks else {}
    return page, counts


@dataclass(frozen=True)
class GroupDetail:
    group: Group
    members: Pagination
    history: list[ProvisioningEvent]


def group_detail(organization_id: int, scim_id: str, *, page: int) -> GroupDetail:
    group = group_of(organization_id, scim_id) or abort(404)
    members = db.paginate(
        select(User).join(Membership, Membership.user_pk == User.pk)
        .where(Membership.group_pk == group.pk).order_by(User.user_name_key),
        page=page, per_page=PAGE_SIZE, error_out=False,
    )
    return GroupDetail(group, members, history_of(organization_id, "Group", group.id))


# --- The provisioning log ---------------------------------------------------------------------

OUTCOMES = ("succeeded", "failed")
OBJECT_TYPES = ("User", "Group", "none")


@dataclass(frozen=True)
class Cursor:
    """A position in the log, newest first: keyset pagination stays fast at any depth."""

    occurred_at: datetime
    id: int

    def __str__(self) -> str:
        return f"{self.occurred_at.astimezone(timezone.utc):%Y-%m-%dT%H:%M:%S.%f}~{self.id}"

    @classmethod
    def parse(cls, text: str | None) -> Cursor | None:
        moment, _, number = (text or "").partition("~")
        try:
            cursor = cls(datetime.fromisoformat(moment).replace(tzinfo=timezone.utc), int(number))
        except ValueError:
            return None
        return cursor if 0 < cursor.id <= MAX_ID else None


def parse_moment(text: str, *, end: bool) -> datetime | None:
    """A date or date and time typed into the filter, in UTC. An end includes the whole day or
    minute given, as people mean it; None when it is not a date."""
    text = text.strip()
    if not text:
        return None
    try:
        if len(text) <= 10:
            day = date.fromisoformat(text)
            moment = datetime.combine(day, time(), tzinfo=timezone.utc)
            return moment + timedelta(days=1) if end else moment
        moment = datetime.fromisoformat(text.removesuffix("Z")).replace(tzinfo=timezone.utc)
        unit = timedelta(seconds=1) if moment.second or moment.microsecond or text.count(":") > 1 else timedelta(minutes=1)
        return moment + unit if end else moment
    except (ValueError, OverflowError):  # not a date, or the end of year 9999
        return None


@dataclass(frozen=True)
class LogFilters:
    outcome: str = ""
    operation: str = ""
    object_type: str = ""
    since_text: str = ""  # as typed, to show again
    until_text: str = ""
    q: str = ""
    resource_id: str = ""  # the requests about one user or group
    cause: str = ""  # a key of insights.CAUSES
    problems: tuple[str, ...] = ()  # why a value typed was ignored

    @classmethod
    def from_args(cls, args: Mapping[str, str]) -> LogFilters:
        outcome, operation, object_type = (args.get(k, "") for k in ("outcome", "operation", "type"))
        filters = cls(
            outcome=outcome if outcome in OUTCOMES else "",
            operation=operation if operation in ProvisioningEvent.OPERATIONS else "",
            object_type=object_type if object_type in OBJECT_TYPES else "",
            since_text=args.get("from", "").strip(),
            until_text=args.get("to", "").strip(),
            q=args.get("q", "").strip(),
            resource_id=args.get("object", "").strip(),
            cause=args.get("cause", "") if args.get("cause") in CAUSES_BY_KEY else "",
        )
        problems = tuple(
            f"“{text}” is not a date: use the form 2026-11-30 or 2026-11-30T10:40 (UTC)."
            for text, end in ((filters.since_text, False), (filters.until_text, True))
            if text and parse_moment(text, end=end) is None
        )
        return replace(filters, problems=problems)

    @property
    def since(self) -> datetime | None:
        return parse_moment(self.since_text, end=False)

    @property
    def until(self) -> datetime | None:
        return parse_moment(self.until_text, end=True)

    @property
    def active(self) -> bool:
        return any((self.outcome, self.operation, self.object_type, self.since_text, self.until_text,
                    self.q, self.resource_id, self.cause))

    def args(self, **changes: Any) -> dict[str, str]:
        values = {"outcome": self.outcome, "operation": self.operation, "type": self.object_type,
                  "from": self.since_text, "to": self.until_text, "q": self.q, "object": self.resource_id,
                  "cause": self.cause}
        values.update(changes)
        return {key: value for key, value in values.items() if value}

    def conditions(self) -> list[ColumnElement]:
        e = ProvisioningEvent
        conditions = []
        if self.outcome:
            conditions.append(FAILED if self.outcome == "failed" else SUCCEEDED)
        if self.operation:
            conditions.append(e.operation == self.operation)
        if self.object_type:
            conditions.append(e.resource_type.is_(None) if self.object_type == "none"
                              else e.resource_type == self.object_type)
        if self.since:
            conditions.append(e.occurred_at >= self.since)
        if self.until:
            conditions.append(e.occurred_at < self.until)
        if self.resource_id:
            conditions.append(e.resource_id == self.resource_id)
        if self.cause:
            conditions.append(cause_filter(self.cause))
        if self.q:
            conditions.append(or_(_contains(e.action, self.q), _contains(e.error_detail, self.q),
                                  e.resource_id == self.q))
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
    """Newest first (oldest first when `newer`), merged over the organization's branches."""
    order = (ProvisioningEvent.occurred_at.asc(), ProvisioningEvent.id.asc()) if newer else _newest_first()
    found = []
    for branch in event_branches(organization_id):
        found += db.session.execute(
            select(ProvisioningEvent).where(branch, *conditions).order_by(*order).limit(limit)
        ).scalars()
    return sorted(found, key=_key, reverse=not newer)[:limit]


def events_page(
    organization_id: int, filters: LogFilters, *, before: Cursor | None = None, after: Cursor | None = None,
) -> EventPage:
    conditions, limit = filters.conditions(), PAGE_SIZE
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
    cause: insights.Cause | None


def event_detail(organization_id: int, event_id: int) -> EventDetail:
    if event_id > MAX_ID:
        abort(404)
    event = db.first_or_404(select(ProvisioningEvent).where(
        ProvisioningEvent.id == event_id, event_scope(organization_id)))
    token = db.session.get(ScimToken, event.token_id) if event.token_id else None
    return EventDetail(
        event=event,
        token=token if token and token.organization_id == organization_id else None,
        objects=object_names(organization_id, [event]),
        cause=None if event.succeeded else insights.cause_of(event),
    )


# --- Why isn't this person here? --------------------------------------------------------------

def _person(user: User) -> Person:
    return Person(user.id, user.user_name, user.display_name, user.active)


def why_evidence(organization_id: int, query: str, *, now: datetime) -> insights.WhyEvidence:
    """What was received about someone searched for by email address or userName (not empty)."""
    key = query.strip().lower()
    e = ProvisioningEvent
    exact = db.session.execute(
        select(User).where(User.organization_id == organization_id, or_(
            User.user_name_key == key,
            User.pk.in_(select(UserEmail.user_pk).where(
                UserEmail.organization_id == organization_id, UserEmail.value_key == key)),
        )).order_by(User.active.desc(), User.pk).limit(1)
    ).scalar_one_or_none()
    similar = db.session.execute(
        users_statement(organization_id, UserFilters(q=_name_part(key))).limit(SIMILAR_PEOPLE)
    ).scalars()
    deleted = db.session.execute(
        select(func.max(e.occurred_at)).where(
            *_user_deletions(organization_id), _equals_ignoring_case(e.action, insights.DELETE_USER_ACTION + key))
    ).scalar_one()
    lookups = [e.organization_id == organization_id, e.operation == "lookup", e.resource_type == "User",
               _equals_ignoring_case(e.action, f"look up user {key}")]
    recent = latest_floor(organization_id, SEARCH_LIMIT)
    if recent is not None:  # no index serves the action's text: look through the latest only
        lookups.append(e.occurred_at >= recent)
    looked_up = db.session.execute(select(func.max(e.occurred_at)).where(*lookups)).scalar_one()
    latest = db.session.execute(
        select(User.user_name, User.document).where(User.organization_id == organization_id)
        .order_by(User.updated_at.desc(), User.pk.desc()).limit(MAPPING_SAMPLE)
    ).all()
    counts = counts_of(organization_id)
    sync = sync_of(organization_id, now=now, span=insights.CHART_RANGES["24h"].span,
                   last_request=latest_event(organization_id))
    return insights.WhyEvidence(
        query=query.strip(),
        now=now,
        exact=_person(exact) if exact else None,
        similar=[_person(user) for user in similar if exact is None or user.pk != exact.pk],
        deleted_at=deleted,
        looked_up_at=looked_up,
        refusals=error_groups(organization_id, _contains(e.error_detail, key)),
        first_sync=sync.first_sync,
        users=counts.users.users,
        mail_mapped=_mail_mapped(latest),
        domains=frozenset(name.rpartition("@")[2].lower() for name, _ in latest if "@" in name),
        empty_groups=counts.empty_groups,
    )


def _name_part(key: str) -> str:
    """What to look for among similar people: the local part of an email address."""
    return key.partition("@")[0] if "@" in key else key


def _mail_mapped(users: list[tuple[str, dict]]) -> bool | None:
    """Whether userName looks mapped from mail: most recent users have their email as userName."""
    if not users:
        return None
    matching = sum(1 for name, document in users if user_name_problem(name, work_email(document)) is None)
    return matching * 2 > len(users)


# --- Batches for the exports ------------------------------------------------------------------

@dataclass(frozen=True)
class ExportedUser:
    user: User
    manager: str | None  # the manager's userName
    groups: list[str]


def users_batch(organization_id: int, filters: UserFilters, *, after: str | None) -> list[ExportedUser]:
    """Up to EXPORT_BATCH users the filters select, by userName, after the userName key `after`
    (keyset pagination): three queries, whatever the size of the batch."""
    statement = users_statement(organization_id, replace(filters, sort="user_name", page=1)).limit(EXPORT_BATCH)
    if after is not None:
        statement = statement.where(User.user_name_key > after)
    users = list(db.session.execute(statement).scalars())
    if not users:
        return []
    managers = _manager_names(organization_id, users)
    groups = _group_names(users)
    return [ExportedUser(user, managers.get(user.manager_id), groups.get(user.pk, [])) for user in users]


def _manager_names(organization_id: int, users: list[User]) -> dict[str, str]:
    ids = {user.manager_id for user in users if user.manager_id}
    if not ids:
        return {}
    return dict(db.session.execute(
        select(User.id, User.user_name).where(with_ids(User, organization_id, ids))
    ).all())


def _group_names(users: list[User]) -> dict[int, list[str]]:
    names: dict[int, list[str]] = {}
    for user_pk, display_name in db.session.execute(
        select(Membership.user_pk, Group.display_name).join(Group, Group.pk == Membership.group_pk)
        .where(Membership.user_pk.in_([user.pk for user in users])).order_by(Group.display_name_key)
    ):
        names.setdefault(user_pk, []).append(display_name)
    return names


def events_batch(organization_id: int, filters: LogFilters, *, after: Cursor | None) -> list[ProvisioningEvent]:
    """Up to EXPORT_BATCH requests the filters select, oldest first, after `after`."""
    conditions = filters.conditions() + ([_after(after, True)] if after else [])
    return _events(organization_id, conditions, limit=EXPORT_BATCH, newer=True)
