"""The provisioning log: one ProvisioningEvent per request under /scim_v2, in plain words.

Views say what a request is about with `note(...)`; the error handler leaves the SCIM error on
`g`; after the response is built, one short transaction stores the event. A failure to store it
is logged and never fails the request. No token, header or member list is ever stored.
"""
from __future__ import annotations

import logging
import time

from flask import Flask, Response, g, request

from .database import writes
from .errors import is_scim_request
from .extensions import db
from .models import ProvisioningEvent
from .security import redact_tokens
from .storage import Change

log = logging.getLogger(__name__)

MAX_PATH_LENGTH = 2000
MAX_DETAIL_LENGTH = 1000


def init_app(app: Flask) -> None:
    app.before_request(_start)
    app.after_request(_record)


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


def _start() -> None:
    if is_scim_request():
        g.provisioning_started = time.perf_counter()


def _record(response: Response) -> Response:
    if not is_scim_request() or "provisioning_started" not in g:
        return response
    operation, action, resource_type, resource_id = g.get("provisioning_note") or _rejected(response)
    error = g.get("scim_error")
    event = ProvisioningEvent(
        organization_id=g.get("organization_id"),
        token_id=g.get("token_id"),
        method=_clean(request.method, 10),
        path=_clean(request.full_path.rstrip("?"), MAX_PATH_LENGTH),
        status=response.status_code,
        operation=operation,
        action=_clean(action, MAX_PATH_LENGTH),
        resource_type=resource_type,
        resource_id=_clean(resource_id, 64),
        scim_type=error.scim_type if error is not None else None,
        error_detail=_clean(error.detail, MAX_DETAIL_LENGTH) if error is not None else None,
        duration_ms=round((time.perf_counter() - g.provisioning_started) * 1000, 2),
    )
    try:
        _store(event)
    except Exception:  # the log must never cost Entra its answer
        log.exception("could not record a provisioning event")
    return response


def _clean(text: str | None, length: int) -> str | None:
    # Parts of the request, so any text: a client may have put its token anywhere in it,
    # PostgreSQL refuses NUL, and columns have a length.
    return None if text is None else redact_tokens(text.replace("\x00", "\ufffd"))[:length]


def _rejected(response: Response) -> tuple[str, str, None, None]:
    error = g.get("scim_error")
    reason = error.detail if error is not None else f"HTTP {response.status_code}"
    return "rejected", f"rejected: {reason}", None, None


@writes
def _store(event: ProvisioningEvent) -> None:
    db.session.add(event)
