"""`flask --app app jericho ...` for accounts: the first-run setup code, SCIM tokens and admins.
Every change is recorded in the organization's audit log as done by the command line."""
from __future__ import annotations

import os

import click
from flask import Flask, current_app
from flask.cli import AppGroup, with_appcontext

from ..cli import jericho_cli, time_text, user_errors
from ..storage import accounts
from ..storage.models import utcnow
from . import signin

token_cli = AppGroup("token", help="SCIM bearer tokens.")
admin_cli = AppGroup("admin", help="Admin accounts.")


def init_app(app: Flask) -> None:
    for command in (setup_code_command, token_cli, admin_cli):
        jericho_cli.add_command(command)


@click.command("setup-code")
@with_appcontext
@user_errors
def setup_code_command() -> None:
    """Print the code that the first-run page asks for, while no admin exists."""
    secret_key = current_app.config.get("SECRET_KEY")
    if not secret_key:
        raise accounts.AccountError("there is no secret key yet: run `flask --app app jericho init`")
    if not signin.setup_needed():
        raise accounts.AccountError(
            "setup is complete: an admin exists (add another with `jericho admin create`)"
        )
    click.echo(signin.setup_code(secret_key))


@token_cli.command("create")
@click.option("--org", "organization", required=True, help="Organization name (created if new).")
@click.option("--label", default="", help="A note to tell tokens apart, e.g. 'Entra production'.")
@user_errors
def token_create_command(organization: str, label: str) -> None:
    """Create a SCIM token and print it (the only time it is shown)."""
    token, secret = accounts.token_create(organization_name=organization, label=label, now=utcnow())
    click.echo(f"Created token {token.prefix} for {token.organization.name}.", err=True)
    click.echo(secret)


@token_cli.command("list")
@click.option("--org", "organization", required=True)
@user_errors
def token_list_command(organization: str) -> None:
    """List an organization's tokens by prefix."""
    found = accounts.organization_named(organization)
    click.echo(f"{'PREFIX':<10} {'STATUS':<8} {'CREATED':<20} {'LAST USED':<20} LABEL")
    for token in accounts.tokens_of(found):
        click.echo(
            f"{token.prefix:<10} {'active' if token.is_active else 'revoked':<8} "
            f"{time_text(token.created_at):<20} {time_text(token.last_used_at):<20} {token.label}"
        )


@token_cli.command("revoke")
@click.argument("prefix")
@user_errors
def token_revoke_command(prefix: str) -> None:
    """Revoke a token at once, on every server process."""
    token = accounts.token_revoke(prefix=prefix, now=utcnow())
    click.echo(f"Revoked token {token.prefix}.", err=True)


@admin_cli.command("create")
@click.option("--org", "organization", required=True)
@click.option("--email", required=True)
@user_errors
def admin_create_command(organization: str, email: str) -> None:
    """Create an admin; the password comes from JERICHO_ADMIN_PASSWORD or a prompt."""
    admin = accounts.admin_create(
        organization_name=organization, email=email, password=_new_password(), now=utcnow()
    )
    click.echo(f"Created admin {admin.email} for {admin.organization.name}.", err=True)


@admin_cli.command("reset-password")
@click.option("--email", required=True)
@user_errors
def admin_reset_password_command(email: str) -> None:
    """Set an admin's password (from JERICHO_ADMIN_PASSWORD or a prompt) and end every session
    they have."""
    admin = accounts.admin_password_reset(email=email, password=_new_password(), now=utcnow())
    click.echo(f"Reset the password of {admin.email}; every session they had has ended.", err=True)


@admin_cli.command("list")
@click.option("--org", "organization", default=None, help="Only this organization's admins.")
@user_errors
def admin_list_command(organization: str | None) -> None:
    """List the admins, by organization."""
    admins = accounts.admins_of(organization)
    width = max([len("EMAIL"), *(len(admin.email) for admin in admins)])
    click.echo(f"{'EMAIL':<{width}} {'CREATED':<20} {'LAST SIGN-IN':<20} ORGANIZATION")
    for admin in admins:
        click.echo(
            f"{admin.email:<{width}} {time_text(admin.created_at):<20} "
            f"{time_text(admin.last_sign_in_at):<20} {admin.organization.name}"
        )


@admin_cli.command("remove")
@click.option("--email", required=True)
@user_errors
def admin_remove_command(email: str) -> None:
    """Remove an admin (not an organization's only one); their sessions end with it."""
    accounts.admin_remove(email=email, now=utcnow())
    click.echo(f"Removed admin {email.strip().lower()}.", err=True)


def _new_password() -> str:
    return os.environ.get("JERICHO_ADMIN_PASSWORD") or click.prompt(
        "Password", hide_input=True, confirmation_prompt=True
    )

