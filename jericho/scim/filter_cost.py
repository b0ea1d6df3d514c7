"""What a filter may ask of the database (RFC 7644 §3.4.2.2), bounded per request by
SCIM_MAX_FILTER_COST, so that one organization's filters cannot stall every other's.

A comparison or `pr` costs 1 on an indexed attribute; on any other single-valued attribute
DOCUMENT_COST more, since the stored JSON document of every candidate row is read; on a
multi-valued attribute (emails, groups, members...) SUBQUERY_COST more, since it is a subquery over
its values for every candidate row. A value filter `emails[...]` is one such subquery, plus 1 per
comparison inside it. `and`, `or` and `not` cost nothing of their own. Entra sends one `eq` (1), or
`id eq ... and members eq ...` in its reference checks (6).
"""
from __future__ import annotations

from collections.abc import Collection

from .errors import InvalidFilter
from .filter import And, Comparison, Expr, Not, Or, Present, ValueFilter
from .schema import ResourceType

DOCUMENT_COST = 2
SUBQUERY_COST = 4

# (attribute, sub-attribute) names, as ResourceType.resolve returns them.
Indexed = Collection[tuple[str, str | None]]


def filter_cost(expr: Expr, resource_type: ResourceType, *, indexed: Indexed) -> int:
    """The cost of a filter resolved by `filter.resolve_filter`; `indexed` names the attributes
    that the database keeps in indexed columns."""
    match expr:
        case And(left, right) | Or(left, right):
            return filter_cost(left, resource_type, indexed=indexed) + filter_cost(right, resource_type, indexed=indexed)
        case Not(inner):
            return filter_cost(inner, resource_type, indexed=indexed)
        case ValueFilter(_, inner):
            return SUBQUERY_COST + _comparisons(inner)
        case Comparison(path) | Present(path):
            _, attribute, sub = resource_type.resolve(path)
            if attribute.multi_valued:
                return 1 + SUBQUERY_COST
            return 1 if (attribute.name, sub.name if sub else None) in indexed else 1 + DOCUMENT_COST
    raise TypeError(f"not a filter expression: {expr!r}")


def _comparisons(expr: Expr) -> int:
    match expr:
        case And(left, right) | Or(left, right):
            return _comparisons(left) + _comparisons(right)
        case Not(inner):
            return _comparisons(inner)
    return 1


def check_filter_cost(expr: Expr, resource_type: ResourceType, *, indexed: Indexed, max_cost: int) -> None:
    cost = filter_cost(expr, resource_type, indexed=indexed)
    if cost > max_cost:
        # RFC 7644 §3.12 invalidFilter: "the specified attribute and filter comparison combination
        # is not supported".
        raise InvalidFilter(
            f"the filter costs {cost}, more than the {max_cost} this server allows: a comparison costs 1 "
            f"on an indexed attribute (such as userName, externalId or id), {1 + DOCUMENT_COST} on another "
            f"single-valued attribute and {1 + SUBQUERY_COST} on a multi-valued one (such as emails, groups "
            f"or members); a [...] filter costs {SUBQUERY_COST} plus 1 for each comparison in it"
        )
