"""Resource documents (RFC 7643 §2, §3): validation and normalisation of what a client sends into the
stored document, its representation with `id` and `meta`, attribute selection (RFC 7644 §3.4.2.5,
§3.9) and the list and search messages (RFC 7644 §3.4.2, §3.4.3).

The stored document is the resource without `id`, `meta` and group `members`: core attributes at the
top level under their canonical names, each extension's attributes in an object under its URN, and
`schemas` listing the core URN plus the extensions present."""
from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any

from . import entra
from .errors import InvalidPath, InvalidSyntax, InvalidValue
from .paths import AttrPath, is_urn, parse_attr_path
from .schema import (
    ENTERPRISE_USER_SCHEMA,
    GROUP_SCHEMA,
    LIST_RESPONSE_URN,
    SEARCH_REQUEST_URN,
    Attribute,
    ResourceType,
    timestamp,
)
from .unknown import AS_SENT, as_sent, is_unknown_extension, kept_value, resolve_as_sent, schema_key

MEMBERS = GROUP_SCHEMA.attribute("members")
MANAGER = ENTERPRISE_USER_SCHEMA.attribute("manager")
ABSENT = object()


def _is_string(value: Any) -> bool:
    return isinstance(value, str)


def _is_string_list(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(item, str) for item in value)


def _is_integer(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _is_datetime(value: Any) -> bool:
    # RFC 7643 §2.3.5: xsd:dateTime. Checked here, stored as sent.
    if not isinstance(value, str):
        return False
    try:
        datetime.fromisoformat(value)
    except ValueError:
        return False
    return True


# RFC 7643 §2.3: the JSON shape of each simple type, and how to name it in an error.
_TYPE_CHECKS: dict[str, tuple[Callable[[Any], bool], str]] = {
    "string": (_is_string, "a string"),
    "reference": (_is_string, "a string (a URI)"),
    "binary": (_is_string, "a base64 string"),
    "integer": (_is_integer, "an integer"),
    "decimal": (_is_number, "a number"),
    "dateTime": (_is_datetime, "a date-time string such as \"2011-05-13T04:42:34Z\""),
}


def field(mapping: dict, name: str, default: Any = None) -> Any:
    # RFC 7643 §2.1: attribute names, including those of the protocol messages, are case-insensitive.
    if name in mapping:
        return mapping[name]
    folded = name.lower()
    return next((value for key, value in mapping.items() if key.lower() == folded), default)


def is_unassigned(value: Any) -> bool:
    # RFC 7643 §2.5: null and an empty array are "unassigned"; like the filter's `pr` (RFC 7644
    # §3.4.2.2), an empty string or an object without sub-attributes is too.
    return value is None or value == "" or value == [] or value == {}


def is_stored(attribute: Attribute) -> bool:
    # readOnly values are the service provider's (RFC 7643 §2.2) and `schemas` is derived; the password
    # (returned "never", RFC 7643 §4.1.1) is never stored; group members are rows, not document values.
    return (attribute.mutability != "readOnly" and attribute.returned != "never"
            and attribute.name != "schemas" and attribute != MEMBERS)


def attribute_path(resource_type: ResourceType, urn: str, attribute: Attribute, sub: Attribute | None = None) -> str:
    # The attribute's name as an error message shows it: URN-qualified outside the core schema.
    text = attribute.name if urn == resource_type.schema.id else f"{urn}:{attribute.name}"
    return text if sub is None else f"{text}.{sub.name}"


def coerce_value(attribute: Attribute, value: Any, *, path: str | None = None) -> Any:
    """The value as stored: type-checked, sub-attribute names canonical, readOnly sub-attributes
    and unassigned values dropped, values outside the schema kept as sent. Raises InvalidValue
    naming `path`."""
    path = path or attribute.name
    if not attribute.multi_valued:
        return _coerce_single(attribute, value, path)
    # ENTRA.md §8 #3: a single value where an array is expected is read as a one-element array.
    items = [_coerce_single(attribute, item, path) for item in (value if isinstance(value, list) else [value])]
    items = [item for item in items if not is_unassigned(item)]
    if sum(1 for item in items if isinstance(item, dict) and item.get("primary") is True) > 1:
        raise InvalidValue(f"'{path}' has more than one value with \"primary\": true (RFC 7643 §2.4)")
    return items


def _coerce_single(attribute: Attribute, value: Any, path: str) -> Any:
    if is_unassigned(value):
        return None
    if attribute.type == AS_SENT:
        return kept_value(value, path)
    if attribute.type == "boolean":
        boolean = entra.parse_boolean(value)
        if boolean is None:
            raise InvalidValue(f"'{path}' must be true or false, not {_show(value)}")
        return boolean
    if attribute.type == "complex":
        return _coerce_complex(attribute, value, path)
    is_valid, expected = _TYPE_CHECKS[attribute.type]
    if not is_valid(value):
        raise InvalidValue(f"'{path}' must be {expected}, not {_show(value)}")
    return value


def _coerce_complex(attribute: Attribute, value: Any, path: str) -> dict:
    if attribute == MANAGER:
        value = entra.manager_reference(value)
    if not isinstance(value, dict):
        raise InvalidValue(f"'{path}' must be an object, not {_show(value)}")
    result = {}
    for key, sub_value in value.items():
        sub = attribute.sub(key) or as_sent(key)
        if sub.mutability == "readOnly":
            continue
        coerced = coerce_value(sub, sub_value, path=f"{path}.{sub.name}")
        if not is_unassigned(coerced):
            result[sub.name] = coerced
    return result


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def missing_required(document: dict, resource_type: ResourceType) -> str | None:
    # RFC 7643 §2.2 "required": userName (§4.1.1), a Group's displayName (§4.2).
    return next((attribute.name for attribute in resource_type.schema.attributes
                 if attribute.required and is_unassigned(document.get(attribute.name))), None)


def schemas_of(document: dict, resource_type: ResourceType) -> list[str]:
    # RFC 7643 §3: the core schema plus every extension the resource has values for, known or not.
    return ([resource_type.schema.id] + [extension.id for extension in resource_type.extensions if extension.id in document]
            + [key for key, value in document.items() if is_unknown_extension(resource_type, key, value)])


def with_schemas(document: dict, resource_type: ResourceType) -> dict:
    return {"schemas": schemas_of(document, resource_type),
            **{key: value for key, value in document.items() if key != "schemas"}}


def _entries(body: dict, resource_type: ResourceType) -> Iterator[tuple[str, Attribute, Any]]:
    # (schema URN, attribute, value) for every attribute of a resource body (RFC 7643 §3): top-level
    # keys name core and common attributes, an extension's attributes sit in an object under its
    # URN. Attributes outside the schema, and extensions this server does not define, are kept as
    # sent (unknown.py); a schema URN listed in "schemas" alone, such as the Microsoft ADSCIM URN in
    # Entra's group create (ENTRA.md §3.7, §11.5), holds nothing.
    for key, value in body.items():
        urn = schema_key(resource_type, key, body)
        if urn is None:
            yield *resolve_as_sent(resource_type, _key_path(key), body)[:2], value
            continue
        if value is not None and not isinstance(value, dict):
            raise InvalidValue(f"'{urn}' must be an object holding that schema's attributes")
        for name, sub_value in (value or {}).items():
            yield *resolve_as_sent(resource_type, AttrPath(urn, name), body)[:2], sub_value


def _key_path(key: str) -> AttrPath:
    # A top-level key names an attribute, perhaps URN-qualified (RFC 7644 §3.10); a dotted key is
    # a name, not a path to a sub-attribute.
    if is_urn(key.rpartition(":")[0]):
        try:
            path = parse_attr_path(key)
        except InvalidPath:
            path = None
        if path is not None and path.sub is None:
            return path
    return AttrPath(None, key)


def normalize(body: Any, resource_type: ResourceType) -> dict:
    """A POST/PUT body (RFC 7644 §3.3, §3.5.1) as the stored document; values are kept exactly as
    sent apart from type coercion (ENTRA.md §1.2: no reformatting)."""
    if not isinstance(body, dict):
        raise InvalidSyntax(f"the request body must be a JSON object describing a {resource_type.name}")
    core = resource_type.schema.id
    document: dict = {}
    for urn, attribute, value in _entries(body, resource_type):
        if not is_stored(attribute):
            continue
        coerced = coerce_value(attribute, value, path=attribute_path(resource_type, urn, attribute))
        if is_unassigned(coerced):
            continue
        container = document if urn == core else document.setdefault(urn, {})
        container[attribute.name] = coerced
    missing = missing_required(document, resource_type)
    if missing is not None:
        raise InvalidValue(f"'{missing}' is required")
    return with_schemas(document, resource_type)


def member_ids(value: Any) -> tuple[str, ...]:
    # RFC 7643 §4.2: members are {"value": id, "$ref", "type", "display"}; the membership rows keep
    # only the ids. Duplicates are dropped, the order is kept.
    if is_unassigned(value):
        return ()
    ids = []
    for item in value if isinstance(value, list) else [value]:  # ENTRA.md §8 #3
        member_id = field(item, "value") if isinstance(item, dict) else None
        if not isinstance(member_id, str) or not member_id:
            raise InvalidValue(f"each member must be an object whose \"value\" is the member's id, not {_show(item)}")
        ids.append(member_id)
    return tuple(dict.fromkeys(ids))


def members_of(body: dict) -> list[str]:
    """The member ids of a POST or PUT group body (RFC 7644 §3.3, §3.5.1): none when `members` is
    absent or null. The body is the whole resource, so `members` is an array (RFC 7643 §4.2); the
    single object that PATCH accepts as a value (ENTRA.md §8 #3) is refused here."""
    value = field(body, "members")
    if value is None:
        return []
    if not isinstance(value, list):
        raise InvalidValue(f"\"members\" must be an array of {{\"value\": id}} objects, not {_show(value)}")
    return list(member_ids(value))


def etag(version: int) -> str:
    # RFC 7644 §3.14: a weak entity tag.
    return f'W/"{version}"'


def to_resource(document: dict, *, id: str, resource_type: ResourceType, created: datetime,
                last_modified: datetime, version: int, location: str) -> dict:
    # RFC 7643 §3.1: `id` and `meta` are assigned by the service provider.
    return {
        "schemas": schemas_of(document, resource_type),
        "id": id,
        **{key: value for key, value in document.items() if key != "schemas"},
        "meta": {
            "resourceType": resource_type.name,
            "created": timestamp(created),
            "lastModified": timestamp(last_modified),
            "location": location,
            "version": etag(version),
        },
    }


# (schema URN, attribute name) -> the sub-attribute names selected, or None for the whole
# attribute; lower-cased, as attributes outside the schema are named as sent (RFC 7643 §2.1).
_Selection = dict[tuple[str, str], set[str] | None]


def _selection(paths: list[AttrPath], resource_type: ResourceType) -> _Selection:
    selection: _Selection = {}
    for path in paths:
        urn, attribute, sub = resolve_as_sent(resource_type, path, {})
        key = _selection_key(urn, attribute)
        if sub is None:
            selection[key] = None
        elif key not in selection:
            selection[key] = {sub.name.lower()}
        elif selection[key] is not None:
            selection[key].add(sub.name.lower())
    return selection


def _selection_key(urn: str, attribute: Attribute) -> tuple[str, str]:
    return urn.lower(), attribute.name.lower()


def _only_subs(value: Any, keep: Callable[[str], bool]) -> Any:
    if isinstance(value, list):
        return [kept for item in value if not is_unassigned(kept := _only_subs(item, keep))]
    if isinstance(value, dict):
        return {name: sub_value for name, sub_value in value.items() if keep(name)}
    return value


def _project(key: tuple[str, str], attribute: Attribute, value: Any, requested: _Selection | None,
             excluded: _Selection) -> Any:
    # RFC 7643 §7 "returned": "always" survives any selection, "never" is never returned,
    # "request" only when asked for by `attributes`.
    if attribute.returned == "always":
        return value
    if attribute.returned == "never":
        return None
    if requested is not None:
        if key not in requested:
            return None
        wanted = requested[key]
        if wanted is not None:
            value = _only_subs(value, lambda name: name.lower() in wanted)
    elif attribute.returned == "request":
        return None
    if key in excluded:
        unwanted = excluded[key]
        if unwanted is None:
            return None
        value = _only_subs(value, lambda name: name.lower() not in unwanted)
    return value


def select_attributes(resource: dict, resource_type: ResourceType, *, attributes: list[AttrPath],
                      excluded: list[AttrPath]) -> dict:
    # RFC 7644 §3.4.2.5, §3.9: `attributes` replaces the default set, `excludedAttributes` removes
    # from it; either may name a sub-attribute (`name.givenName`) or a URN-qualified attribute.
    requested = _selection(attributes, resource_type) if attributes else None
    dropped = _selection(excluded, resource_type)
    core = resource_type.schema.id
    result: dict = {}
    for urn, attribute, value in _entries(resource, resource_type):
        projected = _project(_selection_key(urn, attribute), attribute, value, requested, dropped)
        if not is_unassigned(projected):
            container = result if urn == core else result.setdefault(urn, {})
            container[attribute.name] = projected
    return result


def select_served_attributes(resource: dict, resource_type: ResourceType, *, attributes: list[AttrPath],
                             excluded: list[AttrPath]) -> dict:
    """select_attributes of a resource served from a stored document, which holds no attribute
    returned "never" (is_stored). With no selection, and no attribute returned only on request,
    such a resource is its own default set: it is returned as it is, not copied."""
    if not attributes and not excluded and not _returned_on_request(resource_type):
        return resource
    return select_attributes(resource, resource_type, attributes=attributes, excluded=excluded)


# Per resource type name: hashing a ResourceType would hash its whole schema on every call.
_RETURNED_ON_REQUEST: dict[str, bool] = {}


def _returned_on_request(resource_type: ResourceType) -> bool:
    known = _RETURNED_ON_REQUEST.get(resource_type.name)
    if known is None:
        schemas = (resource_type.schema, *resource_type.extensions)
        known = _RETURNED_ON_REQUEST[resource_type.name] = any(
            attribute.returned == "request" for schema in schemas for attribute in schema.attributes)
    return known


def list_response(resources: list[dict], *, total: int, start_index: int) -> dict:
    # RFC 7644 §3.4.2: totalResults counts every match; itemsPerPage the ones on this page.
    return {"schemas": [LIST_RESPONSE_URN], "totalResults": total, "Resources": resources,
            "startIndex": start_index, "itemsPerPage": len(resources)}


def check_message_schemas(body: dict, urn: str) -> None:
    # RFC 7644 §3.4.3, §3.5.2: a protocol message names its schema. A body without "schemas" is
    # accepted (nothing else could be meant); one naming other schemas only is not.
    schemas = field(body, "schemas", ABSENT)
    if schemas is ABSENT:
        return
    if not isinstance(schemas, list) or urn.lower() not in {s.lower() for s in schemas if isinstance(s, str)}:
        raise InvalidSyntax(f"\"schemas\" must be [\"{urn}\"], not {_show(schemas)}")


def _search_field(body: dict, name: str, is_valid: Callable[[Any], bool], expected: str) -> Any:
    value = field(body, name)
    if value is not None and not is_valid(value):
        raise InvalidValue(f"\"{name}\" must be {expected}, not {_show(value)}")
    return value


def parse_search_request(body: Any) -> dict:
    """POST /.search (RFC 7644 §3.4.3): the §3.4.2 query parameters as JSON. Returns filter (text),
    attributes / excludedAttributes (attribute paths), sortBy (attribute path or None), sortOrder,
    startIndex and count (None when absent)."""
    if not isinstance(body, dict):
        raise InvalidSyntax("a SearchRequest must be a JSON object")
    check_message_schemas(body, SEARCH_REQUEST_URN)
    sort_by = _search_field(body, "sortBy", _is_string, "an attribute name")
    sort_order = _search_field(body, "sortOrder", lambda value: value in ("ascending", "descending"),
                               "\"ascending\" or \"descending\"")
    return {
        "filter": _search_field(body, "filter", _is_string, "a string"),
        "attributes": [parse_attr_path(text) for text in
                       _search_field(body, "attributes", _is_string_list, "an array of attribute names") or []],
        "excludedAttributes": [parse_attr_path(text) for text in
                               _search_field(body, "excludedAttributes", _is_string_list,
                                             "an array of attribute names") or []],
        "sortBy": parse_attr_path(sort_by) if sort_by is not None else None,
        "sortOrder": sort_order,
        "startIndex": _search_field(body, "startIndex", _is_integer, "an integer"),
        "count": _search_field(body, "count", _is_integer, "an integer"),
    }
