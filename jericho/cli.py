"""`flask --app app jericho ...`: the command group, `init`, and the error handling every command
shares. Each feature adds its own commands to the group from its `init_app`.

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

jericho_cli = AppGroup("jericho", help="Jericho SCIM administration.")


def init_app(app: Flask) -> None:
    app.cli.add_command(jericho_cli)


def user_errors(command):
    """Turn expected failures into a clear message and exit status 1, without a traceback. A
    ValueError is one: the services raise it (AccountError, a wrong setting) with a message
    written for the user."""

    @functools.wraps(command)
    def wrapper(*args, **kwargs):
        try:
            return command(*args, **kwargs)
        except ValueError as error:
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


def time_text(value) -> str:
    """A time in a listing: UTC, to the minute, or "never"."""
    return value.strftime("%Y-%m-%d %H:%M UTC") if value else "never"
