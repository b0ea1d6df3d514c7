"""Discovery documents (RFC 7644 §4): /ServiceProviderConfig (RFC 7643 §5), /ResourceTypes
(RFC 7643 §6) and /Schemas (RFC 7643 §7), generated from `schema`. Entra reads /Schemas and wants
camelCase values, JSON booleans and no nulls (ENTRA.md §1.2), so absent characteristics are omitted."""
from __future__ import annotations

from .schema import (
    GROUP,
    RESOURCE_TYPE_URN,
    SCHEMA_URN,
    SERVICE_PROVIDER_CONFIG_URN,
    USER,
    Attribute,
    ResourceType,
    Schema,
)

RESOURCE_TYPES: tuple[ResourceType, ...] = (USER, GROUP)


def service_provider_config(*, base_url: str, max_results: int, max_payload_bytes: int) -> dict:
    return {
        "schemas": [SERVICE_PROVIDER_CONFIG_URN],
        "patch": {"supported": True},
        # /Bulk is not offered; Entra does not send it (ENTRA.md §1.2).
        "bulk": {"supported": False, "maxOperations": 0, "maxPayloadSize": max_payload_bytes},
        "filter": {"supported": True, "maxResults": max_results},
        "changePassword": {"supported": False},
        "sort": {"supported": True},
        "etag": {"supported": True},
        "authenticationSchemes": [{
            "type": "oauthbearertoken",
            "name": "OAuth Bearer Token",
            "description": "Authentication scheme using the OAuth Bearer Token Standard",
            "specUri": "https://www.rfc-editor.org/info/rfc6750",
            "primary": True,
        }],
        "meta": _meta("ServiceProviderConfig", f"{base_url.rstrip('/')}/ServiceProviderConfig"),
    }


def resource_types(base_url: str) -> list[dict]:
    return [_resource_type_document(resource_type, base_url) for resource_type in RESOURCE_TYPES]


def resource_type(name: str, base_url: str) -> dict | None:
    # RFC 7644 §4: /ResourceTypes/{id}, where the id is the resource type's name.
    found = next((candidate for candidate in RESOURCE_TYPES if candidate.name == name), None)
    return None if found is None else _resource_type_document(found, base_url)


def schemas(base_url: str) -> list[dict]:
    return [_schema_document(found, base_url) for found in _all_schemas()]


def schema(urn: str, base_url: str) -> dict | None:
    # RFC 7643 §2.1: schema URNs are case-insensitive.
    found = next((candidate for candidate in _all_schemas() if candidate.id.lower() == urn.lower()), None)
    return None if found is None else _schema_document(found, base_url)


def _all_schemas() -> list[Schema]:
    return [found for resource_type in RESOURCE_TYPES
            for found in (resource_type.schema, *resource_type.extensions)]


def _resource_type_document(resource_type: ResourceType, base_url: str) -> dict:
    document = {
        "schemas": [RESOURCE_TYPE_URN],
        "id": resource_type.name,
        "name": resource_type.name,
        "endpoint": resource_type.endpoint,
        "description": resource_type.schema.description,
        "schema": resource_type.schema.id,
    }
    if resource_type.extensions:
        document["schemaExtensions"] = [
            {"schema": extension.id, "required": False} for extension in resource_type.extensions]
    document["meta"] = _meta("ResourceType", f"{base_url.rstrip('/')}/ResourceTypes/{resource_type.name}")
    return document


def _schema_document(found: Schema, base_url: str) -> dict:
    return {
        "schemas": [SCHEMA_URN],
        "id": found.id,
        "name": found.name,
        "description": found.description,
        "attributes": [_attribute_document(attribute) for attribute in found.attributes],
        "meta": _meta("Schema", f"{base_url.rstrip('/')}/Schemas/{found.id}"),
    }


def _attribute_document(attribute: Attribute) -> dict:
    # RFC 7643 §7: the attribute characteristics, in the order of its §8.7.1 listings.
    document: dict = {"name": attribute.name, "type": attribute.type, "multiValued": attribute.multi_valued}
    if attribute.description:
        document["description"] = attribute.description
    document["required"] = attribute.required
    if attribute.sub_attributes:
        document["subAttributes"] = [_attribute_document(sub) for sub in attribute.sub_attributes]
    else:
        document["caseExact"] = attribute.case_exact
    if attribute.canonical_values:
        document["canonicalValues"] = list(attribute.canonical_values)
    if attribute.reference_types:
        document["referenceTypes"] = list(attribute.reference_types)
    document["mutability"] = attribute.mutability
    document["returned"] = attribute.returned
    document["uniqueness"] = attribute.uniqueness
    return document


def _meta(resource_type: str, location: str) -> dict:
    return {"resourceType": resource_type, "location": location}
