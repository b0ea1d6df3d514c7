"""SCIM tokens as admins manage them on the web: issue, revoke, and which one the identity provider is using.
Every change is written to the audit log, as done by the admin, in the same transaction."""
from __future__ import annotations

from datetime import datetime

from ..extensions import db
from . import accounts
from .database import writes
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
                accounts.token_revoke(
                    prefix=old.prefix,
                    organization_id=admin.organization_id,
                    by=admin,
                    remote_addr=remote_addr,
                    now=now,
                    reason="replaced",
                )
    return accounts.token_create(
        organization_name=admin.organization.name,
        label=label,
        by=admin,
        remote_addr=remote_addr,
        now=now,
    )


@writes
def token_withdraw(
    *, admin_id: int, prefix: str, remote_addr: str | None, now: datetime
) -> ScimToken:
    """Revoke one of the admin's organization's tokens; AccountError for any other prefix."""
    admin = db.session.get(AdminUser, admin_id)
    return accounts.token_revoke(
        prefix=prefix, organization_id=admin.organization_id, by=admin, remote_addr=remote_addr, now=now
    )


def token_of(organization_id: int, prefix: str) -> ScimToken | None:
    return db.session.execute(
        db.select(ScimToken).where(
            ScimToken.organization_id == organization_id, ScimToken.prefix == prefix
        )
    ).scalar_one_or_none()


def token_in_use(organization_id: int) -> tuple[ScimToken, ProvisioningEvent] | None:
    """The token of the identity provider's latest request, revoked or not, and that request."""
    row = db.session.execute(
        db.select(ScimToken, ProvisioningEvent)
        .join(ProvisioningEvent, ProvisioningEvent.token_id == ScimToken.id)
        .where(ProvisioningEvent.organization_id == organization_id)
        .order_by(ProvisioningEvent.occurred_at.desc(), ProvisioningEvent.id.desc())
        .limit(1)
    ).first()
    return (row[0], row[1]) if row else None
