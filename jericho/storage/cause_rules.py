"""Which cause a failed request has: rules on its status, operation, resource type, scimType and
error detail. The first rule that matches gives the cause's key; the status pages say what each
cause means and how to fix it (status/causes.py). Pure, so the log's writer and the pages share
them, and tested on plain values."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class CauseRule:
    key: str
    statuses: tuple[tuple[int, int], ...] = ((400, 600),)  # ranges: from, up to (excluded)
    operations: tuple[str, ...] = ()  # empty: any
    resource_types: tuple[str | None, ...] | None = None  # None: any
    scim_types: tuple[str, ...] = ()
    detail_prefix: str | None = None

    def matches(
        self, *, status: int, operation: str, resource_type: str | None, scim_type: str | None,
        error_detail: str | None,
    ) -> bool:
        return (
            any(low <= status < high for low, high in self.statuses)
            and (not self.operations or operation in self.operations)
            and (self.resource_types is None or resource_type in self.resource_types)
            and (not self.scim_types or scim_type in self.scim_types)
            and (self.detail_prefix is None or (error_detail or "").startswith(self.detail_prefix))
        )


def _codes(*codes: int) -> tuple[tuple[int, int], ...]:
    return tuple((code, code + 1) for code in codes)


CAUSE_RULES: tuple[CauseRule, ...] = (
    # The 401 details are the ones api.authentication gives.
    CauseRule("unknown_token", statuses=_codes(401), detail_prefix="unknown token"),
    CauseRule("revoked_token", statuses=_codes(401), detail_prefix="revoked token"),
    CauseRule("no_token", statuses=_codes(401)),
    CauseRule("user_conflict", statuses=_codes(409), resource_types=("User",)),
    CauseRule("group_conflict", statuses=_codes(409), resource_types=("Group",)),
    CauseRule("missing_member", statuses=_codes(400), resource_types=("Group",),
              detail_prefix="no user or group with id"),
    CauseRule("unsupported_filter", statuses=_codes(400), scim_types=("invalidFilter",)),
    CauseRule("already_deleted", statuses=_codes(404), operations=("delete",)),
    CauseRule("unknown_object", statuses=_codes(404), resource_types=("User", "Group")),
    CauseRule("wrong_address", statuses=_codes(404, 405), resource_types=(None,)),
    CauseRule("changed_meanwhile", statuses=_codes(412)),
    CauseRule("too_large", statuses=_codes(413)),
    # Busy: too many requests (rate limits), or a request that ran out of time (503, Retry-After).
    CauseRule("busy", statuses=_codes(429, 503)),
    CauseRule("rejected_value", statuses=_codes(400)),
    CauseRule("unsupported", statuses=((405, 416), *_codes(501))),
    CauseRule("server_error", statuses=((500, 600),)),
    CauseRule("other"),
)
CAUSE_KEYS = tuple(rule.key for rule in CAUSE_RULES)


def cause_key(
    *, status: int, operation: str, resource_type: str | None, scim_type: str | None, error_detail: str | None,
) -> str | None:
    """The key of a failed request's cause; None for a success."""
    if status < 400:
        return None
    return next(rule.key for rule in CAUSE_RULES if rule.matches(
        status=status, operation=operation, resource_type=resource_type, scim_type=scim_type,
        error_detail=error_detail))
