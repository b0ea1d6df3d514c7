"""The users and groups as received, as the status pages and the users export read them: pages
of users and groups, one user or group, and the users deleted. Each query is scoped to one
organization, paginated in SQL on an index, and whatever a page shows beside its rows is loaded
for the whole page in one query."""
from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from flask_sqlalchemy.pagination import Pagination, SelectPagination
from sqlalchemy import case, exists, func, or_, select

from ..extensions import db
from ..scim.document import department, person_name, work_email
from ..storage.filters import with_ids
from ..storage.models import Group, Membership, ProvisioningEvent, User, UserEmail
from .counts import UserCounts
from .filters import GroupFilters, UserFilters
from .log_queries import PAGE_SIZE, SUCCEEDED, history_of, newest_first, user_deletions
from .matching import like_pattern

USER_ORDERS = {
    "user_name": (User.user_name_key.asc(),),
    "-user_name": (User.user_name_key.desc(),),
    "name": (User.display_name_key.asc(), User.user_name_key.asc()),
    "-name": (User.display_name_key.desc(), User.user_name_key.desc()),
    "-updated": (User.updated_at.desc(), User.pk.desc()),
    "updated": (User.updated_at.asc(), User.pk.asc()),
    "-created": (User.created_at.desc(), User.pk.desc()),
    "created": (User.created_at.asc(), User.pk.asc()),
}
_MEMBER_COUNT = select(func.count()).where(Membership.group_pk == Group.pk).correlate(Group).scalar_subquery()
GROUP_ORDERS = {
    "name": (Group.display_name_key.asc(),),
    "-name": (Group.display_name_key.desc(),),
    "members": (_MEMBER_COUNT.asc(), Group.display_name_key),
    "-members": (_MEMBER_COUNT.desc(), Group.display_name_key),
    "-created": (Group.created_at.desc(), Group.pk.desc()),
    "created": (Group.created_at.asc(), Group.pk.asc()),
}
# The users page lists the groups to filter by while they are this few; beyond, a list of a
# thousand names would make most of the page, and the filter takes a name (or part of one).
GROUP_CHOICES = 100
DELETE_USER_ACTION = "delete user "


def users_statement(organization_id: int, filters: UserFilters):
    conditions = [User.organization_id == organization_id]
    if filters.q:
        pattern = like_pattern(filters.q)
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
            Group.display_name_key.like(like_pattern(filters.group_name), escape="\\"))
        conditions.append(User.pk.in_(members))
    if filters.manager:
        conditions.append(User.manager_id == filters.manager)
    return select(User).where(*conditions).order_by(*USER_ORDERS[filters.sort], User.pk)


@dataclass(frozen=True)
class UserRow:
    """A user as the users page lists them: the values it shows, read as plain columns."""

    id: str
    user_name: str
    name: str
    email: str | None
    department: str
    groups: int  # groups the user is a direct member of
    active: bool
    deactivated_at: datetime | None
    updated_at: datetime


class RowPagination(SelectPagination):
    """A page of rows of several columns (db.paginate gives the first column of each), counted
    with `counted`: the page's statement without the columns that only its rows need."""

    def _query_items(self) -> list:
        statement = self._query_args["select"].limit(self.per_page).offset(self._query_offset)
        return list(self._query_args["session"].execute(statement))

    def _query_count(self) -> int:
        counted = self._query_args["counted"].order_by(None).subquery()
        return self._query_args["session"].execute(select(func.count()).select_from(counted)).scalar_one()


def _deactivated_at():
    """When the user was deactivated: the latest disable the log holds, else their last change
    (the log may have been pruned since); None while active. One index probe per deactivated
    user on the page."""
    disabled = select(func.max(ProvisioningEvent.occurred_at)).where(
        ProvisioningEvent.organization_id == User.organization_id, ProvisioningEvent.resource_type == "User",
        ProvisioningEvent.resource_id == User.id, ProvisioningEvent.operation == "disable", SUCCEEDED,
    ).correlate(User).scalar_subquery()
    return case((User.active.is_(False), func.coalesce(disabled, User.updated_at)))


_PAGE_COLUMNS = (
    User.id, User.user_name, User.document, User.active, User.updated_at,
    select(func.count()).where(Membership.user_pk == User.pk).correlate(User).scalar_subquery(),
    _deactivated_at(),
)


def users_page(organization_id: int, filters: UserFilters, counts: UserCounts) -> tuple[Pagination, list[UserRow]]:
    """One query for the page's rows, with their groups and deactivation times."""
    # Without a search, a group or a manager, the number of users is one of `counts`.
    known = None if filters.narrowed else \
        {"all": counts.users, "active": counts.active, "deactivated": counts.deactivated}[filters.state]
    statement = users_statement(organization_id, filters)
    page = RowPagination(select=statement.with_only_columns(*_PAGE_COLUMNS), counted=statement,
                         session=db.session(), page=filters.page, per_page=PAGE_SIZE, error_out=False,
                         count=known is None)
    if known is not None:
        page.total = known
    rows = [
        UserRow(scim_id, user_name, person_name(document), work_email(document), department(document), groups,
                active, deactivated_at, updated_at)
        for scim_id, user_name, document, active, updated_at, groups, deactivated_at in page.items
    ]
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


def group_choices(organization_id: int, *, groups: int) -> list[tuple[str, str]] | None:
    """(SCIM id, name) of every group, by name; None when there are more than GROUP_CHOICES,
    as `groups` (the organization's count) tells without a query."""
    if groups > GROUP_CHOICES:
        return None
    found = [tuple(row) for row in db.session.execute(
        select(Group.id, Group.display_name).where(Group.organization_id == organization_id)
        .order_by(Group.display_name_key).limit(GROUP_CHOICES + 1)
    )]
    return found if len(found) <= GROUP_CHOICES else None


def group_of(organization_id: int, scim_id: str) -> Group | None:
    return db.session.execute(
        select(Group).where(Group.organization_id == organization_id, Group.id == scim_id)
    ).scalar_one_or_none()


def user_of(organization_id: int, scim_id: str) -> User | None:
    return db.session.execute(
        select(User).where(User.organization_id == organization_id, User.id == scim_id)
    ).scalar_one_or_none()


@dataclass(frozen=True)
class UserDetail:
    user: User
    manager: User | None
    reports: list[User]
    reports_total: int
    groups: list[Group]
    deactivated_at: datetime | None
    history: list[ProvisioningEvent]


def user_detail(organization_id: int, scim_id: str) -> UserDetail | None:
    user = user_of(organization_id, scim_id)
    if user is None:
        return None
    reports = select(User).where(User.organization_id == organization_id, User.manager_id == user.id)
    return UserDetail(
        user=user,
        manager=user_of(organization_id, user.manager_id) if user.manager_id else None,
        reports=list(db.session.execute(reports.order_by(User.user_name_key).limit(PAGE_SIZE)).scalars()),
        reports_total=db.session.execute(select(func.count()).select_from(reports.subquery())).scalar_one(),
        groups=list(db.session.execute(
            select(Group).join(Membership, Membership.group_pk == Group.pk)
            .where(Membership.user_pk == user.pk).order_by(Group.display_name_key)
        ).scalars()),
        deactivated_at=None if user.active else deactivation_times(organization_id, [user])[user.id],
        history=history_of(organization_id, "User", user.id),
    )


def deleted_user_name(action: str) -> str:
    """The userName in a delete's action (provisioning_log.describe: "delete user <userName>")."""
    return action[len(DELETE_USER_ACTION):] if action.startswith(DELETE_USER_ACTION) else action


@dataclass(frozen=True)
class Deletion:
    event: ProvisioningEvent
    user_name: str
    back_as: str | None  # the SCIM id of a user here with the same userName, created again


def deletions_page(organization_id: int, page: int) -> tuple[Pagination, list[Deletion]]:
    """A SCIM DELETE removes the user (RFC 7644 §3.6); the log remembers who and when."""
    pagination = db.paginate(
        select(ProvisioningEvent).where(*user_deletions(organization_id)).order_by(*newest_first()),
        page=page, per_page=PAGE_SIZE, error_out=False,
    )
    names = {event.id: deleted_user_name(event.action) for event in pagination.items}
    back = dict(db.session.execute(
        select(User.user_name_key, User.id).where(
            User.organization_id == organization_id, User.user_name_key.in_({n.lower() for n in names.values()}))
    ).all()) if names else {}
    return pagination, [Deletion(event, names[event.id], back.get(names[event.id].lower())) for event in pagination.items]


def groups_page(organization_id: int, filters: GroupFilters) -> tuple[Pagination, dict[int, int]]:
    conditions = [Group.organization_id == organization_id]
    if filters.q:
        conditions.append(Group.display_name_key.like(like_pattern(filters.q), escape="\\"))
    if filters.empty:
        conditions.append(~exists().where(Membership.group_pk == Group.pk))
    page = db.paginate(select(Group).where(*conditions).order_by(*GROUP_ORDERS[filters.sort]), page=filters.page,
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


def group_detail(organization_id: int, scim_id: str, *, page: int) -> GroupDetail | None:
    group = group_of(organization_id, scim_id)
    if group is None:
        return None
    members = db.paginate(
        select(User).join(Membership, Membership.user_pk == User.pk)
        .where(Membership.group_pk == group.pk).order_by(User.user_name_key),
        page=page, per_page=PAGE_SIZE, error_out=False,
    )
    return GroupDetail(group, members, history_of(organization_id, "Group", group.id))


@dataclass(frozen=True)
class ExportedUser:
    user: User
    manager: str | None  # the manager's userName
    groups: list[str]


def users_batch(organization_id: int, filters: UserFilters, *, after: str | None, limit: int) -> list[ExportedUser]:
    """Up to `limit` users the filters select, by userName, after the userName key `after`
    (keyset pagination): three queries, whatever the size of the batch."""
    statement = users_statement(organization_id, replace(filters, sort="user_name", page=1)).limit(limit)
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
