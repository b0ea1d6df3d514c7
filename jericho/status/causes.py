"""Why requests fail: each cause's rule, title and fix, and failed requests grouped by cause.

Pure functions over plain values (no Flask, no queries).
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Iterable

from ..providers import ENTRA, PROVIDERS, Provider
from ..providers.severity import RETRIED_BY_ITSELF
from ..scim.errors import ScimError
from ..storage.cause_rules import CAUSE_KEYS, cause_key


@dataclass(frozen=True)
class Cause:
    """A reason requests fail, in the identity provider's words: what it is and how to fix it.
    Which requests have it is said by the rule of the same key (storage/cause_rules.py); whether
    it matters, by the severity model (providers/severity.py)."""

    key: str
    title: str
    fix: str
    harmless: bool = False  # retried by the provider, and succeeds by itself


def causes_of(provider: Provider) -> dict[str, Cause]:
    """Every cause, in the order of the rules, in `provider`'s words."""
    return _causes[provider.key]


_causes = {
    provider.key: {
        key: Cause(key, provider.causes[key].title, provider.causes[key].fix, key in RETRIED_BY_ITSELF)
        for key in CAUSE_KEYS
    }
    for provider in PROVIDERS.values()
}
CAUSES_BY_KEY = causes_of(ENTRA)


def cause_of(event: Any, causes: dict[str, Cause] = CAUSES_BY_KEY) -> Cause:
    """The cause of a failed request (anything with the ProvisioningEvent fields)."""
    return causes[cause_key(status=event.status, operation=event.operation, resource_type=event.resource_type,
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
