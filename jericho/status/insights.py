"""What the provisioning log says about provisioning: sync cycles, the health banner, errors
grouped by cause with their fix, the activity chart, and why a person has not arrived.

Pure functions over plain values (no Flask, no queries), so each rule is tested in isolation;
`status_data` gathers the values. Every function that depends on the time takes `now`, and one
that names a time of day the admin's time zone.
"""
from __future__ import annotations

import enum
import json
import math
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta, timezone, tzinfo
from typing import Any, Iterable, Mapping, Protocol, Sequence

from ..providers import Reason
from ..scim.errors import ScimError
from ..text import clock, counted, duration_words

# Entra starts a provisioning cycle about every 40 minutes (ENTRA.md §6). Requests less than
# half a cycle apart belong to the same cycle; a longer silence ends it.
CYCLE_INTERVAL = timedelta(minutes=40)
CYCLE_GAP = CYCLE_INTERVAL / 2
# No request for about two cycles after provisioning started: Entra may have paused the job.
STALE_AFTER = 2 * CYCLE_INTERVAL
# Entra retries a failed object on later cycles, so a few failures among many successes are
# listed, not alarmed on; from this share of a cycle's requests on, provisioning is failing.
FAILING_SHARE = 0.1
# The log is counted in buckets this long. Shorter than CYCLE_GAP, so no silence that ends a
# cycle fits inside one, and with each bucket's first and last request, cycles come out exact.
ACTIVITY_BUCKET = timedelta(minutes=10)
# Provision on demand sends one user, or one group with up to five members (ENTRA.md §6): a
# cycle that creates more than one user or group is a real sync.
ON_DEMAND_CREATES = 1

CHANGES = ("create", "update", "disable", "enable", "members", "delete")
LOOKUPS = ("test_connection", "lookup", "list", "read", "discovery")

# The log's filter and columns, in words (ProvisioningEvent.OPERATIONS).
OPERATION_WORDS = {
    "test_connection": "Test Connection",
    "lookup": "Look up",
    "list": "List",
    "read": "Read",
    "create": "Create",
    "update": "Update",
    "disable": "Deactivate",
    "enable": "Reactivate",
    "members": "Change members",
    "delete": "Delete",
    "discovery": "Discovery",
    "rejected": "Refused",
}


class EventLike(Protocol):
    id: int
    organization_id: int | None
    occurred_at: datetime
    status: int
    operation: str
    action: str
    error_detail: str | None


# --- Activity and cycles ----------------------------------------------------------------------

@dataclass(frozen=True)
class Activity:
    """Requests of one kind and outcome within one ACTIVITY_BUCKET, as the log's aggregate
    returns them."""

    bucket: datetime
    first: datetime
    last: datetime
    operation: str
    resource_type: str | None
    failed: bool
    count: int
    cause: str | None = None  # a key of CAUSES, for failed requests
    example_id: int = 0  # the largest id among them


@dataclass
class Tally:
    requests: int = 0
    created: int = 0
    users_created: int = 0
    groups_created: int = 0
    updated: int = 0  # attribute changes, reactivations and membership changes
    disabled: int = 0
    deleted: int = 0
    lookups: int = 0
    test_connections: int = 0
    errors: int = 0

    def add(self, activity: Activity) -> None:
        count, operation = activity.count, activity.operation
        self.requests += count
        if activity.failed:  # a refused change changed nothing
            self.errors += count
        elif operation == "create":
            self.created += count
            if activity.resource_type == "User":
                self.users_created += count
            elif activity.resource_type == "Group":
                self.groups_created += count
        elif operation in ("update", "members", "enable"):
            self.updated += count
        elif operation == "disable":
            self.disabled += count
        elif operation == "delete":
            self.deleted += count
        elif operation in LOOKUPS:
            self.lookups += count
        if operation == "test_connection":
            self.test_connections += count

    @property
    def changes(self) -> int:
        return self.created + self.updated + self.disabled + self.deleted


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


def cycles_of(activity: Iterable[Activity], *, gap: timedelta = CYCLE_GAP) -> list[Cycle]:
    """Requests grouped into cycles by the silences between them, oldest first."""
    cycles: list[Cycle] = []
    for item in sorted(activity, key=lambda a: a.first):
        if not cycles or item.first - cycles[-1].end >= gap:
            cycles.append(Cycle(item.first, item.last))
        current = cycles[-1]
        current.end = max(current.end, item.last)
        current.tally.add(item)
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


def first_sync_words(sync: FirstSync, *, now: datetime, zone: tzinfo) -> str:
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


# --- Errors and their causes ------------------------------------------------------------------

TOKEN_FIX = (
    "Create a token on the Tokens page. In Entra, open the app's Provisioning page, paste it into "
    "Secret Token under Admin Credentials, click Test Connection, then Save."
)


@dataclass(frozen=True)
class Cause:
    """A reason requests fail, and how to fix it. A request has the cause of the first rule in
    CAUSES that matches it; the SQL grouping (status_data) reads the same rules."""

    key: str
    title: str
    fix: str
    statuses: tuple[tuple[int, int], ...] = ((400, 600),)  # ranges: from, up to (excluded)
    operations: tuple[str, ...] = ()  # empty: any
    resource_types: tuple[str | None, ...] | None = None  # None: any
    scim_types: tuple[str, ...] = ()
    detail_prefix: str | None = None
    harmless: bool = False

    def matches(
        self, *, status: int, operation: str, resource_type: str | None, scim_type: str | None,
        error_detail: str | None,
    ) -> bool:
        return (
            any(low <= status < high for low, high in self.statuses)
            and (not self.operations or operation in self.operations)
            and (self.resource_types is None or resource_type in self.resource_types)
            and (not self.scim_types or scim_type in self.scim_types)
            and (self.detail_prefix is None or (error_detail or "").startswith(self.detail_prefix))
        )


def _codes(*codes: int) -> tuple[tuple[int, int], ...]:
    return tuple((code, code + 1) for code in codes)


CAUSES: tuple[Cause, ...] = (
    # The 401 details are the ones scim_api.authenticate gives.
    Cause("unknown_token", "Entra sends a token this server does not know", TOKEN_FIX,
          statuses=_codes(401), detail_prefix="unknown token"),
    Cause("revoked_token", "Entra still sends a revoked token", TOKEN_FIX,
          statuses=_codes(401), detail_prefix="revoked token"),
    Cause("no_token", "Requests without a token", (
        "Entra always sends its Secret Token, so these come from something else. If they come from "
        "Entra, fill in Secret Token on its Provisioning page."), statuses=_codes(401)),
    Cause("user_conflict", "A user with the same userName is already here", (
        "Two users in Entra map to the same userName (often the same mail), or a user was deleted "
        "and created again in Entra. Find the user here by that userName; in Entra, compare both "
        "users' mail and userPrincipalName, and check which source attribute is mapped to userName "
        "(Provisioning > Mappings > Provision Microsoft Entra ID Users)."),
          statuses=_codes(409), resource_types=("User",)),
    Cause("group_conflict", "A group with the same name is already here", (
        "Entra needs unique group names (displayName). Rename one of the groups in Entra, or remove "
        "the duplicate from the app's Users and groups."), statuses=_codes(409), resource_types=("Group",)),
    Cause("missing_member", "A group member has not been provisioned here", (
        "Entra adds members by the id this server gave the user; that user is missing here (never "
        "provisioned, or deleted). Check that the member is assigned to the app and in scope; after "
        "fixing, Restart provisioning in Entra so memberships are sent again."),
          statuses=_codes(400), resource_types=("Group",), detail_prefix="no user or group with id"),
    Cause("unsupported_filter", "A query this server cannot answer", (
        'Matching attributes in Entra must be userName, externalId or emails[type eq "work"].value '
        "for users and displayName for groups (Provisioning > Mappings > the object > Matching "
        "precedence)."), statuses=_codes(400), scim_types=("invalidFilter",)),
    Cause("already_deleted", "Deleted already", (
        "Nothing to do: the user or group was already gone when Entra deleted it."),
          statuses=_codes(404), operations=("delete",), harmless=True),
    Cause("unknown_object", "Entra refers to a user or group that is no longer here", (
        "It was deleted here, but Entra still has its id (InvalidAnchor in Entra's provisioning "
        "logs). In Entra, Restart provisioning (Provisioning > Overview) so it matches the objects "
        "again."), statuses=_codes(404), resource_types=("User", "Group")),
    Cause("wrong_address", "Entra calls an address this server does not serve", (
        "The Tenant URL in Entra must be this server's address followed by /scim_v2 and nothing "
        "else: copy it from the setup guide."), statuses=_codes(404, 405), resource_types=(None,)),
    Cause("changed_meanwhile", "The object changed in between", (
        "Another request changed it first (If-Match). Entra retries; nothing to do unless it "
        "persists."), statuses=_codes(412), harmless=True),
    Cause("too_large", "A request too large", (
        "Too many members or too large a body in one request. Entra retries with the change on "
        "later cycles; if it persists, tell the server operator."), statuses=_codes(413)),
    Cause("rejected_value", "Entra sent a value this server refused", (
        "The error detail names the attribute. Check its mapping in Entra (Provisioning > "
        "Mappings): a source without a value, or a target attribute this server does not know."),
          statuses=_codes(400)),
    Cause("unsupported", "A request this server does not support", (
        "Open an example: it names what was asked. Entra's own requests are all supported; "
        "other clients may ask for more."), statuses=((405, 416), *_codes(501))),
    Cause("server_error", "An error in this server", (
        "The server's log has the details. Entra retries failed objects on later cycles."),
          statuses=((500, 600),)),
    Cause("other", "Other errors", "Open an example to read the SCIM error."),
)
CAUSES_BY_KEY = {cause.key: cause for cause in CAUSES}


def cause_of(event: Any) -> Cause:
    """The cause of a failed request (anything with the ProvisioningEvent fields)."""
    return next(
        cause for cause in CAUSES
        if cause.matches(status=event.status, operation=event.operation, resource_type=event.resource_type,
                         scim_type=event.scim_type, error_detail=event.error_detail)
    )


def scim_error_body(event: Any) -> str:
    """The SCIM error body (RFC 7644 §3.12) the request was answered with."""
    error = ScimError(event.error_detail or "", status=event.status, scim_type=event.scim_type)
    return json.dumps(error.to_dict(), indent=2, ensure_ascii=False)


@dataclass(frozen=True)
class ErrorGroup:
    cause: Cause
    count: int
    first_seen: datetime
    last_seen: datetime
    example_id: int


def merge_error_groups(groups: Iterable[ErrorGroup]) -> list[ErrorGroup]:
    """One group per cause, the most frequent first; harmless causes after the others."""
    merged: dict[str, ErrorGroup] = {}
    for group in groups:
        seen = merged.get(group.cause.key)
        if seen is None:
            merged[group.cause.key] = group
            continue
        merged[group.cause.key] = ErrorGroup(
            group.cause, seen.count + group.count, min(seen.first_seen, group.first_seen),
            max(seen.last_seen, group.last_seen), max(seen.example_id, group.example_id),
        )
    return sorted(merged.values(), key=lambda g: (g.cause.harmless, -g.count, g.cause.key))


def error_groups_of(activity: Iterable[Activity]) -> list[ErrorGroup]:
    """The failed requests among `activity`, grouped by cause as the log's aggregate groups them."""
    return merge_error_groups(
        ErrorGroup(CAUSES_BY_KEY[item.cause], item.count, item.first, item.last, item.example_id)
        for item in activity if item.failed
    )


# --- Health -----------------------------------------------------------------------------------

class HealthState(enum.Enum):
    WAITING = "Waiting for the first request"
    CONNECTED = "Connected"
    FAILING = "Failing"
    STALE = "Stale"

    @property
    def css(self) -> str:
        return self.name.lower()


@dataclass(frozen=True)
class HealthEvidence:
    now: datetime
    zone: tzinfo  # the admin's, for the times the banner names
    last_request: EventLike | None
    started: bool  # a change has been received, or users and groups are here
    latest_cycle: Cycle | None  # the cycle of the last request
    latest_errors: Sequence[ErrorGroup]  # of that cycle, the main cause first
    first_sync: FirstSync


@dataclass(frozen=True)
class Health:
    state: HealthState
    summary: str
    details: tuple[str, ...] = ()
    cause: ErrorGroup | None = None


def health_of(e: HealthEvidence) -> Health:
    if e.last_request is None:
        if e.started:  # everything received is older than the log keeps
            return Health(HealthState.STALE, "No request from Entra in the whole provisioning log.",
                          (_stale_advice(),))
        return Health(HealthState.WAITING, "Nothing has arrived from Entra yet.", (
            "In Entra, open the app's Provisioning page, enter the Tenant URL and Secret Token "
            "from the setup guide, and click Test Connection.",))
    silence = e.now - e.last_request.occurred_at
    stale = e.started and silence >= STALE_AFTER
    failing = _failing(e)
    if failing is not None:
        cycle = e.latest_cycle.tally
        summary = (f"{cycle.errors} of the {cycle.requests} requests in the last cycle failed."
                   if cycle.requests > 1 else "Entra's last request failed.")
        details = [f"Main cause: {failing.cause.title}. {failing.cause.fix}"]
        if stale:
            details.append(
                f"Nothing has arrived since {clock(e.last_request.occurred_at, e.now, e.zone)}: Entra may "
                "have put the job in quarantine (its Provisioning page says so).")
        return Health(HealthState.FAILING, summary, tuple(details), failing)
    if stale:
        return Health(HealthState.STALE, (
            f"No request from Entra for {duration_words(silence.total_seconds() / 60)} "
            f"(last at {clock(e.last_request.occurred_at, e.now, e.zone)})."), (_stale_advice(),))
    return Health(HealthState.CONNECTED, _connected_summary(e), _connected_details(e))


def _failing(e: HealthEvidence) -> ErrorGroup | None:
    """The main cause when provisioning is failing: the last request was refused for its token,
    or a significant share of the last cycle failed for reasons that matter."""
    if e.latest_cycle is None:
        return None
    serious = [group for group in e.latest_errors if not group.cause.harmless]
    if not serious:
        return None
    errors = sum(group.count for group in serious)
    # The organization's own token refused (revoked): nothing Entra sends can succeed now. A
    # token nobody knows may come from anywhere, so it counts by its share only.
    refused = e.last_request.status in (401, 403) and e.last_request.organization_id is not None
    if refused or errors >= FAILING_SHARE * e.latest_cycle.tally.requests:
        return serious[0]
    return None


def _stale_advice() -> str:
    return (
        "Entra runs about every 40 minutes, and a cycle with no change in the directory sends "
        "nothing. If people changed in Entra and did not arrive, open the app's Provisioning page "
        "in Entra: the job may be paused, stopped or in quarantine.")


def _connected_summary(e: HealthEvidence) -> str:
    last = e.last_request
    when = clock(last.occurred_at, e.now, e.zone)
    if not e.started:
        return f"Entra's Test Connection works (last request at {when})."
    return f"Entra's last request arrived at {when}."


def _connected_details(e: HealthEvidence) -> tuple[str, ...]:
    details = []
    if e.first_sync.state in (FirstSyncState.IN_PROGRESS, FirstSyncState.ON_DEMAND_ONLY, FirstSyncState.NOT_STARTED):
        details.append(first_sync_words(e.first_sync, now=e.now, zone=e.zone))
    errors = sum(group.count for group in e.latest_errors if not group.cause.harmless)
    if errors:
        details.append(
            f"{counted(errors, 'request')} in the last cycle failed. Mostly: {e.latest_errors[0].cause.title}. "
            "Entra retries them on later cycles.")
    return tuple(details)


# --- The activity chart -----------------------------------------------------------------------

@dataclass(frozen=True)
class Segment:
    kind: str  # changes, lookups, errors
    y: float
    height: float
    count: int


@dataclass(frozen=True)
class Bar:
    start: datetime
    end: datetime
    x: float
    width: float
    tally: Tally
    segments: tuple[Segment, ...]


# The chart's drawing area, in SVG user units: y labels left of LEFT, x labels below BOTTOM.
WIDTH, HEIGHT, LEFT, TOP, BOTTOM = 720, 200, 44, 8, 176


@dataclass(frozen=True)
class Chart:
    start: datetime
    end: datetime
    bars: tuple[Bar, ...]
    y_max: int
    y_ticks: tuple[tuple[float, int], ...]
    x_labels: tuple[tuple[float, str], ...]
    total: Tally
    width: int = WIDTH
    height: int = HEIGHT
    left: int = LEFT
    bottom: int = BOTTOM

    @property
    def empty(self) -> bool:
        return self.total.requests == 0


@dataclass(frozen=True)
class ChartRange:
    key: str
    label: str
    span: timedelta
    bucket: timedelta
    bar: str  # what one bar covers, in words
    label_every: timedelta  # between x labels, from midnight in the admin's time zone
    label_format: str


CHART_RANGES = {
    "24h": ChartRange("24h", "Last 24 hours", timedelta(hours=24), timedelta(minutes=30), "30 minutes",
                      timedelta(hours=3), "%H:%M"),
    "7d": ChartRange("7d", "Last 7 days", timedelta(days=7), timedelta(hours=4), "4 hours",
                     timedelta(days=1), "%a %d"),
}
# An x label starts at its time and needs this much room before the chart's right edge.
LABEL_ROOM = 40
SEGMENT_KINDS = ("changes", "lookups", "errors")


def chart_window(chart_range: ChartRange, now: datetime) -> tuple[datetime, datetime]:
    """Whole buckets ending with the one that holds `now`."""
    bucket = chart_range.bucket.total_seconds()
    epoch = datetime(1970, 1, 1, tzinfo=timezone.utc)
    end = epoch + timedelta(seconds=(math.floor((now - epoch).total_seconds() / bucket) + 1) * bucket)
    return end - chart_range.span, end


def chart_of(activity: Iterable[Activity], chart_range: ChartRange, *, now: datetime, zone: tzinfo) -> Chart:
    start, end = chart_window(chart_range, now)
    count = int(chart_range.span / chart_range.bucket)
    tallies = [Tally() for _ in range(count)]
    total = Tally()
    for item in activity:
        if start <= item.bucket < end:
            tallies[int((item.bucket - start) / chart_range.bucket)].add(item)
            total.add(item)
    y_max = _nice_ceiling(max((t.requests for t in tallies), default=0))
    plot_height = BOTTOM - TOP
    slot = (WIDTH - LEFT) / count
    bars = []
    for index, tally in enumerate(tallies):
        bar_start = start + index * chart_range.bucket
        bottom, segments = float(BOTTOM), []
        for kind, value in zip(SEGMENT_KINDS, (tally.changes, tally.lookups, tally.errors)):
            if not value:
                continue
            # At least 2 units high, so a quiet cycle beside the first sync's peak stays visible.
            height = max(plot_height * value / y_max, 2.0)
            bottom -= height
            segments.append(Segment(kind, round(bottom, 2), round(height, 2), value))
        bars.append(Bar(bar_start, bar_start + chart_range.bucket, round(LEFT + index * slot + 1, 2),
                        round(max(slot - 2, 1), 2), tally, tuple(segments)))
    ticks = tuple((round(BOTTOM - plot_height * value / y_max, 2), value) for value in (0, y_max // 2, y_max))
    labels = []
    for moment in _label_times(start, end, chart_range.label_every, zone):
        x = LEFT + (WIDTH - LEFT) * ((moment - start) / (end - start))
        if x <= WIDTH - LABEL_ROOM:
            labels.append((round(x, 2), moment.strftime(chart_range.label_format)))
    return Chart(start, end, tuple(bars), y_max, ticks, tuple(labels), total)


def _label_times(start: datetime, end: datetime, every: timedelta, zone: tzinfo) -> Iterable[datetime]:
    """The times from `start` to `end` that the clocks in `zone` show as midnight or a whole
    `every` after it (the bars start at whole buckets in UTC, which may fall anywhere there)."""
    moment = datetime.combine(start.astimezone(zone).date(), time(), tzinfo=zone)
    while moment < end:
        if moment >= start:
            yield moment
        moment += every  # by the clock on the wall: midnight stays midnight across a change of offset


def _nice_ceiling(value: int) -> int:
    """The smallest 1, 2 or 5 times a power of ten that is at least `value` (and at least 2)."""
    if value <= 2:
        return 2
    power = 10 ** math.floor(math.log10(value))
    return next(step * power for step in (1, 2, 5, 10) if step * power >= value)


# --- Deleted users ------------------------------------------------------------------------------------

DELETE_USER_ACTION = "delete user "


def deleted_user_name(action: str) -> str:
    """The userName in a delete's action (provisioning_log.describe: "delete user <userName>")."""
    return action[len(DELETE_USER_ACTION):] if action.startswith(DELETE_USER_ACTION) else action


# --- Why isn't this person here? --------------------------------------------------------------

class Finding(enum.Enum):
    HERE = "here"
    DEACTIVATED = "deactivated"
    DELETED = "deleted"
    REFUSED = "refused"  # Entra tried; this server answered with an error
    LOOKED_UP = "looked up"  # Entra asked for them and created nothing
    NEVER_SEEN = "never seen"


@dataclass(frozen=True)
class Person:
    id: str
    user_name: str
    display_name: str | None
    active: bool


@dataclass(frozen=True)
class WhyEvidence:
    query: str
    now: datetime
    exact: Person | None
    similar: Sequence[Person]
    deleted_at: datetime | None  # the latest deletion of this userName
    looked_up_at: datetime | None  # the latest lookup of this value by Entra
    refusals: Sequence[ErrorGroup]  # failed requests that name this value
    first_sync: FirstSync
    users: int  # users here
    mail_mapped: bool | None  # userName looks mapped from mail; None: no user to tell
    domains: frozenset[str]  # the email domains of the userNames here
    empty_groups: int


# The likely reasons in their usual order; evidence moves some of them up or leaves them out.
APP = "Entra admin center > Enterprise applications > your Jericho app"
REASONS = {
    "not_yet": Reason(
        "not_yet", "The sync has not reached them yet",
        "Entra's first sync takes from minutes to hours, depending on how many users, groups and "
        "memberships are in scope; later cycles run about every 40 minutes and only send changes.",
        f"{APP} > Provisioning: the progress bar and the time of the last cycle. Provision on demand "
        "sends one user at once."),
    "not_assigned": Reason(
        "not_assigned", "Not assigned to the app",
        "With the scope “Sync only assigned users and groups”, Entra sends only users assigned to "
        "the app, directly or through a group assigned to it.",
        f"{APP} > Users and groups: is the person, or a group they are a direct member of, listed?"),
    "nested_group": Reason(
        "nested_group", "Only in a nested group",
        "Entra provisions the direct members of an assigned group only: members of a group inside "
        "that group are not sent.",
        "Entra admin center > Groups > the assigned group > Members: assign the nested group itself "
        "to the app, or add the person directly."),
    "no_mailbox": Reason(
        "no_mailbox", "No mailbox while mail is mapped to userName",
        "userName here comes from the mail attribute; Entra skips users whose mail is empty "
        "(“Skipped”, MandatoryFieldsMissing in Entra's provisioning logs).",
        "Entra admin center > Users > the person > Properties > Email; "
        f"{APP} > Provisioning logs, search the person."),
    "other_name": Reason(
        "other_name", "Here under another userName",
        "userName here is not their email address, or they use another domain (a guest's userName "
        "can look like name_contoso.com#EXT#@…): search by their name.",
        f"{APP} > Provisioning > Mappings > Provision Microsoft Entra ID Users: the source of userName."),
    "disabled": Reason(
        "disabled", "Disabled in Entra",
        "Entra does not create users whose account is disabled, and deactivates them here when "
        "they are disabled later.",
        "Entra admin center > Users > the person > Properties: Account enabled."),
    "scoping_filter": Reason(
        "scoping_filter", "Outside a scoping filter",
        "An attribute scoping filter (department, country, …) leaves out users that do not match it.",
        f"{APP} > Provisioning > Mappings > Provision Microsoft Entra ID Users > Source Object Scope."),
}
USUAL_ORDER = ("not_assigned", "nested_group", "no_mailbox", "other_name", "disabled", "not_yet",
               "scoping_filter")


def finding_of(e: WhyEvidence) -> Finding:
    if e.exact is not None:
        return Finding.HERE if e.exact.active else Finding.DEACTIVATED
    if e.deleted_at is not None:
        return Finding.DELETED
    if e.refusals:
        return Finding.REFUSED
    if e.looked_up_at is not None:
        return Finding.LOOKED_UP
    return Finding.NEVER_SEEN


def reasons_of(e: WhyEvidence, reasons: Mapping[str, Reason] | None = None,
               usual_order: Sequence[str] | None = None) -> list[Reason]:
    """Why someone never arrived, the likeliest first; nothing when they are, or were, here.
    `reasons` and their `usual_order` are the identity provider's; None: Entra's, above."""
    if finding_of(e) in (Finding.HERE, Finding.DEACTIVATED, Finding.DELETED):
        return []
    reasons = REASONS if reasons is None else reasons
    order = list(USUAL_ORDER if usual_order is None else usual_order)
    if e.first_sync.state in (FirstSyncState.NOT_STARTED, FirstSyncState.ON_DEMAND_ONLY,
                              FirstSyncState.IN_PROGRESS):
        _move_first(order, "not_yet")
    if e.mail_mapped is False or "@" not in e.query:
        _leave_out(order, "no_mailbox")  # a missing mailbox stops only a mail-based userName
    domain = e.query.rpartition("@")[2].lower()
    if not (e.similar or e.mail_mapped is False or (domain and e.domains and domain not in e.domains)):
        _leave_out(order, "other_name")
    elif e.similar:
        _move_first(order, "other_name")
    return [reasons[key] for key in order]


def _leave_out(order: list[str], key: str) -> None:
    if key in order:  # a provider may not have this reason at all
        order.remove(key)


def _move_first(order: list[str], key: str) -> None:
    if key in order:
        order.remove(key)
        order.insert(0, key)
