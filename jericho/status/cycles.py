"""Sync cycles and the first sync, drawn from the provisioning log counted by ten-minute bucket.
A cycle is a burst of requests between silences: Entra's provisioning cycle, or what one change in
Okta sends; the identity provider's SyncHabits say how long a silence ends one, and name it.

Pure functions over plain values (no Flask, no queries); every rule that depends on the time
takes `now`.
"""
from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone, tzinfo
from typing import Iterable, NamedTuple, Protocol, Sequence

from ..providers import ENTRA, SyncHabits
from ..text import clock, counted

# A silence this long ends a cycle: the identity provider's (SyncHabits.cycle_gap), Entra's by default.
CYCLE_GAP = ENTRA.sync.cycle_gap
# Provision on demand sends one user, or one group with up to five members (ENTRA.md §6): a
# cycle that creates more than one user or group is a real sync.
ON_DEMAND_CREATES = 1

CHANGES = ("create", "update", "disable", "enable", "members", "delete")


class EventLike(Protocol):
    id: int
    organization_id: int | None
    occurred_at: datetime
    status: int
    operation: str
    action: str
    error_detail: str | None


@dataclass
class Tally:
    """Requests counted as storage.rollups.TALLIED says, in its order."""

    requests: int = 0
    created: int = 0
    users_created: int = 0
    groups_created: int = 0
    updated: int = 0
    disabled: int = 0
    deleted: int = 0
    lookups: int = 0
    test_connections: int = 0
    errors: int = 0

    def add(self, other: Tally) -> None:
        self.requests += other.requests
        self.created += other.created
        self.users_created += other.users_created
        self.groups_created += other.groups_created
        self.updated += other.updated
        self.disabled += other.disabled
        self.deleted += other.deleted
        self.lookups += other.lookups
        self.test_connections += other.test_connections
        self.errors += other.errors

    @property
    def changes(self) -> int:
        return self.created + self.updated + self.disabled + self.deleted


class BucketActivity(NamedTuple):  # a tuple: a page builds one per ten minutes it shows
    """Every request of one ten-minute bucket, counted: what the chart and the cycles read. A
    cycle never starts inside a bucket while the silence that ends one is at least a bucket long
    (CYCLE_GAP), so cycles drawn from these are the same as from each kind's rollups."""

    bucket: datetime
    first: datetime
    last: datetime
    tally: Tally


class Counted(Protocol):
    """Requests between a first and a last moment, counted: a bucket's, or one kind's in it."""

    @property
    def first(self) -> datetime: ...

    @property
    def last(self) -> datetime: ...

    @property
    def tally(self) -> Tally: ...


@dataclass
class Cycle:
    start: datetime
    end: datetime
    tally: Tally = field(default_factory=Tally)
    sync: SyncHabits = ENTRA.sync  # the identity provider's, for the label

    @property
    def duration(self) -> timedelta:
        return self.end - self.start

    @property
    def looks_full(self) -> bool:
        """More than Provision on demand sends: the provisioning job itself is running."""
        return max(self.tally.users_created, self.tally.groups_created) > ON_DEMAND_CREATES

    @property
    def label(self) -> str:
        tally = self.tally
        if tally.requests and tally.errors == tally.requests:
            return "Every request failed"
        if tally.test_connections and tally.changes == 0 and tally.lookups == tally.test_connections:
            return self.sync.test_label
        if tally.created and not self.looks_full:
            return self.sync.small_label
        if tally.changes == 0:
            return "Checks only, nothing changed"
        return "Sync"


def cycles_of(activity: Iterable[Counted], sync: SyncHabits = ENTRA.sync) -> list[Cycle]:
    """Requests grouped into cycles by the silences between them, oldest first."""
    cycles: list[Cycle] = []
    for item in sorted(activity, key=lambda a: a.first):
        if not cycles or item.first - cycles[-1].end >= sync.cycle_gap:
            cycles.append(Cycle(item.first, item.last, sync=sync))
        current = cycles[-1]
        current.end = max(current.end, item.last)
        current.tally.add(item.tally)
    return cycles


class FirstSyncState(enum.Enum):
    NOT_STARTED = "not started"
    ON_DEMAND_ONLY = "on demand only"
    IN_PROGRESS = "in progress"
    FINISHED = "finished"
    EARLIER = "finished earlier"  # before the requests looked at


@dataclass(frozen=True)
class FirstSync:
    state: FirstSyncState
    cycle: Cycle | None = None
    continued: bool = False  # the cycle was running before the requests looked at


def first_sync_of(
    cycles: Sequence[Cycle], *, now: datetime, window_start: datetime, earlier_creates: int
) -> FirstSync:
    """Entra's initial cycle creates everything in scope; later cycles only send changes. The
    first sync is the first cycle that creates more than Provision on demand would, and it looks
    finished once a later cycle began or half a cycle passed without a request.

    `cycles` cover the requests since `window_start`; `earlier_creates` counts creations before."""
    gap = cycles[0].sync.cycle_gap if cycles else CYCLE_GAP
    if earlier_creates > ON_DEMAND_CREATES:
        if not cycles or cycles[0].start - window_start >= gap:
            return FirstSync(FirstSyncState.EARLIER)
        cycle, continued = cycles[0], True  # it was already running when the window opened
    else:
        continued = False
        cycle = next((c for c in cycles if c.looks_full), None)
        if cycle is None:
            if earlier_creates or any(c.tally.created for c in cycles):
                return FirstSync(FirstSyncState.ON_DEMAND_ONLY)
            return FirstSync(FirstSyncState.NOT_STARTED)
    finished = cycle is not cycles[-1] or now - cycle.end >= gap
    return FirstSync(FirstSyncState.FINISHED if finished else FirstSyncState.IN_PROGRESS, cycle, continued)


def first_sync_words(sync: FirstSync, *, now: datetime, zone: tzinfo = timezone.utc,
                     habits: SyncHabits = ENTRA.sync) -> str:
    cycle = sync.cycle
    if cycle is not None:
        created = f"{counted(cycle.tally.users_created, 'user')} and {counted(cycle.tally.groups_created, 'group')}"
        start, end = clock(cycle.start, now, zone), clock(cycle.end, now, zone)
    if sync.state is FirstSyncState.IN_PROGRESS and sync.continued:
        return f"The first sync is running; since {start}, {created} were created."
    if sync.state is FirstSyncState.IN_PROGRESS:
        return f"The first sync is running since {start}: {created} created so far."
    if sync.state is FirstSyncState.FINISHED and sync.continued:
        return f"The first sync looks finished: it ended at {end}; {created} were created after {start}."
    if sync.state is FirstSyncState.FINISHED:
        return f"The first sync looks finished: it ran from {start} to {end} and created {created}."
    if sync.state is FirstSyncState.ON_DEMAND_ONLY:
        return habits.first_sync_partial
    if sync.state is FirstSyncState.NOT_STARTED:
        return habits.first_sync_pending
    return habits.first_sync_earlier

