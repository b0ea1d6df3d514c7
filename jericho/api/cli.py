"""`flask --app app jericho api-key ...`: read-only keys for /api/v1 from the command line."""
from __future__ import annotations

import click
from flask import Flask
from flask.cli import AppGroup

from ..cli import jericho_cli, time_text, user_errors
from ..storage.accounts import organization_named
from ..storage.api_keys import api_key_create, api_key_revoke, api_keys_of
from ..storage.models import utcnow

api_key_cli = AppGroup("api-key", help="Read-only API keys for /api/v1.")


def init_app(app: Flask) -> None:
    jericho_cli.add_command(api_key_cli)


@api_key_cli.command("create")
@click.option("--org", "organization", required=True, help="Organization name.")
@click.option("--label", default="", help="A note to tell keys apart, e.g. 'Training platform'.")
@user_errors
def api_key_create_command(organization: str, label: str) -> None:
    """Create an API key and print it (the only time it is shown)."""
    key, secret = api_key_create(organization_id=organization_named(organization).id, label=label)
    click.echo(f"Created API key {key.prefix} for {organization.strip()}.", err=True)
    click.echo(secret)


@api_key_cli.command("list")
@click.option("--org", "organization", required=True)
@user_errors
def api_key_list_command(organization: str) -> None:
    """List an organization's API keys by prefix, with their last use and last read of the feed."""
    click.echo(f"{'PREFIX':<10} {'STATUS':<8} {'CREATED':<20} {'LAST USED':<20} {'LAST POLL':<20} LABEL")
    for key in api_keys_of(organization_named(organization).id):
        click.echo(
            f"{key.prefix:<10} {'active' if key.is_active else 'revoked':<8} {time_text(key.created_at):<20} "
            f"{time_text(key.last_used_at):<20} {time_text(key.last_poll_at):<20} {key.label}"
        )


@api_key_cli.command("revoke")
@click.argument("prefix")
@user_errors
def api_key_revoke_command(prefix: str) -> None:
    """Revoke an API key at once, on every server process."""
    key = api_key_revoke(prefix=prefix, now=utcnow())
    click.echo(f"Revoked API key {key.prefix}.", err=True)
