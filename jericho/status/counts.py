"""How many users, groups and memberships an organization has, for the dashboard and the users
page."""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import exists, func, select

from ..extensions import db
from ..storage.models import Group, Membership, ProvisioningEvent, User
from .kept import kept
from .log_queries import user_deletions


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


def counts_of(organization_id: int) -> Counts:
    return kept(organization_id, ("counts",), lambda: _count(organization_id))


def user_counts(organization_id: int) -> UserCounts:
    """What the users page needs of counts_of, counted on their own while none are kept."""
    return kept(organization_id, ("user counts",), lambda: _count_users(organization_id))


def _scalar(statement):
    return db.session.execute(statement).scalar_one()


def _count_users(organization_id: int) -> UserCounts:
    # Users and deactivated users: the few deactivated are a short range of the state index.
    users = _scalar(select(func.count()).select_from(User).where(User.organization_id == organization_id))
    deactivated = _scalar(select(func.count()).select_from(User).where(
        User.organization_id == organization_id, User.active.is_(False)))
    deleted = _scalar(select(func.count()).select_from(ProvisioningEvent).where(*user_deletions(organization_id)))
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
