"""Where an organization stands in the Entra setup guide, derived from what the server received.

`evidence_of` gathers the facts with a handful of indexed queries; `steps_of` turns them into the
eight steps' states without touching the database, so every rule is tested on plain values. A step
is Done when the requests prove it, Waiting for Entra when the admin's part here is done and the
proof can only come from Entra, and Needs attention when the requests show something wrong.
"""
from __future__ import annotations

import enum
import ipaddress
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Callable
from urllib.parse import urlsplit

from flask import current_app
from sqlalchemy import and_, func, or_

from ..storage.accounts import EMAIL_PATTERN, tokens_of
from ..extensions import db
from ..storage.models import Group, Membership, Organization, ProvisioningEvent, ScimToken, User
from ..api.views import tenant_url
from ..scim.readers import work_email

# Requests looked at for "are recent requests failing", and users for "is userName mapped right":
# the latest ones, because they reflect the configuration in Entra as it is now.
RECENT_REQUESTS = 50
RECENT_USERS = 200
MAPPING_EXAMPLES = 5

# Entra's estimate for the first cycle: 0.01 to 0.08 minutes per user, group and group member
# in scope ("When will provisioning finish", Microsoft Learn).
MINUTES_PER_OBJECT = (0.01, 0.08)

LOCAL_NAME_SUFFIXES = (".local", ".internal", ".lan", ".home", ".home.arpa", ".corp", ".intranet")


class State(enum.Enum):
    NOT_STARTED = "Not started"
    WAITING = "Waiting for Entra"
    DONE = "Done"
    ATTENTION = "Needs attention"

    @property
    def css(self) -> str:
        return self.name.lower().replace("_", "-")


STEP_TITLES = (
    "Create the app in Entra",
    "Provisioning mode",
    "Tenant URL and Secret Token",
    "Test Connection",
    "Mappings",
    "Scope",
    "Assign users and groups",
    "Start provisioning",
)


@dataclass(frozen=True)
class StepStatus:
    number: int
    title: str
    state: State
    summary: str


# Why a received userName suggests the wrong source attribute in Entra's mapping.
GUEST_UPN = "a guest's user principal name (#EXT#), not an email address"
NOT_EMAIL = "not an email address"
DIFFERS = "differs from the work email"
INITIAL_DOMAIN = "a user principal name in the tenant's onmicrosoft.com domain, and no work email"


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


@dataclass(frozen=True)
class Evidence:
    now: datetime
    tenant_url: str
    tenant_url_derived: bool  # from the browser's request, PUBLIC_URL being unset
    url_warnings: tuple[str, ...]
    tokens: tuple[ScimToken, ...]
    last_success: ProvisioningEvent | None
    last_test_connection: ProvisioningEvent | None
    last_refusal: ProvisioningEvent | None  # 401s, refused routes, failed Test Connections
    recent: tuple[ProvisioningEvent, ...]  # newest first; neither refusals nor Test Connections
    users: int
    groups: int
    memberships: int
    latest_user: User | None
    mapping: MappingReport

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
        """The latest word from Entra is a refusal: nothing has succeeded since."""
        if self.last_refusal is None:
            return False
        return self.last_success is None or _order(self.last_refusal) > _order(self.last_success)

    @property
    def recent_failures(self) -> list[ProvisioningEvent]:
        return [event for event in self.recent if not event.succeeded]

    @property
    def flowing(self) -> bool:
        """More than a single on-demand user: the provisioning cycle itself is running."""
        return self.users > 1 or self.groups > 0

    @property
    def last_request(self) -> ProvisioningEvent | None:
        seen = [e for e in (*self.recent[:1], self.last_refusal, self.last_test_connection) if e]
        return max(seen, key=_order, default=None)


@dataclass(frozen=True)
class Progress:
    evidence: Evidence
    steps: tuple[StepStatus, ...]

    @property
    def next_step(self) -> StepStatus | None:
        return next((step for step in self.steps if step.state is not State.DONE), None)

    @property
    def warnings(self) -> list[StepStatus]:
        return [step for step in self.steps if step.state is State.ATTENTION]


def _order(event: ProvisioningEvent) -> tuple[datetime, int]:
    return event.occurred_at, event.id or 0


# --- Presentation of times and durations, shared by the messages and the templates -----------

def clock(moment: datetime | None, now: datetime) -> str:
    if moment is None:
        return "never"
    moment = moment.astimezone(timezone.utc)
    if moment.date() == now.astimezone(timezone.utc).date():
        return moment.strftime("%H:%M UTC")
    if moment.year == now.year:
        return f"{moment.day} {moment:%b}, {moment:%H:%M} UTC"
    return f"{moment.day} {moment:%b %Y}, {moment:%H:%M} UTC"


def count_words(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"


def duration_words(minutes: float) -> str:
    if minutes < 1:
        return "under a minute"
    total = round(minutes)
    if total < 60:
        return count_words(total, "minute")
    hours, rest = divmod(total, 60)
    words = count_words(hours, "hour")
    if rest and hours < 10:
        words += " " + count_words(rest, "minute")
    return words


def first_cycle_estimate(objects: int) -> tuple[str, str]:
    low, high = (objects * rate for rate in MINUTES_PER_OBJECT)
    return duration_words(low), duration_words(high)


# --- Tenant URL --------------------------------------------------------------------------------

def tenant_url_warnings(url: str) -> list[str]:
    """Why Entra, calling from Microsoft's cloud over the internet, may not reach `url`."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    warnings = []
    if parts.scheme != "https":
        warnings.append(
            "It does not start with https://. Entra connects only over HTTPS, with a certificate "
            "from a public certificate authority: put the server behind HTTPS and set PUBLIC_URL."
        )
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        address = None
    if host == "localhost" or host.endswith(".localhost") or (address and address.is_loopback):
        warnings.append(f"{host} is this computer itself: Entra, in Microsoft's cloud, cannot reach it.")
    elif address is not None and not address.is_global:
        warnings.append(f"{host} is a private address that Entra cannot reach from the internet.")
    elif address is None and ("." not in host or host.endswith(LOCAL_NAME_SUFFIXES)):
        warnings.append(f"{host} is a local network name that Entra cannot look up from the internet.")
    return warnings


# --- userName mapping ----------------------------------------------------------------------------

def user_name_problem(user_name: str, email: str | None) -> str | None:
    """Why `user_name` looks like Entra's default userPrincipalName mapping rather than mail."""
    name = user_name.strip().lower()
    if "#ext#" in name:
        return GUEST_UPN
    if not EMAIL_PATTERN.match(name):
        return NOT_EMAIL
    if email and name != email.strip().lower():
        return DIFFERS
    if not email and name.endswith(".onmicrosoft.com"):
        return INITIAL_DOMAIN
    return None


def mapping_report(users: list[tuple[str, str, dict[str, Any]]]) -> MappingReport:
    """From (SCIM id, userName, document) of the latest users received."""
    problems = []
    for user_id, user_name, document in users:
        email = work_email(document)
        reason = user_name_problem(user_name, email)
        if reason:
            problems.append(MappingProblem(user_id, user_name, email, reason))
    return MappingReport(len(users), len(problems), tuple(problems[:MAPPING_EXAMPLES]))


# --- The eight steps ------------------------------------------------------------------------------

def refusal_words(event: ProvisioningEvent, now: datetime) -> str:
    when = clock(event.occurred_at, now)
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
        return (
            f"Entra's Test Connection arrived at {when} and was answered {event.status}: "
            f"{event.error_detail or 'an error'}."
        )
    return f"A request arrived at {when} and was refused with {event.status}: {event.error_detail or event.action}."


def _create_app(e: Evidence) -> tuple[State, str]:
    if e.heard:
        return State.DONE, "Requests from your Entra app have arrived, so the app exists."
    if e.tokens:
        return State.WAITING, "This turns Done when Entra's first request arrives (step 4)."
    return State.NOT_STARTED, "Create an enterprise application in the Entra admin center."


def _provisioning_mode(e: Evidence) -> tuple[State, str]:
    if e.heard:
        return State.DONE, "Entra is sending requests, so provisioning is set to Automatic."
    if e.tokens:
        return State.WAITING, "This turns Done when Entra's first request arrives (step 4)."
    return State.NOT_STARTED, "Set Provisioning Mode to Automatic."


def _credentials(e: Evidence) -> tuple[State, str]:
    if not e.tokens:
        return State.NOT_STARTED, "Copy the Tenant URL and generate a Secret Token."
    if not e.active_tokens:
        return State.ATTENTION, "Every token is revoked: generate a new one for Entra."
    if e.url_warnings and not e.connected:
        return State.ATTENTION, f"Entra may not be able to reach the Tenant URL {e.tenant_url}."
    if len(e.active_tokens) > 1:
        return State.DONE, f"{len(e.active_tokens)} tokens are active."
    return State.DONE, f"Token {e.active_tokens[0].prefix} is active."


def _test_connection(e: Evidence) -> tuple[State, str]:
    if e.refused_now:
        return State.ATTENTION, refusal_words(e.last_refusal, e.now)
    if e.last_test_connection is not None and e.last_test_connection.succeeded:
        event = e.last_test_connection
        return State.DONE, (
            f"Entra's Test Connection arrived at {clock(event.occurred_at, e.now)} "
            f"and was answered {event.status}."
        )
    if e.connected:
        event = e.last_success
        return State.DONE, (
            f"A request from Entra arrived at {clock(event.occurred_at, e.now)} and was answered "
            f"{event.status} ({event.action})."
        )
    if e.active_tokens:
        return State.WAITING, (
            "Nothing has arrived yet — check the Tenant URL and that this server is reachable "
            "from the internet."
        )
    return State.NOT_STARTED, "Generate a token first (step 3)."


def _mappings(e: Evidence) -> tuple[State, str]:
    if e.mapping.affected:
        return State.ATTENTION, (
            f"{e.mapping.affected} of the last {e.mapping.examined} users received have a userName "
            "that is not their email address: map mail to userName."
        )
    if e.users:
        return State.DONE, "The users received have their email address as userName."
    if e.connected:
        return State.WAITING, "This is checked when the first user arrives."
    return State.NOT_STARTED, "Map the source attribute mail to the target attribute userName."


def _scope(e: Evidence) -> tuple[State, str]:
    if e.users or e.groups:
        return State.DONE, "Users or groups in scope are arriving."
    if e.connected:
        return State.WAITING, "This turns Done when the first user or group arrives."
    return State.NOT_STARTED, "Set Scope to “Sync only assigned users and groups”."


def _assign(e: Evidence) -> tuple[State, str]:
    if e.latest_user is not None:
        return State.DONE, (
            f"{e.latest_user.user_name} arrived at {clock(e.latest_user.created_at, e.now)}."
        )
    failed = [event for event in e.recent_failures if event.resource_type == "User"]
    if failed:
        return State.ATTENTION, (
            f"{count_words(len(failed), 'request')} about users failed, and no user has arrived "
            f"yet. Latest: {failed[0].action} ({failed[0].status})."
        )
    if e.connected:
        return State.WAITING, "Assign one user, then use Provision on demand and watch it arrive."
    return State.NOT_STARTED, "Assign users and groups to the app in Entra."


def _start(e: Evidence) -> tuple[State, str]:
    failures = e.recent_failures
    if failures and (e.users or e.groups):
        return State.ATTENTION, (
            f"{len(failures)} of the last {len(e.recent)} requests failed. "
            f"Latest: {failures[0].action} ({failures[0].status})."
        )
    if e.flowing:
        last = e.last_request
        return State.DONE, (
            f"Provisioning is running: {count_words(e.users, 'user')} and "
            f"{count_words(e.groups, 'group')} received, "
            f"last request at {clock(last.occurred_at if last else None, e.now)}."
        )
    if e.users:
        return State.WAITING, (
            "Set Provisioning Status to On. Entra usually starts within about 40 minutes."
        )
    return State.NOT_STARTED, "Set Provisioning Status to On when the test user has arrived."


RULES: tuple[Callable[[Evidence], tuple[State, str]], ...] = (
    _create_app,
    _provisioning_mode,
    _credentials,
    _test_connection,
    _mappings,
    _scope,
    _assign,
    _start,
)


def steps_of(evidence: Evidence) -> tuple[StepStatus, ...]:
    return tuple(
        StepStatus(number, title, *rule(evidence))
        for number, (title, rule) in enumerate(zip(STEP_TITLES, RULES), start=1)
    )


# --- Gathering the evidence ----------------------------------------------------------------------

def _latest(*conditions) -> ProvisioningEvent | None:
    return db.session.execute(
        db.select(ProvisioningEvent)
        .where(*conditions)
        .order_by(ProvisioningEvent.occurred_at.desc(), ProvisioningEvent.id.desc())
        .limit(1)
    ).scalar_one_or_none()


def _count(query) -> int:
    return db.session.execute(query).scalar_one()


def evidence_of(organization_id: int, *, now: datetime, url: str, url_derived: bool) -> Evidence:
    organization = db.get_or_404(Organization, organization_id)
    of_organization = ProvisioningEvent.organization_id == organization_id
    refused = or_(
        ProvisioningEvent.operation == "rejected",
        and_(ProvisioningEvent.operation == "test_connection", ProvisioningEvent.status >= 400),
    )
    refusals = and_(of_organization, refused)
    # A request with an unknown token names no organization. Where there is only one, it is
    # that organization's Entra with a mistyped token; elsewhere it could be anybody's.
    if _count(db.select(func.count(Organization.id))) == 1:
        refusals = or_(
            refusals,
            and_(ProvisioningEvent.organization_id.is_(None), ProvisioningEvent.operation == "rejected"),
        )
    recent = db.session.execute(
        db.select(ProvisioningEvent)
        .where(of_organization, ProvisioningEvent.operation.not_in(("rejected", "test_connection")))
        .order_by(ProvisioningEvent.occurred_at.desc(), ProvisioningEvent.id.desc())
        .limit(RECENT_REQUESTS)
    ).scalars()
    latest_users = db.session.execute(
        db.select(User.id, User.user_name, User.document)
        .where(User.organization_id == organization_id)
        .order_by(User.updated_at.desc(), User.pk.desc())
        .limit(RECENT_USERS)
    ).all()
    return Evidence(
        now=now,
        tenant_url=url,
        tenant_url_derived=url_derived,
        url_warnings=tuple(tenant_url_warnings(url)),
        tokens=tuple(tokens_of(organization)),
        last_success=_latest(of_organization, ProvisioningEvent.status < 400),
        last_test_connection=_latest(of_organization, ProvisioningEvent.operation == "test_connection"),
        last_refusal=_latest(refusals),
        recent=tuple(recent),
        users=_count(db.select(func.count(User.pk)).where(User.organization_id == organization_id)),
        groups=_count(db.select(func.count(Group.pk)).where(Group.organization_id == organization_id)),
        memberships=_count(
            db.select(func.count())
            .select_from(Membership)
            .join(Group, Group.pk == Membership.group_pk)
            .where(Group.organization_id == organization_id)
        ),
        latest_user=db.session.execute(
            db.select(User)
            .where(User.organization_id == organization_id)
            .order_by(User.created_at.desc(), User.pk.desc())
            .limit(1)
        ).scalar_one_or_none(),
        mapping=mapping_report([tuple(row) for row in latest_users]),
    )


def progress_of(organization_id: int, *, now: datetime) -> Progress:
    evidence = evidence_of(
        organization_id,
        now=now,
        url=tenant_url(),
        url_derived=not current_app.config.get("PUBLIC_URL"),
    )
    return Progress(evidence, steps_of(evidence))
