"""The provisioning log: one ProvisioningEvent per request under /scim_v2, in plain words.

Views say what a request is about with `note(...)`; the error handler leaves the SCIM error on
`g`; after the response is built, the event is handed to this process's `EventWriter`. A failure
to store it is logged and never fails the request. No token, header or member list is ever stored.

The writer stores events in batches, one transaction every PROVISIONING_LOG_FLUSH_SECONDS, from a
background thread: a request's answer never waits for the log, and a sync's hundreds of requests
a second cost a few writes instead of one each (SQLite has a single writer). Events reach the
database within that delay, before this process serves any page, and when the process exits; a
process killed outright loses at most the last delay's events. At 0, each event is written in
its own transaction before the answer is sent.
"""
from __future__ import annotations

import atexit
import logging
import os
import threading
import time

from flask import Flask, Response, current_app, g, request
from sqlalchemy import insert

from ..extensions import db
from ..security import redact_tokens
from ..storage.database import writes
from ..storage.models import ProvisioningEvent, utcnow
from ..storage.resources import Change
from ..storage.rollups import rollups_add
from ..urls import is_scim_request

log = logging.getLogger(__name__)

MAX_PATH_LENGTH = 2000
MAX_DETAIL_LENGTH = 1000
EXTENSION = "jericho.provisioning_log"


def init_app(app: Flask) -> None:
    app.extensions[EXTENSION] = EventWriter(app)
    app.before_request(_start)
    app.after_request(_record)


def _start() -> None:
    if is_scim_request():
        g.provisioning_started = time.perf_counter()
    else:  # a page may show the log: it shows what this process has received too
        current_app.extensions[EXTENSION].flush()


def note(operation: str, action: str, *, resource_type: str | None = None, resource_id: str | None = None) -> None:
    g.provisioning_note = (operation, action, resource_type, resource_id)


def note_change(change: Change) -> None:
    note(change.operation, describe(change), resource_type=change.resource_type, resource_id=change.resource_id)


def describe(change: Change) -> str:
    noun = change.resource_type.lower()
    label = change.label
    if change.operation == "create":
        members = f" with {_members(change.members_added)}" if change.members_added else ""
        return f"create {noun} {label}{members}"
    if change.operation == "members":
        return _describe_members(change)
    if change.operation == "update" and not change.changed:
        return f"update {noun} {label} (no change)"
    if change.operation == "update" and (change.members_added or change.members_removed):
        return f"update {noun} {label}; {_describe_members(change)}"
    return f"{change.operation} {noun} {label}"


def _describe_members(change: Change) -> str:
    group = change.label
    if change.members_cleared and not change.members_added:
        return f"remove all members from {group}"
    if change.members_cleared:
        return f"set the members of {group} to {_members(change.members_added)}"
    if change.members_added and change.members_removed:
        return f"add {_members(change.members_added)} to and remove {_members(change.members_removed)} from {group}"
    if change.members_added:
        return f"add {_members(change.members_added)} to {group}"
    return f"remove {_members(change.members_removed)} from {group}"


def _members(count: int) -> str:
    return f"{count} member" if count == 1 else f"{count} members"


def _record(response: Response) -> Response:
    if not is_scim_request() or "provisioning_started" not in g:
        return response
    operation, action, resource_type, resource_id = g.get("provisioning_note") or _rejected(response)
    error = g.get("scim_error")
    organization_id = g.get("organization_id")
    current_app.extensions[EXTENSION].add({
        "organization_id": organization_id,
        "token_id": g.get("token_id"),
        "occurred_at": utcnow(),
        "method": _clean(request.method, 10),
        "path": _clean(request.full_path.rstrip("?"), MAX_PATH_LENGTH),
        "status": response.status_code,
        "operation": operation,
        "action": _clean(action, MAX_PATH_LENGTH),
        "resource_type": resource_type,
        "resource_id": _clean(resource_id, 64),
        "scim_type": error.scim_type if error is not None else None,
        "error_detail": _clean(error.detail, MAX_DETAIL_LENGTH) if error is not None else None,
        "duration_ms": round((time.perf_counter() - g.provisioning_started) * 1000, 2),
        "client_address": _clean(request.remote_addr, 64) if organization_id is None else None,
    })
    return response


def _clean(text: str | None, length: int) -> str | None:
    # Parts of the request, so any text: a client may have put its token anywhere in it,
    # PostgreSQL refuses NUL, and columns have a length.
    return None if text is None else redact_tokens(text.replace("\x00", "\ufffd"))[:length]


def _rejected(response: Response) -> tuple[str, str, None, None]:
    error = g.get("scim_error")
    reason = error.detail if error is not None else f"HTTP {response.status_code}"
    return "rejected", f"rejected: {reason}", None, None


def _flush_seconds(app: Flask) -> float:
    value = app.config["PROVISIONING_LOG_FLUSH_SECONDS"]
    try:
        seconds = float(value)
    except (TypeError, ValueError):
        seconds = -1
    if not 0 <= seconds <= 60:  # a wrong setting stops the start, not the log later
        raise ValueError(f"PROVISIONING_LOG_FLUSH_SECONDS must be between 0 and 60, not {value!r}")
    return seconds


class EventWriter:
    """This process's pending events (column values), and the thread that stores them."""

    def __init__(self, app: Flask) -> None:
        self.app = app
        self.delay = _flush_seconds(app)
        self.pending: list[dict] = []
        self.pending_lock = threading.Lock()
        self.flush_lock = threading.Lock()  # one batch at a time, so events are stored in order
        self.thread_pid: int | None = None  # the process whose thread is running (servers fork)

    def add(self, event: dict) -> None:
        if not self.delay:
            self._store([event])
            return
        with self.pending_lock:
            self.pending.append(event)
            if self.thread_pid != os.getpid():
                self.thread_pid = os.getpid()
                threading.Thread(target=self._flush_every_delay, name="jericho-provisioning-log", daemon=True).start()
                atexit.register(self.flush)

    def flush(self) -> None:
        with self.flush_lock:
            with self.pending_lock:
                batch, self.pending = self.pending, []
            if batch:
                self._store(batch)

    def _flush_every_delay(self) -> None:
        while True:
            time.sleep(self.delay)
            self.flush()

    def _store(self, batch: list[dict]) -> None:
        try:
            with self.app.app_context():
                try:
                    _insert(batch)
                finally:
                    db.session.remove()
        except Exception:  # the log must never cost the provider its answer
            log.exception("could not record %d provisioning events", len(batch))


@writes
def _insert(batch: list[dict]) -> None:
    """The batch and its counts in the dashboard's rollups, in one transaction."""
    ids = db.session.execute(
        insert(ProvisioningEvent).returning(ProvisioningEvent.id, sort_by_parameter_order=True), batch).scalars()
    rollups_add(events=[{**event, "id": event_id} for event, event_id in zip(batch, ids)])
