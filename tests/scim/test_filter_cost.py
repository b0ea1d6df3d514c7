"""The cost model of filters (scim/filter_cost.py), on resolved filters."""
import pytest

from jericho.scim.errors import InvalidFilter
from jericho.scim.filter import parse_filter, resolve_filter
from jericho.scim.filter_cost import check_filter_cost, filter_cost
from jericho.scim.schema import ENTERPRISE_USER_URN, GROUP, USER

INDEXED = {("id", None), ("externalId", None), ("userName", None), ("displayName", None),
           ("manager", "value"), ("meta", "created")}


def cost(text: str, resource_type=USER) -> int:
    return filter_cost(resolve_filter(parse_filter(text), resource_type), resource_type, indexed=INDEXED)


@pytest.mark.parametrize(("text", "expected"), [
    ('userName eq "ava@contoso.com"', 1),  # Entra's lookup
    ('externalId eq "ava"', 1),
    ('id eq "u1" and manager eq "m1"', 2),  # Entra's reference check of a manager
    ('meta.created gt "2025-01-01T00:00:00Z"', 1),
    ('title eq "Analyst"', 3),  # read from the stored document
    ('name.givenName sw "A"', 3),
    (f'{ENTERPRISE_USER_URN}:department eq "Sales"', 3),
    ("title pr", 3),
    ('emails co "contoso"', 5),  # a subquery over the values
    ('emails.value eq "a@contoso.com"', 5),
    ('groups eq "g1"', 5),
    ('emails[type eq "work"].value eq "a@contoso.com"', 6),  # Entra's email matching attribute
    ('emails[type eq "work" and (value co "a" or value co "b")]', 7),
    ('not (userName eq "a" or title eq "b")', 4),
])
def test_each_comparison_costs_by_what_the_database_reads(text, expected):
    assert cost(text) == expected


def test_entra_reference_check_of_a_member_costs_6():
    assert cost('id eq "g1" and members eq "u1"', GROUP) == 6


def test_a_filter_within_the_budget_passes():
    check_filter_cost(resolve_filter(parse_filter(" or ".join(['groups eq "g"'] * 4)), USER), USER,
                      indexed=INDEXED, max_cost=20)


def test_a_filter_over_the_budget_is_invalid_filter_naming_the_limit():
    text = " or ".join(f'groups eq "g{number}"' for number in range(200))
    with pytest.raises(InvalidFilter, match="the filter costs 1000, more than the 20 this server allows"):
        check_filter_cost(resolve_filter(parse_filter(text), USER), USER, indexed=INDEXED, max_cost=20)
