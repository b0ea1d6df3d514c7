"""Attribute paths (RFC 7644 §3.10, RFC 7643 §2.1): `userName`, `name.givenName` and URN-qualified
`urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value`. Syntax only; what a
path means for a resource type is `schema.ResourceType.resolve`."""
from __future__ import annotations

import re
from dataclasses import dataclass

from .errors import InvalidPath

# RFC 7644 §3.10: ATTRNAME = ALPHA *(nameChar), nameChar = "-" / "_" / DIGIT / ALPHA;
# RFC 7643 §2.3.7 adds "$ref" for reference sub-attributes.
ATTRNAME = r"(?:[A-Za-z][A-Za-z0-9_-]*|\$ref)"
_NAME_AND_SUB = re.compile(rf"({ATTRNAME})(?:\.({ATTRNAME}))?")
_URN = re.compile(r"urn:[A-Za-z0-9][A-Za-z0-9-]*(?::[A-Za-z0-9._~%!$&'()*+,;=@/-]+)+", re.IGNORECASE)


@dataclass(frozen=True)
class AttrPath:
    schema: str | None
    name: str
    sub: str | None = None

    def __str__(self) -> str:
        text = self.name if self.schema is None else f"{self.schema}:{self.name}"
        return text if self.sub is None else f"{text}.{self.sub}"


def parse_attr_path(text: str) -> AttrPath:
    # attrPath = [URI ":"] ATTRNAME *1subAttr; the URN itself contains ":" and ".", so the
    # attribute is whatever follows the last ":".
    schema, colon, rest = text.rpartition(":")
    if colon and not _URN.fullmatch(schema):
        raise InvalidPath(f"invalid attribute path {text!r}: {schema!r} is not a schema URN")
    match = _NAME_AND_SUB.fullmatch(rest)
    if match is None:
        raise InvalidPath(f"invalid attribute path {text!r}: expected attribute or attribute.subAttribute")
    return AttrPath(schema or None, match[1], match[2])


def is_urn(text: str) -> bool:
    return _URN.fullmatch(text) is not None


def parse_attr_list(text: str | None) -> list[AttrPath]:
    # RFC 7644 §3.4.2.5: "attributes" / "excludedAttributes" are comma-separated attribute paths.
    if text is None:
        return []
    return [parse_attr_path(item.strip()) for item in text.split(",") if item.strip()]
