"""`flask --app app jericho ...`: set-up, tokens and admins from the command line.

Results a script needs (a new token) go alone to stdout; everything else goes to stderr.
Failures exit non-zero with a one-line message."""
from __future__ import annotations

import functools
import os
import secrets
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import AppGroup
from flask_migrate import upgrade
from sqlalchemy.exc import OperationalError, ProgrammingError

from .storage import accounts
from .admin import signin

jericho_cli = AppGroup("jericho", help="Jericho SCIM administration.")
token_cli = AppGroup("token", help="SCIM bearer tokens.")
admin_cli = AppGroup("admin", help="Admin accounts.")
jericho_cli.add_command(token_cli)
jericho_cli.add_command(admin_cli)


def init_app(app: Flask) -> None:
    app.cli.add_command(jericho_cli)


def user_errors(command):
    """Turn expected failures into a clear message and exit status 1, without a traceback."""

    @functools.wraps(command)
    def wrapper(*args, **kwargs):
        try:
            return command(*args, **kwargs)
        except accounts.AccountError as error:
            raise click.ClickException(str(error)) from None
        except (OperationalError, ProgrammingError) as error:
            raise click.ClickException(
                "the database is not ready: run `flask --app app jericho init` "
                f"(make run does it) — {error.orig}"
            ) from None

    return wrapper


@jericho_cli.command("init")
def init_command() -> None:
    """Create instance/, its secret key, and the database schema (or upgrade it)."""
    instance = Path(current_app.instance_path)
    # The secret key and the SQLite database (the directory, token hashes): the owner's only.
    instance.mkdir(mode=0o700, parents=True, exist_ok=True)
    key_file = instance / current_app.config["SECRET_KEY_FILE"]
    if not current_app.config.get("SECRET_KEY") and not key_file.exists():
        descriptor = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w") as handle:
            handle.write(secrets.token_hex(32))
        click.echo(f"Generated a secret key in {key_file}", err=True)
    upgrade()
    click.echo("Database schema is up to date.", err=True)


@jericho_cli.command("setup-code")
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
    token, secret = accounts.token_create(organization_name=organization, label=label)
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
    token = accounts.token_revoke(prefix=prefix)
    click.echo(f"Revoked token {token.prefix}.", err=True)


@admin_cli.command("create")
@click.option("--org", "organization", required=True)
@click.option("--email", required=True)
@user_errors
def admin_create_command(organization: str, email: str) -> None:
    """Create an admin; the password comes from JERICHO_ADMIN_PASSWORD or a prompt."""
    password = os.environ.get("JERICHO_ADMIN_PASSWORD") or click.prompt(
        "Password", hide_input=True, confirmation_prompt=True
    )
    admin = accounts.admin_create(organization_name=organization, email=email, password=password)
    click.echo(f"Created admin {admin.email} for {admin.organization.name}.", err=True)


def time_text(value) -> str:
    return value.strftime("%Y-%m-%d %H:%M UTC") if value else "never"
