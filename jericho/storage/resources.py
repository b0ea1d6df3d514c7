"""All SCIM persistence: SCIM documents to rows and back, one transaction per write.

The only module where SCIM documents meet the ORM. Views pass plain documents and parsed
requests; this module checks uniqueness and versions, applies changes, keeps the indexed columns
in step with the document, and serialises rows into SCIM resources. Every function takes the
organization explicitly: nothing here can see another organization's rows.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass, field

from sqlalchemy import bindparam, delete, func, select
from sqlalchemy.exc import IntegrityError

from ..extensions import db
from ..scim.document import manager_id
from ..scim.errors import InvalidValue, NotFound, TooMany, Uniqueness
from ..scim.filter import Expr
from ..scim.patch import MemberChange, PatchOperation, apply_patch
from ..scim.paths import AttrPath
from ..scim.resources import members_of, normalize
from ..scim.schema import GROUP, USER, ResourceType
from . import counts, events
from . import filters as query
from .counts import directory_counts_add
from .database import writes
from .members import members_add, members_remove, members_remove_all
from .models import Group, User, UserEmail, utcnow
from .serialize import Expand, read_columns, resource_type_of, serialize
from .versions import check_version

Row = User | Group

# Far above Entra's own limits (a userPrincipalName has at most 113 characters, a displayName 256).
MAX_INDEXED_LENGTH = 512
ID_LENGTH = 36  # a UUID, as models.new_scim_id makes them


@dataclass(frozen=True)
class Search:
    """A parsed query (RFC 7644 §3.4.2), its filter already resolved against the schema."""

    filter: Expr | None = None
    sort_by: AttrPath | None = None
    descending: bool = False
    start_index: int = 1
    count: int = 100


@dataclass
class Change:
    """What a write did, for the provisioning log and the events feed."""

    operation: str  # create, update, disable, enable, members, delete
    resource_type: str
    resource_id: str
    label: str  # userName or displayName
    changed: bool = True  # False: the request asked for what was already stored
    members_added: int = 0
    members_removed: int = 0
    members_cleared: bool = False
    document_changed: bool = True  # False: only members changed, or nothing
    # The users that joined or left the group, net of the request (a member removed and added
    # again stayed): the events feed names each one.
    users_added: set[int] = field(default_factory=set)
    users_removed: set[int] = field(default_factory=set)


@dataclass
class Page:
    resources: list[dict]
    total: int


@dataclass
class Written:
    resource: dict | None
    change: Change


# -- reads -----------------------------------------------------------------------------------


def resource_search(
    organization_id: int, resource_type: ResourceType, search: Search, *, base_url: str, expand: Expand
) -> Page:
    model = query.MODELS[resource_type.name]
    dialect = db.engine.dialect.name
    condition = (model.organization_id == organization_id) & query.where_clause(
        search.filter, resource_type, dialect
    )
    rows = db.session.execute(
        select(*read_columns(model, dialect, expand))
        .where(condition)
        .order_by(*query.order_by(search.sort_by, search.descending, resource_type, dialect))
        .offset(search.start_index - 1)
        .limit(search.count)
    ).all() if search.count > 0 else []
    # RFC 7644 §3.4.2.4: totalResults counts every match, not just this page. A page that is not
    # full and does not start past the end already tells it, so Entra's lookups cost one query.
    if len(rows) < search.count and (rows or search.start_index == 1):
        total = search.start_index - 1 + len(rows)
    else:
        total = db.session.execute(select(func.count()).select_from(model).where(condition)).scalar_one()
    return Page(serialize(rows, resource_type, base_url, expand), total)


def resource_read(
    organization_id: int, resource_type: ResourceType, scim_id: str, *, base_url: str, expand: Expand
) -> dict:
    _check_id(resource_type, scim_id)
    statement = _read_statement(resource_type.name, db.engine.dialect.name, expand)
    # Core, on the session's connection: plain rows need none of the ORM's result handling.
    row = db.session.connection().execute(statement, {"organization_id": organization_id, "scim_id": scim_id}).first()
    if row is None:
        raise NotFound(f"{resource_type.name} {scim_id} not found")
    return serialize([row], resource_type, base_url, expand)[0]


def _check_id(resource_type: ResourceType, scim_id: str) -> None:
    if "\x00" in scim_id:  # matches no id, and PostgreSQL refuses NUL in a query parameter
        raise NotFound(f"{resource_type.name} {scim_id!r} not found")


@functools.cache
def _read_statement(type_name: str, dialect: str, expand: Expand):
    """GET of one resource, built once: it is the hottest read there is."""
    model = query.MODELS[type_name]
    return select(*read_columns(model, dialect, expand)).where(
        model.organization_id == bindparam("organization_id"), model.id == bindparam("scim_id"))


def _get(organization_id: int, resource_type: ResourceType, scim_id: str, *, lock: bool = False) -> Row:
    model = query.MODELS[resource_type.name]
    _check_id(resource_type, scim_id)
    statement = select(model).where(model.organization_id == organization_id, model.id == scim_id)
    if lock:  # concurrent writers of one resource queue here (PostgreSQL; SQLite has one writer)
        statement = statement.with_for_update().execution_options(populate_existing=True)
    row = db.session.execute(statement).scalar_one_or_none()
    if row is None:
        raise NotFound(f"{resource_type.name} {scim_id} not found")
    return row


# -- writes ----------------------------------------------------------------------------------


@writes
def resource_create(
    organization_id: int, resource_type: ResourceType, body: object, *, base_url: str, max_members: int
) -> Written:
    document = normalize(body, resource_type)
    members = members_of(body) if resource_type is GROUP else []
    model = query.MODELS[resource_type.name]
    row = model(organization_id=organization_id, document=document)
    with db.session.no_autoflush:
        _store_document(row, document)
    db.session.add(row)
    _flush_unique(row)  # a new row: the unique index alone tells a duplicate, with no query first
    change = Change("create", resource_type.name, row.id, _label(row))
    memberships = _apply_member_changes(row, [MemberChange("add", tuple(members))], change, max_members) \
        if members else 0
    # A new user is in no group yet: no query for its groups.
    written = Written(serialize([row], resource_type, base_url, Expand(groups=False))[0], change)
    directory_counts_add(organization_id=organization_id, change=counts.created(row, memberships=memberships))
    _record_events(row, change)
    return written


@writes
def resource_replace(
    organization_id: int,
    resource_type: ResourceType,
    scim_id: str,
    body: object,
    *,
    base_url: str,
    if_match: str | None,
    max_members: int,
) -> Written:
    """PUT (RFC 7644 §3.5.1): the body replaces every writable attribute, a group's members too:
    members left out of the body are removed."""
    row = _get(organization_id, resource_type, scim_id, lock=True)
    check_version(row.version, if_match)
    document = normalize(body, resource_type)
    change = _update_document(row, document)
    members = members_of(body) if resource_type is GROUP else None
    had_members = counts.has_members(row) if members is not None else None
    memberships = _apply_member_changes(row, [MemberChange("replace", tuple(members))], change, max_members) \
        if members is not None else 0
    _touch(row)
    written = Written(serialize([row], resource_type, base_url, Expand())[0], change)
    directory_counts_add(organization_id=organization_id, change=counts.updated(
        row, operation=change.operation, had_members=had_members, memberships=memberships))
    _record_events(row, change)
    return written


@writes
def resource_patch(
    organization_id: int,
    resource_type: ResourceType,
    scim_id: str,
    operations: list[PatchOperation],
    *,
    base_url: str,
    if_match: str | None,
    max_members: int,
    expand: Expand | None,
) -> Written:
    """PATCH (RFC 7644 §3.5.2), atomic: any failing operation rolls back all of them. Group
    members are rows, so membership changes cost the size of the batch, not of the group.
    `expand` None: the caller returns no body, and none is built."""
    row = _get(organization_id, resource_type, scim_id, lock=True)
    check_version(row.version, if_match)
    document, member_changes = apply_patch(
        row.document, operations, resource_type,
        served=lambda: serialize([row], resource_type, base_url, Expand(members=False))[0],
    )
    change = _update_document(row, document)
    had_members = counts.has_members(row) if member_changes else None
    memberships = _apply_member_changes(row, member_changes, change, max_members)
    if not change.changed and (change.members_added or change.members_removed):
        change.operation, change.changed = "members", True
    if change.changed:
        _touch(row)
    resource = None if expand is None else serialize([row], resource_type, base_url, expand)[0]
    directory_counts_add(organization_id=organization_id, change=counts.updated(
        row, operation=change.operation, had_members=had_members, memberships=memberships))
    _record_events(row, change)
    return Written(resource, change)


@writes
def resource_delete(
    organization_id: int, resource_type: ResourceType, scim_id: str, *, if_match: str | None
) -> Change:
    """RFC 7644 §3.6: afterwards the resource is gone everywhere; its memberships and emails go
    with it (ON DELETE CASCADE), and its userName / displayName is free again."""
    if resource_type is USER:  # its groups first, then the user, as group writes take them
        counts.lock_groups_of(_get(organization_id, resource_type, scim_id))
    row = _get(organization_id, resource_type, scim_id, lock=True)
    check_version(row.version, if_match)
    change = Change("delete", resource_type.name, row.id, _label(row))
    removed = counts.removed(row)
    described = _events_of(row, change)  # the resource as it was, with its groups
    model = type(row)
    db.session.execute(delete(model).where(model.pk == row.pk))
    directory_counts_add(organization_id=organization_id, change=removed)
    events.append(organization_id, described)
    return change


# -- documents and columns -------------------------------------------------------------------


def _store_document(row: Row, document: dict) -> None:
    """Copy the queried attributes of the document into their indexed columns."""
    row.document = document
    if isinstance(row, User):
        row.user_name = document["userName"]
        row.user_name_key = row.user_name.lower()
        row.display_name = document.get("displayName")
        row.display_name_key = row.display_name.lower() if row.display_name else None
        row.active = document.get("active", True)
        row.manager_id = manager_id(document)
        row.emails = [
            UserEmail(
                organization_id=row.organization_id,
                value_key=str(email["value"]).lower(),
                type_key=str(email["type"]).lower() if email.get("type") else None,
            )
            for email in document.get("emails", [])
            if email.get("value")
        ]
    else:
        row.display_name = document["displayName"]
        row.display_name_key = row.display_name.lower()
    row.external_id = document.get("externalId")
    _check_lengths(row)


def _check_lengths(row: Row) -> None:
    """Indexed values must fit a PostgreSQL btree entry (at most 2704 bytes): MAX_INDEXED_LENGTH
    characters of at most 4 UTF-8 bytes do, on every database alike."""
    indexed = {"externalId": row.external_id, "displayName": row.display_name_key}
    if isinstance(row, User):
        indexed["userName"] = row.user_name_key
        indexed["emails.value"] = max((email.value_key for email in row.emails), key=len, default=None)
        if row.manager_id is not None and len(row.manager_id) > ID_LENGTH:
            raise InvalidValue("manager.value must be the id of a user")
    for name, value in indexed.items():
        if value is not None and len(value) > MAX_INDEXED_LENGTH:
            raise InvalidValue(f"{name} must not be longer than {MAX_INDEXED_LENGTH} characters")


def _update_document(row: Row, document: dict) -> Change:
    """Store a new document; an unchanged one (Entra repeats values it already sent) is a no-op."""
    change = Change("update", _resource_type(row).name, row.id, _label(row), changed=False, document_changed=False)
    if document != row.document:
        was_active = row.active if isinstance(row, User) else None
        with db.session.no_autoflush:  # write nothing until uniqueness is checked
            _store_document(row, document)
            _check_unique(row)
        _flush_unique(row)
        change.changed = change.document_changed = True
        change.label = _label(row)
        if isinstance(row, User) and was_active != row.active:
            change.operation = "enable" if row.active else "disable"
    return change


def _record_events(row: Row, change: Change) -> None:
    # The write's last step, after its directory counts: the two rows every write of the
    # organization locks, always in this order (storage.events.append).
    events.append(row.organization_id, _events_of(row, change))


def _events_of(row: Row, change: Change) -> list[tuple[str, str]]:
    return events.describe(
        row,
        operation=change.operation,
        document_changed=change.document_changed,
        users_added=change.users_added,
        users_removed=change.users_removed,
    )


def _touch(row: Row) -> None:
    row.version += 1
    row.updated_at = utcnow()


def _check_unique(row: Row) -> None:
    """RFC 7643 §4.1 userName and (Entra, ENTRA.md §1.2) group displayName are unique per
    organization, case-insensitively."""
    model = type(row)
    key_column = model.user_name_key if isinstance(row, User) else model.display_name_key
    key = row.user_name_key if isinstance(row, User) else row.display_name_key
    statement = select(model.id).where(model.organization_id == row.organization_id, key_column == key)
    if row.pk is not None:
        statement = statement.where(model.pk != row.pk)
    if db.session.execute(statement).first():
        raise Uniqueness(_uniqueness_detail(row))


def _flush_unique(row: Row) -> None:
    # The unique index decides between concurrent writers (both may pass _check_unique).
    try:
        db.session.flush()
    except IntegrityError:
        raise Uniqueness(_uniqueness_detail(row)) from None


def _uniqueness_detail(row: Row) -> str:
    if isinstance(row, User):
        return f"a user with userName {row.user_name!r} already exists"
    return f"a group with displayName {row.display_name!r} already exists"


def _label(row: Row) -> str:
    return row.user_name if isinstance(row, User) else row.display_name


def _resource_type(row: Row) -> ResourceType:
    return resource_type_of(type(row))


# -- members ---------------------------------------------------------------------------------


def _apply_member_changes(group: Group, changes: list[MemberChange], change: Change, max_members: int) -> int:
    """Apply the changes to the group's members and note them in `change`; returns the users
    added as members less those removed (directory counts)."""
    users = 0
    for member_change in changes:
        if len(member_change.ids) > max_members:
            raise TooMany(f"at most {max_members} members can be changed in one request")
        if member_change.kind in ("remove_all", "replace"):
            change.members_cleared = True
            users -= _note_removed(change, members_remove_all(group))
        if member_change.kind in ("add", "replace"):
            users += _note_added(change, members_add(group, member_change.ids))
        if member_change.kind == "remove":
            users -= _note_removed(change, members_remove(group, member_change.ids))
    return users


def _note_added(change: Change, added: dict[type, list[int]]) -> int:
    """How many users became members."""
    change.members_added += sum(map(len, added.values()))
    users = set(added[User])
    change.users_added |= users - change.users_removed
    change.users_removed -= users  # removed earlier in the request, added again: it stayed
    return len(added[User])


def _note_removed(change: Change, removed: dict[type, list[int]]) -> int:
    """How many users stopped being members."""
    change.members_removed += sum(map(len, removed.values()))
    users = set(removed[User])
    change.users_removed |= users - change.users_added
    change.users_added -= users  # added earlier in the request, removed again: never joined
    return len(removed[User])
