"""Provisioning log retention: requests older than PROVISIONING_LOG_RETENTION_DAYS (default 30,
as Entra's own provisioning logs with a premium licence; 0 keeps everything) are deleted.

Deletion runs in small batches, each its own short transaction with a pause after it, so a SCIM
request that needs the database's write lock (SQLite has one) waits for one batch at most. It
runs from `flask --app app jericho prune-log` (for cron) and, on its own, in a background thread
of each server process about once an hour — never inside a request. The dashboard's rollups of
the buckets it pruned are pruned with them.
"""
from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import click
from flask import Flask, Response, current_app
from flask.cli import with_appcontext
from sqlalchemy import delete, select

from ..cli import jericho_cli, user_errors
from ..extensions import db
from ..storage.database import days_to_keep, writes
from ..storage.models import Organization, ProvisioningEvent, utcnow, wall_clock
from ..storage.rollups import rollups_prune

log = logging.getLogger(__name__)

SETTING = "PROVISIONING_LOG_RETENTION_DAYS"
BATCH_SIZE = 500
PAUSE_SECONDS = 0.05
AUTOMATIC_INTERVAL = timedelta(hours=1)
# After a process starts, so that short-lived processes (the CLI, tests) never prune on their own.
FIRST_AUTOMATIC_DELAY = timedelta(minutes=5)
EXTENSION = "jericho.retention"


def retention_days(app: Flask) -> int:
    return days_to_keep(app.config[SETTING], SETTING)


@dataclass
class Schedule:
    """When this process prunes next; `running` is the thread doing it (tests join it)."""

    next_at: datetime
    lock: threading.Lock = field(default_factory=threading.Lock)
    running: threading.Thread | None = None


def init_app(app: Flask) -> None:
    retention_days(app)  # a wrong setting stops the start, not a prune an hour later
    jericho_cli.add_command(prune_log_command)
    # When to prune follows the process's own time, whatever day the app's clock says (a test
    # may set it to any): the requests to prune are still the ones older than the app's now.
    app.extensions[EXTENSION] = Schedule(next_at=wall_clock() + FIRST_AUTOMATIC_DELAY)
    app.after_request(_prune_when_due)


def prune_log(*, now: datetime, days: int, batch_size: int = BATCH_SIZE, pause: float = PAUSE_SECONDS) -> int:
    """Delete the requests that happened `days` or more before `now`; returns how many."""
    cutoff = now - timedelta(days=days)
    owners = [*db.session.execute(select(Organization.id)).scalars(), None]
    deleted = 0
    for organization_id in owners:
        while True:
            count = _delete_batch(organization_id=organization_id, cutoff=cutoff, batch_size=batch_size)
            deleted += count
            if count < batch_size:
                break
            time.sleep(pause)
    if deleted:
        _prune_rollups(cutoff)
    return deleted


@writes
def _prune_rollups(cutoff: datetime) -> None:
    rollups_prune(cutoff=cutoff)


@writes
def _delete_batch(*, organization_id: int | None, cutoff: datetime, batch_size: int) -> int:
    # Per organization, so each batch is found on the (organization_id, occurred_at) index.
    owner = (ProvisioningEvent.organization_id.is_(None) if organization_id is None
             else ProvisioningEvent.organization_id == organization_id)
    oldest = (select(ProvisioningEvent.id).where(owner, ProvisioningEvent.occurred_at < cutoff)
              .order_by(ProvisioningEvent.occurred_at).limit(batch_size))
    return db.session.execute(
        delete(ProvisioningEvent).where(ProvisioningEvent.id.in_(oldest.scalar_subquery())),
        execution_options={"synchronize_session": False},
    ).rowcount


def _prune_when_due(response: Response) -> Response:
    app = current_app._get_current_object()
    schedule: Schedule = app.extensions[EXTENSION]
    now = wall_clock()
    if now < schedule.next_at or not schedule.lock.acquire(blocking=False):
        return response
    try:
        if now >= schedule.next_at:
            schedule.next_at = now + AUTOMATIC_INTERVAL
            schedule.running = threading.Thread(
                target=_prune_in_background, args=(app,), name="jericho-prune-log", daemon=True
            )
            schedule.running.start()
    finally:
        schedule.lock.release()
    return response


def _prune_in_background(app: Flask) -> None:
    with app.app_context():
        try:
            days = retention_days(app)
            if days:
                deleted = prune_log(now=utcnow(), days=days)
                if deleted:
                    log.info("pruned %d provisioning log entries older than %d days", deleted, days)
        except Exception:  # the next hour tries again
            log.exception("could not prune the provisioning log")
        finally:
            db.session.remove()


@click.command("prune-log")
@with_appcontext
@click.option("--days", type=click.IntRange(min=1), default=None,
              help=f"Keep this many days instead of {SETTING}.")
@user_errors
def prune_log_command(days: int | None) -> None:
    """Delete provisioning log entries older than the retention period, in small batches."""
    days = days or retention_days(current_app)
    if not days:
        click.echo(f"{SETTING} is 0: the provisioning log is kept in full.", err=True)
        return
    deleted = prune_log(now=utcnow(), days=days)
    click.echo(f"Deleted {deleted} provisioning log entries older than {days} days.", err=True)
