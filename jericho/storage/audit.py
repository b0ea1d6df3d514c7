"""The admin audit log: sign-ins and token changes, per organization, shown on the tokens page."""
from __future__ import annotations

from datetime import datetime

from ..extensions import db
from .models import AdminAuditEvent, AdminUser


def audit_record(
    *, admin: AdminUser, action: str, remote_addr: str | None, now: datetime | None = None
) -> None:
    """Add an event to the caller's write transaction (call it from a `writes` function)."""
    event = AdminAuditEvent(
        organization_id=admin.organization_id,
        admin_user_id=admin.id,
        action=action,
        remote_addr=remote_addr,
    )
    if now is not None:
        event.occurred_at = now
    db.session.add(event)


def audit_record_of(*, admin_id: int | None, action: str, remote_addr: str | None, now: datetime) -> None:
    """`audit_record` for the admin with this id; nothing for a change made on the command line
    (`admin_id` None), which has no admin."""
    if admin_id is not None:
        audit_record(admin=db.session.get(AdminUser, admin_id), action=action, remote_addr=remote_addr, now=now)


def audit_events_of(organization_id: int, *, limit: int = 50) -> list[tuple[AdminAuditEvent, str | None]]:
    """The latest events with the email of the admin who caused each (None once deleted)."""
    rows = db.session.execute(
        db.select(AdminAuditEvent, AdminUser.email)
        .outerjoin(AdminUser, AdminUser.id == AdminAuditEvent.admin_user_id)
        .where(AdminAuditEvent.organization_id == organization_id)
        .order_by(AdminAuditEvent.occurred_at.desc(), AdminAuditEvent.id.desc())
        .limit(limit)
    )
    return [(event, email) for event, email in rows]
