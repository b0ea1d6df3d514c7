"""The health banner: whether provisioning is waiting, connected, failing or stale, in words.

Pure functions over plain values (no Flask, no queries); every rule takes `now`.
"""
from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime, timezone, tzinfo
from typing import Sequence

from ..text import clock, counted, duration_words
from .causes import ErrorGroup
from .cycles import CYCLE_INTERVAL, Cycle, EventLike, FirstSync, FirstSyncState, first_sync_words

# No request for about two cycles after provisioning started: Entra may have paused the job.
STALE_AFTER = 2 * CYCLE_INTERVAL
# Entra retries a failed object on later cycles, so a few failures among many successes are
# listed, not alarmed on; from this share of a cycle's requests on, provisioning is failing.
FAILING_SHARE = 0.1


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

