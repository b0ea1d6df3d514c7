"""Why requests fail: each cause's rule, title and fix, and failed requests grouped by cause.

Pure functions over plain values (no Flask, no queries).
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Iterable

from ..scim.errors import ScimError
from ..storage.cause_rules import cause_key

TOKEN_FIX = (
    "Create a token on the Tokens page. In Entra, open the app's Provisioning page, paste it into "
    "Secret Token under Admin Credentials, click Test Connection, then Save."
)


@dataclass(frozen=True)
class Cause:
    """A reason requests fail, in words: what it is and how to fix it. Which requests have it is
    said by the rule of the same key (storage/cause_rules.py)."""

    key: str
    title: str
    fix: str
    harmless: bool = False


CAUSES: tuple[Cause, ...] = (
    Cause("unknown_token", "Entra sends a token this server does not know", TOKEN_FIX),
    Cause("revoked_token", "Entra still sends a revoked token", TOKEN_FIX),
    Cause("no_token", "Requests without a token", (
        "Entra always sends its Secret Token, so these come from something else. If they come from "
        "Entra, fill in Secret Token on its Provisioning page.")),
    Cause("user_conflict", "A user with the same userName is already here", (
        "Two users in Entra map to the same userName (often the same mail), or a user was deleted "
        "and created again in Entra. Find the user here by that userName; in Entra, compare both "
        "users' mail and userPrincipalName, and check which source attribute is mapped to userName "
        "(Provisioning > Mappings > Provision Microsoft Entra ID Users).")),
    Cause("group_conflict", "A group with the same name is already here", (
        "Entra needs unique group names (displayName). Rename one of the groups in Entra, or remove "
        "the duplicate from the app's Users and groups.")),
    Cause("missing_member", "A group member has not been provisioned here", (
        "Entra adds members by the id this server gave the user; that user is missing here (never "
        "provisioned, or deleted). Check that the member is assigned to the app and in scope; after "
        "fixing, Restart provisioning in Entra so memberships are sent again.")),
    Cause("unsupported_filter", "A query this server cannot answer", (
        'Matching attributes in Entra must be userName, externalId or emails[type eq "work"].value '
        "for users and displayName for groups (Provisioning > Mappings > the object > Matching "
        "precedence).")),
    Cause("already_deleted", "Deleted already", (
        "Nothing to do: the user or group was already gone when Entra deleted it."), harmless=True),
    Cause("unknown_object", "Entra refers to a user or group that is no longer here", (
        "It was deleted here, but Entra still has its id (InvalidAnchor in Entra's provisioning "
        "logs). In Entra, Restart provisioning (Provisioning > Overview) so it matches the objects "
        "again.")),
    Cause("wrong_address", "Entra calls an address this server does not serve", (
        "The Tenant URL in Entra must be this server's address followed by /scim_v2 and nothing "
        "else: copy it from the setup guide.")),
    Cause("changed_meanwhile", "The object changed in between", (
        "Another request changed it first (If-Match). Entra retries; nothing to do unless it "
        "persists."), harmless=True),
    Cause("too_large", "A request too large", (
        "Too many members or too large a body in one request. Entra retries with the change on "
        "later cycles; if it persists, tell the server operator.")),
    Cause("rejected_value", "Entra sent a value this server refused", (
        "The error detail names the attribute. Check its mapping in Entra (Provisioning > "
        "Mappings): a source without a value, or a target attribute this server does not know.")),
    Cause("unsupported", "A request this server does not support", (
        "Open an example: it names what was asked. Entra's own requests are all supported; "
        "other clients may ask for more.")),
    Cause("server_error", "An error in this server", (
        "The server's log has the details. Entra retries failed objects on later cycles.")),
    Cause("other", "Other errors", "Open an example to read the SCIM error."),
)
CAUSES_BY_KEY = {cause.key: cause for cause in CAUSES}


def cause_of(event: Any) -> Cause:
    """The cause of a failed request (anything with the ProvisioningEvent fields)."""
    return CAUSES_BY_KEY[cause_key(status=event.status, operation=event.operation, resource_type=event.resource_type,
                                   scim_type=event.scim_type, error_detail=event.error_detail)]


def scim_error_body(event: Any) -> str:
    """The SCIM error body (RFC 7644 §3.12) the request was answered with."""
    error = ScimError(event.error_detail or "", status=event.status, scim_type=event.scim_type)
    return json.dumps(error.to_dict(), indent=2, ensure_ascii=False)


@dataclass(frozen=True)
class ErrorGroup:
    cause: Cause
    count: int
    first_seen: datetime
    last_seen: datetime
    example_id: int


def merge_error_groups(groups: Iterable[ErrorGroup]) -> list[ErrorGroup]:
    """One group per cause, the most frequent first; harmless causes after the others."""
    merged: dict[str, ErrorGroup] = {}
    for group in groups:
        seen = merged.get(group.cause.key)
        if seen is None:
            merged[group.cause.key] = group
            continue
        merged[group.cause.key] = ErrorGroup(
            group.cause, seen.count + group.count, min(seen.first_seen, group.first_seen),
            max(seen.last_seen, group.last_seen), max(seen.example_id, group.example_id),
        )
    return sorted(merged.values(), key=lambda g: (g.cause.harmless, -g.count, g.cause.key))

