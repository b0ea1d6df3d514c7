import json

import pytest

from jericho.scim import discovery
from jericho.scim.schema import ENTERPRISE_USER_URN, GROUP_URN, SCHEMA_URN, USER_SCHEMA, USER_URN

BASE = "https://scim.example.com/scim_v2"


def walk(node):
    yield node
    children = node.values() if isinstance(node, dict) else node if isinstance(node, list) else ()
    for child in children:
        yield from walk(child)


def test_rfc7643_5_service_provider_config():
    config = discovery.service_provider_config(base_url=BASE + "/", max_results=1000, max_payload_bytes=1_048_576)
    assert config == {
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"],
        "patch": {"supported": True},
        "bulk": {"supported": False, "maxOperations": 0, "maxPayloadSize": 1_048_576},
        "filter": {"supported": True, "maxResults": 1000},
        "changePassword": {"supported": False},
        "sort": {"supported": True},
        "etag": {"supported": True},
        "authenticationSchemes": [{
            "type": "oauthbearertoken", "name": "OAuth Bearer Token",
            "description": "Authentication scheme using the OAuth Bearer Token Standard",
            "specUri": "https://www.rfc-editor.org/info/rfc6750", "primary": True,
        }],
        "meta": {"resourceType": "ServiceProviderConfig", "location": f"{BASE}/ServiceProviderConfig"},
    }


def test_rfc7643_6_resource_types():
    user, group = discovery.resource_types(BASE)
    assert user == {
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:ResourceType"],
        "id": "User", "name": "User", "endpoint": "/Users", "description": "User Account",
        "schema": USER_URN,
        "schemaExtensions": [{"schema": ENTERPRISE_USER_URN, "required": False}],
        "meta": {"resourceType": "ResourceType", "location": f"{BASE}/ResourceTypes/User"},
    }
    assert (group["id"], group["endpoint"], group["schema"]) == ("Group", "/Groups", GROUP_URN)
    assert "schemaExtensions" not in group


def test_rfc7644_4_resource_type_by_id():
    assert discovery.resource_type("Group", BASE) == discovery.resource_types(BASE)[1]
    assert discovery.resource_type("Nope", BASE) is None


def test_rfc7643_7_schemas_cover_every_schema_of_every_resource_type():
    documents = discovery.schemas(BASE)
    assert [document["id"] for document in documents] == [USER_URN, ENTERPRISE_USER_URN, GROUP_URN]
    for document in documents:
        assert document["schemas"] == [SCHEMA_URN]
        assert document["meta"] == {"resourceType": "Schema", "location": f"{BASE}/Schemas/{document['id']}"}


def test_rfc7644_4_schema_by_urn_is_case_insensitive():
    assert discovery.schema(ENTERPRISE_USER_URN.upper(), BASE)["id"] == ENTERPRISE_USER_URN
    assert discovery.schema("urn:example:nope", BASE) is None


def test_rfc7643_8_7_1_user_name_attribute():
    user = discovery.schema(USER_URN, BASE)
    assert user["name"] == "User" and user["description"] == "User Account"
    assert user["attributes"][0] == {
        "name": "userName", "type": "string", "multiValued": False,
        "description": "Unique identifier for the User, used to authenticate.",
        "required": True, "caseExact": False, "mutability": "readWrite", "returned": "default", "uniqueness": "server",
    }


def test_rfc7643_8_7_1_complex_attribute_has_sub_attributes_and_canonical_values():
    emails = next(a for a in discovery.schema(USER_URN, BASE)["attributes"] if a["name"] == "emails")
    assert emails["multiValued"] is True and emails["type"] == "complex"
    assert "caseExact" not in emails
    assert [sub["name"] for sub in emails["subAttributes"]] == ["value", "display", "type", "primary"]
    assert emails["subAttributes"][2]["canonicalValues"] == ["work", "home", "other"]


def test_rfc7643_8_7_1_password_is_never_returned():
    password = next(a for a in discovery.schema(USER_URN, BASE)["attributes"] if a["name"] == "password")
    assert (password["mutability"], password["returned"]) == ("writeOnly", "never")


def test_rfc7643_8_7_1_group_members_reference_types():
    members = discovery.schema(GROUP_URN, BASE)["attributes"][1]
    ref = next(sub for sub in members["subAttributes"] if sub["name"] == "$ref")
    assert ref["referenceTypes"] == ["User", "Group"]


def test_schema_documents_are_generated_from_the_schema_module():
    names = [attribute["name"] for attribute in discovery.schema(USER_URN, BASE)["attributes"]]
    assert names == [attribute.name for attribute in USER_SCHEMA.attributes]


@pytest.mark.parametrize("document", [
    discovery.service_provider_config(base_url=BASE, max_results=10, max_payload_bytes=10),
    *discovery.resource_types(BASE),
    *discovery.schemas(BASE),
])
def test_entra_discovery_documents_have_no_nulls_and_json_booleans(document):
    # ENTRA.md §1.2: no nulls, camelCase values, booleans as JSON booleans.
    json.dumps(document)
    for node in walk(document):
        assert node is not None
        if isinstance(node, dict):
            for key in ("multiValued", "required", "caseExact", "supported", "primary"):
                if key in node:
                    assert isinstance(node[key], bool)
            for key in ("mutability", "returned", "uniqueness"):
                if key in node:
                    assert node[key] in {"readOnly", "readWrite", "immutable", "writeOnly", "always", "never",
                                         "default", "request", "none", "server", "global"}
