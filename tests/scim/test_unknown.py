"""Attributes outside the schema (scim/unknown.py): which a stored document holds."""
from jericho.scim.resources import normalize
from jericho.scim.schema import ENTERPRISE_USER_URN, GROUP, USER
from jericho.scim.unknown import unknown_attributes

CONTOSO = "urn:ietf:params:scim:schemas:extension:Contoso:2.0:User"


def test_a_document_within_the_schema_has_none():
    document = normalize({"userName": "ava@contoso.com", "name": {"givenName": "Ava"}, "emails": [{"value": "a@x"}],
                          ENTERPRISE_USER_URN: {"department": "Sales", "manager": "m1"}}, USER)
    assert unknown_attributes(document, USER) == []


def test_every_attribute_outside_the_schema_is_named_once_by_its_path():
    document = normalize({
        "userName": "ava@contoso.com", "costCenterCode": "4130", "name": {"givenName": "Ava", "nickname": "A"},
        "emails": [{"value": "a@x", "label": "desk"}, {"value": "b@x", "label": "home"}],
        ENTERPRISE_USER_URN: {"department": "Sales", "badge": 7, "manager": {"value": "m1", "room": "4.1"}},
        CONTOSO: {"office": "Oslo", "floor": 3},
    }, USER)
    assert unknown_attributes(document, USER) == [
        "costCenterCode", "name.nickname", "emails.label", f"{ENTERPRISE_USER_URN}:badge",
        f"{ENTERPRISE_USER_URN}:manager.room", f"{CONTOSO}:office", f"{CONTOSO}:floor",
    ]


def test_groups_too():
    document = normalize({"displayName": "Finance", "owner": "ava"}, GROUP)
    assert unknown_attributes(document, GROUP) == ["owner"]
