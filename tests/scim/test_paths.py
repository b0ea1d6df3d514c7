import pytest

from jericho.scim.errors import InvalidPath
from jericho.scim.paths import AttrPath, parse_attr_list, parse_attr_path
from jericho.scim.schema import ENTERPRISE_USER_URN, USER_URN


@pytest.mark.parametrize(("text", "expected"), [
    ("userName", AttrPath(None, "userName")),
    ("name.givenName", AttrPath(None, "name", "givenName")),
    ("members.$ref", AttrPath(None, "members", "$ref")),
    ("x509Certificates", AttrPath(None, "x509Certificates")),
    ("urn:ietf:params:scim:schemas:core:2.0:User:userName", AttrPath(USER_URN, "userName")),
    (f"{ENTERPRISE_USER_URN}:manager.value", AttrPath(ENTERPRISE_USER_URN, "manager", "value")),
    (f"{ENTERPRISE_USER_URN}:employeeNumber", AttrPath(ENTERPRISE_USER_URN, "employeeNumber")),
    # ENTRA.md §4: custom extensions have the same shape.
    ("urn:ietf:params:scim:schemas:extension:Jericho:2.0:User:badge",
     AttrPath("urn:ietf:params:scim:schemas:extension:Jericho:2.0:User", "badge")),
])
def test_rfc7644_3_10_attribute_paths(text, expected):
    path = parse_attr_path(text)
    assert path == expected
    assert str(path) == text


def test_rfc7643_2_1_urn_case_is_kept_for_resolution():
    path = parse_attr_path("URN:IETF:params:scim:schemas:extension:enterprise:2.0:user:Manager")
    assert path == AttrPath("URN:IETF:params:scim:schemas:extension:enterprise:2.0:user", "Manager")


@pytest.mark.parametrize("text", [
    "", " userName", "userName ", "1abc", "-a", "a.b.c", "name.", ".name", "a b",
    "emails[type eq \"work\"]", "x:y", ":userName", "urn:x:", "urn::a:b", "na$me",
])
def test_invalid_paths(text):
    with pytest.raises(InvalidPath):
        parse_attr_path(text)


def test_rfc7644_3_4_2_5_attribute_lists_tolerate_whitespace():
    assert parse_attr_list(" userName , name.givenName,emails ,") == [
        AttrPath(None, "userName"), AttrPath(None, "name", "givenName"), AttrPath(None, "emails")]


@pytest.mark.parametrize("text", [None, "", "  ", ","])
def test_empty_attribute_lists(text):
    assert parse_attr_list(text) == []


def test_entra_attribute_lists():
    # ENTRA.md §3.10: excludedAttributes=members and attributes=id.
    assert parse_attr_list("members") == [AttrPath(None, "members")]
    assert parse_attr_list("id") == [AttrPath(None, "id")]


def test_attribute_list_with_garbage_raises():
    with pytest.raises(InvalidPath):
        parse_attr_list("userName,na me")
