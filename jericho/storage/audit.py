"""The admin audit log: sign-ins and sign-outs, admin accounts and token changes, per
organization, shown on the tokens page. Each event names its actor: an admin on the web, or
nobody for the command line."""
from __future__ import annotations

from datetime import datetime

from ..extensions import db
from .models import AdminAuditEvent, AdminUser


def audit_record(
    *,
    admin: AdminUser | None,
    action: str,
    organization_id: int | None = None,
    remote_addr: str | None = None,
    now: datetime | None = None,
) -> None:
    """Add an event to the caller's write transaction (call it from a `writes` function).
    `admin` is who acted, in their own organization; None is the command line, which names the
    organization instead."""
    event = AdminAuditEvent(
        organization_id=admin.organization_id if admin else organization_id,
        admin_user_id=admin.id if admin else None,
        actor_email=admin.email if admin else None,
        action=action,
        remote_addr=remote_addr,
    )
    if now is not None:
        event.occurred_at = now
    db.session.add(event)


def audit_record_of(
    *, admin_id: int | None, organization_id: int, action: str, remote_addr: str | None, now: datetime
) -> None:
    """`audit_record` for the admin with this id, or for the command line (`admin_id` None)."""
    admin = db.session.get(AdminUser, admin_id) if admin_id is not None else None
    audit_record(admin=admin, organization_id=organization_id, action=action, remote_addr=remote_addr, now=now)


def audit_events_of(organization_id: int, *, limit: int = 50) -> list[AdminAuditEvent]:
    """The latest events, newest first."""
    return list(
        db.session.execute(
            db.select(AdminAuditEvent)
            .where(AdminAuditEvent.organization_id == organization_id)
            .order_by(AdminAuditEvent.occurred_at.desc(), AdminAuditEvent.id.desc())
            .limit(limit)
        ).scalars()
    )
