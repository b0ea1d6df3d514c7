"""Webhook delivery: a worker thread in each server process sends the events due, endpoint by
endpoint (storage/deliveries.py holds the leases that keep one delivery per endpoint in flight
across processes and hosts).

gunicorn starts the thread in each worker process once it has loaded the app (gunicorn.conf.py,
`post_worker_init`), so `make run` alone delivers webhooks; deliveries are rows, so they survive a
restart. A change committed by this process wakes its thread at once; otherwise it looks for work
every WEBHOOK_POLL_SECONDS (changes made by other processes, retries that came due).

A delivery that fails (no 2xx within WEBHOOK_TIMEOUT_SECONDS) is retried after 10 s, then three
times longer each time, up to 6 h between attempts, until WEBHOOK_RETRY_HOURS (24) have passed
since its first failure; then the endpoint is failing and stops until an admin resumes it, so no
later event overtakes the one that failed. The same thread prunes the events and the delivery log
past their retention, about once an hour.

`deliver_due(clock=...)` is what the thread calls in a loop; tests call it with a clock of their
own, one step at a time.
"""
from __future__ import annotations

import logging
import os
import secrets
import threading
from datetime import datetime, timedelta
from typing import Callable

from flask import Flask

from ..extensions import db
from ..storage import events
from ..storage.database import days_to_keep
from ..storage.deliveries import (
    Attempt, Claim, Item, deliveries_prune, delivery_batch, delivery_claim, delivery_record, delivery_release,
)
from ..storage.models import utcnow
from ..storage.webhooks import organizations_with_endpoints
from .addresses import WebhookUrlError, checked_addresses, parse_url
from .signing import derive_secret, signature
from .transport import post

log = logging.getLogger(__name__)

EXTENSION = "jericho.webhooks"
USER_AGENT = "Jericho-SCIM-Webhooks/1"
# An endpoint stays with one worker for this long after its last attempt, then another may take it.
LEASE_SECONDS = 60
# Events read and sent at once to one endpoint, before the worker lets it go and looks at the others.
BATCH = 50
FIRST_RETRY = timedelta(seconds=10)
RETRY_GROWTH = 3
LONGEST_PAUSE = timedelta(hours=6)
# After an unexpected error (the database unreachable, say), the thread waits this long.
ERROR_PAUSE_SECONDS = 10
PRUNE_INTERVAL = timedelta(hours=1)
# After a process starts, so that short-lived processes never prune.
FIRST_PRUNE_DELAY = timedelta(minutes=5)


def init_app(app: Flask) -> None:
    retention_days(app)  # a wrong setting stops the start, not a prune an hour later
    app.extensions[EXTENSION] = Worker(app)


def start_worker(app: object) -> None:
    """Start this process's delivery thread (gunicorn.conf.py calls it in each worker process).
    Another app served with the same gunicorn settings (the benchmark's floors) has none."""
    worker = app.extensions.get(EXTENSION) if isinstance(app, Flask) else None
    if worker is not None:
        worker.start()


def retention_days(app: Flask) -> int:
    """EVENT_RETENTION_DAYS, or PROVISIONING_LOG_RETENTION_DAYS when it is unset; 0 keeps all."""
    setting = "EVENT_RETENTION_DAYS" if app.config.get("EVENT_RETENTION_DAYS") not in (None, "") else (
        "PROVISIONING_LOG_RETENTION_DAYS")
    return days_to_keep(app.config[setting], setting)


def next_attempt_at(*, first_failure_at: datetime, attempts: int, now: datetime, retry_hours: float) -> datetime | None:
    """When to try again after `attempts` failed attempts; None once the retry period is over."""
    deadline = first_failure_at + timedelta(hours=retry_hours)
    if now >= deadline:
        return None
    pause = min(FIRST_RETRY * RETRY_GROWTH ** (attempts - 1), LONGEST_PAUSE)
    return min(now + pause, deadline)


def deliver_due(*, clock: Callable[[], datetime], config: dict) -> bool:
    """Send what one endpoint has due now, up to BATCH events; False when no endpoint had any."""
    claim = delivery_claim(now=clock(), lease_id=secrets.token_hex(8), lease_seconds=LEASE_SECONDS)
    if claim is None:
        return False
    try:
        items = delivery_batch(claim, limit=BATCH)
        db.session.close()  # no transaction nor connection held while receivers answer
        for item in items:
            attempt = _send(claim, item, clock(), config)
            retry_at = None
            if not attempt.delivered and item.redelivery_id is None:
                retry_at = next_attempt_at(first_failure_at=claim.first_failure_at or attempt.at,
                                           attempts=claim.attempts + 1, now=attempt.at,
                                           retry_hours=config["WEBHOOK_RETRY_HOURS"])
            held = delivery_record(claim, item, attempt, retry_at=retry_at, lease_seconds=LEASE_SECONDS)
            if not held or not (attempt.delivered or item.redelivery_id):
                break  # the event waits for its next attempt; nothing after it goes first
    finally:
        delivery_release(claim, now=clock())
    return True


def _send(claim: Claim, item: Item, now: datetime, config: dict) -> Attempt:
    if item.body is None:
        return Attempt(now, None, "not sent: the event is no longer kept (older than the retention)", None, 0.0)
    allow_private = config["WEBHOOK_ALLOW_PRIVATE_NETWORKS"]
    try:  # again at each delivery: the name may resolve elsewhere by now
        target = parse_url(claim.url, allow_private=allow_private)
        addresses = checked_addresses(target, allow_private=allow_private)
    except WebhookUrlError as refused:
        return Attempt(now, None, f"not sent: {refused}", None, 0.0)
    body = item.body.encode()
    headers = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "Jericho-Event-Id": str(item.seq),
        "Jericho-Event-Type": item.type,
        "Jericho-Signature": signature(derive_secret(config["SECRET_KEY"], claim.secret_salt),
                                       int(now.timestamp()), body),
    }
    return post(target, addresses, body, headers, timeout=float(config["WEBHOOK_TIMEOUT_SECONDS"]), at=now)


class Worker:
    """This process's delivery thread."""

    def __init__(self, app: Flask) -> None:
        self.app = app
        self.wake = threading.Event()
        self.pid: int | None = None  # the process whose thread runs (servers fork)
        # The organizations with an endpoint that takes deliveries, as of the thread's last look:
        # only their changes wake it, so a sync without webhooks costs it nothing.
        self.watched: frozenset[int] = frozenset()

    def start(self) -> None:
        if self.pid == os.getpid():
            return
        self.pid = os.getpid()
        events.committed.connect(self._changed, weak=False)
        threading.Thread(target=self._run, name="jericho-webhooks", daemon=True).start()

    def _changed(self, organization_id: int) -> None:
        if organization_id in self.watched:
            self.wake.set()

    def _run(self) -> None:
        config = self.app.config
        next_prune = utcnow() + FIRST_PRUNE_DELAY
        while True:
            self.wake.clear()  # before looking: a change committed meanwhile wakes the next wait
            pause = float(config["WEBHOOK_POLL_SECONDS"])
            with self.app.app_context():
                try:
                    self.watched = frozenset(organizations_with_endpoints())
                    while True:
                        worked = deliver_due(clock=utcnow, config=config)
                        if utcnow() >= next_prune:
                            next_prune = utcnow() + PRUNE_INTERVAL
                            prune_expired(self.app, now=utcnow())
                        if not worked:
                            break
                except Exception:
                    log.exception("webhook delivery failed; trying again in %d s", ERROR_PAUSE_SECONDS)
                    pause = ERROR_PAUSE_SECONDS
                finally:
                    db.session.remove()
            self.wake.wait(pause)


def prune_expired(app: Flask, *, now: datetime) -> int:
    """Delete the events and the delivery log past their retention (a cursor older than that then
    answers 410); returns how many rows went."""
    days = retention_days(app)
    if not days:
        return 0
    pruned = events.events_prune(now=now, days=days) + deliveries_prune(now=now, days=days)
    if pruned:
        log.info("pruned %d events and webhook deliveries older than %d days", pruned, days)
    return pruned
