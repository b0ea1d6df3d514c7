"""Tenant isolation on every /scim_v2 endpoint, authentication errors, and SCIM error bodies for
every error under /scim_v2.

Contoso (`scim`) owns the resources; Fabrikam (`other_scim`) holds a valid token of its own and must
never see or touch them: what it asks about another organization's ids is answered as if they did
not exist (404, or an empty ListResponse).
"""
from __future__ import annotations

import pytest

from jericho.extensions import db
from jericho.storage import accounts
from jericho.storage import resources as storage
from jericho.storage.models import Organization, ProvisioningEvent

from conftest import ScimClient, new_token

ERROR = "urn:ietf:params:scim:api:messages:2.0:Error"
PATCH_OP = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"


def assert_scim_error(response, status: int, scim_type: str | None = None) -> dict:
    """A SCIM Error body (RFC 7644 §3.12), never HTML: `status` is the status code as a string."""
    assert response.status_code == status, response.data
    assert response.mimetype == "application/scim+json"
    assert not response.data.lstrip().startswith(b"<")
    body = response.get_json()
    assert body["schemas"] == [ERROR]
    assert body["status"] == str(status)
    assert isinstance(body["detail"], str) and body["detail"]
    assert body.get("scimType") == scim_type
    assert "Traceback" not in body["detail"]
    return body


def patch_body(*operations: dict) -> dict:
    return {"schemas": [PATCH_OP], "Operations": list(operations)}


@pytest.fixture
def contoso(scim):
    """Contoso's directory: two users (one the other's manager) and a group holding both."""
    boss = scim.post("/Users", json={"userName": "boss@contoso.com", "displayName": "The Boss",
                                     "externalId": "boss"}).get_json()
    ava = scim.post("/Users", json={
        "userName": "ava@contoso.com", "displayName": "Ava", "externalId": "ava",
        "emails": [{"type": "work", "value": "ava@contoso.com"}],
        ENTERPRISE: {"department": "Finance", "manager": {"value": boss["id"]}},
    }).get_json()
    group = scim.post("/Groups", json={"displayName": "Finance", "externalId": "finance",
                                       "members": [{"value": ava["id"]}, {"value": boss["id"]}]}).get_json()
    return {"boss": boss, "ava": ava, "group": group}


def snapshot(scim) -> list:
    """Everything Contoso can read, to show another organization changed none of it."""
    users = scim.get("/Users").get_json()["Resources"]
    groups = scim.get("/Groups").get_json()["Resources"]
    return users + groups


# -- reads -----------------------------------------------------------------------------------


@pytest.mark.parametrize("collection, key", [("Users", "ava"), ("Users", "boss"), ("Groups", "group")])
def test_another_organization_cannot_read_by_id(scim, other_scim, contoso, collection, key):
    scim_id = contoso[key]["id"]
    assert scim.get(f"/{collection}/{scim_id}").status_code == 200
    assert_scim_error(other_scim.get(f"/{collection}/{scim_id}"), 404)
    assert_scim_error(other_scim.get(f"/{collection}/{scim_id}?excludedAttributes=members"), 404)
    # A matching ETag must not turn the 404 into a 304 that confirms the id exists.
    assert_scim_error(other_scim.get(f"/{collection}/{scim_id}", headers={"If-None-Match": "*"}), 404)
    assert_scim_error(other_scim.get(f"/{collection}/{scim_id}", headers={"If-None-Match": 'W/"1"'}), 404)


def test_another_organization_lists_and_counts_nothing(scim, other_scim, contoso):
    assert scim.get("/Users").get_json()["totalResults"] == 2
    for path in ("/Users", "/Groups", "/Users?count=0", "/Groups?startIndex=1&count=10", "/Users?sortBy=userName"):
        body = other_scim.get(path).get_json()
        assert (body["totalResults"], body["Resources"], body["itemsPerPage"]) == (0, [], 0), path


@pytest.mark.parametrize("query", [
    'userName eq "ava@contoso.com"',
    'userName eq "AVA@CONTOSO.COM"',
    'externalId eq "ava"',
    'displayName eq "Ava"',
    'emails[type eq "work"].value eq "ava@contoso.com"',
    'emails.value co "contoso"',
    'userName sw "a" or userName sw "b"',
    'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department eq "Finance"',
    'active eq true',
    'userName pr',
    'meta.created gt "2000-01-01T00:00:00Z"',
    'not (userName eq "nobody")',
])
def test_another_organization_filters_match_nothing_of_users(scim, other_scim, contoso, query):
    assert scim.get("/Users", query_string={"filter": query}).get_json()["totalResults"] >= 1
    body = other_scim.get("/Users", query_string={"filter": query}).get_json()
    assert (body["totalResults"], body["Resources"]) == (0, [])


def test_another_organization_cannot_filter_by_contoso_ids(scim, other_scim, contoso):
    ava, boss, group = contoso["ava"]["id"], contoso["boss"]["id"], contoso["group"]["id"]
    checks = {
        "/Users": {f'id eq "{ava}"': 1, f'manager eq "{boss}"': 1, f'id eq "{ava}" and manager eq "{boss}"': 1,
                   f'groups eq "{group}"': 2},
        "/Groups": {f'id eq "{group}"': 1, f'members eq "{ava}"': 1, f'id eq "{group}" and members eq "{ava}"': 1,
                    'displayName eq "Finance"': 1, 'externalId eq "finance"': 1},
    }
    for collection, filters in checks.items():
        for text, count in filters.items():
            assert scim.get(collection, query_string={"filter": text}).get_json()["totalResults"] == count, text
            body = other_scim.get(collection, query_string={"filter": text, "attributes": "id"}).get_json()
            assert (body["totalResults"], body["Resources"]) == (0, []), text


def test_a_fabrikam_group_never_matches_contoso_members(other_scim, contoso):
    # Fabrikam's own group, and Contoso's member ids in the reference check.
    group = other_scim.post("/Groups", json={"displayName": "Finance"}).get_json()
    query = f'id eq "{group["id"]}" and members eq "{contoso["ava"]["id"]}"'
    assert other_scim.get("/Groups", query_string={"filter": query}).get_json()["totalResults"] == 0


@pytest.mark.parametrize("path", ["/.search", "/Users/.search", "/Groups/.search"])
def test_another_organization_searches_find_nothing(scim, other_scim, contoso, path):
    request = {"schemas": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"]}
    assert scim.post(path, json=request).get_json()["totalResults"] >= 1
    body = other_scim.post(path, json=request).get_json()
    assert (body["totalResults"], body["Resources"]) == (0, [])
    body = other_scim.post(path, json=request | {"filter": f'id eq "{contoso["ava"]["id"]}"'}).get_json()
    assert (body["totalResults"], body["Resources"]) == (0, [])


# -- writes ----------------------------------------------------------------------------------


@pytest.mark.parametrize("collection, key, operation", [
    ("Users", "ava", {"op": "Replace", "path": "active", "value": "False"}),
    ("Users", "ava", {"op": "replace", "value": {"displayName": "Hijacked"}}),
    ("Users", "boss", {"op": "Add", "path": f"{ENTERPRISE}:manager", "value": "x"}),
    ("Groups", "group", {"op": "Remove", "path": "members", "value": [{"value": "x"}]}),
    ("Groups", "group", {"op": "remove", "path": "members"}),
    ("Groups", "group", {"op": "Replace", "path": "displayName", "value": "Hijacked"}),
])
def test_another_organization_cannot_patch(scim, other_scim, contoso, collection, key, operation):
    before = snapshot(scim)
    assert_scim_error(other_scim.patch(f"/{collection}/{contoso[key]['id']}", json=patch_body(operation)), 404)
    assert snapshot(scim) == before


@pytest.mark.parametrize("collection, key, body", [
    ("Users", "ava", {"userName": "ava@contoso.com", "active": False}),
    ("Groups", "group", {"displayName": "Finance", "members": []}),
])
def test_another_organization_cannot_put(scim, other_scim, contoso, collection, key, body):
    before = snapshot(scim)
    assert_scim_error(other_scim.put(f"/{collection}/{contoso[key]['id']}", json=body), 404)
    assert_scim_error(other_scim.put(f"/{collection}/{contoso[key]['id']}", json=body,
                                     headers={"If-Match": "*"}), 404)
    assert snapshot(scim) == before


@pytest.mark.parametrize("collection, key", [("Users", "ava"), ("Groups", "group")])
def test_another_organization_cannot_delete(scim, other_scim, contoso, collection, key):
    before = snapshot(scim)
    assert_scim_error(other_scim.delete(f"/{collection}/{contoso[key]['id']}"), 404)
    assert snapshot(scim) == before
    assert scim.get(f"/{collection}/{contoso[key]['id']}").status_code == 200


def test_contoso_users_cannot_become_members_of_a_fabrikam_group(scim, other_scim, contoso):
    ava = contoso["ava"]["id"]
    own = other_scim.post("/Users", json={"userName": "ava@contoso.com"}).get_json()
    group = other_scim.post("/Groups", json={"displayName": "Finance"}).get_json()

    for operation in (
        {"op": "Add", "path": "members", "value": [{"$ref": None, "value": ava}]},
        {"op": "add", "path": "members", "value": [{"value": own["id"]}, {"value": ava}]},
        {"op": "replace", "path": "members", "value": [{"value": ava}]},
        {"op": "replace", "value": {"members": [{"value": ava}]}},
    ):
        body = assert_scim_error(other_scim.patch(f"/Groups/{group['id']}", json=patch_body(operation)),
                                 400, "invalidValue")
        assert ava in body["detail"]
    body = assert_scim_error(other_scim.post("/Groups", json={"displayName": "Sales", "members": [{"value": ava}]}),
                             400, "invalidValue")
    assert ava in body["detail"]
    body = assert_scim_error(other_scim.put(f"/Groups/{group['id']}", json={
        "displayName": "Finance", "members": [{"value": ava}]}), 400, "invalidValue")
    assert ava in body["detail"]

    # Nothing was written: the atomic PATCH added not even Fabrikam's own user.
    assert "members" not in other_scim.get(f"/Groups/{group['id']}").get_json()
    assert other_scim.get("/Groups", query_string={"filter": 'displayName eq "Sales"'}).get_json()["totalResults"] == 0
    assert [g["value"] for g in scim.get(f"/Users/{ava}").get_json()["groups"]] == [contoso["group"]["id"]]
    # Fabrikam's own user can be added.
    assert other_scim.patch(f"/Groups/{group['id']}", json=patch_body(
        {"op": "Add", "path": "members", "value": [{"value": own["id"]}]})).status_code == 204
    # Removing Contoso's user from Fabrikam's group removes nothing, in either dialect, and leaves
    # Contoso's own group alone.
    for operation in ({"op": "Remove", "path": "members", "value": [{"value": ava}]},
                      {"op": "remove", "path": f'members[value eq "{ava}"]'}):
        assert other_scim.patch(f"/Groups/{group['id']}", json=patch_body(operation)).status_code == 204
    assert [m["value"] for m in other_scim.get(f"/Groups/{group['id']}").get_json()["members"]] == [own["id"]]
    assert [m["value"] for m in scim.get(f"/Groups/{contoso['group']['id']}").get_json()["members"]] == [
        contoso["boss"]["id"], ava]


def test_a_manager_id_from_another_organization_reveals_nothing(other_scim, contoso):
    # The manager id is stored as sent (Entra writes ids it knows), but the reply must not
    # resolve it into Contoso's user: no displayName, no $ref to a resource Fabrikam cannot read.
    boss = contoso["boss"]["id"]
    user = other_scim.post("/Users", json={"userName": "ava@contoso.com"}).get_json()
    response = other_scim.patch(f"/Users/{user['id']}", json=patch_body(
        {"op": "Add", "path": f"{ENTERPRISE}:manager", "value": boss}))
    assert response.status_code == 200
    assert response.get_json()[ENTERPRISE]["manager"] == {"value": boss}
    assert other_scim.get(f"/Users/{user['id']}").get_json()[ENTERPRISE]["manager"] == {"value": boss}
    assert b"The Boss" not in other_scim.get("/Users").data


def test_the_same_names_exist_in_both_organizations(scim, other_scim, contoso):
    user = other_scim.post("/Users", json={"userName": "AVA@contoso.com", "externalId": "ava"})
    group = other_scim.post("/Groups", json={"displayName": "FINANCE", "externalId": "finance"})
    assert user.status_code == 201 and group.status_code == 201
    assert user.get_json()["id"] != contoso["ava"]["id"] and group.get_json()["id"] != contoso["group"]["id"]

    for client, expected_user, expected_group in (
        (scim, contoso["ava"]["id"], contoso["group"]["id"]),
        (other_scim, user.get_json()["id"], group.get_json()["id"]),
    ):
        users = client.get("/Users?filter=userName+eq+%22ava%40contoso.com%22").get_json()
        assert [r["id"] for r in users["Resources"]] == [expected_user]
        groups = client.get("/Groups?excludedAttributes=members&filter=displayName+eq+%22Finance%22").get_json()
        assert [r["id"] for r in groups["Resources"]] == [expected_group]

    # Uniqueness is still enforced inside each organization (ENTRA.md §11.4).
    assert_scim_error(other_scim.post("/Users", json={"userName": "ava@CONTOSO.com"}), 409, "uniqueness")
    assert_scim_error(other_scim.post("/Groups", json={"displayName": "finance"}), 409, "uniqueness")
    # Renames collide only within the organization too.
    boss = other_scim.post("/Users", json={"userName": "boss2@contoso.com"}).get_json()
    assert other_scim.patch(f"/Users/{boss['id']}", json=patch_body(
        {"op": "replace", "path": "userName", "value": "boss@contoso.com"})).status_code == 200
    # Deleting Fabrikam's copies leaves Contoso's untouched.
    assert other_scim.delete(f"/Users/{user.get_json()['id']}").status_code == 204
    assert other_scim.delete(f"/Groups/{group.get_json()['id']}").status_code == 204
    assert scim.get(f"/Users/{contoso['ava']['id']}").status_code == 200
    assert len(scim.get(f"/Groups/{contoso['group']['id']}").get_json()["members"]) == 2


def test_storage_never_crosses_organizations(app, contoso):
    # The storage layer itself, below the views: another organization id finds nothing.
    from jericho.scim.schema import GROUP, USER

    with app.app_context():
        fabrikam = accounts.token_create(organization_name="Fabrikam")[0].organization_id
        for resource_type, scim_id in ((USER, contoso["ava"]["id"]), (GROUP, contoso["group"]["id"])):
            with pytest.raises(Exception) as raised:
                storage.resource_read(fabrikam, resource_type, scim_id, base_url="http://x", expand=storage.Expand())
            assert getattr(raised.value, "status", None) == 404
            page = storage.resource_search(fabrikam, resource_type, storage.Search(), base_url="http://x",
                                           expand=storage.Expand())
            assert (page.total, page.resources) == (0, [])


# -- authentication --------------------------------------------------------------------------


def assert_unauthorized(response) -> dict:
    body = assert_scim_error(response, 401)
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    return body


AUTH_PATHS = [
    ("GET", "/Users?filter=userName+eq+%227d420df3-9995-4831-a406-ecf8166f5f6a%22"),
    ("GET", "/Groups?excludedAttributes=members&filter=displayName+eq+%22Finance%22"),
    ("POST", "/Users"),
    ("PATCH", "/Users/00000000-0000-0000-0000-000000000000"),
    ("DELETE", "/Groups/00000000-0000-0000-0000-000000000000"),
    ("GET", "/ServiceProviderConfig"),
    ("GET", "/Schemas"),
    ("GET", "/Nope"),
    ("PUT", "/Users"),
    ("GET", "/Bulk"),
]


@pytest.mark.parametrize("method, path", AUTH_PATHS)
@pytest.mark.parametrize("authorization", [
    None, "", "Bearer", "Bearer ", "Bearer not-a-token", "Basic dXNlcjpwYXNz", "bearer jer_00000000_x",
])
def test_requests_without_a_valid_token_are_401(client, contoso, method, path, authorization):
    headers = {} if authorization is None else {"Authorization": authorization}
    kwargs = {"json": {"userName": "x"}} if method in ("POST", "PATCH", "PUT") else {}
    assert_unauthorized(client.open("/scim_v2" + path, method=method, headers=headers, **kwargs))


def test_the_scheme_is_case_insensitive_and_the_token_exact(client, scim):
    assert ScimClient(client, scim.token.upper()).get("/Users").status_code == 401
    response = client.get("/scim_v2/Users", headers={"Authorization": f"Bearer  {scim.token} "})
    assert response.status_code == 200  # surrounding spaces are not part of the token
    assert client.get("/scim_v2/Users", headers={"Authorization": f"BEARER {scim.token}"}).status_code == 200


def test_a_revoked_token_is_refused_at_once(app, client, scim, other_scim, contoso):
    assert scim.get("/Users").status_code == 200
    prefix = scim.token.split("_")[1]
    with app.app_context():
        accounts.token_revoke(prefix=prefix)
    body = assert_unauthorized(scim.get("/Users"))
    assert body["detail"] == "revoked token"
    assert_unauthorized(scim.patch(f"/Users/{contoso['ava']['id']}", json=patch_body(
        {"op": "Replace", "path": "active", "value": "False"})))
    # Other tokens, of this and of other organizations, keep working.
    assert other_scim.get("/Users").status_code == 200
    second = ScimClient(client, new_token(app, "Contoso", "second"))
    ava = second.get(f"/Users/{contoso['ava']['id']}").get_json()
    assert "active" not in ava and ava["meta"]["version"] == 'W/"1"'  # the refused PATCH never ran


def test_rejected_requests_are_logged_without_the_token(app, client, scim):
    prefix = scim.token.split("_")[1]
    with app.app_context():
        accounts.token_revoke(prefix=prefix)
        organization_id = db.session.execute(
            db.select(Organization.id).where(Organization.name == "Contoso")).scalar_one()
    client.get("/scim_v2/Users")
    client.get("/scim_v2/Users", headers={"Authorization": "Bearer jer_deadbeef_unknown-secret"})
    scim.get("/Users?filter=userName+eq+%22ava%40contoso.com%22")
    with app.app_context():
        events = db.session.execute(db.select(ProvisioningEvent).order_by(ProvisioningEvent.id)).scalars().all()
        assert [(e.operation, e.status, e.organization_id, e.scim_type, e.error_detail) for e in events] == [
            ("rejected", 401, None, None, "missing bearer token"),
            ("rejected", 401, None, None, "unknown token"),
            ("rejected", 401, organization_id, None, "revoked token"),
        ]
        for event in events:
            for column in ProvisioningEvent.__table__.columns:
                value = str(getattr(event, column.key))
                assert scim.token not in value and "unknown-secret" not in value, (column.key, value)


# -- every error under /scim_v2 is a SCIM error ----------------------------------------------


@pytest.mark.parametrize("method, path, status", [
    ("GET", "/Nope", 404),
    ("GET", "", 404),
    ("GET", "/", 404),
    ("GET", "/Users/", 404),
    ("GET", "/Users/x/y", 404),
    ("POST", "/Schemas", 405),
    ("PUT", "/Users", 405),
    ("DELETE", "/Groups", 405),
    ("PATCH", "/Users", 405),
    ("POST", "/Users/00000000-0000-0000-0000-000000000000", 405),
    ("GET", "/Me", 501),
    ("PATCH", "/Me", 501),
    ("POST", "/Bulk", 501),
    ("GET", "/Bulk", 501),
])
def test_routing_and_unsupported_endpoints_answer_scim_errors(scim, method, path, status):
    kwargs = {"json": {}} if method in ("POST", "PUT", "PATCH") else {}
    assert_scim_error(scim.request(method, path, **kwargs), status)


def test_405_names_the_allowed_methods(scim):
    response = scim.put("/Users", json={})
    assert_scim_error(response, 405)
    assert set(response.headers["Allow"].split(", ")) >= {"GET", "POST"}


def test_a_body_above_max_content_length_is_413(app, scim):
    limit = app.config["MAX_CONTENT_LENGTH"]
    body = b'{"userName":"big@contoso.com","title":"' + b"x" * limit + b'"}'
    assert_scim_error(scim.post("/Users", data=body, content_type="application/scim+json"), 413)
    assert_scim_error(scim.patch("/Users/00000000-0000-0000-0000-000000000000", data=body,
                                 content_type="application/scim+json; charset=utf-8"), 413)
    assert scim.get("/Users").get_json()["totalResults"] == 0


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded", "text/xml",
                                          "multipart/form-data; boundary=x"])
def test_other_media_types_are_415(scim, content_type):
    assert_scim_error(scim.post("/Users", data=b'{"userName":"a@b.c"}', content_type=content_type), 415)


@pytest.mark.parametrize("method, path, body, status, scim_type", [
    ("POST", "/Users", b"{not json", 400, "invalidSyntax"),
    ("POST", "/Users", b"", 400, "invalidSyntax"),
    ("POST", "/Users", b"{}", 400, "invalidValue"),
    ("POST", "/Groups", b'{"displayName": 7}', 400, "invalidValue"),
    ("PATCH", "/Users/00000000-0000-0000-0000-000000000000", b'{"Operations": []}', 400, "invalidSyntax"),
    ("GET", "/Users?filter=userName+zz+%22x%22", None, 400, "invalidFilter"),
    ("GET", "/Users?count=abc", None, 400, "invalidValue"),
    ("GET", "/Users/00000000-0000-0000-0000-000000000000", None, 404, None),
    ("DELETE", "/Groups/00000000-0000-0000-0000-000000000000", None, 404, None),
    ("GET", "/Schemas/urn:nope", None, 404, None),
    ("GET", "/ResourceTypes/Nope", None, 404, None),
])
def test_protocol_errors_are_scim_errors(scim, method, path, body, status, scim_type):
    kwargs = {} if body is None else {"data": body, "content_type": "application/scim+json"}
    assert_scim_error(scim.request(method, path, **kwargs), status, scim_type)


def test_an_unexpected_error_is_a_scim_500_without_a_traceback(app, scim, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("secret internals")

    monkeypatch.setattr(storage, "resource_search", broken)
    response = scim.get("/Users")
    body = assert_scim_error(response, 500)
    assert b"secret internals" not in response.data and b"RuntimeError" not in response.data
    assert body["detail"]

