"""Read-only API keys for /api/v1: created, listed and revoked by admins (on the API page or the
command line), looked up by the hash of the presented key. Changes an admin makes on the web are
written to the audit log in the same transaction."""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import bindparam, or_, select, update

from ..extensions import db
from ..security import API_KEY_SCHEME, generate_token, hash_token
from .accounts import AccountError
from .audit import audit_record_of
from .consumer_models import ApiKey
from .database import writes


@writes
def api_key_create(
    *, organization_id: int, label: str, admin_id: int | None = None, remote_addr: str | None = None
) -> tuple[ApiKey, str]:
    """A new key; returns the row and the key itself, which exists nowhere else from then on.
    `admin_id`: created on the web by this admin, and audited."""
    new = generate_token(API_KEY_SCHEME)
    key = ApiKey(organization_id=organization_id, prefix=new.prefix, secret_hash=new.secret_hash, label=label.strip())
    db.session.add(key)
    db.session.flush()
    label_words = f" “{key.label}”" if key.label else ""
    audit_record_of(admin_id=admin_id, organization_id=key.organization_id, remote_addr=remote_addr, now=key.created_at,
                    action=f"created API key {key.prefix}{label_words}")
    return key, new.secret


def api_keys_of(organization_id: int) -> list[ApiKey]:
    return list(db.session.execute(
        select(ApiKey).where(ApiKey.organization_id == organization_id).order_by(ApiKey.created_at.desc(), ApiKey.id.desc())
    ).scalars())


@writes
def api_key_revoke(
    *, prefix: str, organization_id: int | None = None, admin_id: int | None = None, remote_addr: str | None = None,
    now: datetime,
) -> ApiKey:
    """Revoke by prefix, at once; with `organization_id`, only within that organization.
    AccountError for any other prefix."""
    statement = select(ApiKey).where(ApiKey.prefix == prefix.strip())
    if organization_id is not None:
        statement = statement.where(ApiKey.organization_id == organization_id)
    key = db.session.execute(statement).scalar_one_or_none()
    if key is None:
        raise AccountError(f"no API key with prefix {prefix!r}")
    if key.revoked_at is None:
        key.revoked_at = now
        audit_record_of(admin_id=admin_id, organization_id=key.organization_id, remote_addr=remote_addr, now=now,
                        action=f"revoked API key {key.prefix}")
    return key


_KEY_BY_HASH = select(ApiKey).where(ApiKey.secret_hash == bindparam("secret_hash"))  # built once


def api_key_by_secret(secret: str) -> ApiKey | None:
    """The key, active or revoked, found by the hash of what a client presented."""
    return db.session.execute(_KEY_BY_HASH, {"secret_hash": hash_token(secret)}).scalar_one_or_none()


@writes
def api_key_touch(*, key_id: int, now: datetime, resolution_seconds: int, polled_seq: int | None = None) -> None:
    """Record a key's last use, and with `polled_seq` its last read of the events feed (the cursor
    it was answered with), at most once per `resolution_seconds` each across all workers."""
    stale_before = now - timedelta(seconds=resolution_seconds)
    db.session.execute(
        update(ApiKey)
        .where(ApiKey.id == key_id, or_(ApiKey.last_used_at.is_(None), ApiKey.last_used_at < stale_before))
        .values(last_used_at=now)
    )
    if polled_seq is not None:
        db.session.execute(
            update(ApiKey)
            .where(ApiKey.id == key_id, or_(ApiKey.last_poll_at.is_(None), ApiKey.last_poll_at < stale_before))
            .values(last_poll_at=now, last_poll_seq=polled_seq)
        )
