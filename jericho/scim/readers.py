"""What a consumer of the directory reads from a stored User document (RFC 7643 §4.1, §4.3): the
work email, the parts of the name, the job title and the department. One reader per value, so the
setup wizard, the exports and the read API all read a person the same way."""
from __future__ import annotations

from typing import Any

from .schema import ENTERPRISE_USER_URN


def work_email(document: dict[str, Any]) -> str | None:
    """The `emails` value of type work, else the primary one (RFC 7643 §4.1.2)."""
    emails = [e for e in document.get("emails") or [] if isinstance(e, dict) and e.get("value")]
    for email in emails:
        if str(email.get("type", "")).lower() == "work":
            return str(email["value"])
    return next((str(e["value"]) for e in emails if e.get("primary") is True), None)


def given_name(document: dict[str, Any]) -> str | None:
    return _text((document.get("name") or {}).get("givenName"))


def family_name(document: dict[str, Any]) -> str | None:
    return _text((document.get("name") or {}).get("familyName"))


def title(document: dict[str, Any]) -> str | None:
    return _text(document.get("title"))


def department(document: dict[str, Any]) -> str | None:
    return _text((document.get(ENTERPRISE_USER_URN) or {}).get("department"))


def _text(value: Any) -> str | None:
    # Stored documents are normalised (scim.resources), so a value is a string or absent.
    return value if isinstance(value, str) and value else None
