import pytest

from jericho.scim.errors import InvalidPath
from jericho.scim.paths import AttrPath, parse_attr_path
from jericho.scim.schema import (
    ENTERPRISE_USER_SCHEMA,
    ENTERPRISE_USER_URN,
    GROUP,
    GROUP_SCHEMA,
    GROUP_URN,
    USER,
    USER_SCHEMA,
    USER_URN,
)


def resolved(resource_type, text):
    urn, attribute, sub = resource_type.resolve(parse_attr_path(text))
    return urn, attribute.name, sub.name if sub else None


@pytest.mark.parametrize(("text", "expected"), [
    ("userName", (USER_URN, "userName", None)),
    ("USERNAME", (USER_URN, "userName", None)),
    ("name.GivenName", (USER_URN, "name", "givenName")),
    ("emails.value", (USER_URN, "emails", "value")),
    ("id", (USER_URN, "id", None)),
    ("externalId", (USER_URN, "externalId", None)),
    ("meta.lastModified", (USER_URN, "meta", "lastModified")),
    ("schemas", (USER_URN, "schemas", None)),
    ("urn:ietf:params:scim:schemas:core:2.0:User:userName", (USER_URN, "userName", None)),
    (f"{ENTERPRISE_USER_URN}:employeeNumber", (ENTERPRISE_USER_URN, "employeeNumber", None)),
    (f"{ENTERPRISE_USER_URN}:manager.value", (ENTERPRISE_USER_URN, "manager", "value")),
    ("urn:ietf:params:scim:schemas:extension:ENTERPRISE:2.0:user:Department",
     (ENTERPRISE_USER_URN, "department", None)),
    # ENTRA.md §3.3: Entra's reference check names the enterprise `manager` without its URN.
    ("manager", (ENTERPRISE_USER_URN, "manager", None)),
    ("department", (ENTERPRISE_USER_URN, "department", None)),
])
def test_rfc7644_3_10_user_paths(text, expected):
    assert resolved(USER, text) == expected


@pytest.mark.parametrize(("text", "expected"), [
    ("displayName", (GROUP_URN, "displayName", None)),
    ("members", (GROUP_URN, "members", None)),
    ("members.value", (GROUP_URN, "members", "value")),
    ("members.$ref", (GROUP_URN, "members", "$ref")),
    ("externalId", (GROUP_URN, "externalId", None)),
])
def test_rfc7644_3_10_group_paths(text, expected):
    assert resolved(GROUP, text) == expected


@pytest.mark.parametrize(("resource_type", "text"), [
    (USER, "nope"),
    (USER, "name.nope"),
    (USER, "userName.value"),
    (USER, f"{ENTERPRISE_USER_URN}:userName"),
    (USER, "urn:ietf:params:scim:schemas:core:2.0:Group:displayName"),
    (USER, "members"),
    (GROUP, "manager"),
    (GROUP, f"{ENTERPRISE_USER_URN}:manager"),
])
def test_unknown_paths_raise_invalid_path(resource_type, text):
    with pytest.raises(InvalidPath):
        resource_type.resolve(parse_attr_path(text))


def test_rfc7643_8_7_1_user_characteristics():
    user_name = USER_SCHEMA.attribute("userName")
    assert (user_name.required, user_name.case_exact, user_name.uniqueness) == (True, False, "server")
    password = USER_SCHEMA.attribute("password")
    assert (password.mutability, password.returned) == ("writeOnly", "never")
    assert USER_SCHEMA.attribute("active").type == "boolean"
    emails = USER_SCHEMA.attribute("emails")
    assert emails.multi_valued and not emails.sub("value").case_exact
    assert emails.sub("type").canonical_values == ("work", "home", "other")
    assert [sub.name for sub in USER_SCHEMA.attribute("addresses").sub_attributes] == [
        "formatted", "streetAddress", "locality", "region", "postalCode", "country", "type", "primary"]
    assert USER_SCHEMA.attribute("groups").mutability == "readOnly"
    assert [sub.name for sub in USER_SCHEMA.attribute("name").sub_attributes] == [
        "formatted", "familyName", "givenName", "middleName", "honorificPrefix", "honorificSuffix"]


def test_rfc7643_3_1_common_attributes():
    _, id_attribute, _ = USER.resolve(AttrPath(None, "id"))
    assert (id_attribute.case_exact, id_attribute.mutability, id_attribute.returned) == (True, "readOnly", "always")
    _, external_id, _ = GROUP.resolve(AttrPath(None, "externalId"))
    assert external_id.case_exact
    _, meta, created = USER.resolve(AttrPath(None, "meta", "created"))
    assert (meta.mutability, created.type) == ("readOnly", "dateTime")


def test_rfc7643_4_3_enterprise_manager():
    manager = ENTERPRISE_USER_SCHEMA.attribute("manager")
    assert manager.type == "complex"
    assert [sub.name for sub in manager.sub_attributes] == ["value", "$ref", "displayName"]
    assert manager.sub("displayName").mutability == "readOnly"


def test_rfc7643_4_2_group_members():
    members = GROUP_SCHEMA.attribute("members")
    assert members.multi_valued
    assert members.sub("VALUE").mutability == "immutable"
    assert members.sub("type").canonical_values == ("User", "Group")


def test_entra_group_display_name_is_required_and_unique():
    # ENTRA.md §1.2: Entra requires unique group displayNames.
    display_name = GROUP_SCHEMA.attribute("displayName")
    assert (display_name.required, display_name.uniqueness) == (True, "server")


def test_resource_types():
    assert (USER.name, USER.endpoint) == ("User", "/Users")
    assert (USER.schema, USER.extensions) == (USER_SCHEMA, (ENTERPRISE_USER_SCHEMA,))
    assert (GROUP.name, GROUP.endpoint) == ("Group", "/Groups")
    assert (GROUP.schema, GROUP.extensions) == (GROUP_SCHEMA, ())


def test_every_complex_attribute_has_simple_sub_attributes():
    # RFC 7643 §2.3.8: a complex attribute's sub-attributes are never complex.
    for schema in (USER_SCHEMA, ENTERPRISE_USER_SCHEMA, GROUP_SCHEMA):
        for attribute in schema.attributes:
            assert (attribute.type == "complex") == bool(attribute.sub_attributes), attribute.name
            assert all(sub.type != "complex" for sub in attribute.sub_attributes)
