import copy
import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from jericho.scim.errors import InvalidFilter, InvalidPath, InvalidSyntax, InvalidValue, Mutability, NoTarget, ScimError
from jericho.scim.patch import MemberChange, apply_patch, parse_patch_request
from jericho.scim.resources import normalize
from jericho.scim.schema import ENTERPRISE_USER_URN, GROUP, GROUP_URN, PATCH_OP_URN, USER, USER_URN

SAMPLES = Path(__file__).parent / "samples"
ENTERPRISE = ENTERPRISE_USER_URN


def sample(name):
    return json.loads((SAMPLES / name).read_text())


# ENTRA.md §3.2: the user as Entra creates it, stored.
AVA = normalize(sample("entra_create_user.json"), USER)
FINANCE = {"schemas": [GROUP_URN], "displayName": "Finance", "externalId": "8aa1a0c0"}


def patch(document, *operations, resource_type=USER):
    return apply_patch(document, parse_patch_request({"schemas": [PATCH_OP_URN], "Operations": list(operations)}),
                       resource_type)


def patch_user(*operations, document=AVA):
    result, changes = patch(document, *operations)
    assert changes == []
    return result


def patch_group(*operations):
    result, changes = patch(FINANCE, *operations, resource_type=GROUP)
    assert result == FINANCE
    return changes


def op(name, path=None, **value):
    operation = {"op": name}
    if path is not None:
        operation["path"] = path
    operation.update(value)
    return operation


# --- The PatchOp message (RFC 7644 §3.5.2) ----------------------------------------------------

@pytest.mark.parametrize("name", ["add", "Add", "ADD", "replace", "Replace", "remove", "Remove"])
def test_entra_ops_are_case_insensitive(name):
    [operation] = parse_patch_request({"Operations": [{"op": name, "path": "title", "value": "x"}]})
    assert operation.op == name.lower()


def test_rfc7643_2_1_operation_member_names_are_case_insensitive():
    [operation] = parse_patch_request({"operations": [{"OP": "Replace", "Path": "title", "VALUE": "Boss"}]})
    assert (operation.op, str(operation.path.attr), operation.value) == ("replace", "title", "Boss")


def test_rfc7644_3_5_2_body_without_schemas_is_accepted():
    assert len(parse_patch_request({"Operations": [op("Add", "nickName", value="Babs")]})) == 1


@pytest.mark.parametrize("body", [
    [],
    "Operations",
    {"schemas": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"], "Operations": [op("add", "title", value="x")]},
    {"schemas": PATCH_OP_URN, "Operations": [op("add", "title", value="x")]},
    {"schemas": [PATCH_OP_URN]},
    {"schemas": [PATCH_OP_URN], "Operations": []},
    {"schemas": [PATCH_OP_URN], "Operations": {"op": "add"}},
    {"schemas": [PATCH_OP_URN], "Operations": ["add"]},
    {"schemas": [PATCH_OP_URN], "Operations": [{"op": "move", "path": "title"}]},
    {"schemas": [PATCH_OP_URN], "Operations": [{"path": "title", "value": "x"}]},
    {"schemas": [PATCH_OP_URN], "Operations": [{"op": 1, "path": "title", "value": "x"}]},
])
def test_rfc7644_3_5_2_malformed_patch_op_is_invalid_syntax(body):
    with pytest.raises(InvalidSyntax):
        parse_patch_request(body)


def test_rfc7644_3_5_2_2_remove_without_path_is_no_target():
    with pytest.raises(NoTarget):
        parse_patch_request({"Operations": [op("remove", value={"title": "x"})]})


@pytest.mark.parametrize("operation", [op("add", "title"), op("Replace", "title"), op("add")])
def test_rfc7644_3_5_2_1_add_and_replace_without_value_are_invalid_value(operation):
    with pytest.raises(InvalidValue):
        parse_patch_request({"Operations": [operation]})


@pytest.mark.parametrize("value", ["x", ["title"], None, 1])
def test_rfc7644_3_5_2_3_path_less_value_must_be_an_object(value):
    with pytest.raises(InvalidValue):
        parse_patch_request({"Operations": [op("replace", value=value)]})


@pytest.mark.parametrize("path", ["", "emails[type eq]", "name..givenName", "emails[type eq \"work\"", 42])
def test_rfc7644_3_5_2_unparsable_path_is_invalid_path(path):
    with pytest.raises(InvalidPath):
        parse_patch_request({"Operations": [{"op": "remove", "path": path}]})


# --- Entra's default dialect (ENTRA.md §3.4, §3.5, §3.8) --------------------------------------

def test_entra_default_dialect_user_update_replaces_each_attribute():
    operations = parse_patch_request(sample("entra_patch_user_default.json"))
    result, changes = apply_patch(AVA, operations, USER)
    assert changes == []
    assert result["displayName"] == "Pvlo"
    assert result["emails"] == [{"primary": True, "type": "work", "value": "TestBcwqnm@test.microsoft.com"}]
    assert result["name"] == {"formatted": "Ava Lindqvist", "familyName": "Pkqf", "givenName": "Gtfd"}
    assert result["externalId"] == "Eqpj"
    assert result[ENTERPRISE] == {"employeeNumber": "Eqpj", "department": "Finance"}
    assert result["phoneNumbers"] == AVA["phoneNumbers"]


def test_entra_default_dialect_add_on_single_valued_attribute_sets_it():
    assert patch_user(op("Add", "nickName", value="Babs"))["nickName"] == "Babs"
    # rancher/rancher#54025, PR #55776 (ENTRA.md §8 #2): "Add" where a value exists replaces it.
    assert patch_user(op("Add", "externalId", value="ava2"))["externalId"] == "ava2"


def test_entra_default_dialect_replace_user_name():
    assert patch_user(op("Replace", "userName", value="new@contoso.com"))["userName"] == "new@contoso.com"


def test_entra_default_dialect_replace_enterprise_department():
    result = patch_user(op("Replace", f"{ENTERPRISE}:department", value="Sales"))
    assert result[ENTERPRISE] == {"employeeNumber": "E1000", "department": "Sales"}


def test_entra_default_dialect_add_filtered_email_creates_the_element():
    # ENTRA.md §3.4, §8 #10: the user has no work email yet; noTarget here broke SCIM-SDK#416.
    user = patch_user(op("remove", "emails"))
    result = patch_user(op("Add", "emails[type eq \"work\"].value", value="x@contoso.com"), document=user)
    assert result["emails"] == [{"type": "work", "value": "x@contoso.com"}]


def test_entra_replace_filtered_phone_number_creates_the_element_next_to_the_others():
    result = patch_user(op("Replace", "phoneNumbers[type eq \"fax\"].value", value="+1 425 555 0199"))
    assert result["phoneNumbers"] == [*AVA["phoneNumbers"], {"type": "fax", "value": "+1 425 555 0199"}]


def test_entra_replace_filtered_address_sub_attribute_keeps_the_others():
    result = patch_user(op("Replace", "addresses[type eq \"work\"].streetAddress", value="1 Main St"))
    assert result["addresses"] == [{"type": "work", "locality": "Seattle", "country": "US", "primary": True,
                                    "streetAddress": "1 Main St"}]


@pytest.mark.parametrize(("operation", "active"), [
    (op("Replace", "active", value="False"), False),
    (op("Replace", "active", value="True"), True),
    (op("replace", "active", value="false"), False),
    (op("Add", "active", value="False"), False),
    (op("replace", "active", value=False), False),
    (op("replace", value={"active": "False"}), False),
])
def test_entra_disable_and_enable_store_json_booleans(operation, active):
    # ENTRA.md §3.5, §8 #1, #2: "False"/"True" strings from the default dialect, false from the flag.
    assert patch_user(operation)["active"] is active


@pytest.mark.parametrize("value", ["yes", 0, {"value": True}])
def test_rfc7643_2_3_2_active_must_be_a_boolean(value):
    with pytest.raises(InvalidValue, match="'active'"):
        patch_user(op("replace", "active", value=value))


@pytest.mark.parametrize("operation", [
    op("Add", f"{ENTERPRISE}:manager", value="2c2f6fb8-0000-4000-8000-000000000001"),
    op("add", f"{ENTERPRISE}:manager", value="2c2f6fb8-0000-4000-8000-000000000001"),
    op("replace", f"{ENTERPRISE}:manager", value={"value": "2c2f6fb8-0000-4000-8000-000000000001"}),
    op("Add", f"{ENTERPRISE}:manager.value", value="2c2f6fb8-0000-4000-8000-000000000001"),
    op("replace", value={f"{ENTERPRISE}:manager": "2c2f6fb8-0000-4000-8000-000000000001"}),
    op("replace", value={ENTERPRISE: {"manager": {"value": "2c2f6fb8-0000-4000-8000-000000000001"}}}),
])
def test_entra_manager_is_stored_as_a_value_object(operation):
    # ENTRA.md §3.4, §8 #4: a bare id string (real traffic) or {"value": id} (the Validator).
    result = patch_user(operation)
    assert result[ENTERPRISE]["manager"] == {"value": "2c2f6fb8-0000-4000-8000-000000000001"}


def test_entra_tutorial_manager_with_unqualified_path_and_array_value():
    # ENTRA.md §3.4: the tutorial's Example 5, `path: "manager"` and a one-element array.
    result = patch_user(op("Add", "manager", value=[{"$ref": "../Users/26118915", "value": "26118915"}]))
    assert result[ENTERPRISE]["manager"] == {"$ref": "../Users/26118915", "value": "26118915"}


def test_entra_manager_removal():
    with_manager = patch_user(op("Add", f"{ENTERPRISE}:manager", value="m1"))
    result = patch_user(op("Remove", f"{ENTERPRISE}:manager"), document=with_manager)
    assert result[ENTERPRISE] == AVA[ENTERPRISE]


def test_entra_default_dialect_add_members_with_any_number_of_ids():
    ids = [f"user-{n}" for n in range(5000)]
    changes = patch_group(op("Add", "members", value=[{"$ref": None, "value": member} for member in ids]))
    assert changes == [MemberChange("add", tuple(ids))]


def test_entra_default_dialect_remove_members_with_value_array_removes_only_those():
    # ENTRA.md §3.8, §8 #5: read per RFC 7644 §3.5.2.2 this would empty the group.
    changes = patch_group(op("Remove", "members", value=[{"value": "u1"}, {"value": "u2"}]))
    assert changes == [MemberChange("remove", ("u1", "u2"))]


def test_entra_group_rename_and_external_id():
    result, changes = patch(FINANCE, op("Replace", "displayName", value="Finance EMEA"),
                            op("Add", "externalId", value="objectid-2"), resource_type=GROUP)
    assert (result["displayName"], result["externalId"], changes) == ("Finance EMEA", "objectid-2", [])


# --- Entra with aadOptscim062020 (ENTRA.md §3.4, §5.2) -----------------------------------------

def test_entra_aadoptscim062020_path_less_replace_keys_are_attribute_paths():
    result, changes = apply_patch(AVA, parse_patch_request(sample("entra_patch_user_aadoptscim062020.json")), USER)
    assert changes == []
    assert result["emails"] == [{"primary": True, "type": "work", "value": "TestMhvaes@test.microsoft.com"}]
    assert result["displayName"] == "Bjfe"
    assert result["name"] == {"formatted": "Ava Lindqvist", "familyName": "Unua", "givenName": "Kkom"}
    assert result[ENTERPRISE] == {"employeeNumber": "Aklq", "department": "Finance"}
    assert "name.givenName" not in result  # ENTRA.md §8 #11


def test_entra_aadoptscim062020_remove_member_by_filter():
    assert patch_group(op("remove", "members[value eq \"u1\"]")) == [MemberChange("remove", ("u1",))]


def test_members_filter_joined_by_or_removes_each_id():
    changes = patch_group(op("remove", "members[value eq \"u1\" or value eq \"u2\" or Value EQ \"u1\"]"))
    assert changes == [MemberChange("remove", ("u1", "u2"))]


def test_entra_validator_path_less_updates():
    # ENTRA.md §7.1: "Update userName" and "Update Group displayName" are path-less replaces.
    assert patch_user(op("replace", value={"userName": "ava@fabrikam.com"}))["userName"] == "ava@fabrikam.com"
    result, _ = patch(FINANCE, op("replace", value={"displayName": "Treasury"}), resource_type=GROUP)
    assert result["displayName"] == "Treasury"


def test_path_less_extension_object_and_schemas_key():
    result = patch_user(op("add", value={"schemas": ["urn:whatever"], ENTERPRISE: {"costCenter": "4130"}}))
    assert result[ENTERPRISE] == {"employeeNumber": "E1000", "department": "Finance", "costCenter": "4130"}
    assert result["schemas"] == [USER_URN, ENTERPRISE]


def test_path_less_extension_urn_with_null_unassigns_the_extension():
    result = patch_user(op("replace", value={ENTERPRISE: None}))
    assert ENTERPRISE not in result and result["schemas"] == [USER_URN]


def test_path_less_extension_urn_with_a_non_object_is_invalid_value():
    with pytest.raises(InvalidValue):
        patch_user(op("replace", value={ENTERPRISE: "Finance"}))


@pytest.mark.parametrize("name", ["add", "Replace"])
def test_rfc7644_3_5_2_extension_urn_as_path_sets_the_attributes_it_names(name):
    result = patch_user(op(name, ENTERPRISE, value={"department": "Sales", "manager": "m-1"}))
    assert result[ENTERPRISE] == {"employeeNumber": "E1000", "department": "Sales", "manager": {"value": "m-1"}}
    assert result["schemas"] == [USER_URN, ENTERPRISE]


def test_rfc7644_3_5_2_extension_urn_as_path_creates_the_extension():
    user = patch_user(op("remove", ENTERPRISE))
    assert ENTERPRISE not in user and user["schemas"] == [USER_URN]
    result = patch_user(op("add", ENTERPRISE.lower(), value={"division": "EMEA"}), document=user)
    assert result[ENTERPRISE] == {"division": "EMEA"} and result["schemas"] == [USER_URN, ENTERPRISE]


@pytest.mark.parametrize("value", ["Finance", ["Finance"], 7])
def test_extension_urn_as_path_with_a_non_object_is_invalid_value(value):
    with pytest.raises(InvalidValue, match=ENTERPRISE):
        patch_user(op("replace", ENTERPRISE, value=value))


@pytest.mark.parametrize(("operation", "change"), [
    (op("add", value={"members": [{"value": "u1"}, {"value": "u2"}]}), MemberChange("add", ("u1", "u2"))),
    (op("replace", value={"members": [{"value": "u3"}]}), MemberChange("replace", ("u3",))),
    (op("replace", "members", value=[{"value": "u3"}, {"value": "u3"}]), MemberChange("replace", ("u3",))),
    (op("replace", "members", value=[]), MemberChange("replace", ())),
    (op("remove", "members"), MemberChange("remove_all")),
])
def test_rfc7644_3_5_2_members_become_member_changes(operation, change):
    assert patch_group(operation) == [change]


def test_member_changes_keep_their_order():
    changes = patch_group(op("Add", "members", value=[{"value": "u1"}]), op("Remove", "members"),
                          op("Add", "members", value=[{"value": "u2"}]))
    assert changes == [MemberChange("add", ("u1",)), MemberChange("remove_all"), MemberChange("add", ("u2",))]


@pytest.mark.parametrize(("operation", "error"), [
    (op("Add", "members", value=[{"value": 42}]), InvalidValue),
    (op("Add", "members", value=[{"value": ""}]), InvalidValue),
    (op("Add", "members", value=["u1"]), InvalidValue),
    (op("Remove", "members", value=[{"display": "Ava"}]), InvalidValue),
    (op("remove", "members[display eq \"Ava\"]"), InvalidFilter),
    (op("remove", "members[value ne \"u1\"]"), InvalidFilter),
    (op("add", "members[value eq \"u1\"]", value={"value": "u1"}), InvalidPath),
    (op("replace", "members[value eq \"u1\"].display", value="Ava"), Mutability),
    (op("replace", "members.value", value="u2"), Mutability),
])
def test_bad_member_operations(operation, error):
    with pytest.raises(error):
        patch_group(operation)


def test_members_on_a_user_are_an_attribute_outside_the_schema():
    assert patch_user(op("add", "members", value=[{"value": "u1"}]))["members"] == [{"value": "u1"}]


# --- RFC 7644 §3.5.2.1 add --------------------------------------------------------------------

def test_rfc7644_3_5_2_1_add_to_multi_valued_appends_and_skips_values_already_there():
    result = patch_user(op("add", "emails", value=[
        {"primary": True, "type": "work", "value": "ava.lindqvist@contoso.com"},
        {"type": "home", "value": "ava@example.org"},
        {"type": "home", "value": "ava@example.org"},
    ]))
    assert result["emails"] == [AVA["emails"][0], {"type": "home", "value": "ava@example.org"}]


def test_rfc7644_3_5_2_1_add_single_object_to_multi_valued_entra_shape():
    # ENTRA.md §8 #3: a plain value where an array is expected.
    result = patch_user(op("Add", "emails", value={"type": "home", "value": "ava@example.org"}))
    assert result["emails"][-1] == {"type": "home", "value": "ava@example.org"}


def test_rfc7644_3_5_2_1_add_complex_merges_sub_attributes():
    result = patch_user(op("add", "name", value={"middleName": "Maria", "givenName": "Ava M."}))
    assert result["name"] == {"formatted": "Ava Lindqvist", "familyName": "Lindqvist", "givenName": "Ava M.",
                              "middleName": "Maria"}


def test_rfc7644_3_5_2_1_add_to_absent_extension_creates_it():
    user = patch_user(op("remove", f"{ENTERPRISE}:employeeNumber"), op("remove", f"{ENTERPRISE}:department"))
    assert ENTERPRISE not in user and user["schemas"] == [USER_URN]
    result = patch_user(op("add", f"{ENTERPRISE}:division", value="EMEA"), document=user)
    assert result[ENTERPRISE] == {"division": "EMEA"} and result["schemas"] == [USER_URN, ENTERPRISE]


def test_rfc7644_3_5_2_primary_true_on_a_new_value_clears_the_others():
    result = patch_user(op("add", "emails", value=[{"type": "home", "value": "ava@example.org", "primary": True}]))
    assert [email.get("primary") for email in result["emails"]] == [False, True]


def test_rfc7644_3_5_2_primary_true_through_a_filter_clears_the_others():
    user = patch_user(op("add", "emails", value=[{"type": "home", "value": "ava@example.org"}]))
    result = patch_user(op("replace", "emails[type eq \"home\"].primary", value="True"), document=user)
    assert [email.get("primary") for email in result["emails"]] == [False, True]


def test_rfc7643_2_4_two_primary_values_are_invalid():
    with pytest.raises(InvalidValue, match="primary"):
        patch_user(op("replace", "emails", value=[{"value": "a@x", "primary": True},
                                                  {"value": "b@x", "primary": True}]))


def test_filter_equalities_seed_a_new_element_with_typed_values():
    user = patch_user(op("remove", "emails"))
    result = patch_user(op("add", "emails[type eq \"work\" and primary eq true].value", value="w@x"), document=user)
    assert result["emails"] == [{"type": "work", "primary": True, "value": "w@x"}]


# --- RFC 7644 §3.5.2.3 replace ----------------------------------------------------------------

def test_rfc7644_3_5_2_3_replace_complex_leaves_unnamed_sub_attributes():
    result = patch_user(op("replace", "name", value={"givenName": "Eva"}))
    assert result["name"] == {"formatted": "Ava Lindqvist", "familyName": "Lindqvist", "givenName": "Eva"}


def test_rfc7644_3_5_2_3_replace_multi_valued_replaces_every_value():
    result = patch_user(op("replace", "phoneNumbers", value=[{"type": "mobile", "value": "+46 70 000 00 00"}]))
    assert result["phoneNumbers"] == [{"type": "mobile", "value": "+46 70 000 00 00"}]


def test_rfc7644_3_5_2_3_replace_filtered_record_replaces_it():
    result = patch_user(op("replace", "phoneNumbers[type eq \"mobile\"]", value={"type": "mobile", "value": "+1 1"}))
    assert result["phoneNumbers"] == [AVA["phoneNumbers"][0], {"type": "mobile", "value": "+1 1"}]


def test_rfc7644_3_5_2_1_add_filtered_record_merges_into_it():
    result = patch_user(op("add", "phoneNumbers[type eq \"mobile\"]", value={"display": "cell"}))
    assert result["phoneNumbers"][1] == {"type": "mobile", "value": "+1 206 555 2000", "display": "cell"}


def test_rfc7644_3_5_2_3_replace_sub_attribute_of_every_matching_record():
    result = patch_user(op("replace", "phoneNumbers[value sw \"+1\"].display", value="US"))
    assert [phone["display"] for phone in result["phoneNumbers"]] == ["US", "US"]


def test_sub_attribute_of_a_multi_valued_attribute_without_filter_means_every_value():
    result = patch_user(op("replace", "phoneNumbers.type", value="other"))
    assert [phone["type"] for phone in result["phoneNumbers"]] == ["other", "other"]


def test_rfc7644_3_5_2_3_replace_filter_that_matches_and_describes_nothing_is_no_target():
    with pytest.raises(NoTarget):
        patch_user(op("replace", "emails[value co \"@fabrikam\"].type", value="other"))


@pytest.mark.parametrize("path", ["emails[kind eq \"work\"].value", "ims[kind eq \"work\"].value",
                                  "emails[type eq 7].value", "ims[type eq 7].value", "ims[primary eq \"yes\"].value"])
def test_rfc7644_3_12_filter_with_unknown_names_or_mistyped_values_is_invalid_filter(path):
    # Whether or not the attribute has values to match (the user has emails, no ims).
    with pytest.raises(InvalidFilter):
        patch_user(op("add", path, value="x@x"))


def test_contradictory_filter_describes_no_element_to_create():
    with pytest.raises(NoTarget):
        patch_user(op("add", "ims[type eq \"xmpp\" and type eq \"icq\"].value", value="ava@jabber.org"))


@pytest.mark.parametrize("value", [None, ""])
def test_rfc7643_2_5_replace_with_null_or_empty_unassigns(value):
    # ENTRA.md §7.2: "PATCH to null must return 200"; [CLEAR].
    result = patch_user(op("replace", "title", value=value), op("replace", f"{ENTERPRISE}:department", value=value),
                        op("replace", "emails[type eq \"work\"].value", value=value))
    assert "title" not in result
    assert result[ENTERPRISE] == {"employeeNumber": "E1000"}
    assert result["emails"] == [{"primary": True, "type": "work"}]


def test_rfc7643_2_5_path_less_null_unassigns():
    result = patch_user(op("replace", value={"title": None, "name.formatted": None, "emails": []}))
    assert "title" not in result and "emails" not in result
    assert result["name"] == {"familyName": "Lindqvist", "givenName": "Ava"}


# --- RFC 7644 §3.5.2.2 remove -----------------------------------------------------------------

def test_rfc7644_3_5_2_2_remove_single_valued_and_sub_attribute():
    result = patch_user(op("Remove", "title"), op("remove", "name.formatted"))
    assert "title" not in result and result["name"] == {"familyName": "Lindqvist", "givenName": "Ava"}


def test_rfc7644_3_5_2_2_remove_last_sub_attribute_unassigns_the_complex_attribute():
    result = patch_user(op("remove", "name.formatted"), op("remove", "name.familyName"), op("remove", "name.givenName"))
    assert "name" not in result


def test_rfc7644_3_5_2_2_remove_missing_attribute_is_a_no_op():
    # Entra retries failed exports (ENTRA.md §3.9); removing twice must succeed.
    once = patch_user(op("Remove", "nickName"), op("remove", f"{ENTERPRISE}:manager"),
                      op("remove", "emails[type eq \"home\"]"), op("remove", "ims.value"))
    assert once == AVA


def test_rfc7644_3_5_2_2_remove_filtered_records():
    result = patch_user(op("remove", "phoneNumbers[type eq \"mobile\"]"))
    assert result["phoneNumbers"] == [{"type": "work", "value": "+1 425 555 1000"}]


def test_rfc7644_3_5_2_2_removing_every_record_unassigns_the_attribute():
    result = patch_user(op("remove", "phoneNumbers[type eq \"mobile\" or type eq \"work\"]"))
    assert "phoneNumbers" not in result


def test_rfc7644_3_5_2_2_remove_filtered_sub_attribute():
    result = patch_user(op("remove", "addresses[type eq \"work\"].locality"))
    assert result["addresses"] == [{"type": "work", "country": "US", "primary": True}]


@pytest.mark.parametrize("operations", [
    [op("remove", "userName")],
    [op("replace", "userName", value=None)],
    [op("replace", value={"userName": ""})],
])
def test_rfc7644_3_5_2_2_required_attribute_cannot_be_removed(operations):
    with pytest.raises(Mutability, match="userName"):
        patch_user(*operations)


def test_rfc7644_3_5_2_2_group_display_name_cannot_be_removed():
    with pytest.raises(Mutability, match="displayName"):
        patch_group(op("remove", "displayName"))


@pytest.mark.parametrize("operation", [
    op("replace", "id", value="x"),
    op("remove", "meta"),
    op("replace", "meta.lastModified", value="2024-01-01T00:00:00Z"),
    op("add", "groups", value=[{"value": "g1"}]),
    op("replace", f"{ENTERPRISE}:manager.displayName", value="Boss"),
    op("replace", value={"id": "x"}),
])
def test_rfc7644_3_5_2_read_only_attributes_are_a_mutability_error(operation):
    with pytest.raises(Mutability):
        patch_user(operation)


GROUP_ID = "abf4dd94-a4c0-4f67-89c9-76b03340cb9b"
SERVED_META = {"resourceType": "Group", "created": "2026-11-30T10:00:00.000Z",
               "lastModified": "2026-11-30T10:00:00.000Z", "version": 'W/"1"',
               "location": f"https://scim.contoso.com/scim_v2/Groups/{GROUP_ID}"}
SERVED_GROUP = {"schemas": [GROUP_URN], "id": GROUP_ID, **FINANCE, "meta": SERVED_META}
SERVED_AVA = {"schemas": [USER_URN], "id": "u1", **AVA, "groups": [{"value": "g1", "display": "Finance"}],
              ENTERPRISE: {**AVA[ENTERPRISE], "manager": {"value": "m1", "displayName": "Boss"}}}


def patch_served(served, *operations, resource_type=GROUP):
    document = FINANCE if resource_type is GROUP else AVA
    calls = []

    def serve():
        calls.append(1)
        return served

    message = {"schemas": [PATCH_OP_URN], "Operations": list(operations)}
    result, changes = apply_patch(document, parse_patch_request(message), resource_type, served=serve)
    assert len(calls) <= 1  # the resource as served is built once, if at all
    return result


def okta_rename(group_id):
    # Okta's Group Push rename: a path-less replace that repeats the group's own id.
    return json.loads((SAMPLES / "okta_rename_group.json").read_text().replace("{id}", group_id))


def test_okta_group_push_rename_repeats_the_id_and_renames():
    operations = parse_patch_request(okta_rename(GROUP_ID))
    result, changes = apply_patch(FINANCE, operations, GROUP, served=lambda: SERVED_GROUP)
    assert result == {**FINANCE, "displayName": "Test SCIMv20"} and changes == []


def test_okta_group_push_rename_with_another_id_is_refused_whole():
    operations = parse_patch_request(okta_rename("00000000-0000-0000-0000-000000000000"))
    with pytest.raises(Mutability, match="'id' is readOnly"):
        apply_patch(FINANCE, operations, GROUP, served=lambda: SERVED_GROUP)


@pytest.mark.parametrize("operation", [
    op("replace", "id", value=GROUP_ID),
    op("add", value={"id": GROUP_ID}),
    op("replace", "meta", value=SERVED_META),
    op("replace", "meta", value={"resourceType": "Group", "Version": 'W/"1"'}),
    op("replace", "meta.lastModified", value="2026-11-30T10:00:00.000Z"),
    op("replace", value={"meta": {"resourceType": "Group"}, "externalId": "8aa1a0c0"}),
])
def test_rfc7644_3_5_2_read_only_attributes_set_to_their_value_are_left_alone(operation):
    assert patch_served(SERVED_GROUP, operation) == FINANCE


@pytest.mark.parametrize("operation", [
    op("add", "groups", value=[{"value": "g1", "display": "Finance"}]),
    op("replace", "groups", value=[{"value": "g1", "display": "Finance"}]),
    op("replace", f"{ENTERPRISE}:manager.displayName", value="Boss"),
])
def test_a_users_read_only_values_set_to_what_is_served_are_left_alone(operation):
    assert patch_served(SERVED_AVA, operation, resource_type=USER) == AVA


@pytest.mark.parametrize("operation", [
    op("replace", "id", value=GROUP_ID.upper()),  # RFC 7643 §3.1: id is caseExact
    op("replace", "meta.lastModified", value="2024-01-01T00:00:00Z"),
    op("replace", "meta", value={"resourceType": "User"}),
    op("replace", "meta", value={"resourceType": "Group", "colour": "blue"}),
    op("replace", "meta", value="Group"),
    op("remove", "id"),
    op("remove", "meta"),
    op("replace", value={"displayName": "Renamed", "id": 7}),
])
def test_rfc7644_3_5_2_read_only_attributes_that_would_change_are_a_mutability_error(operation):
    with pytest.raises(Mutability, match="readOnly"):
        patch_served(SERVED_GROUP, operation)


@pytest.mark.parametrize("operation", [
    op("add", "groups", value=[{"value": "g2", "display": "Sales"}]),
    op("replace", "groups", value=[]),
    op("replace", "groups[value eq \"g1\"].display", value="Finance"),
    op("replace", f"{ENTERPRISE}:manager.displayName", value="Someone else"),
])
def test_a_users_read_only_values_that_would_change_are_a_mutability_error(operation):
    with pytest.raises(Mutability, match="readOnly"):
        patch_served(SERVED_AVA, operation, resource_type=USER)


def test_the_served_resource_is_built_only_for_read_only_attributes():
    def serve():
        raise AssertionError("not needed")

    result, _ = apply_patch(FINANCE, parse_patch_request({"schemas": [PATCH_OP_URN], "Operations": [
        op("replace", value={"displayName": "Renamed"})]}), GROUP, served=serve)
    assert result["displayName"] == "Renamed"


# --- What is stored ---------------------------------------------------------------------------

CONTOSO = "urn:ietf:params:scim:schemas:extension:Contoso:2.0:User"


@pytest.mark.parametrize(("operation", "kept"), [
    (op("replace", "favouriteColour", value="blue"), {"favouriteColour": "blue"}),
    (op("add", value={"favouriteColour": {"r": 0, "g": [128]}}), {"favouriteColour": {"r": 0, "g": [128]}}),
    (op("add", f"{CONTOSO}:badge", value="42"), {CONTOSO: {"badge": "42"}}),
    (op("add", value={f"{CONTOSO}:badge": "42"}), {CONTOSO: {"badge": "42"}}),
    (op("add", value={CONTOSO: {"badge": "42"}}), {CONTOSO: {"badge": "42"}}),
    (op("add", CONTOSO, value={"badge": "42"}), {CONTOSO: {"badge": "42"}}),
    (op("add", f"{ENTERPRISE}:costCenterCode", value="4130"), {ENTERPRISE: {**AVA[ENTERPRISE], "costCenterCode": "4130"}}),
    (op("replace", "name.nickname", value="x"), {"name": {**AVA["name"], "nickname": "x"}}),
    (op("replace", "emails[type eq \"work\"].label", value="x"), {"emails": [{**AVA["emails"][0], "label": "x"}]}),
])
def test_attributes_outside_the_schema_are_kept_as_sent(operation, kept):
    result = patch_user(operation)
    assert result == {**AVA, **kept, "schemas": result["schemas"]}
    assert result["schemas"] == AVA["schemas"] + ([CONTOSO] if CONTOSO in kept else [])


def test_attributes_outside_the_schema_are_replaced_and_removed_whatever_their_case():
    user = patch_user(op("add", value={"favouriteColour": "blue", CONTOSO: {"badge": "42"}}))
    user = patch_user(op("replace", "FavouriteColour", value="teal"), op("replace", f"{CONTOSO.lower()}:Badge", value="7"),
                      document=user)
    assert user["favouriteColour"] == "teal" and user[CONTOSO] == {"badge": "7"}
    assert patch_user(op("remove", "favouritecolour"), op("remove", CONTOSO), document=user) == AVA


def nested(depth):
    return "deep" if depth == 1 else [nested(depth - 1)]


@pytest.mark.parametrize(("operation", "error"), [
    (op("add", "favouriteColour[value eq \"x\"]", value="x"), InvalidPath),
    (op("add", "title.length", value=7), InvalidPath),
    (op("add", "favouriteColour", value=float("inf")), InvalidValue),
    (op("add", "favouriteColour", value=nested(11)), InvalidValue),
])
def test_attributes_outside_the_schema_that_cannot_be_kept(operation, error):
    with pytest.raises(error):
        patch_user(operation)


def test_an_extension_outside_the_schema_takes_an_object():
    user = patch_user(op("add", CONTOSO, value={"badge": "42"}))
    with pytest.raises(InvalidValue, match=CONTOSO):
        patch_user(op("replace", CONTOSO, value="42"), document=user)


@pytest.mark.parametrize("operation", [
    op("replace", "password", value="hunter2"),
    op("replace", value={"password": "hunter2"}),
    op("replace", value={"favouriteColour": None, CONTOSO: {}}),
    op("remove", "favouriteColour"),
])
def test_the_password_and_unassigned_values_are_not_stored(operation):
    assert patch_user(operation) == AVA


@pytest.mark.parametrize(("operation", "named"), [
    (op("replace", "name.givenName", value={"text": "Ava"}), "name.givenName"),
    (op("replace", "title", value=["Analyst"]), "title"),
    (op("replace", "name", value="Ava Lindqvist"), "name"),
    (op("replace", "emails[type eq \"work\"].value", value=7), "emails.value"),
    (op("replace", f"{ENTERPRISE}:department", value={"name": "Sales"}), f"{ENTERPRISE}:department"),
    (op("replace", value={"emails": [{"value": True}]}), "emails.value"),
    (op("replace", "emails[type eq \"work\"]", value=[{"value": "a@x"}]), "emails"),
])
def test_type_errors_name_the_attribute(operation, named):
    with pytest.raises(InvalidValue, match=f"'{named}'"):
        patch_user(operation)


def test_single_valued_attribute_takes_no_filter():
    with pytest.raises(InvalidPath):
        patch_user(op("replace", "name[givenName eq \"Ava\"].familyName", value="x"))


def test_values_are_stored_exactly_as_sent():
    result = patch_user(op("replace", "phoneNumbers[type eq \"work\"].value", value="  (425) 555-1000 ext. 7 "))
    assert result["phoneNumbers"][0]["value"] == "  (425) 555-1000 ext. 7 "


def test_apply_patch_never_mutates_its_input():
    before = copy.deepcopy(AVA)
    patch_user(op("Remove", "emails[type eq \"work\"].value"), op("add", "name", value={"givenName": "X"}),
               op("replace", "phoneNumbers[type eq \"work\"].display", value="desk"),
               op("add", "emails", value=[{"value": "n@x", "primary": True}]), op("remove", f"{ENTERPRISE}:department"))
    with pytest.raises(Mutability):
        patch_user(op("replace", "title", value="Boss"), op("remove", "userName"))
    assert AVA == before


def test_apply_patch_is_deterministic():
    operations = parse_patch_request(sample("entra_patch_user_aadoptscim062020.json"))
    assert apply_patch(AVA, operations, USER) == apply_patch(AVA, operations, USER)


# --- Any input either applies or is a SCIM error -----------------------------------------------

_PATHS = st.sampled_from([
    "userName", "displayName", "title", "active", "name", "name.givenName", "emails", "emails.value",
    "emails[type eq \"work\"]", "emails[type eq \"work\"].value", "emails[primary eq true].type",
    "phoneNumbers[value co \"+1\"].display", "addresses[type eq \"work\" and locality pr].country",
    f"{ENTERPRISE}:manager", f"{ENTERPRISE}:manager.value", f"{ENTERPRISE}:department", "manager", "members",
    "members[value eq \"u1\"]", "members[display eq \"x\"]", "members.value", "id", "meta", "groups",
    "password", "x509Certificates.value", "unknown", "urn:x:y:z", "emails[", "]", "name.", "",
])
_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8)
    | st.sampled_from(["True", "false", "", "u1"]),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(
        st.sampled_from(["value", "type", "primary", "givenName", "display", "userName", ENTERPRISE, "name.givenName",
                         "members", "emails", "x y", "$ref"]) | st.text(max_size=6), children, max_size=4),
    max_leaves=12,
)
_OPERATION = st.dictionaries(
    st.sampled_from(["op", "path", "value", "Op", "PATH"]),
    st.sampled_from(["add", "Replace", "REMOVE", "copy"]) | _PATHS | _JSON,
    max_size=3,
) | st.fixed_dictionaries({"op": st.sampled_from(["Add", "replace", "Remove"]), "path": _PATHS, "value": _JSON})


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(operations=st.lists(_OPERATION, min_size=1, max_size=4), group=st.booleans())
def test_any_operation_list_applies_or_raises_a_scim_error(operations, group):
    document, resource_type = (FINANCE, GROUP) if group else (AVA, USER)
    before = copy.deepcopy(document)
    try:
        result, _ = apply_patch(document, parse_patch_request({"Operations": operations}), resource_type)
    except ScimError:
        pass
    else:
        assert json.loads(json.dumps(result)) == result
        assert result["schemas"][0] == resource_type.schema.id
    assert document == before
