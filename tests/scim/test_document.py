"""Reading a stored SCIM User document: work email, name, department, every attribute as text,
and whether userName looks mapped from mail."""
import pytest

from jericho.scim import document


@pytest.mark.parametrize(
    "user_name, email, problem",
    [
        ("ava@contoso.com", "ava@contoso.com", None),
        ("Ava@Contoso.com", "ava@contoso.com", None),
        ("ava@contoso.com", None, None),
        ("ava@contoso.onmicrosoft.com", "ava@contoso.onmicrosoft.com", None),  # no custom domain
        ("ava_fabrikam.com#EXT#@contoso.onmicrosoft.com", "ava@fabrikam.com", document.GUEST_UPN),
        ("ava.lindqvist", "ava@contoso.com", document.NOT_EMAIL),
        ("7d420df3-9995-4831-a406-ecf8166f5f6a", None, document.NOT_EMAIL),
        ("ava.lindqvist@contoso.com", "ava@contoso.com", document.DIFFERS),
        ("ava@contoso.onmicrosoft.com", None, document.INITIAL_DOMAIN),
    ],
)
def test_user_name_problems(user_name, email, problem):
    assert document.user_name_problem(user_name, email) == problem


def test_work_email_prefers_type_work_then_primary():
    assert document.work_email({"emails": [{"value": "a@x.com", "primary": True},
                                           {"value": "w@x.com", "type": "Work"}]}) == "w@x.com"
    assert document.work_email({"emails": [{"value": "o@x.com", "type": "other"},
                                           {"value": "p@x.com", "primary": True}]}) == "p@x.com"
    assert document.work_email({"emails": [{"value": "o@x.com", "type": "other"}]}) is None
    assert document.work_email({}) is None
    assert document.work_email({"emails": ["junk", {"type": "work"}]}) is None


DOCUMENT = {
    "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
    "userName": "ava@contoso.com",
    "name": {"givenName": "Ava", "familyName": "Lindqvist"},
    "active": False,
    "emails": [{"type": "work", "value": "ava@contoso.com", "primary": True}],
    "roles": [],
    "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {
        "department": "Finance", "employeeNumber": "E1000", "manager": {"value": "m-1"}},
}


def test_every_attribute_as_received():
    assert document.attribute_rows(DOCUMENT) == [
        ("userName", "ava@contoso.com"),
        ("name.givenName", "Ava"),
        ("name.familyName", "Lindqvist"),
        ("active", "false"),
        ("emails[0].type", "work"),
        ("emails[0].value", "ava@contoso.com"),
        ("emails[0].primary", "true"),
        ("roles", ""),
        ("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User.department", "Finance"),
        ("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User.employeeNumber", "E1000"),
        ("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User.manager.value", "m-1"),
    ]


def test_enterprise_fields_name_and_department():
    assert document.enterprise_fields(DOCUMENT) == [("employeeNumber", "E1000"), ("department", "Finance")]
    assert document.person_name(DOCUMENT) == "Ava Lindqvist"
    assert document.person_name({**DOCUMENT, "displayName": "Ava L."}) == "Ava L."
    assert document.person_name({"userName": "x"}) == ""
    assert document.department(DOCUMENT) == "Finance" and document.department({}) == ""


def test_name_parts_and_manager():
    assert document.name_part(DOCUMENT, "givenName") == "Ava"
    assert document.name_part({"name": None}, "familyName") == ""
    assert document.manager_id(DOCUMENT) == "m-1"
    assert document.manager_id({}) is None
    assert document.manager_id({"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": "junk"}) is None
