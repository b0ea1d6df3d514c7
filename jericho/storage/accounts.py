"""Organizations, their admins and their SCIM tokens: the services behind the CLI and the admin
pages. Each write is one transaction (`writes`); callers never commit. Every change to an admin
or a token is recorded in the audit log in the same transaction."""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import update
from sqlalchemy.orm import contains_eager

from ..extensions import db
from ..scim.document import EMAIL_PATTERN
from ..security import NewToken, generate_token, hash_password
from ..text import time_zone_names
from .audit import audit_record
from .database import transaction_lock, writes
from .models import AdminUser, Organization, ScimToken, utcnow

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
def organization_choose_provider(
    *, admin_id: int, provider: str, provider_name: str, remote_addr: str | None, now: datetime
) -> None:
    """The admin's organization is connected from `provider` (models.ENTRA or OKTA); the change is
    written to the audit log."""
    admin = db.session.get(AdminUser, admin_id)
    if admin.organization.identity_provider != provider:
        admin.organization.identity_provider = provider
        audit_record(admin=admin, action=f"chose {provider_name} as the identity provider",
                     remote_addr=remote_addr, now=now)


@writes
def organization_provider_seen(*, organization_id: int, provider: str) -> None:
    """A request told which provider sends it; the organization's provider becomes that one."""
    db.session.execute(
        update(Organization)
        .where(Organization.id == organization_id, Organization.identity_provider != provider)
        .values(identity_provider=provider)
    )


@writes
def token_create(
    *,
    organization_name: str,
    label: str = "",
    by: AdminUser | None = None,
    remote_addr: str | None = None,
    now: datetime | None = None,
) -> tuple[ScimToken, str]:
    """A new token for the organization (created if needed), recorded in the audit log as done
    by the admin `by` (None: the command line); returns the row and the secret, which exists
    nowhere else from then on."""
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
    audit_record(
        admin=by,
        organization_id=organization.id,
        action=f"created token {token.prefix}" + (f" “{token.label}”" if token.label else ""),
        remote_addr=remote_addr,
        now=now,
    )
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
def token_revoke(
    *,
    prefix: str,
    organization_id: int | None = None,
    by: AdminUser | None = None,
    remote_addr: str | None = None,
    now: datetime | None = None,
    reason: str = "",
) -> ScimToken:
    """Revoke by prefix; with `organization_id`, only within that organization. An active token
    is revoked and audited as done by `by` (None: the command line); a revoked one stays as it
    is."""
    query = db.select(ScimToken).where(ScimToken.prefix == prefix.strip())
    if organization_id is not None:
        query = query.where(ScimToken.organization_id == organization_id)
    token = db.session.execute(query).scalar_one_or_none()
    if token is None:
        raise AccountError(f"no token with prefix {prefix!r}")
    if token.revoked_at is None:
        token.revoked_at = now or utcnow()
        audit_record(
            admin=by,
            organization_id=token.organization_id,
            action=f"revoked token {token.prefix}" + (f" ({reason})" if reason else ""),
            remote_addr=remote_addr,
            now=now,
        )
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
    validate_password(password)
    return email


def validate_password(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError(f"the password must have at least {MIN_PASSWORD_LENGTH} characters")


def admin_add(*, organization_name: str, email: str, password: str) -> AdminUser:
    """A new admin (and organization, if new) in the caller's write transaction, which records
    it in the audit log."""
    email = validate_admin(email, password)
    if db.session.execute(db.select(AdminUser.id).where(AdminUser.email == email)).first():
        raise AccountError(f"an admin with the email {email} already exists")
    organization = _organization_get_or_create(organization_name)
    admin = AdminUser(
        organization_id=organization.id, email=email, password_hash=hash_password(password)
    )
    db.session.add(admin)
    db.session.flush()
    return admin


def admin_sessions_end(admin: AdminUser) -> int:
    """End every session of the admin, on every server process, in the caller's transaction;
    returns the new session version. Raised in SQL and read back in the same statement, so that
    of two transactions ending sessions at once, each gets its own version."""
    return db.session.execute(
        update(AdminUser)
        .where(AdminUser.id == admin.id)
        .values(session_version=AdminUser.session_version + 1)
        .returning(AdminUser.session_version),
        execution_options={"synchronize_session": False},
    ).scalar_one()


# The command line's own changes; each is recorded in the audit log with no admin actor.

@writes
def admin_create(
    *, organization_name: str, email: str, password: str, now: datetime | None = None
) -> AdminUser:
    admin = admin_add(organization_name=organization_name, email=email, password=password)
    audit_record(
        admin=None, organization_id=admin.organization_id, action=f"created admin {admin.email}", now=now
    )
    return admin


@writes
def admin_password_reset(*, email: str, password: str, now: datetime | None = None) -> AdminUser:
    """A new password for the admin; every session they had ends."""
    validate_password(password)
    admin = _admin_with_email(email)
    admin.password_hash = hash_password(password)
    admin_sessions_end(admin)
    audit_record(
        admin=None,
        organization_id=admin.organization_id,
        action=f"reset the password of {admin.email} (every session ended)",
        now=now,
    )
    return admin


@writes
def admin_remove(*, email: str, now: datetime | None = None) -> None:
    """Delete an admin, unless the organization would be left without one. Their sessions end
    with the row; their audit events keep their email."""
    admin = _admin_with_email(email)
    # One removal at a time per organization, or two could each leave the other admin.
    transaction_lock(f"admins of organization {admin.organization_id}")
    remaining = db.session.execute(
        db.select(db.func.count(AdminUser.id)).where(
            AdminUser.organization_id == admin.organization_id, AdminUser.id != admin.id
        )
    ).scalar_one()
    if not remaining:
        raise AccountError(
            f"{admin.email} is the only admin of {admin.organization.name}: "
            "create another first (`jericho admin create`)"
        )
    audit_record(
        admin=None, organization_id=admin.organization_id, action=f"removed admin {admin.email}", now=now
    )
    db.session.delete(admin)


def admins_of(organization_name: str | None = None) -> list[AdminUser]:
    """Every admin, or one organization's, by organization and email."""
    query = (
        db.select(AdminUser)
        .join(AdminUser.organization)
        .options(contains_eager(AdminUser.organization))
        .order_by(Organization.name, AdminUser.email)
    )
    if organization_name is not None:
        organization = organization_named(organization_name)
        query = query.where(AdminUser.organization_id == organization.id)
    return list(db.session.execute(query).scalars())


def _admin_with_email(email: str) -> AdminUser:
    admin = db.session.execute(
        db.select(AdminUser).where(AdminUser.email == email.strip().lower())
    ).scalar_one_or_none()
    if admin is None:
        raise AccountError(f"no admin with the email {email.strip()!r}")
    return admin


@writes
def admin_time_zone_set(*, admin_id: int, time_zone: str) -> AdminUser:
    """The time zone the admin's pages show times in, by its name in the time zone database."""
    if time_zone not in time_zone_names():
        raise AccountError(f"{time_zone!r} is not a time zone this server knows")
    admin = db.session.get(AdminUser, admin_id)
    admin.time_zone = time_zone
    return admin
