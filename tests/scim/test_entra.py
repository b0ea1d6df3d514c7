from urllib.parse import parse_qs

import pytest

from jericho.scim.entra import is_test_connection_lookup, manager_reference, parse_boolean
from jericho.scim.filter import parse_filter, resolve_filter
from jericho.scim.schema import USER


@pytest.mark.parametrize(("value", "expected"), [
    (True, True), (False, False),
    ("True", True), ("False", False),  # ENTRA.md §3.5: the default dialect
    ("true", True), ("false", False), ("FALSE", False),  # ENTRA.md §5.3: scimmy#86
    ("yes", None), ("", None), (" true", None), (1, None), (0, None), (None, None), ([True], None),
])
def test_entra_parse_boolean(value, expected):
    assert parse_boolean(value) is expected


@pytest.mark.parametrize(("value", "expected"), [
    ("2c2f6fb8", {"value": "2c2f6fb8"}),  # ENTRA.md §3.4: real provisioning traffic
    ({"value": "2c2f6fb8"}, {"value": "2c2f6fb8"}),  # the SCIM Validator
    ([{"$ref": "../Users/2c2f6fb8", "value": "2c2f6fb8"}], {"$ref": "../Users/2c2f6fb8", "value": "2c2f6fb8"}),
    ([{"value": "a"}, {"value": "b"}], [{"value": "a"}, {"value": "b"}]),  # left for validation to refuse
    (42, 42),
])
def test_entra_manager_reference(value, expected):
    assert manager_reference(value) == expected


def entra_filter(query):
    # ENTRA.md §2: form-encoded query strings, spaces as "+", quotes as %22.
    return parse_filter(parse_qs(query)["filter"][0])


@pytest.mark.parametrize("query", [
    "filter=userName+eq+%227d420df3-9995-4831-a406-ecf8166f5f6a%22",
    "filter=USERNAME+EQ+%227D420DF3-9995-4831-A406-ECF8166F5F6A%22",
    "filter=urn%3Aietf%3Aparams%3Ascim%3Aschemas%3Acore%3A2.0%3AUser%3AuserName"
    "+eq+%227d420df3-9995-4831-a406-ecf8166f5f6a%22",
])
def test_entra_test_connection_lookup_is_recognised(query):
    expr = entra_filter(query)
    assert is_test_connection_lookup(expr)
    assert is_test_connection_lookup(resolve_filter(expr, USER))


@pytest.mark.parametrize("query", [
    "filter=userName+eq+%22ava.lindqvist%40contoso.com%22",
    "filter=externalId+eq+%227d420df3-9995-4831-a406-ecf8166f5f6a%22",
    "filter=userName+ne+%227d420df3-9995-4831-a406-ecf8166f5f6a%22",
    "filter=userName+eq+%227d420df3-9995-4831-a406-ecf8166f5f6a%22+and+active+eq+true",
    "filter=userName+eq+%22x7d420df3-9995-4831-a406-ecf8166f5f6a%22",
    "filter=name.givenName+eq+%227d420df3-9995-4831-a406-ecf8166f5f6a%22",
])
def test_entra_other_lookups_are_not_test_connection(query):
    assert not is_test_connection_lookup(entra_filter(query))
