"""Discovery endpoints (RFC 7644 §4) over HTTP, and unsupported endpoints."""
import pytest


def test_service_provider_config_describes_what_is_supported(scim):
    response = scim.get("/ServiceProviderConfig")
    assert response.status_code == 200 and response.mimetype == "application/scim+json"
    config = response.get_json()
    assert config["patch"] == {"supported": True}
    assert config["filter"] == {"supported": True, "maxResults": 1000}
    assert config["sort"]["supported"] is True and config["etag"]["supported"] is True
    assert config["changePassword"]["supported"] is False
    assert config["bulk"]["supported"] is False
    assert config["authenticationSchemes"][0]["type"] == "oauthbearertoken"


def test_schemas_list_and_by_urn(scim):
    listed = scim.get("/Schemas").get_json()
    ids = {schema["id"] for schema in listed["Resources"]}
    assert {
        "urn:ietf:params:scim:schemas:core:2.0:User",
        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User",
        "urn:ietf:params:scim:schemas:core:2.0:Group",
    } <= ids
    assert listed["totalResults"] == len(listed["Resources"])
    user = scim.get("/Schemas/urn:ietf:params:scim:schemas:core:2.0:User").get_json()
    user_name = next(a for a in user["attributes"] if a["name"] == "userName")
    assert user_name["uniqueness"] == "server" and user_name["caseExact"] is False
    assert "null" not in str(user)  # Entra rejects nulls in schema documents
    assert scim.get("/Schemas/urn:nope").status_code == 404


def test_resource_types(scim):
    listed = scim.get("/ResourceTypes").get_json()
    assert [r["name"] for r in listed["Resources"]] == ["User", "Group"]
    user = scim.get("/ResourceTypes/User").get_json()
    assert user["endpoint"] == "/Users"
    assert user["schemaExtensions"][0]["schema"] == "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
    assert scim.get("/ResourceTypes/Nope").status_code == 404


@pytest.mark.parametrize("path", ["/Me", "/Bulk"])
def test_me_and_bulk_are_501(scim, path):
    response = scim.post(path, json={})
    assert response.status_code == 501
    assert response.get_json()["status"] == "501"


def test_unknown_query_parameters_are_ignored(scim):
    response = scim.get("/Users?aadOptscim062020&filter=userName+eq+%22x%22")
    assert response.status_code == 200 and response.get_json()["totalResults"] == 0
