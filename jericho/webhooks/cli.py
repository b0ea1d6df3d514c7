"""`flask --app app jericho webhook ...` and `prune-events`: webhook endpoints, and the events'
retention, from the command line."""
from __future__ import annotations

import click
from flask import Flask, current_app
from flask.cli import AppGroup, with_appcontext

from ..cli import jericho_cli, time_text, user_errors
from ..storage import events
from ..storage.accounts import AccountError, organization_named
from ..storage.deliveries import deliveries_prune
from ..storage.models import utcnow
from ..storage.webhooks import (
    webhook_endpoint_delete, webhook_endpoint_disable, webhook_endpoint_get, webhook_endpoint_resume,
    webhook_endpoints_of,
)
from .addresses import WebhookUrlError
from .delivery import retention_days
from .endpoints import endpoint_add

webhook_cli = AppGroup("webhook", help="Webhook endpoints that receive the events feed.")


def init_app(app: Flask) -> None:
    jericho_cli.add_command(webhook_cli)
    jericho_cli.add_command(prune_events_command)


@webhook_cli.command("create")
@click.option("--org", "organization", required=True, help="Organization name.")
@click.option("--url", required=True, help="Where to POST each event (https://...).")
@click.option("--events", default="user.*,group.*", show_default=True,
              help="Event types or patterns, comma-separated, e.g. user.deactivated,group.*")
@user_errors
def webhook_create_command(organization: str, url: str, events: str) -> None:
    """Add an endpoint and print its signing secret (the only time it is shown)."""
    try:
        endpoint, secret = endpoint_add(organization_id=organization_named(organization).id, url=url,
                                        events=events, now=utcnow())
    except WebhookUrlError as refused:
        raise AccountError(f"refused: {refused}") from None
    click.echo(f"Added webhook endpoint {endpoint.id} for {organization.strip()}: {endpoint.url}", err=True)
    click.echo(secret)


@webhook_cli.command("list")
@click.option("--org", "organization", required=True)
@user_errors
def webhook_list_command(organization: str) -> None:
    """List an organization's endpoints with their health and backlog."""
    click.echo(f"{'ID':<5} {'HEALTH':<28} {'BACKLOG':>8} {'LAST SUCCESS':<20} {'EVENTS':<20} URL")
    for status in webhook_endpoints_of(organization_named(organization).id):
        endpoint = status.endpoint
        click.echo(f"{endpoint.id:<5} {status.health.value:<28} {status.backlog:>8} "
                   f"{time_text(endpoint.last_success_at):<20} {endpoint.events:<20} {endpoint.url}")


@webhook_cli.command("disable")
@click.argument("endpoint_id", type=int)
@user_errors
def webhook_disable_command(endpoint_id: int) -> None:
    """Stop delivering to an endpoint; its events wait until it is enabled."""
    endpoint = webhook_endpoint_disable(organization_id=_owner(endpoint_id), endpoint_id=endpoint_id, now=utcnow())
    click.echo(f"Disabled webhook endpoint {endpoint.id}.", err=True)


@webhook_cli.command("enable")
@click.argument("endpoint_id", type=int)
@user_errors
def webhook_enable_command(endpoint_id: int) -> None:
    """Deliver again to a disabled or failing endpoint, from the first event it has not had."""
    endpoint = webhook_endpoint_resume(organization_id=_owner(endpoint_id), endpoint_id=endpoint_id, now=utcnow())
    click.echo(f"Webhook endpoint {endpoint.id} delivers again.", err=True)


@webhook_cli.command("delete")
@click.argument("endpoint_id", type=int)
@user_errors
def webhook_delete_command(endpoint_id: int) -> None:
    """Delete an endpoint and its delivery log."""
    webhook_endpoint_delete(organization_id=_owner(endpoint_id), endpoint_id=endpoint_id, now=utcnow())
    click.echo(f"Deleted webhook endpoint {endpoint_id}.", err=True)


def _owner(endpoint_id: int) -> int:
    endpoint = webhook_endpoint_get(endpoint_id)
    if endpoint is None:
        raise AccountError(f"no webhook endpoint {endpoint_id}")
    return endpoint.organization_id


@click.command("prune-events")
@with_appcontext
@click.option("--days", type=click.IntRange(min=1), default=None,
              help="Keep this many days instead of EVENT_RETENTION_DAYS.")
@user_errors
def prune_events_command(days: int | None) -> None:
    """Delete events and webhook delivery log entries older than the retention period."""
    days = days or retention_days(current_app)
    if not days:
        click.echo("The retention is 0: events are kept in full.", err=True)
        return
    pruned = events.events_prune(now=utcnow(), days=days), deliveries_prune(now=utcnow(), days=days)
    click.echo(f"Deleted {pruned[0]} events and {pruned[1]} webhook deliveries older than {days} days.", err=True)
