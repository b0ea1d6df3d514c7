"""Reading a stored SCIM User document: the work email, the person's name and job, the manager,
every attribute as text, and whether userName looks mapped from the right Entra attribute.

One place for these readers, so the pages, the exports and the wizard read a person alike.
"""
from __future__ import annotations

import re
from typing import Any

from .schema import ENTERPRISE_USER_URN

# What this app accepts as an email address (an admin's too): something@domain.tld.
EMAIL_PATTERN = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")

ENTERPRISE_FIELDS = ("employeeNumber", "department", "division", "costCenter", "organization")

# Why a received userName suggests the wrong source attribute in Entra's mapping.
GUEST_UPN = "a guest's user principal name (#EXT#), not an email address"
NOT_EMAIL = "not an email address"
DIFFERS = "differs from the work email"
INITIAL_DOMAIN = "a user principal name in the tenant's onmicrosoft.com domain, and no work email"


def work_email(document: dict[str, Any]) -> str | None:
    """The `emails` value of type work, else the primary one (RFC 7643 §4.1.2)."""
    emails = [e for e in document.get("emails") or [] if isinstance(e, dict) and e.get("value")]
    for email in emails:
        if str(email.get("type", "")).lower() == "work":
            return str(email["value"])
    return next((str(e["value"]) for e in emails if e.get("primary") is True), None)


def person_name(document: dict[str, Any]) -> str:
    """The name a campaign greets someone by: displayName, else the parts of `name`."""
    if document.get("displayName"):
        return str(document["displayName"])
    name = document.get("name") or {}
    if name.get("formatted"):
        return str(name["formatted"])
    return " ".join(str(name[part]) for part in ("givenName", "familyName") if name.get(part))


def name_part(document: dict[str, Any], part: str) -> str:
    """A sub-attribute of `name` (RFC 7643 §4.1.1), e.g. givenName; empty when not sent."""
    return str((document.get("name") or {}).get(part) or "")


def title(document: dict[str, Any]) -> str:
    return str(document.get("title") or "")


def enterprise(document: dict[str, Any]) -> dict[str, Any]:
    """The enterprise extension (RFC 7643 §4.3), empty when not sent."""
    extension = document.get(ENTERPRISE_USER_URN)
    return extension if isinstance(extension, dict) else {}


def department(document: dict[str, Any]) -> str:
    return str(enterprise(document).get("department") or "")


def manager_id(document: dict[str, Any]) -> str | None:
    """The manager's id, as stored (`normalize` turns Entra's bare string into `{"value": …}`)."""
    manager = enterprise(document).get("manager")
    return manager.get("value") if isinstance(manager, dict) else None


def enterprise_fields(document: dict[str, Any]) -> list[tuple[str, str]]:
    extension = enterprise(document)
    return [(name, text(extension[name])) for name in ENTERPRISE_FIELDS if extension.get(name) is not None]


def attribute_rows(document: dict[str, Any]) -> list[tuple[str, str]]:
    """Every attribute of a stored SCIM document as (path, value), for showing as it was
    received: `emails[0].value`, `name.givenName`, extension attributes under their URN."""
    rows: list[tuple[str, str]] = []

    def walk(path: str, value: Any) -> None:
        if isinstance(value, dict):
            for key, item in value.items():
                walk(f"{path}.{key}" if path else key, item)
        elif isinstance(value, list) and any(isinstance(item, (dict, list)) for item in value):
            for index, item in enumerate(value):
                walk(f"{path}[{index}]", item)
        else:
            rows.append((path, text(value)))

    for key, value in document.items():
        if key != "schemas":
            walk(key, value)
    return rows


def text(value: Any) -> str:
    """A received value as people read it: JSON's words for booleans and null."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, list):
        return ", ".join(text(item) for item in value)
    return str(value)


def user_name_problem(user_name: str, email: str | None) -> str | None:
    """Why `user_name` looks like Entra's default userPrincipalName mapping rather than mail."""
    name = user_name.strip().lower()
    if "#ext#" in name:
        return GUEST_UPN
    if not EMAIL_PATTERN.match(name):
        return NOT_EMAIL
    if email and name != email.strip().lower():
        return DIFFERS
    if not email and name.endswith(".onmicrosoft.com"):
        return INITIAL_DOMAIN
    return None
