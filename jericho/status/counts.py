"""How many users, groups and memberships an organization has, for the dashboard and the users
page: read from the counts each SCIM write keeps (storage/counts.py), with the user deletions
the log still holds."""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select

from ..extensions import db
from ..storage.counts import directory_counts_of
from ..storage.models import ProvisioningEvent
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
    stored = directory_counts_of(organization_id=organization_id)
    return Counts(
        users=UserCounts(stored.active_users, stored.deactivated_users, _deleted_users(organization_id)),
        groups=stored.groups,
        empty_groups=stored.empty_groups,
        memberships=stored.memberships,
    )


def user_counts(organization_id: int) -> UserCounts:
    return counts_of(organization_id).users


def _deleted_users(organization_id: int) -> int:
    return db.session.execute(
        select(func.count()).select_from(ProvisioningEvent).where(*user_deletions(organization_id))
    ).scalar_one()
