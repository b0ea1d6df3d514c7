"""How many users, groups and memberships an organization has, for the dashboard and the users
page: read from the counts each SCIM write keeps (storage/counts.py), and the user deletions
the log still holds from its rollups."""
from __future__ import annotations

from dataclasses import dataclass

from ..storage.counts import directory_counts_of
from .activity import deleted_users


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
        users=UserCounts(stored.active_users, stored.deactivated_users, deleted_users(organization_id)),
        groups=stored.groups,
        empty_groups=stored.empty_groups,
        memberships=stored.memberships,
    )


def user_counts(organization_id: int) -> UserCounts:
    return counts_of(organization_id).users
