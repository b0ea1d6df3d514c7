"""The health banner: whether provisioning is waiting, connected, failing or stale, in the identity
provider's words, at a level of the severity model that the setup guide shares
(providers/severity.py).

Pure functions over plain values (no Flask, no queries); every rule takes `now`.
"""
from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone, tzinfo
from typing import Sequence

from ..providers import ENTRA, Provider
from ..providers.base import severity_next
from ..providers.severity import Level, Severity, Traffic, severity_of
from ..text import clock, counted, duration_words
from .causes import ErrorGroup
from .cycles import Cycle, EventLike, FirstSync, FirstSyncState, first_sync_words

# A provider that sends nothing while nothing changes (no stale_after) is never stale; after this
# long, the banner says what its quiet means.
QUIET_AFTER = timedelta(hours=1)


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
    last_request: EventLike | None
    started: bool  # a change has been received, or users and groups are here
    latest_cycle: Cycle | None  # the cycle of the last request
    latest_errors: Sequence[ErrorGroup]  # of that cycle, the main cause first
    first_sync: FirstSync
    zone: tzinfo = timezone.utc  # the admin's, for the times the banner names
    provider: Provider = ENTRA


@dataclass(frozen=True)
class Health:
    state: HealthState
    summary: str
    details: tuple[str, ...] = ()
    cause: ErrorGroup | None = None  # the failed requests to look at first
    level: Level = Level.NEUTRAL

    @property
    def title(self) -> str:
        return "Connected, some users need you" if self.level is Level.AMBER else self.state.value


def health_of(e: HealthEvidence) -> Health:
    who, sync = e.provider.short_name, e.provider.sync
    if e.last_request is None:
        if not e.started:
            return Health(HealthState.WAITING, f"Nothing has arrived from {who} yet.", (sync.waiting,))
        # Everything received is older than the log keeps.
        summary = f"No request from {who} in the whole provisioning log."
        if sync.stale_after is None:
            return Health(HealthState.CONNECTED, summary, (sync.silence,))
        return Health(HealthState.STALE, summary, (sync.silence,), level=Level.RED)
    silence = e.now - e.last_request.occurred_at
    stale = e.started and sync.stale_after is not None and silence >= sync.stale_after
    severity = severity_of(_traffic(e, stale))
    main = next((group for group in e.latest_errors if group.cause.key == severity.cause), None)
    if severity.level is Level.RED and main is not None:
        return _failing(e, severity, main, stale)
    if stale:
        return Health(HealthState.STALE, (
            f"No request from {who} for {duration_words(silence.total_seconds() / 60)} "
            f"(last at {clock(e.last_request.occurred_at, e.now, e.zone)})."), (sync.silence,), level=Level.RED)
    return Health(HealthState.CONNECTED, _connected_summary(e, silence), _connected_details(e, severity, main, silence),
                  main, severity.level)


def _traffic(e: HealthEvidence, stale: bool) -> Traffic:
    """The last cycle as the severity model reads it."""
    # The organization's own token refused (revoked): nothing the provider sends can succeed now.
    # A token nobody knows may come from anywhere, so it counts by its share only.
    refused = e.last_request.status in (401, 403) and e.last_request.organization_id is not None
    failures: dict[str, int] = {}
    for group in e.latest_errors:
        failures[group.cause.key] = failures.get(group.cause.key, 0) + group.count
    requests = e.latest_cycle.tally.requests if e.latest_cycle else 0
    return Traffic(requests=requests, failures=failures, refused_now=refused and bool(failures), silent=stale)


def _failing(e: HealthEvidence, severity: Severity, main: ErrorGroup, stale: bool) -> Health:
    who, sync = e.provider.short_name, e.provider.sync
    cycle = e.latest_cycle.tally if e.latest_cycle else None
    summary = (f"{cycle.errors} of the {cycle.requests} requests in the last {sync.cycle} failed."
               if cycle and cycle.requests > 1 else f"{who}'s last request failed.")
    details = [f"Main cause: {main.cause.title}. {main.cause.fix} {severity_next(severity, who, sync)}"]
    if stale:
        details.append(f"Nothing has arrived since {clock(e.last_request.occurred_at, e.now, e.zone)}: {sync.paused}")
    return Health(HealthState.FAILING, summary, tuple(details), main, Level.RED)


def _connected_summary(e: HealthEvidence, silence: timedelta) -> str:
    who, test = e.provider.short_name, e.provider.sync.test_label
    when = clock(e.last_request.occurred_at, e.now, e.zone)
    if not e.started:
        return f"{who}'s {test} works (last request at {when})."
    if silence >= QUIET_AFTER:  # only a provider that is never stale gets here
        return f"Quiet: no request from {who} for {duration_words(silence.total_seconds() / 60)} (last at {when})."
    return f"{who}'s last request arrived at {when}."


def _connected_details(e: HealthEvidence, severity: Severity, main: ErrorGroup | None,
                       silence: timedelta) -> tuple[str, ...]:
    who, sync = e.provider.short_name, e.provider.sync
    details = []
    if e.first_sync.state in (FirstSyncState.IN_PROGRESS, FirstSyncState.ON_DEMAND_ONLY, FirstSyncState.NOT_STARTED):
        details.append(first_sync_words(e.first_sync, now=e.now, zone=e.zone, habits=sync))
    if main is not None:
        details.append(
            f"{counted(severity.failed, 'request')} in the last {sync.cycle} failed. Mostly: {main.cause.title}. "
            f"{severity_next(severity, who, sync)}")
    retried = [group for group in e.latest_errors if group.cause.harmless]
    if retried:
        details.append(
            f"{counted(sum(group.count for group in retried), 'request')} in the last {sync.cycle} will succeed "
            f"when retried ({retried[0].cause.title.lower()}). {severity_next(Severity(Level.NEUTRAL), who, sync)}")
    if e.started and silence >= QUIET_AFTER:
        details.append(sync.silence)
    return tuple(details)
