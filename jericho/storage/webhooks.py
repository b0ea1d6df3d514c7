"""Webhook endpoints as admins manage them (the API page, the command line): add, list with their
health and backlog, disable, resume, delete, and redeliver one event from the delivery log. Every
function takes the organization; changes made on the web are audited in the same transaction.

An endpoint is added with the URL already checked and the secret's salt drawn (jericho.webhooks):
no network call ever runs inside a transaction here.
"""
from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import bindparam, delete, exists, func, or_, select

from ..extensions import db
from .accounts import AccountError
from .api_keys import api_keys_of
from .audit import audit_record_of
from .consumer_models import ApiKey, DirectoryEvent, WebhookDelivery, WebhookEndpoint
from .database import writes
from .events import EVENT_TYPES, event_types_of, events_latest

LOG_LENGTH = 50  # deliveries shown per endpoint


class Health(enum.Enum):
    NEW = "Waiting for the first event"
    HEALTHY = "Healthy"
    RETRYING = "Retrying"
    FAILING = "Failing"  # retried for the whole period: delivery stopped until resumed
    DISABLED = "Disabled"

    @property
    def css(self) -> str:
        return {"NEW": "waiting", "HEALTHY": "done", "RETRYING": "attention", "FAILING": "revoked",
                "DISABLED": "revoked"}[self.name]


@dataclass(frozen=True)
class EndpointStatus:
    endpoint: WebhookEndpoint
    health: Health
    backlog: int  # events selected and not yet delivered


@dataclass(frozen=True)
class KeyStatus:
    key: ApiKey
    behind: int | None  # events after the cursor of its last recorded poll; None: never polled


@dataclass(frozen=True)
class ConsumersSummary:
    """Whether the organization's consumers keep up: for the dashboard."""

    keys: list[KeyStatus]
    endpoints: list[EndpointStatus]


def health_of(endpoint: WebhookEndpoint) -> Health:
    if endpoint.disabled_at is not None:
        return Health.DISABLED
    if endpoint.failing_since is not None:
        return Health.FAILING
    if endpoint.attempts:
        return Health.RETRYING
    return Health.HEALTHY if endpoint.last_success_at is not None else Health.NEW


# -- changes -------------------------------------------------------------------------------------


@writes
def webhook_endpoint_create(
    *, organization_id: int, url: str, events: str, secret_salt: str, admin_id: int | None = None,
    remote_addr: str | None = None, now: datetime,
) -> WebhookEndpoint:
    """An endpoint for the organization's events from now on (it is sent no event from before)."""
    patterns = ",".join(part.strip() for part in events.split(",") if part.strip())
    event_types_of(patterns)
    endpoint = WebhookEndpoint(organization_id=organization_id, url=url.strip(), events=patterns,
                               secret_salt=secret_salt, last_seq=events_latest(organization_id), created_at=now)
    db.session.add(endpoint)
    db.session.flush()
    audit_record_of(admin_id=admin_id, organization_id=endpoint.organization_id, remote_addr=remote_addr, now=now,
                    action=f"added webhook endpoint {endpoint.url}")
    return endpoint


@writes
def webhook_endpoint_disable(
    *, organization_id: int, endpoint_id: int, admin_id: int | None = None, remote_addr: str | None = None,
    now: datetime,
) -> WebhookEndpoint:
    """Stop delivering to the endpoint; its events wait, and resuming sends them."""
    endpoint = _endpoint(organization_id, endpoint_id)
    if endpoint.disabled_at is None:
        endpoint.disabled_at = now
        audit_record_of(admin_id=admin_id, organization_id=endpoint.organization_id, remote_addr=remote_addr, now=now,
                        action=f"disabled webhook endpoint {endpoint.url}")
    return endpoint


@writes
def webhook_endpoint_resume(
    *, organization_id: int, endpoint_id: int, admin_id: int | None = None, remote_addr: str | None = None,
    now: datetime,
) -> WebhookEndpoint:
    """Deliver again: to a disabled endpoint, or to a failing one, at once, from the event that failed."""
    endpoint = _endpoint(organization_id, endpoint_id)
    if endpoint.disabled_at is not None or endpoint.failing_since is not None:
        endpoint.disabled_at = endpoint.failing_since = endpoint.next_attempt_at = endpoint.first_failure_at = None
        endpoint.attempts = 0
        audit_record_of(admin_id=admin_id, organization_id=endpoint.organization_id, remote_addr=remote_addr, now=now,
                        action=f"resumed webhook endpoint {endpoint.url}")
    return endpoint


@writes
def webhook_endpoint_delete(
    *, organization_id: int, endpoint_id: int, admin_id: int | None = None, remote_addr: str | None = None,
    now: datetime,
) -> None:
    endpoint = _endpoint(organization_id, endpoint_id)
    audit_record_of(admin_id=admin_id, organization_id=endpoint.organization_id, remote_addr=remote_addr, now=now,
                    action=f"deleted webhook endpoint {endpoint.url}")
    db.session.execute(delete(WebhookEndpoint).where(WebhookEndpoint.id == endpoint.id))


@writes
def webhook_redeliver(
    *, organization_id: int, endpoint_id: int, delivery_id: int, admin_id: int | None = None,
    remote_addr: str | None = None, now: datetime,
) -> WebhookDelivery:
    """Send the event of a past delivery once more, whatever became of it; the delivery worker
    sends it next, besides the endpoint's events in order."""
    endpoint = _endpoint(organization_id, endpoint_id)
    past = db.session.execute(select(WebhookDelivery).where(
        WebhookDelivery.id == delivery_id, WebhookDelivery.endpoint_id == endpoint.id)).scalar_one_or_none()
    if past is None:
        raise AccountError(f"no delivery {delivery_id} of webhook endpoint {endpoint_id}")
    again = WebhookDelivery(endpoint_id=endpoint.id, event_seq=past.event_seq, event_type=past.event_type,
                            occurred_at=now, redelivery=True, outcome="queued")
    db.session.add(again)
    audit_record_of(admin_id=admin_id, organization_id=endpoint.organization_id, remote_addr=remote_addr, now=now,
                    action=f"redelivered event {past.event_seq} to webhook endpoint {endpoint.url}")
    return again


def _endpoint(organization_id: int, endpoint_id: int) -> WebhookEndpoint:
    endpoint = webhook_endpoint_of(organization_id, endpoint_id)
    if endpoint is None:
        raise AccountError(f"no webhook endpoint {endpoint_id}")
    return endpoint


# -- reads ---------------------------------------------------------------------------------------


def webhook_endpoint_get(endpoint_id: int) -> WebhookEndpoint | None:
    """Any organization's endpoint: for the command line, which serves the whole installation."""
    return db.session.get(WebhookEndpoint, endpoint_id)


def webhook_endpoint_of(organization_id: int, endpoint_id: int) -> WebhookEndpoint | None:
    return db.session.execute(select(WebhookEndpoint).where(
        WebhookEndpoint.organization_id == organization_id, WebhookEndpoint.id == endpoint_id)).scalar_one_or_none()


def webhook_endpoints_of(organization_id: int) -> list[EndpointStatus]:
    endpoints = db.session.execute(select(WebhookEndpoint).where(
        WebhookEndpoint.organization_id == organization_id).order_by(WebhookEndpoint.id)).scalars().all()
    latest = events_latest(organization_id) if endpoints else 0
    return [EndpointStatus(endpoint, health_of(endpoint), _backlog(endpoint, latest)) for endpoint in endpoints]


def webhook_endpoint_status(organization_id: int, endpoint_id: int) -> EndpointStatus | None:
    endpoint = webhook_endpoint_of(organization_id, endpoint_id)
    if endpoint is None:
        return None
    return EndpointStatus(endpoint, health_of(endpoint), _backlog(endpoint, events_latest(organization_id)))


def organizations_with_endpoints() -> list[int]:
    """The organizations with an endpoint that takes deliveries (not disabled)."""
    return list(db.session.execute(
        select(WebhookEndpoint.organization_id).where(WebhookEndpoint.disabled_at.is_(None)).distinct()
    ).scalars())


def webhook_deliveries_of(endpoint_id: int, *, limit: int = LOG_LENGTH) -> list[WebhookDelivery]:
    """The latest attempts (and redeliveries waiting), newest first."""
    return list(db.session.execute(
        select(WebhookDelivery).where(WebhookDelivery.endpoint_id == endpoint_id)
        .order_by(WebhookDelivery.id.desc()).limit(limit)
    ).scalars())


# Whether an organization has an API key or a webhook endpoint.
_HAS_CONSUMERS = select(or_(
    exists().where(ApiKey.organization_id == bindparam("organization_id")),
    exists().where(WebhookEndpoint.organization_id == bindparam("organization_id")),
))


def consumers_summary(organization_id: int) -> ConsumersSummary:
    """The last poll of each key, with how many events came after it, and each endpoint's health
    and backlog. Most organizations have neither: one statement says so."""
    if not db.session.connection().execute(_HAS_CONSUMERS, {"organization_id": organization_id}).scalar_one():
        return ConsumersSummary([], [])
    api_keys = api_keys_of(organization_id)
    # The events' cursor only for keys that have read the feed (most dashboards have none).
    latest = events_latest(organization_id) if any(key.last_poll_seq is not None for key in api_keys) else 0
    keys = [KeyStatus(key, None if key.last_poll_seq is None else max(latest - key.last_poll_seq, 0))
            for key in api_keys]
    return ConsumersSummary(keys, webhook_endpoints_of(organization_id))


def _backlog(endpoint: WebhookEndpoint, latest: int) -> int:
    types = event_types_of(endpoint.events)
    if len(types) == len(EVENT_TYPES):  # numbers have no gaps: no need to count
        return max(latest - endpoint.last_seq, 0)
    return db.session.execute(
        select(func.count()).select_from(DirectoryEvent).where(
            DirectoryEvent.organization_id == endpoint.organization_id,
            DirectoryEvent.seq > endpoint.last_seq,
            DirectoryEvent.type.in_(types),
        )
    ).scalar_one()
