import copy
import json
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from jericho.scim.errors import InvalidPath, InvalidSyntax, InvalidValue
from jericho.scim.paths import AttrPath, parse_attr_list, parse_attr_path
from jericho.scim.resources import (
    coerce_value,
    etag,
    list_response,
    members_of,
    normalize,
    parse_search_request,
    select_attributes,
    select_served_attributes,
    to_resource,
)
from jericho.scim.schema import (
    ENTERPRISE_USER_URN,
    GROUP,
    GROUP_URN,
    LIST_RESPONSE_URN,
    SEARCH_REQUEST_URN,
    USER,
    USER_URN,
    Attribute,
)

SAMPLES = Path(__file__).parent / "samples"
ENTERPRISE = ENTERPRISE_USER_URN


def sample(name):
    return json.loads((SAMPLES / name).read_text())


def user(**attributes):
    return normalize({"userName": "ava@contoso.com", **attributes}, USER)


# --- normalize (RFC 7643 §2, §3; RFC 7644 §3.3) -----------------------------------------------

def test_entra_create_user_is_stored_as_sent():
    # ENTRA.md §3.2: meta is the server's, an empty roles array is unassigned; the rest exactly as sent.
    assert normalize(sample("entra_create_user.json"), USER) == {
        "schemas": [USER_URN, ENTERPRISE],
        "externalId": "ava.lindqvist", "userName": "Ava.Lindqvist@contoso.com", "active": True,
        "displayName": "Ava Lindqvist",
        "emails": [{"primary": True, "type": "work", "value": "ava.lindqvist@contoso.com"}],
        "name": {"formatted": "Ava Lindqvist", "familyName": "Lindqvist", "givenName": "Ava"},
        "title": "Analyst", "preferredLanguage": "en-US",
        "addresses": [{"type": "work", "locality": "Seattle", "country": "US", "primary": True}],
        "phoneNumbers": [{"type": "work", "value": "+1 425 555 1000"}, {"type": "mobile", "value": "+1 206 555 2000"}],
        ENTERPRISE: {"employeeNumber": "E1000", "department": "Finance"},
    }


def test_entra_create_group_ignores_the_unknown_adscim_schema_urn():
    # ENTRA.md §3.7: the tutorial's group create names a Microsoft schema URN no server knows.
    body = sample("entra_create_group.json")
    assert normalize(body, GROUP) == {"schemas": [GROUP_URN], "externalId": "8aa1a0c0-c4c3-4bc0-b4a5-2ef676900159",
                                      "displayName": "Finance"}
    assert members_of(body) == []


def test_rfc7643_2_5_nulls_are_unassigned():
    # ENTRA.md §3.2: the tutorial's "Example 2" sends explicit nulls.
    document = user(addresses=None, phoneNumbers=None, title=None, name={"givenName": "Ava", "familyName": None},
                    emails=[None, {"value": "a@x", "type": None}], **{ENTERPRISE: None})
    assert document == {"schemas": [USER_URN], "userName": "ava@contoso.com", "name": {"givenName": "Ava"},
                        "emails": [{"value": "a@x"}]}


def test_password_is_never_stored():
    assert "password" not in user(password="t1meMa$heen")
    assert "password" not in user(PASSWORD="t1meMa$heen")


def test_rfc7643_2_2_read_only_attributes_are_ignored_on_input():
    document = user(id="client-chosen", meta={"resourceType": "User", "version": 'W/"9"'},
                    groups=[{"value": "g1"}], **{ENTERPRISE: {"manager": {"value": "m1", "displayName": "Boss"}}})
    assert document == {"schemas": [USER_URN, ENTERPRISE], "userName": "ava@contoso.com",
                        ENTERPRISE: {"manager": {"value": "m1"}}}


CONTOSO = "urn:ietf:params:scim:schemas:extension:Contoso:2.0:User"


def test_attributes_and_extensions_outside_the_schema_are_kept_as_sent():
    document = user(favouriteColour="blue", name={"givenName": "Ava", "nickname": "A"},
                    emails=[{"value": "a@x", "label": "desk"}],
                    schemas=[USER_URN, CONTOSO, "urn:example:listed-only"],
                    **{CONTOSO: {"badge": 7, "office": {"floor": 3}}, ENTERPRISE: {"costCenterCode": "4130"},
                       f"{ENTERPRISE}:division": "EMEA"})
    assert document == {"schemas": [USER_URN, ENTERPRISE, CONTOSO], "userName": "ava@contoso.com",
                        "favouriteColour": "blue", "name": {"givenName": "Ava", "nickname": "A"},
                        "emails": [{"value": "a@x", "label": "desk"}],
                        CONTOSO: {"badge": 7, "office": {"floor": 3}},
                        ENTERPRISE: {"costCenterCode": "4130", "division": "EMEA"}}
    assert to_resource(document, id="u1", resource_type=USER, created=CREATED, last_modified=CREATED, version=1,
                       location="x")[CONTOSO] == {"badge": 7, "office": {"floor": 3}}


def test_attributes_outside_the_schema_are_selected_and_excluded_by_name():
    resource = to_resource(user(favouriteColour="blue", name={"givenName": "Ava", "nickname": "A"},
                                **{CONTOSO: {"badge": 7, "floor": 3}}),
                           id="u1", resource_type=USER, created=CREATED, last_modified=CREATED, version=1, location="x")

    def select(attributes=(), excluded=()):
        return select_attributes(resource, USER, attributes=[parse_attr_path(text) for text in attributes],
                                 excluded=[parse_attr_path(text) for text in excluded])

    assert select()["favouriteColour"] == "blue"
    assert select(["FavouriteColour", f"{CONTOSO}:badge", "name.nickname"]) == {
        "schemas": resource["schemas"], "id": "u1", "favouriteColour": "blue", "name": {"nickname": "A"},
        CONTOSO: {"badge": 7}}
    excluded = select(excluded=["favouritecolour", f"{CONTOSO}:floor", "name.nickName"])
    assert "favouriteColour" not in excluded and excluded[CONTOSO] == {"badge": 7}
    assert excluded["name"] == {"givenName": "Ava"}


@pytest.mark.parametrize("body", [
    {"favouriteColour": float("nan")},
    {CONTOSO: {"office": [[[[[[[[[[{"floor": 3}]]]]]]]]]]}},  # 11 levels: the list, then 10 more
    {CONTOSO: "badge 7"},
])
def test_values_outside_the_schema_that_no_database_could_keep_are_invalid(body):
    with pytest.raises(InvalidValue):
        user(**body)


def test_rfc7643_2_1_attribute_names_and_urns_are_case_insensitive():
    document = normalize({"USERNAME": "ava@contoso.com", "Emails": [{"Value": "a@x", "TYPE": "work"}],
                          ENTERPRISE.upper(): {"Department": "Finance"}}, USER)
    assert document == {"schemas": [USER_URN, ENTERPRISE], "userName": "ava@contoso.com",
                        "emails": [{"value": "a@x", "type": "work"}], ENTERPRISE: {"department": "Finance"}}


@pytest.mark.parametrize(("sent", "stored"), [(True, True), ("True", True), ("false", False), ("FALSE", False)])
def test_entra_string_booleans_are_stored_as_json_booleans(sent, stored):
    document = user(active=sent, emails=[{"value": "a@x", "primary": sent}])
    assert document["active"] is stored and document["emails"][0]["primary"] is stored


@pytest.mark.parametrize("manager", ["m1", {"value": "m1"}, [{"value": "m1"}]])
def test_entra_manager_shapes_are_stored_as_a_value_object(manager):
    assert user(**{ENTERPRISE: {"manager": manager}})[ENTERPRISE] == {"manager": {"value": "m1"}}


def test_values_are_not_reformatted():
    document = user(phoneNumbers=[{"value": "(425) 555-1000", "type": "work"}], userType="  Employee ",
                    emails=[{"value": "Ava.Lindqvist@Contoso.COM"}])
    assert document["phoneNumbers"][0]["value"] == "(425) 555-1000"
    assert document["userType"] == "  Employee "
    assert document["emails"][0]["value"] == "Ava.Lindqvist@Contoso.COM"


@pytest.mark.parametrize(("attributes", "named"), [
    ({"name": {"givenName": {"text": "Ava"}}}, "name.givenName"),
    ({"name": "Ava Lindqvist"}, "name"),
    ({"title": 42}, "title"),
    ({"active": "yes"}, "active"),
    ({"active": 1}, "active"),
    ({"emails": [{"value": ["a@x"]}]}, "emails.value"),
    ({"emails": ["a@x"]}, "emails"),
    ({ENTERPRISE: {"department": ["Finance"]}}, f"{ENTERPRISE}:department"),
    ({ENTERPRISE: {"manager": 42}}, f"{ENTERPRISE}:manager"),
    ({ENTERPRISE: "Finance"}, ENTERPRISE),
    ({"externalId": {"id": 1}}, "externalId"),
])
def test_type_errors_are_invalid_value_naming_the_attribute(attributes, named):
    with pytest.raises(InvalidValue, match=f"'{named}'"):
        user(**attributes)


def test_rfc7643_2_4_at_most_one_primary_value():
    with pytest.raises(InvalidValue, match="primary"):
        user(emails=[{"value": "a@x", "primary": True}, {"value": "b@x", "primary": "True"}])


@pytest.mark.parametrize(("body", "resource_type", "named"), [
    ({"displayName": "Ava"}, USER, "userName"),
    ({"userName": ""}, USER, "userName"),
    ({"userName": None}, USER, "userName"),
    ({"externalId": "g1"}, GROUP, "displayName"),
])
def test_rfc7643_2_2_required_attributes_are_invalid_value_when_missing(body, resource_type, named):
    with pytest.raises(InvalidValue, match=f"'{named}' is required"):
        normalize(body, resource_type)


@pytest.mark.parametrize("body", [None, [], "userName", 42])
def test_body_must_be_an_object(body):
    with pytest.raises(InvalidSyntax):
        normalize(body, USER)


def test_normalize_leaves_its_input_alone():
    body = sample("entra_create_user.json")
    before = copy.deepcopy(body)
    normalize(body, USER)
    assert body == before


@pytest.mark.parametrize(("type_", "good", "bad"), [
    ("integer", 7, 7.5),
    ("integer", -1, True),
    ("decimal", 7.5, "7.5"),
    ("dateTime", "2011-05-13T04:42:34Z", "13 May 2011"),
    ("binary", "MIIDQzCCAqygAwIBAgICEAAwDQYJKoZIhvcNAQEFBQAwTjELMAkGA1UEBhMCVVMx", b"\x00"),
    ("reference", "https://example.com/photo.jpg", {"href": "x"}),
])
def test_rfc7643_2_3_simple_types(type_, good, bad):
    attribute = Attribute("x", type_)
    assert coerce_value(attribute, good) == good
    with pytest.raises(InvalidValue, match="'x'"):
        coerce_value(attribute, bad)


def test_coerce_value_names_the_path_it_is_given():
    with pytest.raises(InvalidValue, match=f"'{ENTERPRISE}:costCenter'"):
        coerce_value(Attribute("costCenter", "string"), 4130, path=f"{ENTERPRISE}:costCenter")


# --- Group members (RFC 7643 §4.2) -------------------------------------------------------------

def test_group_members_are_returned_separately_not_stored():
    body = {"displayName": "Finance", "members": [{"value": "u1", "$ref": None, "type": "User"}, {"value": "u2"},
                                                   {"value": "u1"}]}
    assert normalize(body, GROUP) == {"schemas": [GROUP_URN], "displayName": "Finance"}
    assert members_of(body) == ["u1", "u2"]


@pytest.mark.parametrize("members", [None, []])
def test_members_of_unassigned(members):
    assert members_of({"displayName": "Finance", "Members": members}) == []


@pytest.mark.parametrize("members", [["u1"], [{"value": 7}], [{"value": ""}], [{"display": "Ava"}], "u1",
                                     {"value": "u1"}, {}])
def test_members_of_rejects_members_without_a_string_id(members):
    with pytest.raises(InvalidValue):
        members_of({"displayName": "Finance", "members": members})


# --- Representation (RFC 7643 §3.1) -----------------------------------------------------------

CREATED = datetime(2025, 3, 1, 8, 30, tzinfo=UTC)


def ava_resource():
    return to_resource(normalize(sample("entra_create_user.json"), USER), id="2819c223", resource_type=USER,
                       created=CREATED, last_modified=CREATED + timedelta(hours=1, microseconds=2500), version=3,
                       location="https://jericho.example/scim_v2/Users/2819c223")


def test_rfc7643_3_1_resource_has_id_and_meta():
    resource = ava_resource()
    assert list(resource)[:2] == ["schemas", "id"] and list(resource)[-1] == "meta"
    assert resource["id"] == "2819c223"
    assert resource["meta"] == {"resourceType": "User", "created": "2025-03-01T08:30:00.000Z",
                                "lastModified": "2025-03-01T09:30:00.002Z",
                                "location": "https://jericho.example/scim_v2/Users/2819c223", "version": 'W/"3"'}
    assert resource[ENTERPRISE]["department"] == "Finance"


def test_timestamps_are_utc_whatever_the_datetime_says():
    resource = to_resource({"displayName": "Finance"}, id="g1", resource_type=GROUP,
                           created=datetime(2025, 3, 1, 8, 30), version=1, location="https://x/Groups/g1",
                           last_modified=datetime(2025, 3, 1, 10, 30, tzinfo=timezone(timedelta(hours=2))))
    assert resource["schemas"] == [GROUP_URN]
    assert (resource["meta"]["created"], resource["meta"]["lastModified"]) == ("2025-03-01T08:30:00.000Z",
                                                                                "2025-03-01T08:30:00.000Z")


def test_rfc7644_3_14_weak_etag():
    assert etag(12) == 'W/"12"'


# --- attributes / excludedAttributes (RFC 7644 §3.4.2.5, §3.9) --------------------------------

def select(resource, attributes=None, excluded=None, resource_type=USER):
    return select_attributes(resource, resource_type, attributes=parse_attr_list(attributes),
                             excluded=parse_attr_list(excluded))


def test_no_selection_returns_the_default_set():
    assert select(ava_resource()) == ava_resource()


@pytest.mark.parametrize("resource_type, sample_name", [(USER, "entra_create_user.json"),
                                                        (GROUP, "entra_create_group.json")])
def test_a_served_resource_with_no_selection_is_answered_as_built(resource_type, sample_name):
    resource = to_resource(normalize(sample(sample_name), resource_type), id="2819c223", resource_type=resource_type,
                           created=CREATED, last_modified=CREATED, version=1, location="x")
    served = select_served_attributes(resource, resource_type, attributes=[], excluded=[])
    assert served is resource
    assert served == select_attributes(resource, resource_type, attributes=[], excluded=[])
    assert select_served_attributes(resource, resource_type, attributes=[], excluded=parse_attr_list("id,meta")) \
        == select_attributes(resource, resource_type, attributes=[], excluded=parse_attr_list("id,meta"))


def test_entra_reference_check_attributes_id():
    # ENTRA.md §3.3: `&attributes=id`; id and schemas are returned "always".
    assert select(ava_resource(), "id") == {"schemas": [USER_URN, ENTERPRISE], "id": "2819c223"}


def test_rfc7644_3_4_2_5_attributes_returns_only_those():
    # ENTRA.md §7.2: the Postman collection's `attributes=userName,emails`.
    assert select(ava_resource(), "userName, Emails") == {
        "schemas": [USER_URN, ENTERPRISE], "id": "2819c223", "userName": "Ava.Lindqvist@contoso.com",
        "emails": [{"primary": True, "type": "work", "value": "ava.lindqvist@contoso.com"}]}


def test_rfc7644_3_4_2_5_attributes_with_sub_attributes_and_urns():
    selected = select(ava_resource(), f"name.givenName,emails.value,{ENTERPRISE}:department,manager,meta.version")
    assert selected == {"schemas": [USER_URN, ENTERPRISE], "id": "2819c223", "name": {"givenName": "Ava"},
                        "emails": [{"value": "ava.lindqvist@contoso.com"}], ENTERPRISE: {"department": "Finance"},
                        "meta": {"version": 'W/"3"'}}


def test_rfc7644_3_4_2_5_whole_attribute_wins_over_its_sub_attribute():
    assert select(ava_resource(), "name.givenName,name")["name"] == ava_resource()["name"]


def test_rfc7644_3_4_2_5_excluded_attributes():
    selected = select(ava_resource(), excluded=f"name.formatted,phoneNumbers,{ENTERPRISE}:employeeNumber,meta")
    expected = ava_resource()
    del expected["phoneNumbers"], expected["meta"]
    del expected["name"]["formatted"], expected[ENTERPRISE]["employeeNumber"]
    assert selected == expected


def test_rfc7644_3_4_2_5_excluded_attributes_never_removes_returned_always():
    assert select(ava_resource(), excluded="id,schemas")["id"] == "2819c223"


def test_entra_excluded_attributes_members():
    # ENTRA.md §1.1, §8 #9: every Entra group read excludes members.
    group = {"schemas": [GROUP_URN], "id": "g1", "displayName": "Finance", "members": [{"value": "u1"}],
             "meta": {"resourceType": "Group"}}
    assert select(group, excluded="members", resource_type=GROUP) == {
        "schemas": [GROUP_URN], "id": "g1", "displayName": "Finance", "meta": {"resourceType": "Group"}}


def test_emptied_extension_is_left_out():
    assert ENTERPRISE not in select(ava_resource(), excluded=f"{ENTERPRISE}:employeeNumber,{ENTERPRISE}:department")


def test_password_is_never_returned_even_when_asked_for():
    resource = {**ava_resource(), "password": "t1meMa$heen"}
    assert "password" not in select(resource)
    assert "password" not in select(resource, "password,userName")


def test_unknown_names_in_a_selection_are_ignored():
    assert select(ava_resource(), "id,favouriteColour") == {"schemas": [USER_URN, ENTERPRISE], "id": "2819c223"}
    assert select(ava_resource(), excluded="favouriteColour") == ava_resource()


def test_select_attributes_leaves_its_input_alone():
    resource = ava_resource()
    select(resource, "name.givenName,emails.value")
    select(resource, excluded="name.formatted")
    assert resource == ava_resource()


# --- Messages (RFC 7644 §3.4.2, §3.4.3) --------------------------------------------------------

def test_entra_test_connection_empty_list_response():
    # ENTRA.md §3.1: the exact answer Entra expects for a user that does not exist.
    assert list_response([], total=0, start_index=1) == {
        "schemas": [LIST_RESPONSE_URN], "totalResults": 0, "Resources": [], "startIndex": 1, "itemsPerPage": 0}


def test_rfc7644_3_4_2_4_items_per_page_counts_this_page():
    page = list_response([{"id": "a"}, {"id": "b"}], total=11, start_index=6)
    assert (page["totalResults"], page["itemsPerPage"], page["startIndex"]) == (11, 2, 6)


def test_rfc7644_3_4_3_search_request():
    assert parse_search_request({
        "schemas": [SEARCH_REQUEST_URN], "attributes": ["userName", "name.givenName"],
        "excludedAttributes": [f"{ENTERPRISE}:manager"], "filter": "userName sw \"ava\"", "sortBy": "userName",
        "sortOrder": "descending", "startIndex": 1, "count": 10,
    }) == {
        "filter": "userName sw \"ava\"",
        "attributes": [AttrPath(None, "userName"), AttrPath(None, "name", "givenName")],
        "excludedAttributes": [AttrPath(ENTERPRISE, "manager")], "sortBy": AttrPath(None, "userName"),
        "sortOrder": "descending", "startIndex": 1, "count": 10,
    }


def test_rfc7644_3_4_3_empty_search_request():
    assert parse_search_request({"schemas": [SEARCH_REQUEST_URN]}) == {
        "filter": None, "attributes": [], "excludedAttributes": [], "sortBy": None, "sortOrder": None,
        "startIndex": None, "count": None}


@pytest.mark.parametrize(("body", "error"), [
    ([], InvalidSyntax),
    ({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"]}, InvalidSyntax),
    ({"filter": 7}, InvalidValue),
    ({"attributes": "userName"}, InvalidValue),
    ({"attributes": ["userName", 7]}, InvalidValue),
    ({"excludedAttributes": [None]}, InvalidValue),
    ({"sortOrder": "up"}, InvalidValue),
    ({"sortBy": ["userName"]}, InvalidValue),
    ({"startIndex": "1"}, InvalidValue),
    ({"count": True}, InvalidValue),
    ({"count": 1.5}, InvalidValue),
    ({"attributes": ["user name"]}, InvalidPath),
])
def test_rfc7644_3_4_3_bad_search_requests(body, error):
    with pytest.raises(error):
        parse_search_request(body)
