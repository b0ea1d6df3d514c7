"""Where an organization stands in its identity provider's setup guide, derived from what the
server received.

`evidence_of` gathers the facts with a handful of indexed queries; `steps_of` turns them into the
states of the provider's eight steps (jericho/providers) without touching the database.
"""
from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from datetime import datetime, tzinfo
from typing import Any
from urllib.parse import urlsplit

from flask import current_app
from sqlalchemy import and_, func, or_

from ..extensions import db
from ..providers import ENTRA, Evidence, MappingProblem, MappingReport, Provider, State, provider_of
from ..providers.severity import Level, worst
from ..scim.document import user_name_problem, work_email
from ..scim.schema import USER
from ..scim.unknown import unknown_attributes
from ..storage.accounts import tokens_of
from ..storage.models import Group, Membership, Organization, ProvisioningEvent, User
from ..text import duration_words
from ..urls import tenant_url

# Requests looked at for "are recent requests failing", and users for "is userName mapped right":
# the latest ones, because they reflect the provider's configuration as it is now.
RECENT_REQUESTS = 50
RECENT_USERS = 200
MAPPING_EXAMPLES = 5

# Entra's estimate for the first cycle: 0.01 to 0.08 minutes per user, group and group member
# in scope ("When will provisioning finish", Microsoft Learn).
MINUTES_PER_OBJECT = (0.01, 0.08)

LOCAL_NAME_SUFFIXES = (".local", ".internal", ".lan", ".home", ".home.arpa", ".corp", ".intranet")


@dataclass(frozen=True)
class StepStatus:
    number: int
    title: str
    state: State
    summary: str
    label: str  # the state in the provider's words: "Waiting for Okta"


@dataclass(frozen=True)
class Progress:
    evidence: Evidence
    steps: tuple[StepStatus, ...]
    provider: Provider = ENTRA

    @property
    def next_step(self) -> StepStatus | None:
        return next((step for step in self.steps if step.state is not State.DONE), None)

    @property
    def warnings(self) -> list[StepStatus]:
        return [step for step in self.steps if step.state.level is not Level.NEUTRAL]

    @property
    def level(self) -> Level:
        """The setup as a whole, by the severity model the sync status pages share."""
        return worst(step.state.level for step in self.steps)

    @property
    def deciding_step(self) -> StepStatus | None:
        """The first step at the setup's level, when that level is not neutral: what the summary
        names, since "some users need you" and "fine for a trial" are both amber."""
        level = self.level
        return next((step for step in self.steps if step.state.level is level), None) \
            if level is not Level.NEUTRAL else None


def first_cycle_estimate(objects: int) -> tuple[str, str]:
    low, high = (objects * rate for rate in MINUTES_PER_OBJECT)
    return duration_words(low), duration_words(high)


# --- Tenant URL --------------------------------------------------------------------------------

def tenant_url_warnings(url: str, provider: Provider = ENTRA) -> list[str]:
    """Why the provider, calling from its cloud over the internet, may not reach `url`."""
    who = provider.short_name
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    warnings = []
    if parts.scheme != "https":
        warnings.append(
            f"It does not start with https://. {who} connects only over HTTPS, with a certificate "
            "from a public certificate authority: put the server behind HTTPS and set PUBLIC_URL."
        )
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        address = None
    if host == "localhost" or host.endswith(".localhost") or (address and address.is_loopback):
        warnings.append(f"{host} is this computer itself: {who}, in {provider.cloud}, cannot reach it.")
    elif address is not None and not address.is_global:
        warnings.append(f"{host} is a private address that {who} cannot reach from the internet.")
    elif address is None and ("." not in host or host.endswith(LOCAL_NAME_SUFFIXES)):
        warnings.append(f"{host} is a local network name that {who} cannot look up from the internet.")
    return warnings


# --- userName mapping ----------------------------------------------------------------------------

def mapping_report(users: list[tuple[str, str, dict[str, Any]]]) -> MappingReport:
    """From (SCIM id, userName, document) of the latest users received."""
    problems = []
    for user_id, user_name, document in users:
        email = work_email(document)
        reason = user_name_problem(user_name, email)
        if reason:
            problems.append(MappingProblem(user_id, user_name, email, reason))
    unused = dict.fromkeys(path for _, _, document in users for path in unknown_attributes(document, USER))
    return MappingReport(len(users), len(problems), tuple(problems[:MAPPING_EXAMPLES]), tuple(unused))


# --- The eight steps ------------------------------------------------------------------------------

def steps_of(evidence: Evidence, provider: Provider = ENTRA) -> tuple[StepStatus, ...]:
    statuses = []
    for number, step in enumerate(provider.steps, start=1):
        state, summary = step.rule(evidence)
        statuses.append(StepStatus(number, step.title, state, summary, provider.state_label(state)))
    return tuple(statuses)


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


def evidence_of(
    organization: Organization, *, now: datetime, zone: tzinfo, url: str, url_derived: bool
) -> Evidence:
    organization_id = organization.id
    of_organization = ProvisioningEvent.organization_id == organization_id
    refused = or_(
        ProvisioningEvent.operation == "rejected",
        and_(ProvisioningEvent.operation == "test_connection", ProvisioningEvent.status >= 400),
    )
    # A request with an unknown token names no organization: anybody can send one, so it never
    # sets a step's state (the sync status pages show them apart).
    refusals = and_(of_organization, refused)
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
        zone=zone,
        tenant_url=url,
        tenant_url_derived=url_derived,
        url_warnings=tuple(tenant_url_warnings(url, provider_of(organization.identity_provider))),
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


def progress_of(organization: Organization, *, now: datetime, zone: tzinfo) -> Progress:
    evidence = evidence_of(
        organization,
        now=now,
        zone=zone,
        url=tenant_url(),
        url_derived=not current_app.config.get("PUBLIC_URL"),
    )
    provider = provider_of(organization.identity_provider)
    return Progress(evidence, steps_of(evidence, provider), provider)
