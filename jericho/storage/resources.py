"""All SCIM persistence: SCIM documents to rows and back, one transaction per write.

The only module where SCIM documents meet the ORM. Views pass plain documents and parsed
requests; this module checks uniqueness and versions, applies changes, keeps the indexed columns
in step with the document, and serialises rows into SCIM resources. Every function takes the
organization explicitly: nothing here can see another organization's rows.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterable

from sqlalchemy import bindparam, delete, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError

from . import events, filters as query
from .database import chunks, writes
from ..extensions import db
from .models import Group, Membership, NestedGroup, User, UserEmail, utcnow
from ..scim.errors import InvalidValue, NotFound, PreconditionFailed, TooMany, Uniqueness
from ..scim.filter import Expr
from ..scim.patch import MemberChange, PatchOperation, apply_patch
from ..scim.paths import AttrPath
from ..scim.resources import members_of, normalize, to_resource
from ..scim.schema import ENTERPRISE_USER_URN, GROUP, USER, ResourceType

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


@dataclass(frozen=True)
class Expand:
    """Attributes that cost extra queries, loaded only when the response returns them."""

    members: bool = True  # a group's members
    groups: bool = True  # a user's groups


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
    rows = list(db.session.execute(
        select(model)
        .where(condition)
        .order_by(*query.order_by(search.sort_by, search.descending, resource_type, dialect))
        .offset(search.start_index - 1)
        .limit(search.count)
    ).scalars()) if search.count > 0 else []
    # RFC 7644 §3.4.2.4: totalResults counts every match, not just this page. A page that is not
    # full and does not start past the end already tells it, so Entra's lookups cost one query.
    if len(rows) < search.count and (rows or search.start_index == 1):
        total = search.start_index - 1 + len(rows)
    else:
        total = db.session.execute(select(func.count()).select_from(model).where(condition)).scalar_one()
    return Page(_serialize(rows, resource_type, base_url, expand), total)


def resource_read(
    organization_id: int, resource_type: ResourceType, scim_id: str, *, base_url: str, expand: Expand
) -> dict:
    row = _get(organization_id, resource_type, scim_id)
    return _serialize([row], resource_type, base_url, expand)[0]


def _get(organization_id: int, resource_type: ResourceType, scim_id: str, *, lock: bool = False) -> Row:
    model = query.MODELS[resource_type.name]
    if "\x00" in scim_id:  # matches no id, and PostgreSQL refuses NUL in a query parameter
        raise NotFound(f"{resource_type.name} {scim_id!r} not found")
    statement = select(model).where(model.organization_id == organization_id, model.id == scim_id)
    if lock:  # concurrent writers of one resource queue here (PostgreSQL; SQLite has one writer)
        statement = statement.with_for_update()
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
    members = members_of(body) if resource_type is GROUP else None
    model = query.MODELS[resource_type.name]
    row = model(organization_id=organization_id, document=document)
    with db.session.no_autoflush:
        _store_document(row, document)
    db.session.add(row)
    _flush_unique(row)  # a new row: the unique index alone tells a duplicate, with no query first
    change = Change("create", resource_type.name, row.id, _label(row))
    if members:
        _apply_member_changes(row, [MemberChange("add", tuple(members))], change, max_members)
    # A new user is in no group yet: no query for its groups.
    resource = _serialize([row], resource_type, base_url, Expand(groups=False))[0]
    _record_events(row, change)
    return Written(resource, change)


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
    """PUT (RFC 7644 §3.5.1): the body replaces every writable attribute."""
    row = _get(organization_id, resource_type, scim_id, lock=True)
    check_version(row.version, if_match)
    document = normalize(body, resource_type)
    change = _update_document(row, document)
    members = members_of(body) if resource_type is GROUP else None
    if members is not None:
        _apply_member_changes(row, [MemberChange("replace", tuple(members))], change, max_members)
    _touch(row)
    resource = _serialize([row], resource_type, base_url, Expand())[0]
    _record_events(row, change)
    return Written(resource, change)


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
    document, member_changes = apply_patch(row.document, operations, resource_type)
    change = _update_document(row, document)
    _apply_member_changes(row, member_changes, change, max_members)
    if not change.changed and (change.members_added or change.members_removed):
        change.operation, change.changed = "members", True
    if change.changed:
        _touch(row)
    resource = None if expand is None else _serialize([row], resource_type, base_url, expand)[0]
    _record_events(row, change)
    return Written(resource, change)


@writes
def resource_delete(
    organization_id: int, resource_type: ResourceType, scim_id: str, *, if_match: str | None
) -> Change:
    """RFC 7644 §3.6: afterwards the resource is gone everywhere; its memberships and emails go
    with it (ON DELETE CASCADE), and its userName / displayName is free again."""
    row = _get(organization_id, resource_type, scim_id, lock=True)
    check_version(row.version, if_match)
    change = Change("delete", resource_type.name, row.id, _label(row))
    _record_events(row, change)  # the resource as it was, with its groups
    model = type(row)
    db.session.execute(delete(model).where(model.pk == row.pk))
    return change


# -- versions (RFC 7644 §3.14) ---------------------------------------------------------------


def check_version(version: int, if_match: str | None) -> None:
    if if_match is None or if_match.strip() == "*":
        return
    if version not in _versions(if_match):
        raise PreconditionFailed(f'the resource has changed; its current version is W/"{version}"')


def version_matches(etag: str, if_none_match: str | None) -> bool:
    """Whether `If-None-Match` names the resource's ETag (`meta.version`)."""
    return bool(if_none_match) and (if_none_match.strip() == "*" or bool(_versions(etag) & _versions(if_none_match)))


def _versions(header: str) -> set[int]:
    versions = set()
    for tag in header.split(","):
        tag = tag.strip().removeprefix("W/").strip('"')
        # ASCII digits only, and few enough for int(): headers are client input.
        if tag.isascii() and tag.isdigit() and len(tag) <= 18:
            versions.add(int(tag))
    return versions


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
        manager = document.get(ENTERPRISE_USER_URN, {}).get("manager") or {}
        row.manager_id = manager.get("value")
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
    # The write's last step: the organization's event counter stays locked from here to the commit.
    events.record(
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
    return _resource_type_of(type(row))


def _resource_type_of(model: type[User] | type[Group]) -> ResourceType:
    return USER if model is User else GROUP


# -- members ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class _MemberKind:
    """Users and groups can both be members (RFC 7643 §4.2 members.type); each has its table."""

    model: type[User] | type[Group]
    link: type[Membership] | type[NestedGroup]
    column: str  # the link's column naming the member
    type: str  # members.type


_MEMBER_KINDS = (
    _MemberKind(User, Membership, "user_pk", "User"),
    _MemberKind(Group, NestedGroup, "member_group_pk", "Group"),
)


def _apply_member_changes(group: Group, changes: list[MemberChange], change: Change, max_members: int) -> None:
    for member_change in changes:
        if len(member_change.ids) > max_members:
            raise TooMany(f"at most {max_members} members can be changed in one request")
        if member_change.kind in ("remove_all", "replace"):
            change.members_cleared = True
            _note_removed(change, _remove_all_members(group))
        if member_change.kind in ("add", "replace"):
            _note_added(change, _add_members(group, member_change.ids))
        if member_change.kind == "remove":
            _note_removed(change, _remove_members(group, member_change.ids))


def _note_added(change: Change, added: dict[type, list[int]]) -> None:
    change.members_added += sum(map(len, added.values()))
    users = set(added[User])
    change.users_added |= users - change.users_removed
    change.users_removed -= users  # removed earlier in the request, added again: it stayed


def _note_removed(change: Change, removed: dict[type, list[int]]) -> None:
    change.members_removed += sum(map(len, removed.values()))
    users = set(removed[User])
    change.users_removed |= users - change.users_added
    change.users_added -= users  # added earlier in the request, removed again: never joined


def _add_members(group: Group, ids: Iterable[str]) -> dict[type, list[int]]:
    """The members added, by model (those that were members already are not)."""
    members = _member_pks(group.organization_id, ids, required=True)
    if group.pk in members[Group]:
        raise InvalidValue(f"group {group.id} cannot be a member of itself")
    added: dict[type, list[int]] = {}
    for kind in _MEMBER_KINDS:
        column = getattr(kind.link, kind.column)
        added[kind.model] = []
        for chunk in chunks(members[kind.model]):
            # Existing members are skipped by the primary key, one probe per row; only the new
            # rows come back. (A separate "which are members already" query lets PostgreSQL,
            # before its statistics exist, read every member of the group.)
            rows = [{"group_pk": group.pk, kind.column: pk, "created_at": utcnow()} for pk in chunk]
            added[kind.model] += db.session.execute(
                _insert_ignoring_duplicates(kind.link).returning(column), rows
            ).scalars()
    return added


def _remove_members(group: Group, ids: Iterable[str]) -> dict[type, list[int]]:
    """The members removed, by model."""
    # Removing a member that is not there (or no longer exists) is a no-op: Entra retries.
    members = _member_pks(group.organization_id, ids, required=False)
    removed: dict[type, list[int]] = {}
    for kind in _MEMBER_KINDS:
        column = getattr(kind.link, kind.column)
        removed[kind.model] = []
        for chunk in chunks(members[kind.model]):
            removed[kind.model] += db.session.execute(
                delete(kind.link).where(kind.link.group_pk == group.pk, column.in_(chunk)).returning(column)
            ).scalars()
    return removed


def _remove_all_members(group: Group) -> dict[type, list[int]]:
    removed = {}
    for kind in _MEMBER_KINDS:
        column = getattr(kind.link, kind.column)
        removed[kind.model] = list(db.session.execute(
            delete(kind.link).where(kind.link.group_pk == group.pk).returning(column)
        ).scalars())
    return removed


def _member_pks(organization_id: int, ids: Iterable[str], *, required: bool) -> dict[type, list[int]]:
    """The primary keys of the users and groups with these ids, by model."""
    wanted = list(dict.fromkeys(ids))
    found: dict[type, dict[str, int]] = {}
    remaining = wanted
    for kind in _MEMBER_KINDS:
        found[kind.model] = {}
        for chunk in chunks(remaining):
            statement = select(kind.model.id, kind.model.pk).where(
                query.with_ids(kind.model, organization_id, chunk)
            )
            if required:
                # Resources about to become members are locked against deletion until this write
                # commits, so a concurrent DELETE either commits first (and the id is missing here)
                # or waits; without it, the link insert would fail its foreign key (PostgreSQL;
                # SQLite has one writer).
                statement = statement.with_for_update(read=True, key_share=True)
            found[kind.model].update(db.session.execute(statement).all())
        remaining = [member_id for member_id in remaining if member_id not in found[kind.model]]
    if required and remaining:
        shown = ", ".join(remaining[:5]) + (f" and {len(remaining) - 5} more" if len(remaining) > 5 else "")
        raise InvalidValue(
            f"no user or group with id {shown} in this organization; members must exist before they are added"
        )
    return {model: list(pks.values()) for model, pks in found.items()}


def _insert_ignoring_duplicates(model):
    dialect = postgresql if db.engine.dialect.name == "postgresql" else sqlite
    return dialect.insert(model).on_conflict_do_nothing()


# -- serialisation ---------------------------------------------------------------------------


def _serialize(rows: list[Row], resource_type: ResourceType, base_url: str, expand: Expand) -> list[dict]:
    """Rows to SCIM resources, with the attributes that live in other rows loaded in one query
    per page (never one per row)."""
    endpoint = f"{base_url}{resource_type.endpoint}"
    if resource_type is USER:
        managers = _managers(rows)
        groups = _groups_of(rows, base_url) if expand.groups else {}
    else:
        members = _members_of(rows, base_url) if expand.members else {}
    resources = []
    for row in rows:
        resource = to_resource(
            row.document,
            id=row.id,
            resource_type=resource_type,
            created=row.created_at,
            last_modified=row.updated_at,
            version=row.version,
            location=f"{endpoint}/{row.id}",
        )
        if resource_type is USER:
            _link_manager(resource, managers, base_url)
            if groups.get(row.pk):
                resource["groups"] = groups[row.pk]
        elif members.get(row.pk):
            resource["members"] = members[row.pk]
        resources.append(resource)
    return resources


def _managers(rows: list[User]) -> dict[str, User]:
    ids = {row.manager_id for row in rows if row.manager_id}
    if not ids:
        return {}
    organization_id = rows[0].organization_id
    found = db.session.execute(
        select(User).where(query.with_ids(User, organization_id, ids))
    ).scalars()
    return {user.id: user for user in found}


def _link_manager(resource: dict, managers: dict[str, User], base_url: str) -> None:
    # RFC 7643 §4.3; Entra reads the manager back as an object (ENTRA.md §8 #4).
    extension = resource.get(ENTERPRISE_USER_URN)
    manager_id = (extension or {}).get("manager", {}).get("value")
    manager = managers.get(manager_id)
    if manager is not None:
        extension["manager"] = {
            "value": manager.id,
            "$ref": f"{base_url}/Users/{manager.id}",
            "displayName": manager.display_name or manager.user_name,
        }


# Built once: it runs on every user Entra looks up.
_GROUPS_OF_USERS = (
    select(Membership.user_pk, Group.id, Group.display_name)
    .join(Group, Group.pk == Membership.group_pk)
    .where(Membership.user_pk.in_(bindparam("user_pks", expanding=True)))
    .order_by(Group.display_name_key)
)


def _groups_of(rows: list[User], base_url: str) -> dict[int, list[dict]]:
    """A user's direct groups (RFC 7643 §4.1.2 `groups`, read-only)."""
    by_user: dict[int, list[dict]] = {}
    for chunk in chunks([row.pk for row in rows]):
        for user_pk, group_id, display_name in db.session.execute(_GROUPS_OF_USERS, {"user_pks": chunk}):
            by_user.setdefault(user_pk, []).append(
                {"value": group_id, "$ref": f"{base_url}/Groups/{group_id}", "display": display_name, "type": "direct"}
            )
    return by_user


def _members_of(rows: list[Group], base_url: str) -> dict[int, list[dict]]:
    by_group: dict[int, list[dict]] = {}
    for kind in _MEMBER_KINDS:
        member = kind.model
        column = getattr(kind.link, kind.column)
        display = member.display_name if member is Group else func.coalesce(User.display_name, User.user_name)
        for chunk in chunks([row.pk for row in rows]):
            for group_pk, member_id, member_display in db.session.execute(
                select(kind.link.group_pk, member.id, display)
                .join(member, member.pk == column)
                .where(kind.link.group_pk.in_(chunk))
                .order_by(kind.link.group_pk, member.pk)
            ):
                by_group.setdefault(group_pk, []).append(
                    {
                        "value": member_id,
                        "$ref": f"{base_url}{_resource_type_of(member).endpoint}/{member_id}",
                        "type": kind.type,
                        "display": member_display,
                    }
                )
    return by_group
