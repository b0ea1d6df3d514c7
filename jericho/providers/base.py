"""What every identity provider is made of (`Provider`), and what its setup guide's rules read.

The rules read an `Evidence` gathered by the wizard (wizard/onboarding.py) and never touch the
database, so each is tested on plain values. A step is Done when the requests prove it, Waiting
for the provider when the admin's part here is done and the proof can only come from the provider,
and Needs attention when the requests show something wrong.
"""
from __future__ import annotations

import enum
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone, tzinfo
from typing import Callable, Mapping, Sequence

from ..storage.cause_rules import cause_key
from ..storage.models import ENTRA as ENTRA_KEY  # noqa: F401 (the providers' keys, named here)
from ..storage.models import OKTA as OKTA_KEY  # noqa: F401
from ..storage.models import ProvisioningEvent, ScimToken, User
from ..text import clock, counted
from .severity import Level, Severity, Traffic, severity_of


class State(enum.Enum):
    NOT_STARTED = "Not started"
    WAITING = "Waiting for Entra"  # "Waiting for <provider>": Provider.state_label
    DONE = "Done"
    TRIAL = "Fine for a trial"  # works on this server, but the provider could not reach it
    SOME_USERS = "Some users need you"  # provisioning runs; some users wait for a fix
    ATTENTION = "Needs attention"

    @property
    def css(self) -> str:
        return self.name.lower().replace("_", "-")

    @property
    def level(self) -> Level:
        return STATE_LEVELS.get(self, Level.NEUTRAL)


STATE_LEVELS = {State.ATTENTION: Level.RED, State.SOME_USERS: Level.AMBER, State.TRIAL: Level.AMBER}


@dataclass(frozen=True)
class MappingProblem:
    user_id: str
    user_name: str
    work_email: str | None
    reason: str


@dataclass(frozen=True)
class MappingReport:
    examined: int
    affected: int
    examples: tuple[MappingProblem, ...]
    unused: tuple[str, ...] = ()  # attributes outside the schema that these users were sent with


@dataclass(frozen=True)
class Evidence:
    now: datetime
    tenant_url: str
    tenant_url_derived: bool  # from the browser's request, PUBLIC_URL being unset
    url_warnings: tuple[str, ...]
    tokens: tuple[ScimToken, ...]
    last_success: ProvisioningEvent | None
    last_test_connection: ProvisioningEvent | None
    last_refusal: ProvisioningEvent | None  # 401s, refused routes, failed connection tests
    recent: tuple[ProvisioningEvent, ...]  # newest first; neither refusals nor connection tests
    users: int
    groups: int
    memberships: int
    latest_user: User | None
    mapping: MappingReport
    zone: tzinfo = timezone.utc  # the admin's, for the times the summaries name

    @property
    def active_tokens(self) -> list[ScimToken]:
        return [token for token in self.tokens if token.is_active]

    @property
    def connected(self) -> bool:
        return self.last_success is not None

    @property
    def heard(self) -> bool:
        return self.connected or self.last_refusal is not None

    @property
    def refused_now(self) -> bool:
        """The latest word from the provider is a refusal: nothing has succeeded since."""
        if self.last_refusal is None:
            return False
        return self.last_success is None or event_order(self.last_refusal) > event_order(self.last_success)

    @property
    def recent_failures(self) -> list[ProvisioningEvent]:
        return [event for event in self.recent if not event.succeeded]

    @property
    def flowing(self) -> bool:
        """More than a single user sent to try the connection: provisioning itself is running."""
        return self.users > 1 or self.groups > 0

    @property
    def last_request(self) -> ProvisioningEvent | None:
        seen = [e for e in (*self.recent[:1], self.last_refusal, self.last_test_connection) if e]
        return max(seen, key=event_order, default=None)


def event_order(event: ProvisioningEvent) -> tuple[datetime, int]:
    return event.occurred_at, event.id or 0


Rule = Callable[[Evidence], tuple[State, str]]


@dataclass(frozen=True)
class Step:
    title: str
    rule: Rule


@dataclass(frozen=True)
class Reason:
    """A likely reason why someone has not arrived, for "Why isn't this person here?"."""

    key: str
    title: str
    explanation: str
    where: str  # where to check in the provider's admin console


@dataclass(frozen=True)
class CauseWords:
    """A cause of failed requests (storage/cause_rules.py) in the provider's words."""

    title: str
    fix: str


def common_causes(who: str, token_fix: str) -> dict[str, CauseWords]:
    """The causes every provider words alike, but for its name and where its token goes."""
    return {
        "unknown_token": CauseWords(f"{who} sends a token this server does not know", token_fix),
        "revoked_token": CauseWords(f"{who} still sends a revoked token", token_fix),
        "already_deleted": CauseWords("Deleted already", (
            f"Nothing to do: the user or group was already gone when {who} deleted it.")),
        "busy": CauseWords("This server asked to retry later", (
            f"It was busy (429 or 503, with Retry-After), and {who} retries by itself. Nothing to do "
            "unless it persists: then tell the server operator.")),
        "unsupported": CauseWords("A request this server does not support", (
            f"Open an example: it names what was asked. {who}'s own requests are all supported; "
            "other clients may ask for more.")),
        "other": CauseWords("Other errors", "Open an example to read the SCIM error."),
    }


@dataclass(frozen=True)
class SyncHabits:
    """How a provider sends its requests, as the sync status pages group and judge them, and their
    words for it."""

    cycle_gap: timedelta  # a longer silence between two requests ends a cycle
    # A silence this long once provisioning started means it stopped; None: the provider sends
    # nothing while nothing changes, so a silence is a quiet directory.
    stale_after: timedelta | None
    cycle: str  # what one burst of requests is called, "cycle"
    cycles_heading: str
    cycles_intro: str
    test_label: str  # its connection test, "Test Connection", and a cycle of those only
    small_label: str  # a cycle that created one user or group
    waiting: str  # before the first request: what to do
    silence: str  # what a long silence means, and what to check
    retries: str  # what becomes of failed requests
    first_sync_partial: str  # one user or group created, no more
    first_sync_pending: str  # nothing created yet
    first_sync_earlier: str  # the first sync is older than the requests looked at
    paused: str = ""  # failing and stale: what may have happened (providers with stale_after)


@dataclass(frozen=True)
class Provider:
    key: str  # as stored in Organization.identity_provider
    name: str  # "Microsoft Entra ID"
    short_name: str  # "Entra", in sentences
    console: str  # the admin console, "the Entra admin center"
    cloud: str  # where its requests come from, "Microsoft's cloud"
    steps: tuple[Step, ...]
    step_template: str  # the page of step {number}
    token_step: int  # the step that generates the token
    # The sync status pages, where the provider's ways differ.
    deactivation: str  # when the provider deactivates a user here
    deactivation_check: str  # where to see why someone was deactivated
    deleted_by: str  # "<who> deleted this user here", before the date
    deletion: str  # when a user is deleted here
    deletion_undo: str  # how someone deleted here comes back
    attempt_log: str  # where the provider shows its own side of a request
    checking: str  # the quickest way to see, in the provider's console, what happened to someone
    # Groups and managers, on the user and group pages.
    members_sent: str  # which members of a group the provider sends, and which it leaves out
    members_check: str  # where to compare a group's members; "{group}" stands for its name
    memberships_shown: str  # what the groups listed on a user's page are
    manager_missing: str  # why a manager sent is no user here
    # The tokens page.
    token_field: str  # where the admin pastes a token, "Secret Token"
    token_paste: str  # how to put a new token in use, step by step
    sync: SyncHabits
    causes: Mapping[str, CauseWords]  # by the keys of storage/cause_rules.py
    # "Why isn't this person here?": the reasons and their usual order; None keeps the status pages'
    # own, written for Entra (status/reasons.py).
    reasons: Mapping[str, Reason] | None = None
    reason_order: Sequence[str] | None = None

    @property
    def step_titles(self) -> tuple[str, ...]:
        return tuple(step.title for step in self.steps)

    def state_label(self, state: State) -> str:
        return f"Waiting for {self.short_name}" if state is State.WAITING else state.value

    def template(self, number: int) -> str:
        return self.step_template.format(number=number)

    def members_where(self, group_name: str) -> str:
        return self.members_check.format(group=group_name)


def refusal_words(event: ProvisioningEvent, now: datetime, zone: tzinfo, *, who: str, test: str) -> str:
    """A refused request in words; `who` sent it, and `test` is its name for a connection test."""
    when = clock(event.occurred_at, now, zone)
    if event.status == 401:
        detail = event.error_detail or ""
        if detail.startswith("revoked"):
            kind = "a revoked token"
        elif detail.startswith("missing"):
            kind = "no token"
        else:
            kind = "an unknown token"
        return f"A request arrived at {when} with {kind} and was answered 401."
    if event.operation == "test_connection":
        return (f"{who}'s {test} arrived at {when} and was answered {event.status}: "
                f"{event.error_detail or 'an error'}.")
    return f"A request arrived at {when} and was refused with {event.status}: {event.error_detail or event.action}."


# --- What the providers' rules share ----------------------------------------------------------------

def connection_test_state(e: Evidence, *, who: str, test: str, address: str, token_step: int) -> tuple[State, str]:
    """Whether the provider's connection test (or any request) got through, by its latest word."""
    if e.refused_now:
        return State.ATTENTION, refusal_words(e.last_refusal, e.now, e.zone, who=who, test=test)
    if e.last_test_connection is not None and e.last_test_connection.succeeded:
        event = e.last_test_connection
        return State.DONE, f"{who}'s {test} arrived at {clock(event.occurred_at, e.now, e.zone)} and was answered {event.status}."
    if e.connected:
        event = e.last_success
        return State.DONE, (
            f"A request from {who} arrived at {clock(event.occurred_at, e.now, e.zone)} and was answered "
            f"{event.status} ({event.action})."
        )
    if e.active_tokens:
        return State.WAITING, (
            f"Nothing has arrived yet — check the {address} and that this server is reachable from the internet."
        )
    return State.NOT_STARTED, f"Generate a token first (step {token_step})."


def revoked_tokens(e: Evidence, *, who: str) -> tuple[State, str] | None:
    if not e.active_tokens:
        return State.ATTENTION, f"Every token is revoked: generate a new one for {who}."
    return None


def unreachable(e: Evidence, *, who: str, setting: str) -> tuple[State, str]:
    """The state of a Tenant URL the provider cannot reach. The address the browser used is a
    trial's, on this computer or a local network: fine until the server has a public https
    address. A PUBLIC_URL that the provider cannot reach is a setting that fails."""
    if e.tenant_url_derived:
        return State.TRIAL, (
            f"{who} can only reach a public https URL, and {e.tenant_url} is not one. That is fine "
            f"for a trial here; {who} connects once the server has a public https address."
        )
    return State.ATTENTION, (
        f"{who} cannot reach the {setting} {e.tenant_url}: set PUBLIC_URL to this server's public "
        "https address."
    )


def active_tokens_words(e: Evidence) -> str:
    if len(e.active_tokens) > 1:
        return f"{len(e.active_tokens)} tokens are active."
    return f"Token {e.active_tokens[0].prefix} is active."


def failing_users(e: Evidence) -> tuple[State, str] | None:
    """Requests about users fail, and no user has arrived."""
    failed = [event for event in e.recent_failures if event.resource_type == "User"]
    if e.latest_user is not None or not failed:
        return None
    return State.ATTENTION, (
        f"{counted(len(failed), 'request')} about users failed, and no user has arrived "
        f"yet. Latest: {failed[0].action} ({failed[0].status})."
    )


def traffic_of(e: Evidence, sync: SyncHabits) -> Traffic:
    """The latest requests, as the severity model reads them (the sync status pages read the last
    cycle the same way)."""
    failures = Counter(cause_key(status=event.status, operation=event.operation, resource_type=event.resource_type,
                                 scim_type=event.scim_type, error_detail=event.error_detail)
                       for event in e.recent_failures)
    last = e.last_request
    silent = sync.stale_after is not None and last is not None and e.now - last.occurred_at >= sync.stale_after
    return Traffic(requests=len(e.recent), failures=failures, refused_now=e.refused_now, silent=silent)


def failing_requests(e: Evidence, who: str, sync: SyncHabits) -> tuple[State, str] | None:
    """While users or groups arrive: requests that fail, a refused token, or a provider that went
    silent, by the severity model; None when all is well or what failed is retried by itself."""
    if not (e.users or e.groups):
        return None
    severity = severity_of(traffic_of(e, sync))
    if severity.level is Level.NEUTRAL:
        return None
    state = State.ATTENTION if severity.level is Level.RED else State.SOME_USERS
    return state, f"{_failures_words(e, severity, who=who, sync=sync)} {severity_next(severity, who, sync)}"


def _failures_words(e: Evidence, severity: Severity, *, who: str, sync: SyncHabits) -> str:
    if severity.failed:
        failures = e.recent_failures
        return (f"{severity.failed} of the last {len(e.recent)} requests failed. "
                f"Latest: {failures[0].action} ({failures[0].status}).")
    if e.refused_now:
        return refusal_words(e.last_refusal, e.now, e.zone, who=who, test=sync.test_label)
    return f"Nothing has arrived from {who} since {last_request_time(e)}. {sync.silence}"


def severity_next(severity: Severity, who: str, sync: SyncHabits) -> str:
    """What happens next, in a sentence, at a level of the severity model."""
    if severity.level is Level.RED and severity.failed:
        return f"{sync.retries} They fail the same way until the cause is fixed."
    if severity.level is Level.RED:
        return f"Nothing more arrives from {who} until this is fixed."
    if severity.level is Level.AMBER:
        return f"The others arrive as usual. {sync.retries} They arrive once the cause is fixed."
    return f"Nothing to do: {who} retries by itself."


def last_request_time(e: Evidence) -> str:
    last = e.last_request
    return clock(last.occurred_at if last else None, e.now, e.zone)
