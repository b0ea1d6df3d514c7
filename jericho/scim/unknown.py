"""Attributes outside this server's schemas. An admin may map any attribute in Entra (a custom
extension such as `urn:ietf:params:scim:schemas:extension:Contoso:2.0:User:costCenterCode`, or a
plain name), and Entra quarantines a job whose requests keep failing (ENTRA.md §6), so such
attributes are accepted and kept in the stored document as sent — never dropped. They come back
with the resource, and the setup guide and status pages name them; they are never filtered on,
sorted by or type-checked. `resolve_as_sent` gives each the attribute `as_sent(name)`.
"""
from __future__ import annotations

import math
from typing import Any

from .errors import InvalidPath, InvalidValue
from .paths import AttrPath, is_urn
from .schema import Attribute, ResourceType

AS_SENT = "asSent"  # the type of an attribute outside the schema
# Deep enough for any value a directory holds; every database stores and reads such a value back.
MAX_DEPTH = 10


def as_sent(name: str) -> Attribute:
    return Attribute(name, AS_SENT)


def schema_key(resource_type: ResourceType, key: str, document: dict) -> str | None:
    """The URN of the schema whose attributes a resource's `key` holds as an object (RFC 7643
    §3.3), as `document` keeps it: the core schema, an extension this server defines, or any other
    URN. None when `key` names an attribute: a plain name, or a URN whose prefix is a schema's
    (`urn:...:enterprise:2.0:User:manager`)."""
    core = resource_type.schema.id
    if key.lower() == core.lower():
        return core
    extension = resource_type.extension(key)
    if extension is not None:
        return extension.id
    prefix = stored_name(document, key.rpartition(":")[0])
    if not is_urn(key) or is_defined(resource_type, prefix) or is_unknown_extension(resource_type, prefix,
                                                                                  document.get(prefix)):
        return None
    return stored_name(document, key)


def is_defined(resource_type: ResourceType, urn: str) -> bool:
    """Whether `urn` is the core schema or an extension this server defines."""
    return urn.lower() == resource_type.schema.id.lower() or resource_type.extension(urn) is not None


def is_unknown_extension(resource_type: ResourceType, key: str, value: Any) -> bool:
    """Whether a stored document's key holds an extension this server does not define."""
    return isinstance(value, dict) and is_urn(key) and not is_defined(resource_type, key)


def kept_value(value: Any, path: str) -> Any:
    """A value outside the schema, checked only for what no database could store."""
    pending = [(value, 1)]
    while pending:
        item, depth = pending.pop()
        if depth > MAX_DEPTH:
            raise InvalidValue(f"'{path}' nests deeper than {MAX_DEPTH} levels")
        if isinstance(item, float) and not math.isfinite(item):
            raise InvalidValue(f"'{path}' holds a number out of range")
        children = item.values() if isinstance(item, dict) else item if isinstance(item, list) else ()
        pending.extend((child, depth + 1) for child in children)
    return value


def stored_name(container: Any, name: str) -> str:
    """`name` as `container` already spells it: attribute names are case-insensitive (RFC 7643 §2.1)."""
    if not isinstance(container, dict):
        return name
    folded = name.lower()
    return next((key for key in container if key.lower() == folded), name)


def resolve_as_sent(resource_type: ResourceType, path: AttrPath, document: dict) -> tuple[str, Attribute,
                                                                                         Attribute | None]:
    """As `ResourceType.resolve`, except that an attribute or sub-attribute outside the schema
    resolves to one kept as sent, named as `document` already names it."""
    try:
        return resource_type.resolve(path)
    except InvalidPath:
        pass
    core = resource_type.schema.id
    try:
        urn, attribute, _ = resource_type.resolve(AttrPath(path.schema, path.name))  # a sub-attribute outside
    except InvalidPath:
        if path.schema is None or is_defined(resource_type, path.schema):
            urn = core if path.schema is None else (resource_type.extension(path.schema) or resource_type.schema).id
        else:
            urn = stored_name(document, path.schema)
        attribute = as_sent(stored_name(_held(document, urn, core), path.name))
    sub = None if path.sub is None else as_sent(stored_name(_held(document, urn, core).get(attribute.name), path.sub))
    return urn, attribute, sub


def _held(document: dict, urn: str, core: str) -> dict:
    # The object holding a schema's attributes in a document, empty when it holds none.
    container = document if urn == core else document.get(urn)
    return container if isinstance(container, dict) else {}


def unknown_attributes(document: dict, resource_type: ResourceType) -> list[str]:
    """The paths of a stored document's attributes outside the schema, in the document's order:
    `costCenterCode`, `name.nickname`, `urn:...:Contoso:2.0:User:costCenterCode`."""
    core = resource_type.schema.id
    paths: list[str] = []
    for key, value in document.items():
        extension = resource_type.extension(key)
        if extension is not None or is_unknown_extension(resource_type, key, value):
            urn = extension.id if extension is not None else key
            for name, item in value.items():
                known = extension.attribute(name) if extension is not None else None
                paths += [f"{urn}:{path}" for path in _unknown_parts(known, name, item)]
        elif key != "schemas":
            try:
                _, attribute, _ = resource_type.resolve(AttrPath(core, key))
            except InvalidPath:
                attribute = None
            paths += _unknown_parts(attribute, key, value)
    return list(dict.fromkeys(paths))


def _unknown_parts(attribute: Attribute | None, name: str, value: Any) -> list[str]:
    # The attribute itself when it is outside the schema, else its sub-attributes that are.
    if attribute is None:
        return [name]
    elements = value if isinstance(value, list) else [value]
    return [f"{attribute.name}.{key}" for element in elements if isinstance(element, dict)
            for key in element if attribute.sub(key) is None]
