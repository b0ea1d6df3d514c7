"""How many users, groups and memberships an organization has, for the dashboard and the users
page: read from the counts each SCIM write keeps (storage/counts.py), and the user deletions
the log still holds from its rollups."""
from __future__ import annotations

from dataclasses import dataclass

from ..extensions import db
from ..storage.counts import DIRECTORY_COUNTS, CountChange
from .activity import DELETED_USERS, deleted_users


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


# Both in one statement, built once: each is an index probe, and each statement a round trip.
_COUNTS = DIRECTORY_COUNTS.add_columns(DELETED_USERS.scalar_subquery())


def counts_of(organization_id: int) -> Counts:
    found = db.session.connection().execute(_COUNTS, {"organization_id": organization_id}).first()
    if found is None:  # nothing written yet (a log kept from before may still hold deletions)
        return Counts(UserCounts(0, 0, deleted_users(organization_id)), 0, 0, 0)
    stored, deleted = CountChange(*found[:-1]), found[-1]
    return Counts(
        users=UserCounts(stored.active_users, stored.deactivated_users, deleted),
        groups=stored.groups,
        empty_groups=stored.empty_groups,
        memberships=stored.memberships,
    )


def user_counts(organization_id: int) -> UserCounts:
    return counts_of(organization_id).users
