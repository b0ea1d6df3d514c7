"""Filters evaluated in memory on SCIM JSON documents (RFC 7644 §3.4.2.2): the reference that the
SQL translation (storage/filters.py) is tested against, and the value filters of PATCH paths."""
from __future__ import annotations

import operator
from collections.abc import Callable
from typing import Any

from .filter import (
    And, Comparison, Expr, Not, Or, Present, Value, ValueFilter, as_datetime, resolve_element_filter, resolve_filter,
)
from .paths import AttrPath
from .schema import Attribute, ResourceType

ValuesOf = Callable[[AttrPath], tuple[Attribute, list[Any]]]


def matches(expr: Expr, resource: dict, resource_type: ResourceType) -> bool:
    def values_of(path: AttrPath) -> tuple[Attribute, list[Any]]:
        urn, attribute, sub = resource_type.resolve(path)
        container = resource if urn == resource_type.schema.id else _get(resource, urn)
        values = _as_list(_get(container, attribute.name))
        if sub is None:
            return attribute, values
        return sub, [_get(value, sub.name) for value in values]

    return _evaluate(resolve_filter(expr, resource_type), values_of)


def element_matches(expr: Expr, element: dict, attribute: Attribute) -> bool:
    # One element of a complex attribute against a value filter's inner expression, as in the
    # PATCH path `emails[type eq "work"]` (RFC 7644 §3.5.2).
    return _evaluate(resolve_element_filter(expr, attribute), _element_values(element, attribute))


def _element_values(element: dict, attribute: Attribute) -> ValuesOf:
    def values_of(path: AttrPath) -> tuple[Attribute, list[Any]]:
        sub = attribute.sub(path.name)
        assert sub is not None  # paths were resolved against `attribute`
        return sub, _as_list(_get(element, sub.name))

    return values_of


def _evaluate(expr: Expr, values_of: ValuesOf) -> bool:
    match expr:
        case And(left, right):
            return _evaluate(left, values_of) and _evaluate(right, values_of)
        case Or(left, right):
            return _evaluate(left, values_of) or _evaluate(right, values_of)
        case Not(inner):
            return not _evaluate(inner, values_of)
        case Present(path):
            return any(_present(value) for value in values_of(path)[1])
        case ValueFilter(path, inner):
            attribute, elements = values_of(path)
            return any(isinstance(element, dict) and _evaluate(inner, _element_values(element, attribute))
                       for element in elements)
        case Comparison(path, op, expected):
            # RFC 7644 §3.4.2.2: a multi-valued attribute matches when any of its values does; an
            # unassigned attribute has no value to match, for `ne` as for every other operator.
            attribute, values = values_of(path)
            return any(_compare(attribute, op, value, expected) for value in values)
    raise TypeError(f"not a filter expression: {expr!r}")


def _present(value: Any) -> bool:
    # RFC 7644 §3.4.2.2 "pr": null, "" and [] are unassigned (RFC 7643 §2.5); a complex value
    # is present when one of its sub-attributes is.
    if isinstance(value, dict):
        return any(_present(sub_value) for sub_value in value.values())
    if isinstance(value, list):
        return any(_present(item) for item in value)
    return value is not None and value != ""


_COMPARE: dict[str, Callable[[Any, Any], bool]] = {
    "eq": operator.eq, "ne": operator.ne,
    "co": operator.contains, "sw": str.startswith, "ew": str.endswith,
    "gt": operator.gt, "ge": operator.ge, "lt": operator.lt, "le": operator.le,
}


def _compare(attribute: Attribute, op: str, actual: Any, expected: Value) -> bool:
    # A stored value of the wrong type never matches.
    match attribute.type:
        case "boolean":
            if not isinstance(actual, bool):
                return False
        case "integer" | "decimal":
            if isinstance(actual, bool) or not isinstance(actual, int | float):
                return False
        case "dateTime":
            actual = as_datetime(actual)
            if actual is None:
                return False
        case _:
            if not isinstance(actual, str):
                return False
            if not attribute.case_exact:
                # RFC 7643 §2.3.1 caseExact false; lower() as the database's lower() does.
                actual, expected = actual.lower(), expected.lower()
    return _COMPARE[op](actual, expected)


def _get(container: Any, name: str) -> Any:
    # RFC 7643 §2.1: attribute names (and schema URNs as keys) are case-insensitive.
    if not isinstance(container, dict):
        return None
    if name in container:
        return container[name]
    folded = name.lower()
    return next((value for key, value in container.items()
                 if isinstance(key, str) and key.lower() == folded), None)


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]
