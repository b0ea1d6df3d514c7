"""CSV exports: the users as a phishing campaign's target list, and the provisioning log.

Streamed in batches (directory and log_queries read them with keyset pagination), each batch in an app
context of its own that is closed before its chunk is handed on: an export of 100k users takes
the memory of one batch, and a download stopped half-way holds no session or context. Every cell
comes from a directory or from a request, so none may start a spreadsheet formula (OWASP "CSV
Injection").
"""
from __future__ import annotations

import csv
import io
from datetime import datetime, timezone
from typing import Any, Callable, Iterable, Iterator, TypeVar

from flask import Flask

from ..scim import document
from ..security import IdCipher
from ..storage.models import ProvisioningEvent
from .directory import ExportedUser, users_batch
from .filters import Cursor, LogFilters, UserFilters
from .log_queries import events_batch

# Spreadsheets treat a cell starting with these as a formula (tab and carriage return too, as
# some apps drop them and read what follows).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")

BATCH_SIZE = 1000
USER_COLUMNS = ("userName", "email", "name", "givenName", "familyName", "title", "department", "manager",
                "active", "groups", "id")
LOG_COLUMNS = ("time", "outcome", "status", "method", "path", "operation", "action", "objectType",
               "objectId", "scimType", "error", "durationMs", "id")

Item = TypeVar("Item")
Key = TypeVar("Key")


def neutralise(value: Any) -> str:
    """A cell as text that no spreadsheet evaluates: one starting like a formula is prefixed
    with an apostrophe, which spreadsheets show as text and do not display."""
    text = "" if value is None else str(value)
    if text.startswith(FORMULA_STARTS) or text.lstrip(" ").startswith(FORMULA_STARTS):
        return "'" + text
    return text


def csv_text(rows: Iterable[Iterable[Any]]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")  # RFC 4180
    writer.writerows([neutralise(cell) for cell in row] for row in rows)
    return buffer.getvalue()


def users_csv(app: Flask, organization_id: int, filters: UserFilters) -> Iterator[str]:
    return _stream(
        app, USER_COLUMNS,
        fetch=lambda after: users_batch(organization_id, filters, after=after, limit=BATCH_SIZE),
        row=user_row,
        key=lambda exported: exported.user.user_name_key,
    )


def log_csv(app: Flask, organization_id: int, filters: LogFilters, ids: IdCipher) -> Iterator[str]:
    return _stream(
        app, LOG_COLUMNS,
        fetch=lambda after: events_batch(organization_id, filters, after=after, limit=BATCH_SIZE),
        row=lambda event: log_row(event, ids),
        key=lambda event: Cursor(event.occurred_at, event.id),
    )


def _stream(
    app: Flask, header: Iterable[str], *, fetch: Callable[[Key | None], list[Item]],
    row: Callable[[Item], list[Any]], key: Callable[[Item], Key],
) -> Iterator[str]:
    """A byte-order mark so Excel reads UTF-8, the header, then one chunk per batch."""
    yield "\ufeff" + csv_text([header])
    after = None
    while True:
        with app.app_context():
            batch = fetch(after)
            chunk = csv_text(row(item) for item in batch)
            if batch:
                after = key(batch[-1])
        if chunk:
            yield chunk
        if len(batch) < BATCH_SIZE:
            return


def user_row(exported: ExportedUser) -> list[Any]:
    user, resource = exported.user, exported.user.document
    return [
        user.user_name,
        document.work_email(resource) or "",
        document.person_name(resource),
        document.name_part(resource, "givenName"),
        document.name_part(resource, "familyName"),
        resource.get("title", ""),
        document.department(resource),
        exported.manager or "",
        "true" if user.active else "false",
        "; ".join(exported.groups),
        user.id,
    ]


def log_row(event: ProvisioningEvent, ids: IdCipher) -> list[Any]:
    return [
        event.occurred_at.astimezone(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        "succeeded" if event.succeeded else "failed",
        event.status,
        event.method,
        event.path,
        event.operation,
        event.action,
        event.resource_type or "",
        event.resource_id or "",
        event.scim_type or "",
        event.error_detail or "",
        event.duration_ms,
        ids.hide(event.id),
    ]


def filename(kind: str, organization_name: str, now: datetime) -> str:
    """e.g. jericho-users-contoso-2026-11-30.csv; only safe characters reach the header."""
    slug = "".join(c if c.isascii() and c.isalnum() else "-" for c in organization_name.lower()).strip("-")
    return f"jericho-{kind}-{slug or 'organization'}-{now:%Y-%m-%d}.csv"
