"""/scim_v2/Users over HTTP: create, read, query, replace, patch, delete, and their errors."""
import json
from pathlib import Path

import pytest

ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
SAMPLES = Path(__file__).parent.parent / "scim" / "samples"


def entra_user(user_name="Ava.Lindqvist@contoso.com", **overrides):
    body = json.loads((SAMPLES / "entra_create_user.json").read_text())
    body["userName"] = user_name
    body.update(overrides)
    return body


def create(scim, user_name="ava@contoso.com", **overrides):
    response = scim.post("/Users", json=entra_user(user_name, **overrides))
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def test_create_returns_201_with_location_etag_and_the_stored_document(scim):
    response = scim.post("/Users", json=entra_user())
    assert response.status_code == 201
    assert response.mimetype == "application/scim+json"
    user = response.get_json()
    assert user["schemas"][0] == "urn:ietf:params:scim:schemas:core:2.0:User"
    assert user["userName"] == "Ava.Lindqvist@contoso.com"
    assert user["active"] is True
    assert user["phoneNumbers"][0]["value"] == "+1 425 555 1000"  # stored exactly as sent
    assert user[ENTERPRISE]["department"] == "Finance"
    assert user["meta"]["resourceType"] == "User"
    assert user["meta"]["location"] == f"http://localhost/scim_v2/Users/{user['id']}"
    assert response.headers["Location"] == user["meta"]["location"]
    assert response.headers["ETag"] == user["meta"]["version"] == 'W/"1"'
    assert "password" not in user


def test_location_uses_public_url(app, scim):
    app.config["PUBLIC_URL"] = "https://scim.example.com"
    user = create(scim)
    assert user["meta"]["location"].startswith("https://scim.example.com/scim_v2/Users/")


def test_password_is_never_stored_or_returned(app, scim):
    user = create(scim, password="Secret-123")
    assert "password" not in scim.get(f"/Users/{user['id']}").get_json()
    from jericho.extensions import db
    from jericho.storage.models import User

    with app.app_context():
        assert "Secret-123" not in json.dumps(db.session.execute(db.select(User.document)).scalar())


def test_duplicate_user_name_in_any_case_is_409_uniqueness(scim):
    create(scim, "ava@contoso.com")
    response = scim.post("/Users", json=entra_user("AVA@Contoso.COM"))
    assert response.status_code == 409
    body = response.get_json()
    assert body["scimType"] == "uniqueness" and body["status"] == "409"
    assert body["schemas"] == ["urn:ietf:params:scim:api:messages:2.0:Error"]


@pytest.mark.parametrize(
    "body, scim_type",
    [
        ({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"]}, "invalidValue"),
        ({"userName": {"not": "a string"}}, "invalidValue"),
        ({"userName": "a@b.c", "active": "maybe"}, "invalidValue"),
        ([1, 2, 3], "invalidSyntax"),
    ],
)
def test_invalid_bodies_are_400_with_scim_type(scim, body, scim_type):
    response = scim.post("/Users", json=body)
    assert response.status_code == 400
    assert response.get_json()["scimType"] == scim_type


def test_malformed_json_is_400_invalid_syntax(scim):
    response = scim.post("/Users", data=b"{not json", content_type="application/scim+json")
    assert response.status_code == 400 and response.get_json()["scimType"] == "invalidSyntax"


def test_attributes_outside_the_schema_are_kept_and_returned(scim):
    contoso = "urn:ietf:params:scim:schemas:extension:Contoso:2.0:User"
    user = create(scim, schemas=["urn:example:unknown", contoso], favouriteColour="teal",
                  **{contoso: {"costCenterCode": "4130"}})
    assert user["favouriteColour"] == "teal" and user[contoso] == {"costCenterCode": "4130"}
    assert user["schemas"][-1] == contoso
    patch = {"Operations": [{"op": "replace", "path": f"{contoso}:costCenterCode", "value": "4140"},
                            {"op": "remove", "path": "favouriteColour"}]}
    patched = scim.patch(f"/Users/{user['id']}", json=patch).get_json()
    assert patched[contoso] == {"costCenterCode": "4140"} and "favouriteColour" not in patched
    assert scim.get(f"/Users/{user['id']}").get_json() == patched


def test_plain_json_and_charset_are_accepted(scim):
    response = scim.post(
        "/Users", data=json.dumps(entra_user()), content_type="application/json; charset=utf-8"
    )
    assert response.status_code == 201


def test_other_media_types_are_415(scim):
    response = scim.post("/Users", data="userName=x", content_type="application/x-www-form-urlencoded")
    assert response.status_code == 415
    assert response.get_json()["status"] == "415"


def test_read_by_id_with_etag_and_if_none_match(scim):
    user = create(scim)
    response = scim.get(f"/Users/{user['id']}")
    assert response.status_code == 200 and response.get_json()["id"] == user["id"]
    assert response.headers["ETag"] == 'W/"1"'
    assert scim.get(f"/Users/{user['id']}", headers={"If-None-Match": 'W/"1"'}).status_code == 304
    assert scim.get(f"/Users/{user['id']}", headers={"If-None-Match": 'W/"9"'}).status_code == 200


def test_unknown_id_is_404_scim_error(scim):
    response = scim.get("/Users/00000000-0000-0000-0000-000000000000")
    assert response.status_code == 404
    assert response.get_json()["status"] == "404"


def test_filter_user_name_is_case_insensitive(scim):
    user = create(scim, "Ava.Lindqvist@contoso.com")
    response = scim.get('/Users?filter=userName+eq+%22ava.lindqvist%40CONTOSO.com%22')
    body = response.get_json()
    assert body["totalResults"] == 1 and body["Resources"][0]["id"] == user["id"]
    assert body["schemas"] == ["urn:ietf:params:scim:api:messages:2.0:ListResponse"]


def test_entra_test_connection_gets_an_empty_list_response(scim):
    response = scim.get("/Users?filter=userName+eq+%227d420df3-9995-4831-a406-ecf8166f5f6a%22")
    assert response.status_code == 200
    assert response.get_json() == {
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:ListResponse"],
        "totalResults": 0,
        "Resources": [],
        "startIndex": 1,
        "itemsPerPage": 0,
    }


def test_filter_external_id_is_case_exact(scim):
    create(scim, externalId="Ava.L")
    assert scim.get('/Users?filter=externalId eq "Ava.L"').get_json()["totalResults"] == 1
    assert scim.get('/Users?filter=externalId eq "ava.l"').get_json()["totalResults"] == 0


@pytest.mark.parametrize(
    "filter_text, expected",
    [
        ('emails[type eq "work"].value eq "AVA@contoso.com"', 1),
        ('emails[type eq "work" and value co "@contoso"]', 1),
        ('emails.value ew "contoso.com"', 1),
        ('emails[type eq "home"]', 0),
        ('title eq "analyst"', 1),
        ('title sw "Ana" and not (title ew "x")', 1),
        ('name.familyName co "indq"', 1),
        ('urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department eq "Finance"', 1),
        ('phoneNumbers[type eq "mobile" and value sw "+1 206"]', 1),
        ('addresses[locality eq "seattle"]', 1),
        ('active eq true', 1),
        ('active eq false', 0),
        ('nickName pr', 0),
        ('not (nickName pr)', 1),
        ('title pr and phoneNumbers pr', 1),
        ('meta.created gt "2000-01-01T00:00:00Z"', 1),
        ('meta.lastModified lt "2000-01-01T00:00:00Z"', 0),
        ('userName eq "nobody" or displayName eq "AVA LINDQVIST"', 1),
        ('schemas eq "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"', 1),
        ('emails[primary eq true]', 1),
        ('title eq "100%_"', 0),
    ],
)
def test_filters_are_evaluated_in_the_database(scim, filter_text, expected):
    create(scim, "ava@contoso.com", emails=[{"type": "work", "value": "ava@contoso.com", "primary": True}])
    create(scim, "bob@contoso.com", title="Engineer", displayName="Bob", emails=[],
           addresses=[], phoneNumbers=[])
    response = scim.get("/Users", query_string={"filter": filter_text})
    assert response.status_code == 200, response.get_json()
    ava_matches = [r["userName"] for r in response.get_json()["Resources"] if r["userName"] == "ava@contoso.com"]
    assert len(ava_matches) == expected


@pytest.mark.parametrize(
    "filter_text",
    ['userName eq', 'foo eq "x"', 'userName zz "x"', 'active gt true', '((userName eq "x")', 'userName eq "\x00"'],
)
def test_bad_filters_are_400_invalid_filter(scim, filter_text):
    response = scim.get("/Users", query_string={"filter": filter_text})
    assert response.status_code == 400, response.get_json()
    assert response.get_json()["scimType"] == "invalidFilter"


def test_pagination_counts_every_match(scim):
    for number in range(7):
        create(scim, f"user{number}@contoso.com")
    page = scim.get("/Users?startIndex=3&count=2").get_json()
    assert page["totalResults"] == 7 and page["itemsPerPage"] == 2 and page["startIndex"] == 3
    assert [r["userName"] for r in page["Resources"]] == ["user2@contoso.com", "user3@contoso.com"]
    assert scim.get("/Users?startIndex=0&count=1").get_json()["Resources"][0]["userName"] == "user0@contoso.com"
    only_total = scim.get("/Users?count=0").get_json()
    assert only_total["totalResults"] == 7 and only_total["Resources"] == []
    assert scim.get("/Users?startIndex=50").get_json()["Resources"] == []
    assert scim.get("/Users?count=abc").status_code == 400


def test_count_is_capped_by_the_configured_maximum(app, scim):
    app.config["SCIM_MAX_PAGE_SIZE"] = 2
    for number in range(3):
        create(scim, f"user{number}@contoso.com")
    assert scim.get("/Users?count=100").get_json()["itemsPerPage"] == 2


def test_sort_by_and_order(scim):
    for name in ("carol", "alice", "bob"):
        create(scim, f"{name}@contoso.com", name={"givenName": name.title()})
    names = lambda query: [r["userName"].split("@")[0] for r in scim.get(query).get_json()["Resources"]]  # noqa
    assert names("/Users?sortBy=userName") == ["alice", "bob", "carol"]
    assert names("/Users?sortBy=userName&sortOrder=descending") == ["carol", "bob", "alice"]
    assert names("/Users?sortBy=name.givenName") == ["alice", "bob", "carol"]
    assert scim.get("/Users?sortOrder=sideways").status_code == 400


def test_attributes_and_excluded_attributes(scim):
    user = create(scim)
    only = scim.get(f"/Users/{user['id']}?attributes=userName,name.givenName").get_json()
    assert set(only) == {"schemas", "id", "userName", "name"} and only["name"] == {"givenName": "Ava"}
    without = scim.get(f"/Users/{user['id']}?excludedAttributes=emails,{ENTERPRISE}:department").get_json()
    assert "emails" not in without and "department" not in without[ENTERPRISE]
    listed = scim.get('/Users?attributes=id&filter=userName eq "ava@contoso.com"').get_json()
    assert listed["Resources"] == [{"schemas": user["schemas"], "id": user["id"]}]


def test_put_replaces_the_resource(scim):
    user = create(scim)
    response = scim.put(f"/Users/{user['id']}", json={"userName": "ava@contoso.com", "title": "Lead"})
    assert response.status_code == 200
    replaced = response.get_json()
    assert replaced["title"] == "Lead" and "phoneNumbers" not in replaced
    assert replaced["meta"]["version"] == 'W/"2"'
    assert replaced["meta"]["created"] == user["meta"]["created"]


def test_if_match_mismatch_is_412_and_changes_nothing(scim):
    user = create(scim)
    response = scim.put(f"/Users/{user['id']}", json={"userName": "x@contoso.com"}, headers={"If-Match": 'W/"7"'})
    assert response.status_code == 412
    assert scim.get(f"/Users/{user['id']}").get_json()["userName"] == "ava@contoso.com"
    ok = scim.put(f"/Users/{user['id']}", json={"userName": "x@contoso.com"}, headers={"If-Match": 'W/"1"'})
    assert ok.status_code == 200


def test_delete_then_404_everywhere_and_user_name_reusable(scim):
    user = create(scim)
    assert scim.delete(f"/Users/{user['id']}").status_code == 204
    assert scim.get(f"/Users/{user['id']}").status_code == 404
    assert scim.delete(f"/Users/{user['id']}").status_code == 404
    assert scim.get('/Users?filter=userName eq "ava@contoso.com"').get_json()["totalResults"] == 0
    create(scim)


def test_manager_is_returned_as_an_object_with_ref_and_display_name(scim):
    boss = create(scim, "boss@contoso.com", displayName="The Boss")
    user = create(scim)
    response = scim.patch(
        f"/Users/{user['id']}",
        json={"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
              "Operations": [{"op": "Add", "path": f"{ENTERPRISE}:manager", "value": boss["id"]}]},
    )
    assert response.status_code == 200
    manager = response.get_json()[ENTERPRISE]["manager"]
    assert manager == {"value": boss["id"], "$ref": f"http://localhost/scim_v2/Users/{boss['id']}",
                       "displayName": "The Boss"}
    check = scim.get(f'/Users?filter=id eq "{user["id"]}" and manager eq "{boss["id"]}"&attributes=id')
    assert check.get_json()["totalResults"] == 1
    assert scim.get(f'/Users?filter=id eq "{user["id"]}" and manager eq "nobody"').get_json()["totalResults"] == 0


def test_patch_with_the_extension_urn_as_path_adds_replaces_and_removes_it(scim):
    boss = create(scim, "boss@contoso.com")
    user = create(scim)

    def patch(op, value=None):
        operation = {"op": op, "path": ENTERPRISE, **({} if value is None else {"value": value})}
        response = scim.patch(f"/Users/{user['id']}", json={"Operations": [operation]})
        assert response.status_code == 200, response.get_json()
        return response.get_json()

    assert patch("add", {"department": "Sales", "manager": {"value": boss["id"]}})[ENTERPRISE]["department"] == "Sales"
    manager_check = f'/Users?filter=manager eq "{boss["id"]}"'
    assert scim.get(manager_check).get_json()["totalResults"] == 1
    replaced = patch("replace", {"department": "Legal"})
    assert replaced[ENTERPRISE]["department"] == "Legal" and replaced[ENTERPRISE]["manager"]["value"] == boss["id"]
    removed = patch("remove")
    assert ENTERPRISE not in removed and removed["schemas"] == ["urn:ietf:params:scim:schemas:core:2.0:User"]
    assert ENTERPRISE not in scim.get(f"/Users/{user['id']}").get_json()
    assert scim.get(manager_check).get_json()["totalResults"] == 0


def test_soft_delete_keeps_the_user_visible(scim):
    user = create(scim)
    response = scim.patch(
        f"/Users/{user['id']}",
        json={"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
              "Operations": [{"op": "Replace", "path": "active", "value": "False"}]},
    )
    assert response.status_code == 200 and response.get_json()["active"] is False
    assert scim.get(f"/Users/{user['id']}").get_json()["active"] is False
    assert scim.get('/Users?filter=userName eq "ava@contoso.com"').get_json()["totalResults"] == 1


def test_patch_is_atomic(scim):
    user = create(scim)
    response = scim.patch(
        f"/Users/{user['id']}",
        json={"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
              "Operations": [
                  {"op": "Replace", "path": "title", "value": "Changed"},
                  {"op": "Replace", "path": "id", "value": "nope"},
              ]},
    )
    assert response.status_code == 400
    after = scim.get(f"/Users/{user['id']}").get_json()
    assert after["title"] == "Analyst" and after["meta"]["version"] == 'W/"1"'


def test_patch_renaming_onto_an_existing_user_name_is_409(scim):
    create(scim, "bob@contoso.com")
    user = create(scim)
    response = scim.patch(
        f"/Users/{user['id']}",
        json={"Operations": [{"op": "replace", "path": "userName", "value": "BOB@contoso.com"}]},
    )
    assert response.status_code == 409


def test_unchanged_patch_keeps_the_version(scim):
    user = create(scim)
    response = scim.patch(f"/Users/{user['id']}", json={"Operations": [{"op": "replace", "path": "title", "value": "Analyst"}]})
    assert response.get_json()["meta"]["version"] == 'W/"1"'


def test_dotted_search_endpoint(scim):
    create(scim)
    response = scim.post("/Users/.search", json={
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"],
        "filter": 'userName sw "ava"', "attributes": ["userName"], "count": 5})
    body = response.get_json()
    assert response.status_code == 200 and body["totalResults"] == 1
    assert set(body["Resources"][0]) == {"schemas", "id", "userName"}
