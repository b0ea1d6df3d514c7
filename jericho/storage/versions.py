"""Resource versions as ETags (RFC 7644 §3.14): `If-Match` before a write, `If-None-Match` before
a read. A version is the row's counter, shown as the weak tag W/"<version>"."""
from __future__ import annotations

from ..scim.errors import PreconditionFailed


def check_version(version: int, if_match: str | None) -> None:
    if if_match is None or if_match.strip() == "*":
        return
    if version not in _versions(if_match):
        raise PreconditionFailed(f'the resource has changed; its current version is W/"{version}"')


def version_matches(etag: str, if_none_match: str | None) -> bool:
    """Whether `If-None-Match` names the resource's ETag (`meta.version`)."""
    return bool(if_none_match) and (if_none_match.strip() == "*" or bool(_versions(etag) & _versions(if_none_match)))


def _versions(header: str) -> set[int]:
    versions = set()
    for tag in header.split(","):
        tag = tag.strip().removeprefix("W/").strip('"')
        # ASCII digits only, and few enough for int(): headers are client input.
        if tag.isascii() and tag.isdigit() and len(tag) <= 18:
            versions.add(int(tag))
    return versions
