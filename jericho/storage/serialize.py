"""Rows to SCIM resources (RFC 7643): the stored document with its `meta`, and the attributes
that live in other rows — a user's manager and groups, a group's members — loaded in one query
per page, never one per row."""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import JSON, bindparam, func, literal_column, select
from sqlalchemy.engine import Row as SelectedRow

from ..extensions import db
from ..scim.resources import to_resource
from ..scim.schema import ENTERPRISE_USER_URN, GROUP, USER, ResourceType
from . import filters as query
from .database import chunks
from .members import MEMBER_KINDS
from .models import Group, Membership, User

Row = User | Group


@dataclass(frozen=True)
class Expand:
    """Attributes that cost extra queries, loaded only when the response returns them."""

    members: bool = True  # a group's members
    groups: bool = True  # a user's groups


def resource_type_of(model: type[User] | type[Group]) -> ResourceType:
    return USER if model is User else GROUP


# A user's groups as one column of its own select, [[id, displayName], ...] by displayName: the
# hottest read, Entra's GET of a user, is then one statement. Dialects aggregate JSON apart.
_GROUPS_COLUMN = {
    "sqlite": "(SELECT json_group_array(json_array(id, display_name)) FROM (SELECT groups.id, "
              "groups.display_name FROM memberships JOIN groups ON groups.pk = memberships.group_pk "
              "WHERE memberships.user_pk = users.pk ORDER BY groups.display_name_key))",
    "postgresql": "(SELECT coalesce(json_agg(json_build_array(groups.id, groups.display_name) "
                  "ORDER BY groups.display_name_key), '[]') FROM memberships "
                  "JOIN groups ON groups.pk = memberships.group_pk WHERE memberships.user_pk = users.pk)",
}


def read_columns(model: type[User] | type[Group], dialect: str, expand: Expand) -> list:
    """What a read selects: the columns `serialize` uses, as plain rows rather than ORM objects
    (which cost an identity map and change tracking that a read never needs), and a user's groups
    in the same statement."""
    columns = [model.pk, model.id, model.organization_id, model.document, model.created_at, model.updated_at,
               model.version]
    if model is User:
        columns.append(User.manager_id)
        if expand.groups:
            columns.append(literal_column(_GROUPS_COLUMN[dialect], JSON).label("groups"))
    return columns


def serialize(rows: list, resource_type: ResourceType, base_url: str, expand: Expand) -> list[dict]:
    """Rows to SCIM resources, with the attributes that live in other rows loaded in one query
    per page (never one per row). `rows` are ORM objects, or plain rows selected with
    `read_columns`, which bring a user's groups along."""
    endpoint = f"{base_url}{resource_type.endpoint}"
    if resource_type is USER:
        managers = _managers(rows)
        if not expand.groups or not rows:
            groups = {}
        elif isinstance(rows[0], SelectedRow):
            groups = {row.pk: _selected_groups(row.groups, base_url) for row in rows}
        else:
            groups = _groups_of(rows, base_url)
    else:
        members = _members_of(rows, base_url) if expand.members else {}
    resources = []
    for row in rows:
        resource = to_resource(
            row.document,
            id=row.id,
            resource_type=resource_type,
            created=row.created_at,
            last_modified=row.updated_at,
            version=row.version,
            location=f"{endpoint}/{row.id}",
        )
        if resource_type is USER:
            _link_manager(resource, managers, base_url)
            if groups.get(row.pk):
                resource["groups"] = groups[row.pk]
        elif members.get(row.pk):
            resource["members"] = members[row.pk]
        resources.append(resource)
    return resources


def _managers(rows: list[User]) -> dict[str, User]:
    ids = {row.manager_id for row in rows if row.manager_id}
    if not ids:
        return {}
    organization_id = rows[0].organization_id
    found = db.session.execute(
        select(User).where(query.with_ids(User, organization_id, ids))
    ).scalars()
    return {user.id: user for user in found}


def _link_manager(resource: dict, managers: dict[str, User], base_url: str) -> None:
    # RFC 7643 §4.3; Entra reads the manager back as an object (ENTRA.md §8 #4).
    extension = resource.get(ENTERPRISE_USER_URN)
    manager_id = (extension or {}).get("manager", {}).get("value")
    manager = managers.get(manager_id)
    if manager is not None:
        extension["manager"] = {
            "value": manager.id,
            "$ref": f"{base_url}/Users/{manager.id}",
            "displayName": manager.display_name or manager.user_name,
        }


# Built once: it runs on every user Entra looks up.
_GROUPS_OF_USERS = (
    select(Membership.user_pk, Group.id, Group.display_name)
    .join(Group, Group.pk == Membership.group_pk)
    .where(Membership.user_pk.in_(bindparam("user_pks", expanding=True)))
    .order_by(Group.display_name_key)
)


def _groups_of(rows: list[User], base_url: str) -> dict[int, list[dict]]:
    """A user's direct groups (RFC 7643 §4.1.2 `groups`, read-only)."""
    by_user: dict[int, list[dict]] = {}
    for chunk in chunks([row.pk for row in rows]):
        for user_pk, group_id, display_name in db.session.execute(_GROUPS_OF_USERS, {"user_pks": chunk}):
            by_user.setdefault(user_pk, []).append(_group_entry(group_id, display_name, base_url))
    return by_user


def _selected_groups(pairs: list[list[str]], base_url: str) -> list[dict]:
    return [_group_entry(group_id, display_name, base_url) for group_id, display_name in pairs]


def _group_entry(group_id: str, display_name: str, base_url: str) -> dict:
    return {"value": group_id, "$ref": f"{base_url}/Groups/{group_id}", "display": display_name, "type": "direct"}


def _members_of(rows: list[Group], base_url: str) -> dict[int, list[dict]]:
    by_group: dict[int, list[dict]] = {}
    for kind in MEMBER_KINDS:
        member = kind.model
        column = getattr(kind.link, kind.column)
        display = member.display_name if member is Group else func.coalesce(User.display_name, User.user_name)
        for chunk in chunks([row.pk for row in rows]):
            for group_pk, member_id, member_display in db.session.execute(
                select(kind.link.group_pk, member.id, display)
                .join(member, member.pk == column)
                .where(kind.link.group_pk.in_(chunk))
                .order_by(kind.link.group_pk, member.pk)
            ):
                by_group.setdefault(group_pk, []).append(
                    {
                        "value": member_id,
                        "$ref": f"{base_url}{resource_type_of(member).endpoint}/{member_id}",
                        "type": kind.type,
                        "display": member_display,
                    }
                )
    return by_group
