"""What a filter may ask of the database (RFC 7644 §3.4.2.2), bounded per request by
SCIM_MAX_FILTER_COST, so that one organization's filters cannot stall every other's.

Each comparison or `pr` costs what the database does to answer it for every candidate row: 1 on
an indexed column (userName, externalId, id...); SUBQUERY_COST through a subquery into an indexed
table (emails' value and type, groups, members); DOCUMENT_COST when read from the row's stored JSON
document (title, department...); ARRAY_COST when it scans a JSON array (phoneNumbers, addresses,
emails' other sub-attributes). A value filter `attr[...]` is one such subquery or scan, plus 1
for each comparison inside it. `and`, `or` and `not` cost nothing of their own. Entra's lookups
cost 1, its email match `emails[type eq "work"].value eq ...` 4, its reference checks 3.
"""
from __future__ import annotations

from collections.abc import Collection

from .errors import InvalidFilter
from .filter import And, Comparison, Expr, Not, Or, Present, ValueFilter
from .schema import Attribute, ResourceType

SUBQUERY_COST = 2
DOCUMENT_COST = 4
ARRAY_COST = 8
# The most that any filter Entra or Okta sends costs: a dearer one is a client's own search.
ROUTINE_COST = 4

# (attribute, sub-attribute) names, as ResourceType.resolve returns them.
Indexed = Collection[tuple[str, str | None]]


def filter_cost(expr: Expr, resource_type: ResourceType, *, indexed: Indexed) -> int:
    """The cost of a filter resolved by `filter.resolve_filter`; `indexed` names the attributes the
    database answers from indexed columns and tables."""
    match expr:
        case And(left, right) | Or(left, right):
            return filter_cost(left, resource_type, indexed=indexed) + filter_cost(right, resource_type, indexed=indexed)
        case Not(inner):
            return filter_cost(inner, resource_type, indexed=indexed)
        case ValueFilter(path, inner):
            _, attribute, _ = resource_type.resolve(path)
            in_table = all((attribute.name, name) in indexed for name in _names(inner))
            return (SUBQUERY_COST if in_table else ARRAY_COST) + _comparisons(inner)
        case Comparison(path) | Present(path):
            _, attribute, sub = resource_type.resolve(path)
            return _cost(attribute, sub, indexed)
    raise TypeError(f"not a filter expression: {expr!r}")


def _cost(attribute: Attribute, sub: Attribute | None, indexed: Indexed) -> int:
    is_indexed = (attribute.name, sub.name if sub else None) in indexed
    if attribute.multi_valued:
        return SUBQUERY_COST if is_indexed else ARRAY_COST
    return 1 if is_indexed else DOCUMENT_COST


def _names(expr: Expr) -> set[str]:
    # The sub-attributes that a value filter's comparisons name.
    match expr:
        case And(left, right) | Or(left, right):
            return _names(left) | _names(right)
        case Not(inner):
            return _names(inner)
        case Comparison(path) | Present(path):
            return {path.name}
    raise TypeError(f"not a value filter expression: {expr!r}")


def _comparisons(expr: Expr) -> int:
    match expr:
        case And(left, right) | Or(left, right):
            return _comparisons(left) + _comparisons(right)
        case Not(inner):
            return _comparisons(inner)
    return 1


def check_filter_cost(expr: Expr, resource_type: ResourceType, *, indexed: Indexed, max_cost: int) -> int:
    """The filter's cost; InvalidFilter when it is more than `max_cost`."""
    cost = filter_cost(expr, resource_type, indexed=indexed)
    if cost > max_cost:
        # RFC 7644 §3.12 invalidFilter: "the specified attribute and filter comparison combination
        # is not supported".
        raise InvalidFilter(
            f"the filter costs {cost}, more than the {max_cost} this server allows: a comparison costs 1 on "
            f"an indexed attribute (such as userName, externalId or id), {SUBQUERY_COST} on emails.value, "
            f"emails.type, groups or members, {DOCUMENT_COST} on another single-valued attribute and "
            f"{ARRAY_COST} on another multi-valued one; a [...] filter costs as a comparison on its "
            "attribute, plus 1 for each comparison in it"
        )
    return cost
