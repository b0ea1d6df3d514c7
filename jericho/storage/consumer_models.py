"""The tables of the directory's consumers: read-only API keys, the events feed (an outbox written
in the same transaction as each SCIM change, numbered per organization in commit order), and
webhook endpoints with the log of their deliveries. Every row belongs to one Organization."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from .models import UTCDateTime, utcnow


class ApiKey(db.Model):
    """A bearer key for /api/v1: reads only, and only its organization. Like a SCIM token, only
    the SHA-256 of the secret is kept; `prefix` is the non-secret part shown in the UI."""

    __tablename__ = "api_keys"

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"), index=True)
    prefix: Mapped[str] = mapped_column(String(32), unique=True)
    secret_hash: Mapped[str] = mapped_column(String(64), unique=True)
    label: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The events feed as this key last read it: when, and the cursor it was answered with (both
    # written at most once per TOKEN_LAST_USED_RESOLUTION_SECONDS).
    last_poll_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_poll_seq: Mapped[int | None] = mapped_column(BigInteger)

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


class EventCounter(db.Model):
    """The last sequence number given to an event of the organization. A write takes its numbers
    here under the row's lock, just before it commits, so numbers follow commit order."""

    __tablename__ = "event_counters"

    organization_id: Mapped[int] = mapped_column(
        ForeignKey("organizations.id", ondelete="CASCADE"), primary_key=True
    )
    last_seq: Mapped[int] = mapped_column(BigInteger)


class DirectoryEvent(db.Model):
    """A change to the directory as consumers see it. `data` is the JSON served, kept as text:
    the user or group after the change (before it, for a deletion), or {group, user}."""

    __tablename__ = "directory_events"

    organization_id: Mapped[int] = mapped_column(
        ForeignKey("organizations.id", ondelete="CASCADE"), primary_key=True
    )
    seq: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    type: Mapped[str] = mapped_column(String(40))
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime)
    data: Mapped[str] = mapped_column(Text)


class WebhookEndpoint(db.Model):
    """A URL that receives the organization's events, one at a time and in order: the next one is
    the first event after `last_seq` whose type `events` selects."""

    __tablename__ = "webhook_endpoints"

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"), index=True)
    url: Mapped[str] = mapped_column(Text)
    events: Mapped[str] = mapped_column(String(400))  # comma-separated types or patterns (user.*)
    # The signing secret is derived from SECRET_KEY and this salt (SECURITY.md); it is never stored.
    secret_salt: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    disabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_seq: Mapped[int] = mapped_column(BigInteger)
    # The next event's failed attempts: how many, since when, and when to try again.
    attempts: Mapped[int] = mapped_column(default=0)
    first_failure_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Set when the next event failed for the whole retry period: delivery waits for an admin.
    failing_since: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_success_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The delivery worker holding the endpoint, and until when (one delivery in flight at a time).
    lease_id: Mapped[str | None] = mapped_column(String(32))
    leased_until: Mapped[datetime | None] = mapped_column(UTCDateTime)


class WebhookDelivery(db.Model):
    """One attempt to deliver an event, or a redelivery an admin asked for (outcome "queued" until
    the worker sends it). Holds the status line's code and a short excerpt of the answer only."""

    OUTCOMES = ("delivered", "failed", "queued")

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        Index("ix_webhook_deliveries_endpoint", "endpoint_id", "id"),
        # The worker's "any redelivery waiting?", without walking an endpoint's log.
        Index(
            "ix_webhook_deliveries_queued",
            "endpoint_id",
            postgresql_where=text("outcome = 'queued'"),
            sqlite_where=text("outcome = 'queued'"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    endpoint_id: Mapped[int] = mapped_column(ForeignKey("webhook_endpoints.id", ondelete="CASCADE"))
    event_seq: Mapped[int] = mapped_column(BigInteger)
    event_type: Mapped[str] = mapped_column(String(40))
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)  # attempted, or asked for
    redelivery: Mapped[bool] = mapped_column(default=False)
    outcome: Mapped[str] = mapped_column(String(20))
    status: Mapped[int | None]
    error: Mapped[str | None] = mapped_column(String(200))
    response_excerpt: Mapped[str | None] = mapped_column(String(200))
    duration_ms: Mapped[float | None]
