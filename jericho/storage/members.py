"""A group's members as rows (RFC 7643 §4.2): adding, removing and finding them, a chunk of
ids at a time, whatever the size of the group. Called from a write of `resources`, in its
transaction."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable

from sqlalchemy import delete, select

from ..extensions import db
from ..scim.errors import InvalidValue
from . import filters as query
from .database import chunks, dialect_insert
from .models import Group, Membership, NestedGroup, User, utcnow



@dataclass(frozen=True)
class MemberKind:
    """Users and groups can both be members (RFC 7643 §4.2 members.type); each has its table."""

    model: type[User] | type[Group]
    link: type[Membership] | type[NestedGroup]
    column: str  # the link's column naming the member
    type: str  # members.type


MEMBER_KINDS = (
    MemberKind(User, Membership, "user_pk", "User"),
    MemberKind(Group, NestedGroup, "member_group_pk", "Group"),
)


def members_add(group: Group, ids: Iterable[str]) -> dict[type, list[int]]:
    """The members added, by model (those that were members already are not)."""
    members = member_pks(group.organization_id, ids, required=True)
    if group.pk in members[Group]:
        raise InvalidValue(f"group {group.id} cannot be a member of itself")
    added: dict[type, list[int]] = {}
    for kind in MEMBER_KINDS:
        column = getattr(kind.link, kind.column)
        added[kind.model] = []
        for chunk in chunks(members[kind.model]):
            # Existing members are skipped by the primary key, one probe per row; only the new
            # rows come back. (A separate "which are members already" query lets PostgreSQL,
            # before its statistics exist, read every member of the group.)
            rows = [{"group_pk": group.pk, kind.column: pk, "created_at": utcnow()} for pk in chunk]
            added[kind.model] += db.session.execute(
                _insert_ignoring_duplicates(kind.link).returning(column), rows
            ).scalars()
    return added


def members_remove(group: Group, ids: Iterable[str]) -> dict[type, list[int]]:
    """The members removed, by model."""
    # Removing a member that is not there (or no longer exists) is a no-op: Entra retries.
    members = member_pks(group.organization_id, ids, required=False)
    removed: dict[type, list[int]] = {}
    for kind in MEMBER_KINDS:
        column = getattr(kind.link, kind.column)
        removed[kind.model] = []
        for chunk in chunks(members[kind.model]):
            removed[kind.model] += db.session.execute(
                delete(kind.link).where(kind.link.group_pk == group.pk, column.in_(chunk)).returning(column)
            ).scalars()
    return removed


def members_remove_all(group: Group) -> dict[type, list[int]]:
    removed = {}
    for kind in MEMBER_KINDS:
        column = getattr(kind.link, kind.column)
        removed[kind.model] = list(db.session.execute(
            delete(kind.link).where(kind.link.group_pk == group.pk).returning(column)
        ).scalars())
    return removed


def member_pks(organization_id: int, ids: Iterable[str], *, required: bool) -> dict[type, list[int]]:
    """The primary keys of the users and groups with these ids, by model."""
    wanted = list(dict.fromkeys(ids))
    found: dict[type, dict[str, int]] = {}
    remaining = wanted
    for kind in MEMBER_KINDS:
        found[kind.model] = {}
        for chunk in chunks(remaining):
            statement = select(kind.model.id, kind.model.pk).where(
                query.with_ids(kind.model, organization_id, chunk)
            )
            if required:
                # Resources about to become members are locked against deletion until this write
                # commits, so a concurrent DELETE either commits first (and the id is missing here)
                # or waits; without it, the link insert would fail its foreign key (PostgreSQL;
                # SQLite has one writer).
                statement = statement.with_for_update(read=True, key_share=True)
            found[kind.model].update(db.session.execute(statement).all())
        remaining = [member_id for member_id in remaining if member_id not in found[kind.model]]
    if required and remaining:
        shown = ", ".join(remaining[:5]) + (f" and {len(remaining) - 5} more" if len(remaining) > 5 else "")
        raise InvalidValue(
            f"no user or group with id {shown} in this organization; members must exist before they are added"
        )
    return {model: list(pks.values()) for model, pks in found.items()}


def _insert_ignoring_duplicates(model):
    return dialect_insert(model).on_conflict_do_nothing()
