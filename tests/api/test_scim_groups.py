"""/scim_v2/Groups over HTTP: members as rows, Entra's member dialects, uniqueness."""
import pytest

PATCH = "urn:ietf:params:scim:api:messages:2.0:PatchOp"


def make_users(scim, count):
    return [
        scim.post("/Users", json={"userName": f"user{number}@contoso.com", "displayName": f"User {number}"}).get_json()["id"]
        for number in range(count)
    ]


def make_group(scim, name="Finance", members=()):
    response = scim.post("/Groups", json={
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
        "displayName": name, "externalId": name.lower(), "members": [{"value": m} for m in members]})
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def member_ids(scim, group_id):
    return sorted(member["value"] for member in scim.get(f"/Groups/{group_id}").get_json().get("members", []))


def patch(scim, group_id, *operations, query=""):
    return scim.patch(f"/Groups/{group_id}{query}", json={"schemas": [PATCH], "Operations": list(operations)})


def test_create_with_members_returns_them_with_refs(scim):
    users = make_users(scim, 2)
    group = make_group(scim, members=users)
    assert group["displayName"] == "Finance"
    assert sorted(m["value"] for m in group["members"]) == sorted(users)
    member = group["members"][0]
    assert member["type"] == "User" and member["$ref"].endswith(f"/Users/{member['value']}")
    assert member["display"].startswith("User ")


def test_display_name_is_unique_case_insensitively(scim):
    make_group(scim, "Finance")
    response = scim.post("/Groups", json={"displayName": "FINANCE"})
    assert response.status_code == 409 and response.get_json()["scimType"] == "uniqueness"


def test_display_name_is_required(scim):
    response = scim.post("/Groups", json={"externalId": "x"})
    assert response.status_code == 400 and response.get_json()["scimType"] == "invalidValue"


def test_members_must_exist_in_the_organization(scim):
    response = scim.post("/Groups", json={"displayName": "G", "members": [{"value": "no-such-user"}]})
    assert response.status_code == 400
    assert response.get_json()["scimType"] == "invalidValue"
    assert "no-such-user" in response.get_json()["detail"]
    assert scim.get("/Groups").get_json()["totalResults"] == 0


def test_patch_add_members_returns_204_and_adds_only_new_ones(scim):
    users = make_users(scim, 3)
    group = make_group(scim, members=users[:1])
    response = patch(scim, group["id"], {"op": "Add", "path": "members", "value": [{"value": u} for u in users]})
    assert response.status_code == 204 and response.data == b""
    assert member_ids(scim, group["id"]) == sorted(users)
    assert scim.get(f"/Groups/{group['id']}").get_json()["meta"]["version"] == 'W/"2"'


def test_patch_with_attributes_returns_the_group(scim):
    users = make_users(scim, 1)
    group = make_group(scim)
    response = patch(scim, group["id"], {"op": "add", "path": "members", "value": [{"value": users[0]}]},
                     query="?excludedAttributes=members")
    assert response.status_code == 200
    body = response.get_json()
    assert body["id"] == group["id"] and "members" not in body


def test_entra_default_remove_with_value_array_removes_only_those(scim):
    users = make_users(scim, 4)
    group = make_group(scim, members=users)
    response = patch(scim, group["id"], {"op": "Remove", "path": "members", "value": [{"value": users[1]}, {"value": users[2]}]})
    assert response.status_code == 204
    assert member_ids(scim, group["id"]) == sorted([users[0], users[3]])


def test_remove_one_member_by_value_filter(scim):
    users = make_users(scim, 2)
    group = make_group(scim, members=users)
    assert patch(scim, group["id"], {"op": "remove", "path": f'members[value eq "{users[0]}"]'}).status_code == 204
    assert member_ids(scim, group["id"]) == [users[1]]


def test_remove_members_without_value_clears_the_group(scim):
    users = make_users(scim, 2)
    group = make_group(scim, members=users)
    assert patch(scim, group["id"], {"op": "remove", "path": "members"}).status_code == 204
    assert member_ids(scim, group["id"]) == []


def test_replace_members(scim):
    users = make_users(scim, 3)
    group = make_group(scim, members=users[:2])
    patch(scim, group["id"], {"op": "replace", "path": "members", "value": [{"value": users[2]}]})
    assert member_ids(scim, group["id"]) == [users[2]]


def test_adding_an_unknown_member_fails_the_whole_patch(scim):
    users = make_users(scim, 1)
    group = make_group(scim)
    response = patch(
        scim, group["id"],
        {"op": "replace", "path": "displayName", "value": "Renamed"},
        {"op": "add", "path": "members", "value": [{"value": users[0]}, {"value": "ghost"}]},
    )
    assert response.status_code == 400 and "ghost" in response.get_json()["detail"]
    after = scim.get(f"/Groups/{group['id']}").get_json()
    assert after["displayName"] == "Finance" and "members" not in after


def test_too_many_members_in_one_request(app, scim):
    app.config["SCIM_MAX_MEMBERS_PER_REQUEST"] = 2
    users = make_users(scim, 3)
    group = make_group(scim)
    response = patch(scim, group["id"], {"op": "add", "path": "members", "value": [{"value": u} for u in users]})
    assert response.status_code == 400 and response.get_json()["scimType"] == "tooMany"


def test_excluded_members_in_lists_and_reads(scim):
    users = make_users(scim, 2)
    group = make_group(scim, members=users)
    listed = scim.get('/Groups?excludedAttributes=members&filter=displayName+eq+%22finance%22').get_json()
    assert listed["totalResults"] == 1 and "members" not in listed["Resources"][0]
    assert "members" not in scim.get(f"/Groups/{group['id']}?excludedAttributes=members").get_json()


def test_members_reference_check(scim):
    users = make_users(scim, 2)
    group = make_group(scim, members=users[:1])
    query = f'/Groups?filter=id eq "{group["id"]}" and members eq "{{}}"&attributes=id'
    assert scim.get(query.format(users[0])).get_json()["totalResults"] == 1
    assert scim.get(query.format(users[1])).get_json()["totalResults"] == 0


def test_users_show_their_direct_groups_and_filter_on_them(scim):
    users = make_users(scim, 1)
    group = make_group(scim, members=users)
    user = scim.get(f"/Users/{users[0]}").get_json()
    assert user["groups"] == [{"value": group["id"], "$ref": f"http://localhost/scim_v2/Groups/{group['id']}",
                               "display": "Finance", "type": "direct"}]
    assert scim.get(f'/Users?filter=groups eq "{group["id"]}"').get_json()["totalResults"] == 1


def test_deleting_a_user_removes_its_memberships(scim):
    users = make_users(scim, 2)
    group = make_group(scim, members=users)
    scim.delete(f"/Users/{users[0]}")
    assert member_ids(scim, group["id"]) == [users[1]]


def test_deleting_a_group_frees_its_name(scim):
    users = make_users(scim, 1)
    group = make_group(scim, members=users)
    assert scim.delete(f"/Groups/{group['id']}").status_code == 204
    assert scim.get(f"/Groups/{group['id']}").status_code == 404
    assert scim.get(f"/Users/{users[0]}").get_json().get("groups") is None
    make_group(scim)


def test_put_replaces_members(scim):
    users = make_users(scim, 2)
    group = make_group(scim, members=users[:1])
    response = scim.put(f"/Groups/{group['id']}", json={"displayName": "Finance EU", "members": [{"value": users[1]}]})
    assert response.status_code == 200
    assert [m["value"] for m in response.get_json()["members"]] == [users[1]]


def test_put_without_members_clears_them(scim):
    # RFC 7644 §3.5.1: PUT replaces the resource; members left out are no longer members.
    users = make_users(scim, 2)
    group = make_group(scim, members=users)
    response = scim.put(f"/Groups/{group['id']}", json={"displayName": "Finance EU"})
    assert response.status_code == 200 and "members" not in response.get_json()
    assert member_ids(scim, group["id"]) == []
    assert scim.get(f"/Users/{users[0]}").get_json().get("groups") is None


@pytest.mark.parametrize("members", [
    pytest.param(lambda user_id: {"value": user_id}, id="object"),
    pytest.param(lambda user_id: user_id, id="string"),
    pytest.param(lambda user_id: {}, id="empty object"),
    pytest.param(lambda user_id: 7, id="number"),
])
@pytest.mark.parametrize("method", ["post", "put"])
def test_members_must_be_an_array(scim, method, members):
    users = make_users(scim, 1)
    group = make_group(scim, members=users)
    body = {"displayName": "Finance", "members": members(users[0])}
    if method == "post":
        response = scim.post("/Groups", json={**body, "displayName": "Treasury"})
    else:
        response = scim.put(f"/Groups/{group['id']}", json=body)
    assert response.status_code == 400 and response.get_json()["scimType"] == "invalidValue"
    assert "members" in response.get_json()["detail"]
    assert scim.get("/Groups?count=0").get_json()["totalResults"] == 1
    assert member_ids(scim, group["id"]) == users


def test_root_search_spans_resource_types(scim):
    make_users(scim, 2)
    make_group(scim)
    body = scim.post("/.search", json={"filter": 'meta.created pr', "startIndex": 2, "count": 2}).get_json()
    assert body["totalResults"] == 3
    assert [r["meta"]["resourceType"] for r in body["Resources"]] == ["User", "Group"]
    only_users = scim.post("/.search", json={"filter": 'userName sw "user"'}).get_json()
    assert only_users["totalResults"] == 2


@pytest.mark.parametrize("filter_text", ['members.display eq "x"', 'members[value eq "x"]'])
def test_unsupported_member_filters_are_invalid_filter(scim, filter_text):
    response = scim.get("/Groups", query_string={"filter": filter_text})
    assert response.status_code == 400 and response.get_json()["scimType"] == "invalidFilter"


def test_a_group_can_be_a_member_of_another_group(scim):
    """Entra adds an assigned nested group to its parent by id (ENTRA.md §3.8)."""
    users = make_users(scim, 1)
    child = make_group(scim, "Finance EMEA", members=users)
    parent = make_group(scim, "Finance")
    response = patch(scim, parent["id"], {"op": "Add", "path": "members",
                                           "value": [{"value": child["id"]}, {"value": users[0]}]})
    assert response.status_code == 204
    members = scim.get(f"/Groups/{parent['id']}").get_json()["members"]
    assert {(m["value"], m["type"]) for m in members} == {(child["id"], "Group"), (users[0], "User")}
    nested = next(m for m in members if m["type"] == "Group")
    assert nested["display"] == "Finance EMEA" and nested["$ref"].endswith(f"/Groups/{child['id']}")
    query = f'/Groups?filter=id eq "{parent["id"]}" and members eq "{child["id"]}"&attributes=id'
    assert scim.get(query).get_json()["totalResults"] == 1

    assert patch(scim, parent["id"], {"op": "Remove", "path": "members", "value": [{"value": child["id"]}]}).status_code == 204
    assert member_ids(scim, parent["id"]) == [users[0]]


def test_deleting_a_nested_group_removes_it_from_its_parent(scim):
    child = make_group(scim, "Child")
    parent = make_group(scim, "Parent", members=[child["id"]])
    assert scim.delete(f"/Groups/{child['id']}").status_code == 204
    assert member_ids(scim, parent["id"]) == []


def test_a_group_cannot_be_its_own_member(scim):
    group = make_group(scim)
    response = patch(scim, group["id"], {"op": "add", "path": "members", "value": [{"value": group["id"]}]})
    assert response.status_code == 400 and response.get_json()["scimType"] == "invalidValue"
