"""What was received about someone searched for on "why isn't this person here?"."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, or_, select

from ..extensions import db
from ..providers import ENTRA, Provider
from ..scim.document import user_name_problem, work_email
from ..storage.models import ProvisioningEvent, User, UserEmail
from .causes import causes_of
from .chart import CHART_RANGES
from .counts import counts_of
from .dashboard import sync_of
from .directory import DELETE_USER_ACTION, users_statement
from .filters import UserFilters
from .log_queries import SEARCH_LIMIT, error_groups, latest_event, latest_floor, user_deletions
from .matching import contains, equals_ignoring_case
from .reasons import Person, WhyEvidence

SIMILAR_PEOPLE = 10
# The latest users read to tell how userName is mapped, as the setup guide does.
MAPPING_SAMPLE = 200


def _person(user: User) -> Person:
    return Person(user.id, user.user_name, user.display_name, user.active)


def why_evidence(organization_id: int, query: str, *, now: datetime, provider: Provider = ENTRA) -> WhyEvidence:
    """What was received about someone searched for by email address or userName (not empty)."""
    key = query.strip().lower()
    e = ProvisioningEvent
    exact = db.session.execute(
        select(User).where(User.organization_id == organization_id, or_(
            User.user_name_key == key,
            User.pk.in_(select(UserEmail.user_pk).where(
                UserEmail.organization_id == organization_id, UserEmail.value_key == key)),
        )).order_by(User.active.desc(), User.pk).limit(1)
    ).scalar_one_or_none()
    similar = db.session.execute(
        users_statement(organization_id, UserFilters(q=_name_part(key))).limit(SIMILAR_PEOPLE)
    ).scalars()
    deleted = db.session.execute(
        select(func.max(e.occurred_at)).where(
            *user_deletions(organization_id), equals_ignoring_case(e.action, DELETE_USER_ACTION + key))
    ).scalar_one()
    lookups = [e.organization_id == organization_id, e.operation == "lookup", e.resource_type == "User",
               equals_ignoring_case(e.action, f"look up user {key}")]
    recent = latest_floor(organization_id, SEARCH_LIMIT)
    if recent is not None:  # no index serves the action's text: look through the latest only
        lookups.append(e.occurred_at >= recent)
    looked_up = db.session.execute(select(func.max(e.occurred_at)).where(*lookups)).scalar_one()
    latest = db.session.execute(
        select(User.user_name, User.document).where(User.organization_id == organization_id)
        .order_by(User.updated_at.desc(), User.pk.desc()).limit(MAPPING_SAMPLE)
    ).all()
    counts = counts_of(organization_id)
    sync = sync_of(organization_id, now=now, span=CHART_RANGES["24h"].span,
                   last_request=latest_event(organization_id), provider=provider)
    return WhyEvidence(
        query=query.strip(),
        now=now,
        exact=_person(exact) if exact else None,
        similar=[_person(user) for user in similar if exact is None or user.pk != exact.pk],
        deleted_at=deleted,
        looked_up_at=looked_up,
        refusals=error_groups(organization_id, contains(e.error_detail, key), causes=causes_of(provider)),
        first_sync=sync.first_sync,
        users=counts.users.users,
        mail_mapped=_mail_mapped(latest),
        domains=frozenset(name.rpartition("@")[2].lower() for name, _ in latest if "@" in name),
        empty_groups=counts.empty_groups,
    )


def _name_part(key: str) -> str:
    """What to look for among similar people: the local part of an email address."""
    return key.partition("@")[0] if "@" in key else key


def _mail_mapped(users: list[tuple[str, dict]]) -> bool | None:
    """Whether userName looks mapped from mail: most recent users have their email as userName."""
    if not users:
        return None
    matching = sum(1 for name, document in users if user_name_problem(name, work_email(document)) is None)
    return matching * 2 > len(users)
