"""Sync cycles and the first sync, drawn from the provisioning log counted by ten-minute bucket.

Pure functions over plain values (no Flask, no queries); every rule that depends on the time
takes `now`.
"""
from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone, tzinfo
from typing import Iterable, NamedTuple, Protocol, Sequence

from ..text import clock, counted

# Entra starts a provisioning cycle about every 40 minutes (ENTRA.md §6). Requests less than
# half a cycle apart belong to the same cycle; a longer silence ends it.
CYCLE_INTERVAL = timedelta(minutes=40)
CYCLE_GAP = CYCLE_INTERVAL / 2
# Provision on demand sends one user, or one group with up to five members (ENTRA.md §6): a
# cycle that creates more than one user or group is a real sync.
ON_DEMAND_CREATES = 1

CHANGES = ("create", "update", "disable", "enable", "members", "delete")
LOOKUPS = ("test_connection", "lookup", "list", "read", "discovery")


class EventLike(Protocol):
    id: int
    organization_id: int | None
    occurred_at: datetime
    status: int
    operation: str
    action: str
    error_detail: str | None


# What each count of a Tally takes, in the order of its fields: (operations, or None for any;
# resource type, or None for any; failed, or None for either). The dashboard's query adds up the
# rollups by these (activity.py), and Activity.tally counts one kind by them: one definition.
# A refused change changed nothing: it counts as an error only.
TALLIED = {
    "requests": (None, None, None),
    "created": (("create",), None, False),
    "users_created": (("create",), "User", False),
    "groups_created": (("create",), "Group", False),
    "updated": (("update", "members", "enable"), None, False),  # attributes, reactivations, members
    "disabled": (("disable",), None, False),
    "deleted": (("delete",), None, False),
    "lookups": (LOOKUPS, None, False),
    "test_connections": (("test_connection",), None, None),
    "errors": (None, None, True),
}


@dataclass
class Tally:
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


class Activity(NamedTuple):
    """Requests of one kind, outcome and cause within one ten-minute bucket, as the rollups hold
    them (storage/rollups.py): with each bucket's first and last request, cycles come out exact.
    The rules here are stated in these; the dashboard reads them added up by bucket in the
    database (BucketActivity), by the same TALLIED."""

    bucket: datetime
    first: datetime
    last: datetime
    operation: str
    resource_type: str | None
    failed: bool
    count: int
    cause: str | None = None  # a key of CAUSES, for failed requests
    example_id: int = 0  # the largest id among them

    @property
    def tally(self) -> Tally:
        return Tally(*(self.count if self._takes(*rule) else 0 for rule in TALLIED.values()))

    def _takes(self, operations: tuple[str, ...] | None, resource_type: str | None, failed: bool | None) -> bool:
        return ((operations is None or self.operation in operations)
                and (resource_type is None or self.resource_type == resource_type)
                and (failed is None or self.failed == failed))


class BucketActivity(NamedTuple):  # a tuple: a page builds one per ten minutes it shows
    """Every request of one ten-minute bucket, counted: what the chart and the cycles read. A
    cycle never starts inside a bucket while the silence that ends one is at least a bucket long
    (CYCLE_GAP), so cycles drawn from these are the same as from each kind's Activity."""

    bucket: datetime
    first: datetime
    last: datetime
    tally: Tally


Counted = Activity | BucketActivity


@dataclass
class Cycle:
    start: datetime
    end: datetime
    tally: Tally = field(default_factory=Tally)

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
            return "Test Connection"
        if tally.created and not self.looks_full:
            return "Provision on demand, or a small change"
        if tally.changes == 0:
            return "Checks only, nothing changed"
        return "Sync"


def cycles_of(activity: Iterable[Counted], *, gap: timedelta = CYCLE_GAP) -> list[Cycle]:
    """Requests grouped into cycles by the silences between them, oldest first."""
    cycles: list[Cycle] = []
    for item in sorted(activity, key=lambda a: a.first):
        if not cycles or item.first - cycles[-1].end >= gap:
            cycles.append(Cycle(item.first, item.last))
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
    if earlier_creates > ON_DEMAND_CREATES:
        if not cycles or cycles[0].start - window_start >= CYCLE_GAP:
            return FirstSync(FirstSyncState.EARLIER)
        cycle, continued = cycles[0], True  # it was already running when the window opened
    else:
        continued = False
        cycle = next((c for c in cycles if c.looks_full), None)
        if cycle is None:
            if earlier_creates or any(c.tally.created for c in cycles):
                return FirstSync(FirstSyncState.ON_DEMAND_ONLY)
            return FirstSync(FirstSyncState.NOT_STARTED)
    finished = cycle is not cycles[-1] or now - cycle.end >= CYCLE_GAP
    return FirstSync(FirstSyncState.FINISHED if finished else FirstSyncState.IN_PROGRESS, cycle, continued)


def first_sync_words(sync: FirstSync, *, now: datetime, zone: tzinfo = timezone.utc) -> str:
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
        return ("Only what Provision on demand sends has arrived so far: the first sync starts when "
                "Provisioning Status is On in Entra.")
    if sync.state is FirstSyncState.NOT_STARTED:
        return ("The first sync has not started: it begins when Provisioning Status is On in Entra, "
                "usually within 40 minutes.")
    return "The first sync finished earlier; later cycles send only what changes in Entra."

