"""Organizations, their admins and their SCIM tokens: the services behind the CLI and the admin
pages. Each write is one transaction (`writes`); callers never commit."""
from __future__ import annotations

import re
from datetime import datetime, timedelta

from sqlalchemy import update

from .database import writes
from ..extensions import db
from .models import AdminAuditEvent, AdminUser, Organization, ScimToken, utcnow
from ..security import NewToken, generate_token, hash_password

EMAIL_PATTERN = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
MIN_PASSWORD_LENGTH = 12


class AccountError(ValueError):
    """A request about accounts or tokens that cannot be done; the message is for the user."""


def organization_by_name(name: str) -> Organization | None:
    return db.session.execute(
        db.select(Organization).where(Organization.name == name.strip())
    ).scalar_one_or_none()


def organization_named(name: str) -> Organization:
    """The organization of that name; AccountError when there is none."""
    organization = organization_by_name(name)
    if organization is None:
        raise AccountError(f"no organization named {name!r}")
    return organization


def _organization_get_or_create(name: str) -> Organization:
    name = name.strip()
    if not name:
        raise AccountError("the organization name must not be empty")
    organization = organization_by_name(name)
    if organization is None:
        organization = Organization(name=name)
        db.session.add(organization)
        db.session.flush()
    return organization


@writes
def token_create(*, organization_name: str, label: str = "") -> tuple[ScimToken, str]:
    """A new token for the organization (created if needed); returns the row and the secret,
    which exists nowhere else from then on."""
    organization = _organization_get_or_create(organization_name)
    new: NewToken = generate_token()
    token = ScimToken(
        organization_id=organization.id,
        prefix=new.prefix,
        secret_hash=new.secret_hash,
        label=label.strip(),
    )
    db.session.add(token)
    db.session.flush()
    return token, new.secret


def tokens_of(organization: Organization) -> list[ScimToken]:
    return list(
        db.session.execute(
            db.select(ScimToken)
            .where(ScimToken.organization_id == organization.id)
            .order_by(ScimToken.created_at.desc(), ScimToken.id.desc())
        ).scalars()
    )


@writes
def token_revoke(*, prefix: str, organization_id: int | None = None) -> ScimToken:
    """Revoke by prefix; with `organization_id`, only within that organization."""
    query = db.select(ScimToken).where(ScimToken.prefix == prefix.strip())
    if organization_id is not None:
        query = query.where(ScimToken.organization_id == organization_id)
    token = db.session.execute(query).scalar_one_or_none()
    if token is None:
        raise AccountError(f"no token with prefix {prefix!r}")
    if token.revoked_at is None:
        token.revoked_at = utcnow()
    return token


@writes
def token_touch(*, token_id: int, now: datetime, resolution_seconds: int) -> None:
    """Record a token's last use, at most once per `resolution_seconds` across all workers."""
    stale_before = now - timedelta(seconds=resolution_seconds)
    db.session.execute(
        update(ScimToken)
        .where(ScimToken.id == token_id)
        .where((ScimToken.last_used_at.is_(None)) | (ScimToken.last_used_at < stale_before))
        .values(last_used_at=now)
    )


def validate_admin(email: str, password: str) -> str:
    email = email.strip().lower()
    if not EMAIL_PATTERN.match(email):
        raise AccountError(f"{email!r} is not an email address")
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError(f"the password must have at least {MIN_PASSWORD_LENGTH} characters")
    return email


@writes
def admin_create(*, organization_name: str, email: str, password: str) -> AdminUser:
    email = validate_admin(email, password)
    if db.session.execute(
        db.select(AdminUser.id).where(AdminUser.email == email)
    ).first():
        raise AccountError(f"an admin with the email {email} already exists")
    organization = _organization_get_or_create(organization_name)
    admin = AdminUser(
        organization_id=organization.id, email=email, password_hash=hash_password(password)
    )
    db.session.add(admin)
    db.session.flush()
    db.session.add(
        AdminAuditEvent(organization_id=organization.id, admin_user_id=admin.id, action="admin created")
    )
    return admin
