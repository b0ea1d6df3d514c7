"""SCIM filters and sorting (RFC 7644 §3.4.2.2, §3.4.2.3) as SQL, evaluated by the database.

The attributes that clients match on — id, externalId, userName, displayName, emails.value,
manager, members, groups, active, meta.created/lastModified — live in indexed columns and tables
(see models.py), so Entra's queries are index lookups. Every other attribute is read from the
stored JSON document with the database's JSON functions; multi-valued attributes become an
EXISTS over their elements. The semantics match `scim.matching.matches`: a comparison on an
unassigned attribute is false (also under `not`), case-insensitive attributes compare lower-cased.
"""
from __future__ import annotations

import operator
from dataclasses import dataclass
from typing import Any, Callable

from sqlalchemy import Integer, Numeric, and_, cast, exists, false, func, literal, not_, or_, select, true
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import aliased
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.functions import FunctionElement

from ..scim.errors import InvalidFilter, InvalidValue
from ..scim.filter import And, Comparison, Expr, Not, Or, Present, ValueFilter
from ..scim.paths import AttrPath
from ..scim.schema import GROUP, USER, Attribute, ResourceType
from .models import Group, Membership, NestedGroup, User, UserEmail

Model = type[User] | type[Group]


@dataclass(frozen=True)
class Column:
    """An attribute kept in a column: `folded` columns hold the lower-cased value."""

    column: Any
    folded: bool = False
    nullable: bool = True


def _columns(model: Model) -> dict[tuple[str, str | None], Column]:
    common = {
        ("id", None): Column(model.id, nullable=False),
        ("externalId", None): Column(model.external_id),
        ("meta", "created"): Column(model.created_at, nullable=False),
        ("meta", "lastModified"): Column(model.updated_at, nullable=False),
    }
    if model is User:
        return common | {
            ("userName", None): Column(User.user_name_key, folded=True, nullable=False),
            ("displayName", None): Column(User.display_name_key, folded=True),
            ("active", None): Column(User.active, nullable=False),
            ("manager", "value"): Column(User.manager_id),
        }
    return common | {("displayName", None): Column(Group.display_name_key, folded=True, nullable=False)}


COLUMNS = {USER.name: _columns(User), GROUP.name: _columns(Group)}
MODELS: dict[str, Model] = {USER.name: User, GROUP.name: Group}


# Attributes kept in indexed tables of their own (`_Translator._special`).
TABLES = {
    USER.name: {("emails", "value"), ("emails", "type"), ("groups", None), ("groups", "value")},
    GROUP.name: {("members", None), ("members", "value")},
}


def indexed_attributes(resource_type: ResourceType) -> frozenset[tuple[str, str | None]]:
    """The (attribute, sub-attribute) names answered from indexed columns and tables, for
    `scim.filter_cost`."""
    return frozenset(COLUMNS[resource_type.name]) | TABLES[resource_type.name]


def with_ids(model: Model, organization_id: int, ids) -> ColumnElement:
    """The organization's resources with these SCIM ids. The tenant condition is written so that
    no index serves it: otherwise SQLite (no statistics until ANALYZE) walks an
    (organization_id, ...) index through every row of the organization instead of looking each
    id up in its unique index."""
    return and_(model.organization_id + 0 == organization_id, model.id.in_(ids))


def where_clause(expr: Expr | None, resource_type: ResourceType, dialect: str) -> ColumnElement:
    """The SQL condition for a filter already resolved with `scim.filter.resolve_filter`."""
    if expr is None:
        return true()
    return _Translator(resource_type, dialect).translate(expr)


def order_by(path: AttrPath | None, descending: bool, resource_type: ResourceType, dialect: str) -> list:
    """RFC 7644 §3.4.2.3. Without sortBy, creation order; ties are broken by the primary key so
    pages never overlap. Resources without the attribute sort last."""
    model = MODELS[resource_type.name]
    if path is None:
        return [model.created_at, model.pk]
    urn, attribute, sub = resource_type.resolve(path)
    column = COLUMNS[resource_type.name].get((attribute.name, sub.name if sub else None))
    if column is not None:
        key = column.column
    elif attribute.type == "complex" and sub is None:
        raise InvalidValue(f"cannot sort by the complex attribute '{path}'")
    else:
        # A multi-valued attribute sorts by its first value (clients list the primary first).
        keys = _document_keys(resource_type, urn, attribute) + ([0] if attribute.multi_valued else [])
        keys += [sub.name] if sub else []
        key = _Json.for_dialect(dialect).text(model.document, keys)
    ordered = key.desc() if descending else key.asc()
    return [ordered.nulls_last(), model.pk]


def _document_keys(resource_type: ResourceType, urn: str, attribute: Attribute) -> list:
    # Extension attributes are stored under their schema URN (RFC 7643 §3.3).
    return [attribute.name] if urn == resource_type.schema.id else [urn, attribute.name]


class _Json:
    """Reading the JSON document on each database."""

    @staticmethod
    def for_dialect(dialect: str) -> _Json:
        return _PostgresJson() if dialect == "postgresql" else _SqliteJson()

    def text(self, document, keys: list) -> ColumnElement: ...
    def typed(self, document, keys: list, attribute: Attribute) -> ColumnElement: ...
    def boolean(self, value: bool) -> Any: ...
    def elements(self, document, keys: list): ...
    def element_value(self, element, key: str | None, attribute: Attribute) -> ColumnElement: ...


class _SqliteJson(_Json):
    @staticmethod
    def _path(keys: list) -> str:
        return "$" + "".join(f"[{key}]" if isinstance(key, int) else '."' + key + '"' for key in keys)

    def text(self, document, keys):
        return func.json_extract(document, self._path(keys))

    def typed(self, document, keys, attribute):
        # json_extract returns SQL values: text, numbers, and 1/0 for true/false.
        return func.json_extract(document, self._path(keys))

    def boolean(self, value):
        return 1 if value else 0

    def elements(self, document, keys):
        table = func.json_each(document, self._path(keys)).table_valued("value", "type")
        return table, table.c.value

    def element_value(self, element, key, attribute):
        return element if key is None else func.json_extract(element, self._path([key]))


class _PostgresJson(_Json):
    def text(self, document, keys):
        return func.jsonb_extract_path_text(document, *[str(key) for key in keys])

    def typed(self, document, keys, attribute):
        return _postgres_typed(self.text(document, keys), attribute)

    def boolean(self, value):
        return "true" if value else "false"  # compared with the value as text

    def elements(self, document, keys):
        table = func.jsonb_array_elements(
            func.coalesce(func.jsonb_extract_path(document, *keys), literal("[]").cast(JSONB()))
        ).table_valued("value")
        return table, table.c.value

    def element_value(self, element, key, attribute):
        if key is None:
            return _postgres_typed(func.jsonb_build_array(element).op("->>")(0), attribute)
        return _postgres_typed(func.jsonb_extract_path_text(element, key), attribute)


def _postgres_typed(text_value, attribute: Attribute) -> ColumnElement:
    if attribute.type in ("integer", "decimal"):
        return cast(text_value, Numeric)
    return text_value


class _Logic:
    """The boolean structure of a filter; subclasses translate its leaves."""

    def translate(self, expr: Expr) -> ColumnElement:
        if isinstance(expr, And):
            return and_(self.translate(expr.left), self.translate(expr.right))
        if isinstance(expr, Or):
            return or_(self.translate(expr.left), self.translate(expr.right))
        if isinstance(expr, Not):
            return not_(self.translate(expr.expr))
        if isinstance(expr, ValueFilter):
            return self._value_filter(expr)
        return self._leaf(expr)

    def _value_filter(self, expr: ValueFilter) -> ColumnElement:
        raise InvalidFilter("value filters cannot be nested")

    def _leaf(self, expr: Comparison | Present) -> ColumnElement:
        raise NotImplementedError


class _Translator(_Logic):
    def __init__(self, resource_type: ResourceType, dialect: str) -> None:
        self.resource_type = resource_type
        self.model = MODELS[resource_type.name]
        self.columns = COLUMNS[resource_type.name]
        self.json = _Json.for_dialect(dialect)

    # -- leaves: a comparison or `pr` on one attribute path --------------------------------------

    def _leaf(self, expr: Comparison | Present) -> ColumnElement:
        path = expr.path
        urn, attribute, sub = self.resource_type.resolve(path)
        key = (attribute.name, sub.name if sub else None)
        if key in self.columns:
            return self._on_column(expr, self.columns[key], sub or attribute)
        special = self._special(attribute, sub)
        if special is not None:
            return special(expr)
        if attribute.name == "schemas":
            return self._schemas(expr)
        if attribute.name == "meta" or (attribute.mutability == "readOnly" and attribute.name != "groups"):
            raise InvalidFilter(f"filtering on '{path}' is not supported")
        return self._on_document(expr, urn, attribute, sub)

    def _on_column(self, expr, column: Column, attribute: Attribute) -> ColumnElement:
        if isinstance(expr, Present):
            return column.column.isnot(None)
        condition = _compare(column.column, expr.op, _literal(expr.value, attribute, column.folded), attribute,
                             folded=column.folded)
        return and_(column.column.isnot(None), condition) if column.nullable else condition

    def _special(self, attribute: Attribute, sub: Attribute | None) -> Callable | None:
        """Attributes kept in tables of their own."""
        name, sub_name = attribute.name, sub.name if sub else None
        if self.model is User and name == "emails" and sub_name in ("value", "type"):
            return lambda expr: self._emails(_relative(expr, sub_name))
        if self.model is User and name == "groups" and sub_name in (None, "value"):
            return self._groups
        if self.model is Group and name == "members":
            if sub_name not in (None, "value"):
                raise InvalidFilter("members can be filtered by their value (the member's id) only")
            return self._members
        if self.model is User and name == "manager":
            raise InvalidFilter("manager can be filtered by its value (the manager's id) only")
        return None

    def _emails(self, inner: Expr) -> ColumnElement:
        condition = _EmailTranslator().translate(inner)
        return exists().where(UserEmail.user_pk == User.pk, condition)

    def _groups(self, expr) -> ColumnElement:
        membership = select(Membership.user_pk).join(Group, Group.pk == Membership.group_pk)
        membership = membership.where(Membership.user_pk == User.pk)
        if isinstance(expr, Comparison):
            membership = membership.where(_compare(Group.id, expr.op, expr.value, _STRING_EXACT))
        return exists(membership)

    def _members(self, expr) -> ColumnElement:
        # Members are users (memberships) or groups (nested_groups).
        member_group = aliased(Group)
        users = select(Membership.group_pk).where(Membership.group_pk == Group.pk)
        groups = select(NestedGroup.group_pk).where(NestedGroup.group_pk == Group.pk)
        if isinstance(expr, Comparison):
            users = users.join(User, User.pk == Membership.user_pk).where(
                _compare(User.id, expr.op, expr.value, _STRING_EXACT)
            )
            groups = groups.join(member_group, member_group.pk == NestedGroup.member_group_pk).where(
                _compare(member_group.id, expr.op, expr.value, _STRING_EXACT)
            )
        return or_(exists(users), exists(groups))

    def _schemas(self, expr) -> ColumnElement:
        # The core schema is always present; an extension is present when its attributes are.
        if isinstance(expr, Present):
            return true()
        if expr.op not in ("eq", "ne"):
            raise InvalidFilter("schemas can be compared with eq and ne only")
        value = str(expr.value).lower()
        if value == self.resource_type.schema.id.lower():
            found = true()
        else:
            extension = next((e for e in self.resource_type.extensions if e.id.lower() == value), None)
            found = self.json.text(self.model.document, [extension.id]).isnot(None) if extension else false()
        return found if expr.op == "eq" else not_(found)

    def _on_document(self, expr, urn: str, attribute: Attribute, sub: Attribute | None) -> ColumnElement:
        keys = _document_keys(self.resource_type, urn, attribute)
        if attribute.multi_valued:
            relative = _relative(expr, sub.name if sub else None)
            return self._any_element(keys, attribute, relative)
        keys += [sub.name] if sub else []
        target = sub or attribute
        if isinstance(expr, Present):
            return _present(self.json.text(self.model.document, keys))
        value = self.json.typed(self.model.document, keys, target)
        condition = _compare(value, expr.op, _literal(expr.value, target, False, self.json), target)
        return and_(value.isnot(None), condition)

    def _value_filter(self, expr: ValueFilter) -> ColumnElement:
        urn, attribute, _ = self.resource_type.resolve(expr.path)
        if self.model is User and attribute.name == "emails" and _only_subs(expr.filter, {"value", "type"}):
            return self._emails(expr.filter)
        special = self._special(attribute, None)
        if special is not None and attribute.name != "emails":
            raise InvalidFilter(f"'{attribute.name}[...]' filters are not supported; compare its value")
        return self._any_element(_document_keys(self.resource_type, urn, attribute), attribute, expr.filter)

    def _any_element(self, keys: list, attribute: Attribute, inner: Expr) -> ColumnElement:
        table, element = self.json.elements(self.model.document, keys)
        condition = _ElementTranslator(attribute, element, self.json).translate(inner)
        return exists(select(literal(1)).select_from(table).where(condition))


class _ElementTranslator(_Logic):
    """A filter on the elements of one multi-valued attribute (paths are sub-attribute names; an
    empty name means the element itself)."""

    def __init__(self, attribute: Attribute, element, json: _Json) -> None:
        self.attribute, self.element, self.json = attribute, element, json

    def _leaf(self, expr: Comparison | Present) -> ColumnElement:
        name = expr.path.name if expr.path.name != "" else None
        target = (self.attribute.sub(name) if name else None) or self.attribute
        value = self.json.element_value(self.element, name if name else None, target)
        if isinstance(expr, Present):
            return _present(value)
        literal_value = _literal(expr.value, target, False, self.json)
        return and_(value.isnot(None), _compare(value, expr.op, literal_value, target))


class _EmailTranslator(_Logic):
    """A filter on `emails` value/type, answered from the indexed user_emails table."""

    COLUMNS = {"value": UserEmail.value_key, "type": UserEmail.type_key}

    def _leaf(self, expr: Comparison | Present) -> ColumnElement:
        column = self.COLUMNS[expr.path.name]
        if isinstance(expr, Present):
            return column.isnot(None)
        return and_(column.isnot(None), _compare(column, expr.op, str(expr.value).lower(), _STRING, folded=True))


_STRING = Attribute("value", "string")
_STRING_EXACT = Attribute("value", "string", case_exact=True)


def _relative(expr: Comparison | Present, sub_name: str | None) -> Comparison | Present:
    """`emails.value eq x` as the element filter `value eq x` (`""` names the element itself)."""
    path = AttrPath(None, sub_name or "")
    return Comparison(path, expr.op, expr.value) if isinstance(expr, Comparison) else Present(path)


def _only_subs(expr: Expr, names: set[str]) -> bool:
    if isinstance(expr, (And, Or)):
        return _only_subs(expr.left, names) and _only_subs(expr.right, names)
    if isinstance(expr, Not):
        return _only_subs(expr.expr, names)
    return isinstance(expr, (Comparison, Present)) and expr.path.name in names


def _literal(value: Any, attribute: Attribute, folded: bool, json: _Json | None = None) -> Any:
    """The comparison value as the database sees it (`json`: compared with a JSON value)."""
    if attribute.type == "boolean" and json is not None:
        return json.boolean(value)
    if isinstance(value, str) and (folded or not attribute.case_exact):
        return value.lower()
    return value


def _present(value: ColumnElement) -> ColumnElement:
    # RFC 7644 §3.4.2.2 "pr": has a non-empty value (empty strings, arrays and objects are not;
    # both databases return arrays and objects as JSON text here).
    return and_(value.isnot(None), value.not_in(("", "[]", "{}")))


_OPERATORS = {
    "eq": operator.eq, "ne": operator.ne, "gt": operator.gt, "ge": operator.ge, "lt": operator.lt, "le": operator.le,
}


def _compare(column, op: str, value: Any, attribute: Attribute, *, folded: bool = False) -> ColumnElement:
    if isinstance(value, str) and not folded and not attribute.case_exact and attribute.type != "boolean":
        column = func.lower(column)
    if op in _SUBSTRING:
        return _SUBSTRING[op](column, value)
    return _OPERATORS[op](column, value)


# co, sw and ew compare characters as they are, on both databases. Not LIKE: SQLite's LIKE ignores
# the case of ASCII letters, so a caseExact attribute (RFC 7643 §2.3.1: id, externalId) would match
# `externalId sw "ABC"` to "abc-1", and its wildcards (% _ \) would need escaping. Case-insensitive
# attributes are lower-cased on both sides before this. Lengths count characters on both databases,
# as Python's len does.
class _position(FunctionElement):
    """The 1-based position of the first occurrence of a text in a column, 0 when absent."""

    type = Integer()
    inherit_cache = True


@compiles(_position, "sqlite")
def _position_sqlite(element, compiler, **kw) -> str:
    return f"instr({compiler.process(element.clauses, **kw)})"


@compiles(_position, "postgresql")
def _position_postgresql(element, compiler, **kw) -> str:
    return f"strpos({compiler.process(element.clauses, **kw)})"


_SUBSTRING: dict[str, Callable[[Any, str], ColumnElement]] = {
    "co": lambda column, value: _position(column, value) > 0,
    "sw": lambda column, value: func.substr(column, 1, len(value)) == value,
    # From where `value` would begin. When `value` is the longer, that is before the first
    # character, and both databases return at most the whole text: shorter, so never equal.
    "ew": lambda column, value: func.substr(column, func.length(column) - len(value) + 1) == value,
}
