"""The data model: organizations and their admins and tokens, the SCIM resources received from a
directory, and the log of provisioning requests.

Every SCIM row belongs to one Organization; tenant isolation starts from that column. A resource's
full SCIM document is kept as JSON exactly as received, and the attributes that queries filter on
are copied into indexed columns beside it (the `*_key` columns hold the lower-cased value for
case-insensitive matching, RFC 7643 §2.1 caseExact=false).
"""
from __future__ import annotations

import uuid
from datetime import datetime, timezone, tzinfo
from typing import Any, Callable

from flask_login import UserMixin
from sqlalchemy import JSON, BigInteger, DateTime, Float, ForeignKey, Index, String, Text, UniqueConstraint, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column, relationship
from sqlalchemy.types import TypeDecorator

from ..extensions import db
from ..text import zone_named


def utcnow() -> datetime:
    """Now, in UTC: the app's one clock. Every module and column default takes the time from
    here, never from `datetime.now`, so that replacing `clock` sets the time of the whole app
    (tests run on a clock they set)."""
    return clock()


def wall_clock() -> datetime:
    return datetime.now(timezone.utc)


clock: Callable[[], datetime] = wall_clock


def new_scim_id() -> str:
    return str(uuid.uuid4())


class UTCDateTime(TypeDecorator):
    """Aware UTC datetimes on every database (SQLite keeps no time zone)."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        return value.astimezone(timezone.utc).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect) -> datetime | None:
        return None if value is None else value.replace(tzinfo=timezone.utc)


# The identity providers an organization can connect (Organization.identity_provider; what each
# means to the admin pages is in jericho/providers).
ENTRA, OKTA = "entra", "okta"

# JSONB on PostgreSQL (indexable, compact), JSON text elsewhere.
Document = JSON().with_variant(JSONB(), "postgresql")


class Organization(db.Model):
    __tablename__ = "organizations"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # ENTRA or OKTA: chosen in the setup guide, or told by the provider's own requests.
    identity_provider: Mapped[str] = mapped_column(String(20), default=ENTRA, server_default=ENTRA)


class AdminUser(UserMixin, db.Model):
    __tablename__ = "admin_users"

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(
        ForeignKey("organizations.id", ondelete="CASCADE"), index=True
    )
    email: Mapped[str] = mapped_column(String(320), unique=True)  # stored lower-cased
    password_hash: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_sign_in_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Each session keeps the version it began under and works only while it is current, so
    # raising it ends every session of the admin, copies of the cookie included (admin/sessions.py).
    session_version: Mapped[int] = mapped_column(default=1, server_default=text("1"))
    # The time zone database's name of the zone the admin reads times in, e.g. "Europe/Paris".
    time_zone: Mapped[str] = mapped_column(String(64), default="UTC", server_default="UTC")

    organization: Mapped[Organization] = relationship()

    @property
    def zone(self) -> tzinfo:
        return zone_named(self.time_zone)


class ScimToken(db.Model):
    """A bearer token for /scim_v2. Only the SHA-256 of the secret is kept; `prefix` is the
    non-secret start of the token, shown in the UI to tell tokens apart."""

    __tablename__ = "scim_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(
        ForeignKey("organizations.id", ondelete="CASCADE"), index=True
    )
    prefix: Mapped[str] = mapped_column(String(32), unique=True)
    secret_hash: Mapped[str] = mapped_column(String(64), unique=True)
    label: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    organization: Mapped[Organization] = relationship()

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


class User(db.Model):
    __tablename__ = "users"
    __table_args__ = (
        UniqueConstraint("organization_id", "user_name_key"),
        Index("ix_users_org_external_id", "organization_id", "external_id"),
        Index("ix_users_org_display_name_key", "organization_id", "display_name_key"),
        Index("ix_users_org_manager_id", "organization_id", "manager_id"),
        Index("ix_users_org_created_at", "organization_id", "created_at"),
        Index("ix_users_org_updated_at", "organization_id", "updated_at"),  # "recently changed"
        # Counting users by state reads only this index, not a row per user.
        Index("ix_users_org_active", "organization_id", "active"),
    )

    pk: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(
        ForeignKey("organizations.id", ondelete="CASCADE")
    )
    id: Mapped[str] = mapped_column(String(36), unique=True, default=new_scim_id)
    user_name: Mapped[str] = mapped_column(Text)
    user_name_key: Mapped[str] = mapped_column(Text)
    external_id: Mapped[str | None] = mapped_column(Text)
    display_name: Mapped[str | None] = mapped_column(Text)
    display_name_key: Mapped[str | None] = mapped_column(Text)
    active: Mapped[bool] = mapped_column(default=True)
    manager_id: Mapped[str | None] = mapped_column(String(36))
    document: Mapped[dict[str, Any]] = mapped_column(Document)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    version: Mapped[int] = mapped_column(default=1)

    emails: Mapped[list[UserEmail]] = relationship(cascade="all, delete-orphan", passive_deletes=True)


class UserEmail(db.Model):
    """One row per `emails` value of a user, so `emails.value` filters run on an index."""

    __tablename__ = "user_emails"
    __table_args__ = (Index("ix_user_emails_org_value_key", "organization_id", "value_key"),)

    pk: Mapped[int] = mapped_column(primary_key=True)
    user_pk: Mapped[int] = mapped_column(ForeignKey("users.pk", ondelete="CASCADE"), index=True)
    organization_id: Mapped[int] = mapped_column(
        ForeignKey("organizations.id", ondelete="CASCADE")
    )
    value_key: Mapped[str] = mapped_column(Text)
    type_key: Mapped[str | None] = mapped_column(Text)


class Group(db.Model):
    __tablename__ = "groups"
    __table_args__ = (
        UniqueConstraint("organization_id", "display_name_key"),
        Index("ix_groups_org_external_id", "organization_id", "external_id"),
    )

    pk: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(
        ForeignKey("organizations.id", ondelete="CASCADE")
    )
    id: Mapped[str] = mapped_column(String(36), unique=True, default=new_scim_id)
    display_name: Mapped[str] = mapped_column(Text)
    display_name_key: Mapped[str] = mapped_column(Text)
    external_id: Mapped[str | None] = mapped_column(Text)
    document: Mapped[dict[str, Any]] = mapped_column(Document)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    version: Mapped[int] = mapped_column(default=1)


class Membership(db.Model):
    """A direct member of a group. One row per pair, so one member is added or removed without
    touching the others, and the (user, group) index answers "which groups is this user in"."""

    __tablename__ = "memberships"
    __table_args__ = (Index("ix_memberships_user_group", "user_pk", "group_pk"),)

    group_pk: Mapped[int] = mapped_column(
        ForeignKey("groups.pk", ondelete="CASCADE"), primary_key=True
    )
    user_pk: Mapped[int] = mapped_column(
        ForeignKey("users.pk", ondelete="CASCADE"), primary_key=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class NestedGroup(db.Model):
    """A group that is a direct member of another group. Entra sends one when both groups are
    assigned to the app (a nested group's own members are never expanded)."""

    __tablename__ = "nested_groups"
    __table_args__ = (Index("ix_nested_groups_member_group", "member_group_pk", "group_pk"),)

    group_pk: Mapped[int] = mapped_column(
        ForeignKey("groups.pk", ondelete="CASCADE"), primary_key=True
    )
    member_group_pk: Mapped[int] = mapped_column(
        ForeignKey("groups.pk", ondelete="CASCADE"), primary_key=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ProvisioningEvent(db.Model):
    """One request received under /scim_v2. Never holds a token or a header; `organization_id` is
    empty when the request carried no valid token."""

    OPERATIONS = (
        "test_connection",  # Entra's Test Connection: a userName lookup of a random GUID
        "lookup",  # a filtered query
        "list",  # an unfiltered list
        "read",  # a single resource by id
        "create",
        "update",
        "disable",  # active set to false
        "enable",  # active set to true
        "members",  # group membership changed (and nothing else)
        "delete",
        "discovery",  # ServiceProviderConfig, Schemas, ResourceTypes
        "rejected",  # refused before any resource was touched: authentication, routing
    )

    __tablename__ = "provisioning_events"
    __table_args__ = (
        Index("ix_provisioning_events_org_time", "organization_id", "occurred_at"),
        Index(
            "ix_provisioning_events_org_resource", "organization_id", "resource_type", "resource_id"
        ),
        # The status pages: one kind of request over time (deletions, changes, the log's filter)
        # and failures only (error groups, the health banner), without walking every request.
        Index("ix_provisioning_events_org_operation_time", "organization_id", "operation", "occurred_at"),
        Index(
            "ix_provisioning_events_org_failed_time",
            "organization_id",
            "occurred_at",
            postgresql_where=text("status >= 400"),
            sqlite_where=text("status >= 400"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int | None] = mapped_column(
        ForeignKey("organizations.id", ondelete="CASCADE")
    )
    token_id: Mapped[int | None] = mapped_column(ForeignKey("scim_tokens.id", ondelete="SET NULL"))
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    method: Mapped[str] = mapped_column(String(10))
    path: Mapped[str] = mapped_column(Text)
    status: Mapped[int]
    # What the request did, for counting and filtering: one of OPERATIONS.
    operation: Mapped[str] = mapped_column(String(20))
    # The same in plain words for people: "create user ava@contoso.com".
    action: Mapped[str] = mapped_column(Text)
    resource_type: Mapped[str | None] = mapped_column(String(20))
    resource_id: Mapped[str | None] = mapped_column(String(64))
    scim_type: Mapped[str | None] = mapped_column(String(40))
    error_detail: Mapped[str | None] = mapped_column(Text)
    duration_ms: Mapped[float] = mapped_column(default=0.0)
    # Where a request refused before naming an organization came from (a token nobody knows, or
    # none): the only requests an admin cannot otherwise trace. Never kept for any other.
    client_address: Mapped[str | None] = mapped_column(String(64))

    @property
    def succeeded(self) -> bool:
        return self.status < 400


class DirectoryCounts(db.Model):
    """An organization's users, groups and memberships, counted by the writes that change them
    (storage/counts.py), so no page counts rows."""

    __tablename__ = "directory_counts"

    organization_id: Mapped[int] = mapped_column(
        ForeignKey("organizations.id", ondelete="CASCADE"), primary_key=True
    )
    active_users: Mapped[int]
    deactivated_users: Mapped[int]
    groups: Mapped[int]
    empty_groups: Mapped[int]  # without a user as a direct member
    memberships: Mapped[int]  # users as direct members of groups


class ActivityRollup(db.Model):
    """An organization's requests of one ten-minute bucket, kind, outcome and cause, counted as
    the log is written (storage/rollups.py). The primary key is what a batch of requests adds
    to; NULL cannot be part of it, so no resource type and no cause are stored as ''."""

    __tablename__ = "activity_rollups"
    # The user deletions the log still holds: a few rows of this index, not every rollup.
    __table_args__ = (
        Index("ix_activity_rollups_org_operation", "organization_id", "operation", "resource_type", "failed"),
    )

    organization_id: Mapped[int] = mapped_column(
        ForeignKey("organizations.id", ondelete="CASCADE"), primary_key=True
    )
    # Times as microseconds since the epoch: a page reads a thousand rows, and reading dates
    # kept as text (SQLite) would cost more than the rest of the page.
    bucket: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    operation: Mapped[str] = mapped_column(String(20), primary_key=True)
    resource_type: Mapped[str] = mapped_column(String(20), primary_key=True)
    failed: Mapped[bool] = mapped_column(primary_key=True)
    cause: Mapped[str] = mapped_column(String(40), primary_key=True)  # a key of cause_rules.CAUSE_RULES
    first: Mapped[int] = mapped_column(BigInteger)
    last: Mapped[int] = mapped_column(BigInteger)
    count: Mapped[int]
    latest_event_id: Mapped[int]  # the largest id among them: an example


class ActivityBucket(db.Model):
    """All of an organization's requests of one ten-minute bucket, counted as the dashboard's
    chart and cycles show them (rollups.TALLIED, in the same order): added to with the rollups,
    so a page reads one row per ten minutes and adds nothing up."""

    __tablename__ = "activity_buckets"

    organization_id: Mapped[int] = mapped_column(
        ForeignKey("organizations.id", ondelete="CASCADE"), primary_key=True
    )
    bucket: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    first: Mapped[int] = mapped_column(BigInteger)
    last: Mapped[int] = mapped_column(BigInteger)
    requests: Mapped[int]
    created: Mapped[int]
    users_created: Mapped[int]
    groups_created: Mapped[int]
    updated: Mapped[int]
    disabled: Mapped[int]
    deleted: Mapped[int]
    lookups: Mapped[int]
    test_connections: Mapped[int]
    errors: Mapped[int]


class AdminAuditEvent(db.Model):
    """What was done to an organization's admins and tokens, and by whom: an admin on the web
    (`actor_email`, kept after the admin is removed) or the command line (no actor)."""

    __tablename__ = "admin_audit_events"
    __table_args__ = (Index("ix_admin_audit_events_org_time", "organization_id", "occurred_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(
        ForeignKey("organizations.id", ondelete="CASCADE")
    )
    admin_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("admin_users.id", ondelete="SET NULL")
    )
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    actor_email: Mapped[str | None] = mapped_column(String(320))
    action: Mapped[str] = mapped_column(Text)
    remote_addr: Mapped[str | None] = mapped_column(String(64))


class SignInFailures(db.Model):
    """Failed sign-in or setup attempts under one key (see admin/signin.py): how many, and when
    the latest was. An attempt is counted before its password or code is checked, and taken back
    when the check passes, so guesses made in parallel are counted too. `key` is a hash of
    "pair:<email> <address>" or "address:<address>": no text a visitor typed is kept."""

    __tablename__ = "sign_in_failures"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    failures: Mapped[int]
    last_failed_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


class RateLimit(db.Model):
    """One rate-limit key's state (see rate_limits.py)."""
    __tablename__ = "rate_limits"
    __table_args__ = (Index("ix_rate_limits_tat", "tat"),)

    # SHA-256 of "token:<id>" or "address:<ip>": no client address is kept in the clear.
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    # Seconds since the epoch; the key is idle once this has passed.
    tat: Mapped[float] = mapped_column(Float)
