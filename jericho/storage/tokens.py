"""SCIM tokens as admins manage them on the web: issue, revoke, and which one Entra is using.
Every change is written to the audit log in the same transaction."""
from __future__ import annotations

from datetime import datetime

from . import accounts
from .audit import audit_record
from .database import writes
from ..extensions import db
from .models import AdminUser, ProvisioningEvent, ScimToken


@writes
def token_issue(
    *, admin_id: int, label: str, revoke_active: bool, remote_addr: str | None, now: datetime
) -> tuple[ScimToken, str]:
    """A new token for the admin's organization; with `revoke_active`, every token it had stops
    working in the same instant. Returns the row and the secret, shown once."""
    admin = db.session.get(AdminUser, admin_id)
    if revoke_active:
        for old in accounts.tokens_of(admin.organization):
            if old.is_active:
                accounts.token_revoke(prefix=old.prefix, organization_id=admin.organization_id)
                audit_record(
                    admin=admin,
                    action=f"revoked token {old.prefix} (replaced)",
                    remote_addr=remote_addr,
                    now=now,
                )
    token, secret = accounts.token_create(organization_name=admin.organization.name, label=label)
    audit_record(
        admin=admin,
        action=f"created token {token.prefix}" + (f" “{token.label}”" if token.label else ""),
        remote_addr=remote_addr,
        now=now,
    )
    return token, secret


@writes
def token_withdraw(
    *, admin_id: int, prefix: str, remote_addr: str | None, now: datetime
) -> ScimToken:
    """Revoke one of the admin's organization's tokens; AccountError for any other prefix."""
    admin = db.session.get(AdminUser, admin_id)
    token = token_of(admin.organization_id, prefix)
    if token is None:
        raise accounts.AccountError(f"no token with prefix {prefix!r}")
    if token.is_active:
        accounts.token_revoke(prefix=prefix, organization_id=admin.organization_id)
        audit_record(admin=admin, action=f"revoked token {prefix}", remote_addr=remote_addr, now=now)
    return token


def token_of(organization_id: int, prefix: str) -> ScimToken | None:
    return db.session.execute(
        db.select(ScimToken).where(
            ScimToken.organization_id == organization_id, ScimToken.prefix == prefix
        )
    ).scalar_one_or_none()


def token_in_use(organization_id: int) -> tuple[ScimToken, ProvisioningEvent] | None:
    """The token of Entra's latest request, revoked or not, and that request."""
    row = db.session.execute(
        db.select(ScimToken, ProvisioningEvent)
        .join(ProvisioningEvent, ProvisioningEvent.token_id == ScimToken.id)
        .where(ProvisioningEvent.organization_id == organization_id)
        .order_by(ProvisioningEvent.occurred_at.desc(), ProvisioningEvent.id.desc())
        .limit(1)
    ).first()
    return (row[0], row[1]) if row else None
