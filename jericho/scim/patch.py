"""PATCH (RFC 7644 §3.5.2) of a stored resource document, in both of Entra's dialects (ENTRA.md
§3.4, §3.8, §5.2): the default one (capitalised ops, "True"/"False" strings, members removed by a
value array) and `aadOptscim062020` (lower-case ops, path-less objects keyed by attribute paths,
members removed through a filtered path).

Group members never enter the document: operations on them become MemberChanges for the database,
so patching a 100,000-member group loads none of them."""
from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any, Callable

from .errors import InvalidFilter, InvalidPath, InvalidSyntax, InvalidValue, Mutability, NoTarget
from .filter import And, Comparison, Expr, Or, PatchPath, parse_patch_path
from .matching import element_matches
from .resources import (
    ABSENT,
    MEMBERS,
    attribute_path,
    check_message_schemas,
    coerce_value,
    field,
    is_stored,
    is_unassigned,
    member_ids,
    missing_required,
    with_schemas,
)
from .schema import PATCH_OP_URN, Attribute, ResourceType
from .unknown import as_sent, is_defined, resolve_as_sent, schema_key

ADD, REPLACE, REMOVE = "add", "replace", "remove"


@dataclass(frozen=True)
class PatchOperation:
    op: str  # "add" | "replace" | "remove"
    path: PatchPath | None
    value: Any


@dataclass(frozen=True)
class MemberChange:
    kind: str  # "add" | "remove" | "remove_all" | "replace"
    ids: tuple[str, ...] = ()


def parse_patch_request(body: Any) -> list[PatchOperation]:
    if not isinstance(body, dict):
        raise InvalidSyntax("a PATCH body must be a JSON object")
    check_message_schemas(body, PATCH_OP_URN)
    operations = field(body, "Operations")
    if not isinstance(operations, list) or not operations:
        raise InvalidSyntax("\"Operations\" must be a non-empty array")
    return [_parse_operation(item, f"Operations[{index}]") for index, item in enumerate(operations)]


def _parse_operation(item: Any, where: str) -> PatchOperation:
    if not isinstance(item, dict):
        raise InvalidSyntax(f"{where} must be an object")
    op = field(item, "op")
    # ENTRA.md §1.2, §3.4: the default dialect sends "Add", "Replace", "Remove".
    if not isinstance(op, str) or op.lower() not in (ADD, REPLACE, REMOVE):
        raise InvalidSyntax(f"{where}: \"op\" must be \"add\", \"replace\" or \"remove\"")
    op = op.lower()
    text = field(item, "path")
    if text is not None and not isinstance(text, str):
        raise InvalidPath(f"{where}: \"path\" must be a string")
    path = None if text is None else parse_patch_path(text)
    value = field(item, "value", ABSENT)
    if op == REMOVE:
        if path is None:
            raise NoTarget(f"{where}: remove needs a \"path\"")  # RFC 7644 §3.5.2.2
        return PatchOperation(op, path, None if value is ABSENT else value)
    if value is ABSENT:
        raise InvalidValue(f"{where}: {op} needs a \"value\"")  # RFC 7644 §3.5.2.1, §3.5.2.3
    if path is None and not isinstance(value, dict):
        raise InvalidValue(f"{where}: {op} without a \"path\" needs an object of attributes as its \"value\"")
    return PatchOperation(op, path, value)


def apply_patch(document: dict, operations: list[PatchOperation], resource_type: ResourceType, *,
                served: Callable[[], dict] | None = None) -> tuple[dict, list[MemberChange]]:
    """The patched copy of `document` and the group member changes, in order. The first bad
    operation raises a ScimError and nothing is applied (RFC 7644 §3.5.2: PATCH is atomic).

    `served` gives the resource as this server serves it (with `id`, `meta`, a user's `groups`),
    called only when an operation names a readOnly attribute: one set to the value it already has
    is left alone. Without it, every operation on a readOnly attribute is refused."""
    patcher = _Patcher(copy.deepcopy(document), resource_type, served)
    for operation in operations:
        if operation.path is None:
            patcher.apply_object(operation.op, operation.value)
        else:
            patcher.apply_path(operation.op, operation.path, operation.value)
    missing = missing_required(patcher.document, resource_type)
    if missing is not None:
        # RFC 7644 §3.5.2.2: a required attribute that becomes unassigned is a "mutability" error.
        raise Mutability(f"'{missing}' is required and cannot be removed")
    return with_schemas(patcher.document, resource_type), patcher.member_changes


class _Patcher:
    def __init__(self, document: dict, resource_type: ResourceType, served: Callable[[], dict] | None) -> None:
        self.document = document
        self.resource_type = resource_type
        self.member_changes: list[MemberChange] = []
        self._served = served
        self._served_resource: dict | None = None

    def apply_object(self, op: str, value: dict) -> None:
        # RFC 7644 §3.5.2.1, §3.5.2.3 without "path": the value holds attributes of the resource.
        # aadOptscim062020 keys them by attribute path, "name.givenName" or URN-qualified (ENTRA.md
        # §3.4, §8 #11); a schema's URN as key holds an object of that schema's attributes.
        for key, item in value.items():
            urn = self._schema(key, item)
            if urn is None:
                self.apply(op, parse_patch_path(key), item)
            elif isinstance(item, dict):
                for name, sub_value in item.items():
                    self.apply(op, parse_patch_path(f"{urn}:{name}"), sub_value)
            elif item is None and urn != self.resource_type.schema.id:
                self.document.pop(urn, None)
            else:
                raise InvalidValue(f"'{urn}' must be an object holding that schema's attributes")

    def apply_path(self, op: str, path: PatchPath, value: Any) -> None:
        whole = path.value_filter is None and path.attr.sub is None and path.attr.schema is not None
        urn = self._schema(str(path.attr), value) if whole else None
        if urn is None:
            self.apply(op, path, value)
        else:
            # RFC 7644 §3.5.2: a path may be an extension's URN, its value an object of that
            # extension's attributes: add and replace set those it names (§3.5.2.1, §3.5.2.3),
            # remove unassigns them all (§3.5.2.2).
            self.apply_object(op, {urn: None if op == REMOVE else value})

    def _schema(self, key: str, value: Any) -> str | None:
        urn = schema_key(self.resource_type, key, self.document)
        if urn is None or isinstance(value, dict) or urn in self.document or is_defined(self.resource_type, urn):
            return urn
        # aadOptscim062020 keys path-less values by attribute path: with a value other than an
        # object, `urn:...:Contoso:2.0:User:badge` is an attribute of an extension not stored yet.
        return None

    def apply(self, op: str, path: PatchPath, value: Any) -> None:
        # Attributes outside the schema are kept as sent, never dropped (unknown.py).
        urn, attribute, sub = resolve_as_sent(self.resource_type, path.attr, self.document)
        core = self.resource_type.schema.id
        if path.sub is not None:  # after a filter: `emails[type eq "work"].value`
            sub = attribute.sub(path.sub) or as_sent(path.sub)
        where = attribute_path(self.resource_type, urn, attribute, sub)
        if attribute == MEMBERS:
            self.member_changes.append(_member_change(op, path, sub, value, where))
            return
        if attribute.mutability == "readOnly" or (sub is not None and sub.mutability == "readOnly"):
            self._check_read_only_unchanged(op, path, urn, attribute, sub, value, where)
            return
        if not is_stored(attribute):
            return
        if path.value_filter is not None and not attribute.multi_valued:
            raise InvalidPath(f"'{where}' is single-valued, so it takes no [filter]")
        container = self.document if urn == core else self.document.setdefault(urn, {})
        if sub is not None and not attribute.multi_valued and not isinstance(container.get(attribute.name, {}), dict):
            raise InvalidPath(f"'{where}': '{attribute.name}' has no sub-attributes")
        if attribute.multi_valued and (path.value_filter is not None or sub is not None):
            _patch_elements(op, container, attribute, path.value_filter, sub, value, where)
        elif sub is not None:
            _patch_sub_attribute(op, container, attribute, sub, value, where)
        else:
            _patch_attribute(op, container, attribute, value, where)
        if urn != core and not container:
            del self.document[urn]


    def _check_read_only_unchanged(self, op: str, path: PatchPath, urn: str, attribute: Attribute,
                                   sub: Attribute | None, value: Any, where: str) -> None:
        # RFC 7644 §3.5.2: a client MUST NOT modify a readOnly attribute (RFC 7643 §2.2). Setting
        # one to the value it has modifies nothing, so it is ignored: Okta's Group Push renames a
        # group with a path-less replace that repeats the group's own `id` (scim/okta.py).
        if op == REMOVE or path.value_filter is not None or self._served is None:
            raise Mutability(f"'{where}' is readOnly")
        if self._served_resource is None:
            self._served_resource = self._served()
        resource = self._served_resource
        current = (resource if urn == self.resource_type.schema.id else resource.get(urn, {})).get(attribute.name)
        if sub is not None:
            current = current.get(sub.name) if isinstance(current, dict) else None
        if not _holds(op, attribute if sub is None else sub, current, value):
            raise Mutability(f"'{where}' is readOnly: it cannot be changed")


def _holds(op: str, attribute: Attribute, current: Any, value: Any) -> bool:
    """Whether `current` already holds what an add or replace of `value` would set."""
    if attribute.multi_valued:
        elements = current if isinstance(current, list) else []
        values = value if isinstance(value, list) else [value]
        if not all(element in elements for element in values):
            return False
        return op == ADD or len(values) == len(elements)
    if attribute.type == "complex" and isinstance(value, dict) and isinstance(current, dict):
        # RFC 7644 §3.5.2.3: sub-attributes the value does not name are left as they are.
        for name, sub_value in value.items():
            sub = attribute.sub(name)
            if sub is None or current.get(sub.name) != sub_value:
                return False
        return True
    return value == current


def _store(container: dict, name: str, value: Any) -> None:
    # RFC 7643 §2.5: setting null (or "", Entra's [CLEAR] case) leaves the attribute unassigned.
    if is_unassigned(value):
        container.pop(name, None)
    else:
        container[name] = value


def _patch_attribute(op: str, container: dict, attribute: Attribute, value: Any, where: str) -> None:
    name = attribute.name
    if op == REMOVE:
        # RFC 7644 §3.5.2.2. Removing what is not there succeeds: Entra retries (ENTRA.md §3.9).
        container.pop(name, None)
        return
    new = coerce_value(attribute, value, path=where)
    if attribute.multi_valued and op == ADD:
        # RFC 7644 §3.5.2.1: the values are added; one that is already there is left alone.
        elements = list(container.get(name, []))
        added = []
        for element in new:
            if element not in elements:
                elements.append(element)
                added.append(len(elements) - 1)
        _keep_one_primary(elements, added)
        new = elements
    elif attribute.type == "complex" and not attribute.multi_valued and not is_unassigned(new):
        # RFC 7644 §3.5.2.1, §3.5.2.3: sub-attributes the value does not name are left unchanged.
        new = {**container.get(name, {}), **new}
    # Otherwise add sets a single value (ENTRA.md §8 #2: Entra sends "Add" for `active`) and
    # replace sets the whole attribute (RFC 7644 §3.5.2.3).
    _store(container, name, new)


def _patch_sub_attribute(op: str, container: dict, attribute: Attribute, sub: Attribute, value: Any,
                         where: str) -> None:
    # `name.givenName`, `urn:...:enterprise:2.0:User:manager.value`
    current = dict(container.get(attribute.name, {}))
    _store(current, sub.name, None if op == REMOVE else coerce_value(sub, value, path=where))
    _store(container, attribute.name, current)


def _patch_elements(op: str, container: dict, attribute: Attribute, value_filter: Expr | None,
                    sub: Attribute | None, value: Any, where: str) -> None:
    # `emails[type eq "work"]`, `emails[type eq "work"].value`, and `emails.value` (every element).
    elements = list(container.get(attribute.name, []))
    selected = [index for index, element in enumerate(elements)
                if value_filter is None or element_matches(value_filter, element, attribute)]
    if op == REMOVE:
        new = None
    elif sub is not None:
        new = coerce_value(sub, value, path=where)
    else:
        new = _one_element(attribute, value, where)
    if is_unassigned(new):
        # RFC 7644 §3.5.2.2: the selected values (or their sub-attribute) are removed; a filter
        # that selects nothing removes nothing.
        if sub is None:
            elements = [element for index, element in enumerate(elements) if index not in selected]
        else:
            for index in selected:
                elements[index].pop(sub.name, None)
    else:
        merge = op == ADD or not selected
        if not selected:
            # RFC 7644 §3.5.2.3 answers a replace whose filter matches nothing with noTarget. Entra
            # sends `Add` or `Replace emails[type eq "work"].value` to a user without a work email
            # and expects the element to be created (ENTRA.md §3.4, §8 #10, §11.2).
            elements.append(_seed(attribute, value_filter, where))
            selected = [len(elements) - 1]
        for index in selected:
            if sub is not None:
                elements[index][sub.name] = new
            elif merge:
                elements[index] = {**elements[index], **new}
            else:
                elements[index] = dict(new)  # RFC 7644 §3.5.2.3: matching records are replaced
        _keep_one_primary(elements, selected)
    _store(container, attribute.name, [element for element in elements if not is_unassigned(element)])


def _one_element(attribute: Attribute, value: Any, where: str) -> dict | None:
    if isinstance(value, list):
        raise InvalidValue(f"'{where}' with a filter takes one object as its value, not an array")
    return next(iter(coerce_value(attribute, value, path=where)), None)


def _seed(attribute: Attribute, value_filter: Expr | None, where: str) -> dict:
    # The element that `type eq "work"` (or `type eq "work" and primary eq true`) describes.
    if value_filter is None:
        return {}
    equalities = _equalities(value_filter)
    seed = {}
    for comparison in equalities or ():
        sub = attribute.sub(comparison.path.name)
        seed[sub.name if sub else comparison.path.name] = comparison.value
    # Matching resolves the filter against the attribute first, so unknown names and mistyped values
    # are invalidFilter here too, as when there are elements to match.
    matched = element_matches(value_filter, seed, attribute)
    if equalities is None or not matched:
        raise NoTarget(f"'{where}': no value matches the filter, and the filter does not describe one to create")
    return seed


def _equalities(expr: Expr | None) -> list[Comparison] | None:
    # The `eq` comparisons of a filter made only of them and `and`; None for any other filter.
    if expr is None:
        return []
    if isinstance(expr, And):
        left, right = _equalities(expr.left), _equalities(expr.right)
        return None if left is None or right is None else left + right
    if isinstance(expr, Comparison) and expr.op == "eq" and expr.path.schema is None and expr.path.sub is None:
        return [expr]
    return None


def _keep_one_primary(elements: list[dict], written: list[int]) -> None:
    # RFC 7644 §3.5.2: setting "primary" to true on one value sets it to false on every other.
    primaries = [index for index in written if elements[index].get("primary") is True]
    if primaries:
        for index, element in enumerate(elements):
            if index != primaries[-1] and element.get("primary") is True:
                element["primary"] = False


def _member_change(op: str, path: PatchPath, sub: Attribute | None, value: Any, where: str) -> MemberChange:
    if sub is not None:
        # RFC 7643 §4.2: a member's value, $ref and type are immutable, its display readOnly.
        raise Mutability(f"'{where}' cannot be patched: members are added and removed whole")
    if path.value_filter is not None:
        if op != REMOVE:
            raise InvalidPath("a members[...] filter can only select members to remove")
        # aadOptscim062020: `remove members[value eq "<id>"]` (ENTRA.md §3.8).
        return MemberChange(REMOVE, tuple(dict.fromkeys(_filtered_member_ids(path.value_filter))))
    if op == REMOVE:
        if value is None:
            return MemberChange("remove_all")  # RFC 7644 §3.5.2.2
        # ENTRA.md §3.8, §8 #5: the default dialect removes members with `Remove members` and their
        # ids as the value. RFC 7644 §3.5.2.2 would read a path without a filter as "remove all".
        return MemberChange(REMOVE, member_ids(value))
    return MemberChange(op, member_ids(value))


def _filtered_member_ids(expr: Expr) -> tuple[str, ...]:
    # Evaluated without loading the group's rows, so the filter must name the ids:
    # `value eq "<id>"`, possibly joined by `or`.
    if isinstance(expr, Or):
        return _filtered_member_ids(expr.left) + _filtered_member_ids(expr.right)
    if (isinstance(expr, Comparison) and expr.op == "eq" and expr.path.schema is None
            and expr.path.sub is None and expr.path.name.lower() == "value"
            and isinstance(expr.value, str) and expr.value):
        return (expr.value,)
    # RFC 7644 §3.12 invalidFilter: "the specified attribute and filter comparison combination is not supported".
    raise InvalidFilter("members can only be selected by id, as in members[value eq \"<id>\"]")
