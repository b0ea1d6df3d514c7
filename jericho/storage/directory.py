"""The directory as its consumers read it (/api/v1 and the events feed): users and groups in one
plain JSON shape, whatever the SCIM document looks like, and pages of them by cursor.

A user looks the same in every answer and event: the SCIM id, the values a training product needs
(read by `scim.document`, as the setup wizard reads them), the ids of its groups, and `raw`, the
SCIM document as received. Pages are in the order rows were created; a cursor is the position of
the last row given, so a page never repeats or skips a row that existed when it was read.
"""
from __future__ import annotations

from dataclasses import dataclass
from sqlalchemy import bindparam, select

from ..extensions import db
from .database import chunks
from ..scim import document as reader
from ..scim.schema import timestamp
from .models import Group, Membership, User


@dataclass(frozen=True)
class Page:
    data: list[dict]
    next: int | None  # the key the next page begins after; None on the last page


def user_views(rows: list[User]) -> list[dict]:
    """Users as consumers see them, with their groups found in one query per chunk of users."""
    groups = groups_of_users([row.pk for row in rows])
    return [user_view(row, groups.get(row.pk, [])) for row in rows]


def user_view(row: User, group_ids: list[str]) -> dict:
    document = row.document
    return {
        "id": row.id,
        "userName": row.user_name,
        "email": reader.work_email(document),
        "firstName": reader.name_part(document, "givenName") or None,
        "lastName": reader.name_part(document, "familyName") or None,
        "displayName": row.display_name,
        "title": reader.title(document) or None,
        "department": reader.department(document) or None,
        "managerId": row.manager_id,
        "active": row.active,
        "groups": group_ids,
        "createdAt": timestamp(row.created_at),
        "updatedAt": timestamp(row.updated_at),
        "raw": document,
    }


def group_view(row: Group) -> dict:
    return {
        "id": row.id,
        "displayName": row.display_name,
        "externalId": row.external_id,
        "createdAt": timestamp(row.created_at),
        "updatedAt": timestamp(row.updated_at),
        "raw": row.document,
    }


# Built once: every page of users and every user event runs it.
_GROUPS_OF_USERS = (
    select(Membership.user_pk, Group.id)
    .join(Group, Group.pk == Membership.group_pk)
    .where(Membership.user_pk.in_(bindparam("user_pks", expanding=True)))
    .order_by(Membership.user_pk, Group.pk)
)


def groups_of_users(user_pks: list[int]) -> dict[int, list[str]]:
    """The ids of each user's direct groups, in the order the groups were created."""
    found: dict[int, list[str]] = {}
    for chunk in chunks(user_pks):
        for user_pk, group_id in db.session.execute(_GROUPS_OF_USERS, {"user_pks": chunk}):
            found.setdefault(user_pk, []).append(group_id)
    return found


def users_by_pk(pks: list[int]) -> list[User]:
    rows: list[User] = []
    for chunk in chunks(pks):
        rows += db.session.execute(select(User).where(User.pk.in_(chunk)).order_by(User.pk)).scalars()
    return rows


# -- reads of /api/v1 --------------------------------------------------------------------------


def user_get(organization_id: int, scim_id: str) -> dict | None:
    row = _by_id(User, organization_id, scim_id)
    return None if row is None else user_views([row])[0]


def group_get(organization_id: int, scim_id: str) -> dict | None:
    row = _by_id(Group, organization_id, scim_id)
    return None if row is None else group_view(row)


def users_page(
    organization_id: int, *, after: int | None, limit: int, active: bool | None = None, group_id: str | None = None
) -> Page | None:
    """A page of the organization's users, optionally only active (or deactivated) ones, or the
    direct members of a group. None when `group_id` names no group of the organization."""
    statement, key = select(User), User.pk
    if group_id is not None:
        group = _by_id(Group, organization_id, group_id)
        if group is None:
            return None
        # The membership key (group, user) walks the group's members in the users' order, with
        # nothing to sort.
        statement = statement.join(Membership, Membership.user_pk == User.pk).where(Membership.group_pk == group.pk)
        key = Membership.user_pk
    elif active is not None:
        # (organization_id, active) ends with the row's key on SQLite: a range on it, in order.
        statement = statement.where(User.organization_id == organization_id, User.active == active)
    else:
        # The users in the order of their key, not through an (organization_id, ...) index that
        # would read every user of the organization to sort them (SQLite, without statistics).
        statement = statement.where(User.organization_id + 0 == organization_id)
    if group_id is not None and active is not None:
        statement = statement.where(User.active == active)
    rows = _page_rows(statement, key, after, limit)
    return Page(user_views(rows[:limit]), _next(rows, limit))


def groups_page(organization_id: int, *, after: int | None, limit: int) -> Page:
    statement = select(Group).where(Group.organization_id + 0 == organization_id)
    rows = _page_rows(statement, Group.pk, after, limit)
    return Page([group_view(row) for row in rows[:limit]], _next(rows, limit))


def _page_rows(statement, key, after: int | None, limit: int) -> list:
    """One row more than the page holds, to tell whether another page follows."""
    if after is not None:
        statement = statement.where(key > after)
    return list(db.session.execute(statement.order_by(key).limit(limit + 1)).scalars())


def _next(rows: list, limit: int) -> int | None:
    return rows[limit - 1].pk if len(rows) > limit else None


def _by_id(model: type[User] | type[Group], organization_id: int, scim_id: str):
    if "\x00" in scim_id:  # matches no id, and PostgreSQL refuses NUL in a query parameter
        return None
    return db.session.execute(
        select(model).where(model.organization_id == organization_id, model.id == scim_id)
    ).scalar_one_or_none()
