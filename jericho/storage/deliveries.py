"""The webhook delivery worker's side of the database: take an endpoint that has work, find what to
send next, record each attempt, let the endpoint go.

An endpoint is taken with a lease, written by one UPDATE ... RETURNING (SQLite has one writer;
PostgreSQL skips rows another process is taking), so however many processes and hosts run a
worker, one endpoint has one delivery in flight, and its events go in order: the next one is
sent only once the one before was delivered or the endpoint stopped on it. A worker that dies
holding a lease loses it when it runs out; another then sends the same event again (delivery is
at least once), and only the holder of the current lease moves an endpoint's cursor.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, exists, func, or_, select, update

from ..extensions import db
from .consumer_models import DirectoryEvent, EventCounter, WebhookDelivery, WebhookEndpoint
from .database import delete_expired, writes
from .events import event_json, event_types_of, events_latest

QUEUED = WebhookDelivery.outcome == "queued"


@dataclass
class Claim:
    """An endpoint held by this worker, as it was when taken, and its cursor since."""

    endpoint_id: int
    organization_id: int
    url: str
    event_types: tuple[str, ...]
    secret_salt: str
    last_seq: int
    attempts: int
    first_failure_at: datetime | None
    lease_id: str
    sends_events: bool  # False: only redeliveries (the endpoint is failing, or waiting to retry)


@dataclass(frozen=True)
class Item:
    """What to send: an event, as JSON text (None when a redelivery's event is no longer kept)."""

    seq: int
    type: str
    body: str | None
    redelivery_id: int | None = None


def delivery_claim(*, now: datetime, lease_id: str, lease_seconds: float) -> Claim | None:
    """Take the endpoint that has waited longest among those with something to send now. Looking
    is a read: an idle worker polls without ever taking SQLite's write lock."""
    if db.session.execute(_candidates(now)).first() is None:
        return None
    return _claim(now=now, lease_id=lease_id, lease_seconds=lease_seconds)


def _due(now: datetime):
    """The endpoint may send its next event now: not stopped, not waiting to retry, behind."""
    endpoint = WebhookEndpoint
    return and_(
        endpoint.failing_since.is_(None),
        or_(endpoint.next_attempt_at.is_(None), endpoint.next_attempt_at <= now),
        endpoint.last_seq < select(EventCounter.last_seq)
        .where(EventCounter.organization_id == endpoint.organization_id).scalar_subquery(),
    )


def _free(now: datetime):
    return or_(WebhookEndpoint.leased_until.is_(None), WebhookEndpoint.leased_until <= now)


def _candidates(now: datetime):
    """Endpoints with something to send now and no worker holding them, longest waiting first."""
    endpoint = WebhookEndpoint
    queued = exists().where(WebhookDelivery.endpoint_id == endpoint.id, QUEUED)
    return (
        select(endpoint.id)
        .where(endpoint.disabled_at.is_(None), _free(now), or_(_due(now), queued))
        .order_by(func.coalesce(endpoint.leased_until, endpoint.created_at), endpoint.id)
        .limit(1)
    )


@writes
def _claim(*, now: datetime, lease_id: str, lease_seconds: float) -> Claim | None:
    endpoint = WebhookEndpoint
    candidate = _candidates(now)
    if db.engine.dialect.name == "postgresql":
        candidate = candidate.with_for_update(skip_locked=True)
    row = db.session.execute(
        update(endpoint)
        .where(endpoint.id == candidate.scalar_subquery(), _free(now))
        .values(lease_id=lease_id, leased_until=now + timedelta(seconds=lease_seconds))
        .returning(endpoint.id, endpoint.organization_id, endpoint.url, endpoint.events, endpoint.secret_salt,
                   endpoint.last_seq, endpoint.attempts, endpoint.first_failure_at, endpoint.failing_since,
                   endpoint.next_attempt_at)
    ).first()
    if row is None:
        return None
    sends_events = row.failing_since is None and (row.next_attempt_at is None or row.next_attempt_at <= now)
    return Claim(row.id, row.organization_id, row.url, event_types_of(row.events), row.secret_salt, row.last_seq,
                 row.attempts, row.first_failure_at, lease_id, sends_events)


def delivery_batch(claim: Claim, *, limit: int) -> list[Item]:
    """What to send, in order: the redeliveries admins asked for, else the endpoint's next events.
    Empty when there is nothing; the cursor then moves past events of types it does not take."""
    queued = db.session.execute(
        select(WebhookDelivery).where(WebhookDelivery.endpoint_id == claim.endpoint_id, QUEUED)
        .order_by(WebhookDelivery.id).limit(limit)
    ).scalars().all()
    if queued:
        return [Item(delivery.event_seq, delivery.event_type,
                     _body(db.session.get(DirectoryEvent, (claim.organization_id, delivery.event_seq))),
                     redelivery_id=delivery.id) for delivery in queued]
    if not claim.sends_events:
        return []
    # The counter first: every event up to it has committed and is seen by the query after it, so
    # when none of them is of the endpoint's types, the cursor can move past them all.
    latest = events_latest(claim.organization_id)
    events = db.session.execute(
        select(DirectoryEvent).where(
            DirectoryEvent.organization_id == claim.organization_id,
            DirectoryEvent.seq > claim.last_seq,
            DirectoryEvent.seq <= latest,
            DirectoryEvent.type.in_(claim.event_types),
        ).order_by(DirectoryEvent.seq).limit(limit)
    ).scalars().all()
    if not events and latest > claim.last_seq:
        _move_cursor(claim, latest)
    return [Item(event.seq, event.type, _body(event)) for event in events]


def _body(event: DirectoryEvent | None) -> str | None:
    return None if event is None else event_json(event.seq, event.type, event.occurred_at, event.data)


@writes
def _move_cursor(claim: Claim, seq: int) -> None:
    db.session.execute(update(WebhookEndpoint).where(*_held(claim)).values(last_seq=seq))
    claim.last_seq = seq


@dataclass(frozen=True)
class Attempt:
    """How an attempt went, in the words the delivery log keeps."""

    at: datetime
    status: int | None  # None: no HTTP answer (see error)
    error: str | None  # why it failed, for the admin; None when it was delivered
    excerpt: str | None  # the start of the answer's body, as text
    duration_ms: float

    @property
    def delivered(self) -> bool:
        return self.error is None


@writes
def delivery_record(claim: Claim, item: Item, attempt: Attempt, *, retry_at: datetime | None,
                    lease_seconds: float) -> bool:
    """Log the attempt and move the endpoint on: past the event when it was delivered, else to
    its next attempt at `retry_at` (None: the retry period is over, the endpoint is failing and
    waits for an admin). A redelivery changes only its own log entry. Returns whether this
    worker still held the endpoint."""
    outcome = "delivered" if attempt.delivered else "failed"
    columns = {"occurred_at": attempt.at, "outcome": outcome, "status": attempt.status,
               "error": attempt.error and attempt.error[:200], "response_excerpt": attempt.excerpt,
               "duration_ms": attempt.duration_ms}
    if item.redelivery_id is not None:
        db.session.execute(update(WebhookDelivery).where(WebhookDelivery.id == item.redelivery_id).values(**columns))
    else:
        db.session.add(WebhookDelivery(endpoint_id=claim.endpoint_id, event_seq=item.seq, event_type=item.type,
                                       **columns))
    state = {"leased_until": attempt.at + timedelta(seconds=lease_seconds)}
    if item.redelivery_id is None and attempt.delivered:
        state |= {"last_seq": item.seq, "attempts": 0, "first_failure_at": None, "next_attempt_at": None,
                  "last_success_at": attempt.at}
    elif item.redelivery_id is None:
        state |= {"attempts": claim.attempts + 1, "first_failure_at": claim.first_failure_at or attempt.at,
                  "next_attempt_at": retry_at, "failing_since": None if retry_at else attempt.at}
    held = db.session.execute(update(WebhookEndpoint).where(*_held(claim)).values(**state)).rowcount == 1
    if held and item.redelivery_id is None and attempt.delivered:
        claim.last_seq, claim.attempts, claim.first_failure_at = item.seq, 0, None
    return held


@writes
def delivery_release(claim: Claim, *, now: datetime) -> None:
    """Let the endpoint go; the time stays, so the endpoint waits its turn behind the others."""
    db.session.execute(update(WebhookEndpoint).where(*_held(claim)).values(lease_id=None, leased_until=now))


def _held(claim: Claim) -> tuple:
    return WebhookEndpoint.id == claim.endpoint_id, WebhookEndpoint.lease_id == claim.lease_id


def deliveries_prune(*, now: datetime, days: int) -> int:
    """Delete delivery log entries from `days` or more before `now`, oldest first, in short
    transactions; returns how many."""
    endpoints = db.session.execute(select(WebhookEndpoint.id)).scalars().all()
    return delete_expired(
        [WebhookDelivery.endpoint_id == endpoint_id for endpoint_id in endpoints],
        key=WebhookDelivery.id, moment=WebhookDelivery.occurred_at, cutoff=now - timedelta(days=days),
    )
