"""How many users, groups and memberships each organization has: one row per organization
(`DirectoryCounts`) that each SCIM write updates in its own transaction, so the status pages
read the figures instead of counting rows.

A write works out what it changed (`CountChange`) from what it already knows, with an index
probe or two at most, and adds it last (`directory_counts_add`): on PostgreSQL the row stays
locked until the write commits, so every other write of the organization that changes a count
waits for it from then on.
"""
from __future__ import annotations

from dataclasses import dataclass, fields, replace

from sqlalchemy import Insert, bindparam, exists, func, select

from ..extensions import db
from .database import dialect_insert
from .models import DirectoryCounts, Group, Membership, User


@dataclass(frozen=True)
class CountChange:
    active_users: int = 0
    deactivated_users: int = 0
    groups: int = 0
    empty_groups: int = 0  # groups without a user as a direct member
    memberships: int = 0  # users as direct members of groups

    def __bool__(self) -> bool:
        return any(vars(self).values())


COUNTED = tuple(field.name for field in fields(CountChange))
_upserts: dict[str, Insert] = {}


def directory_counts_add(*, organization_id: int, change: CountChange) -> None:
    """Add `change` to the organization's counts, within the caller's transaction."""
    if change:
        db.session.execute(_upsert(), {"organization_id": organization_id, **vars(change)})


def _upsert() -> Insert:
    """The upsert, made once per database: building it costs more than running it."""
    name = db.engine.dialect.name
    if name not in _upserts:
        table = DirectoryCounts.__table__
        statement = dialect_insert(table)
        _upserts[name] = statement.on_conflict_do_update(
            index_elements=[table.c.organization_id],
            set_={column: table.c[column] + statement.excluded[column] for column in COUNTED},
        )
    return _upserts[name]


# The counts of the organization `organization_id`, as plain columns in COUNTED order: built
# once, for every status page reads them (status/counts.py adds a column).
DIRECTORY_COUNTS = select(*(DirectoryCounts.__table__.c[column] for column in COUNTED)).where(
    DirectoryCounts.organization_id == bindparam("organization_id"))


def directory_counts_of(*, organization_id: int) -> CountChange:
    """The organization's counts: what its writes have added to nothing."""
    found = db.session.connection().execute(DIRECTORY_COUNTS, {"organization_id": organization_id}).first()
    return CountChange(*found) if found else CountChange()


def user_state(active: bool, *, sign: int = 1) -> CountChange:
    return CountChange(active_users=sign) if active else CountChange(deactivated_users=sign)


def created(row: User | Group, *, memberships: int) -> CountChange:
    """A new user, or a new group with `memberships` users as members."""
    if isinstance(row, User):
        return user_state(row.active)
    return CountChange(groups=1, memberships=memberships, empty_groups=0 if memberships else 1)


def has_members(group: Group) -> bool:
    """Whether a user is a direct member of the group: one probe of the primary key."""
    return db.session.execute(select(exists().where(Membership.group_pk == group.pk))).scalar_one()


def updated(row: User | Group, *, operation: str, had_members: bool | None, memberships: int) -> CountChange:
    """A user whose change was `operation`, or a group whose members changed by `memberships`
    (`had_members` None: its members were not touched)."""
    if isinstance(row, User):
        if operation == "enable":
            return CountChange(active_users=1, deactivated_users=-1)
        if operation == "disable":
            return CountChange(active_users=-1, deactivated_users=1)
        return CountChange()
    if had_members is None:
        return CountChange()
    return CountChange(memberships=memberships, empty_groups=int(not has_members(row)) - int(not had_members))


def lock_groups_of(user: User) -> None:
    """Lock the groups a user is a direct member of. Before the user is locked to be deleted:
    group writes lock the group, then its new members, and taking them in the same order cannot
    deadlock; again once it is locked, for a group that gained the user in between (a deadlock
    there is retried by @writes). While they are locked their members cannot change, so the
    deletion can tell which groups it leaves empty (PostgreSQL; SQLite has one writer)."""
    db.session.execute(select(Group.pk).where(
        Group.pk.in_(select(Membership.group_pk).where(Membership.user_pk == user.pk))
    ).order_by(Group.pk).with_for_update()).all()


def removed(row: User | Group) -> CountChange:
    """What deleting `row` takes away, read before the delete: a user takes their memberships
    and may leave groups without members; a group takes its memberships."""
    if isinstance(row, Group):
        memberships = db.session.execute(
            select(func.count()).where(Membership.group_pk == row.pk)).scalar_one()
        return CountChange(groups=-1, memberships=-memberships, empty_groups=0 if memberships else -1)
    lock_groups_of(row)
    other = Membership.__table__.alias("other")
    groups = select(Membership.group_pk).where(Membership.user_pk == row.pk).subquery()
    memberships, left_empty = db.session.execute(select(
        func.count(),
        func.count().filter(~exists().where(other.c.group_pk == groups.c.group_pk, other.c.user_pk != row.pk)),
    ).select_from(groups)).one()
    return replace(user_state(row.active, sign=-1), memberships=-memberships, empty_groups=left_empty)
