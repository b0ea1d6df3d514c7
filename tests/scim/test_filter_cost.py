"""The cost model of filters (scim/filter_cost.py), on resolved filters."""
import pytest

from jericho.scim.errors import InvalidFilter
from jericho.scim.filter import parse_filter, resolve_filter
from jericho.scim.filter_cost import check_filter_cost, filter_cost
from jericho.scim.schema import ENTERPRISE_USER_URN, GROUP, USER

INDEXED = {("id", None), ("externalId", None), ("userName", None), ("displayName", None),
           ("manager", "value"), ("meta", "created"), ("emails", "value"), ("emails", "type"), ("groups", None),
           ("groups", "value"), ("members", None), ("members", "value")}


def cost(text: str, resource_type=USER) -> int:
    return filter_cost(resolve_filter(parse_filter(text), resource_type), resource_type, indexed=INDEXED)


@pytest.mark.parametrize(("text", "expected"), [
    ('userName eq "ava@contoso.com"', 1),  # Entra's lookup
    ('externalId eq "ava"', 1),
    ('id eq "u1" and manager eq "m1"', 2),  # Entra's reference check of a manager
    ('meta.created gt "2025-01-01T00:00:00Z"', 1),
    ('emails co "contoso"', 2),  # a subquery into an indexed table
    ('emails.value eq "a@contoso.com"', 2),
    ('groups eq "g1"', 2),
    ('groups pr', 2),
    ('emails[type eq "work"].value eq "a@contoso.com"', 4),  # Entra's email match
    ('title eq "Analyst"', 4),  # read from the stored document
    ('name.givenName sw "A"', 4),
    (f'{ENTERPRISE_USER_URN}:department eq "Sales"', 4),
    ("title pr", 4),
    ('phoneNumbers.value co "+1"', 8),  # a scan of a JSON array
    ("emails pr", 8),
    ('emails.primary eq true', 8),
    ('emails[primary eq true and value co "a"]', 10),
    ('phoneNumbers[type eq "work" and (value co "a" or value co "b")]', 11),
    ('not (userName eq "a" or title eq "b")', 5),
])
def test_each_comparison_costs_what_the_database_does_for_every_row(text, expected):
    assert cost(text) == expected


def test_entra_reference_check_of_a_member_costs_3():
    assert cost('id eq "g1" and members eq "u1"', GROUP) == 3


def test_a_filter_within_the_budget_passes():
    check_filter_cost(resolve_filter(parse_filter(" or ".join(['title co "a"'] * 3)), USER), USER,
                      indexed=INDEXED, max_cost=12)


def test_a_filter_over_the_budget_is_invalid_filter_naming_the_limit():
    text = " or ".join(f'groups eq "g{number}"' for number in range(200))
    with pytest.raises(InvalidFilter, match="the filter costs 400, more than the 12 this server allows"):
        check_filter_cost(resolve_filter(parse_filter(text), USER), USER, indexed=INDEXED, max_cost=12)
