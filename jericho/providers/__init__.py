"""The identity providers an organization can connect, one module each (`entra`, `okta`): its
names, the setup guide's eight steps (title, the rule that tells the step's state from what this
server received, the page that explains it), how it sends (SyncHabits) and its words for the sync
status pages and the causes of failed requests. `severity` is the one model of how serious what
the requests show is, shared by the setup guide and the sync status pages."""
from __future__ import annotations

from .base import (
    ENTRA_KEY,
    OKTA_KEY,
    CauseWords,
    Evidence,
    MappingProblem,
    MappingReport,
    Provider,
    Reason,
    State,
    Step,
    SyncHabits,
)
from .entra import ENTRA
from .okta import OKTA

PROVIDERS: dict[str, Provider] = {provider.key: provider for provider in (ENTRA, OKTA)}


def provider_of(key: str | None) -> Provider:
    """The provider stored for an organization; Entra for a key this version does not know."""
    return PROVIDERS.get(key or ENTRA_KEY, ENTRA)


__all__ = ["ENTRA", "ENTRA_KEY", "OKTA", "OKTA_KEY", "PROVIDERS", "CauseWords", "Evidence", "MappingProblem",
           "MappingReport", "Provider", "Reason", "State", "Step", "SyncHabits", "provider_of"]
