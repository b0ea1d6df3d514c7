"""One severity for what an identity provider's requests show, shared by the setup guide (its last
step and the summary) and the sync status dashboard, so both say the same of the same requests.

- Red: provisioning is broken or stuck. The organization's token is refused, this server fails
  (5xx), a large share of the requests fails, most are answered "busy" (429, 503), or the
  provider went silent where it never does while it runs. Nothing gets better until someone acts.
- Amber: provisioning runs, but some users need the admin: a duplicate userName, a mapping, a
  value refused. The provider retries them, and they fail the same way until the cause is fixed.
- Neutral: all is well, or what failed is retried by the provider and succeeds by itself (this
  server was busy, another request came first, the object was gone already).

Plain values in, a level out: the callers gather the requests (the wizard its latest ones, the
dashboard the last cycle), and say what happens next in the provider's words.
"""
from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Mapping

# Failures a retry fixes by itself: 429 or 503 with Retry-After, a 412 (another request changed the
# object first), a 404 on a delete (gone already).
RETRIED_BY_ITSELF = frozenset({"busy", "changed_meanwhile", "already_deleted"})
# Failures that neither a retry nor a change in the identity provider fixes: an error in this server.
BROKEN = frozenset({"server_error"})
# Failures that need the admin stop being "a few users" from this share of the requests on.
FAILING_SHARE = 0.1


class Level(enum.Enum):
    NEUTRAL = "neutral"
    AMBER = "amber"
    RED = "red"

    @property
    def rank(self) -> int:
        return list(Level).index(self)

    @property
    def headline(self) -> str:
        return LEVEL_WORDS[self][0]

    @property
    def next(self) -> str:
        """What happens next, in general; the pages say it of the case at hand too."""
        return LEVEL_WORDS[self][1]


LEVEL_WORDS = {
    Level.RED: ("Needs attention", "Provisioning is broken or stuck: nothing more arrives until it is fixed."),
    Level.AMBER: ("Some users need you", "Provisioning runs; the users it names arrive once their cause is fixed."),
    Level.NEUTRAL: ("Nothing needs you", "What arrives is applied, and what failed is retried by itself."),
}


def worst(levels) -> Level:
    return max(levels, key=lambda level: level.rank, default=Level.NEUTRAL)


@dataclass(frozen=True)
class Traffic:
    requests: int  # the requests looked at
    failures: Mapping[str, int] = field(default_factory=dict)  # of those, the failed ones by cause key
    refused_now: bool = False  # the latest request was refused for the organization's own token
    silent: bool = False  # longer without a request than the provider ever is while it runs


@dataclass(frozen=True)
class Severity:
    level: Level
    failed: int = 0  # failed requests that will not succeed by themselves
    cause: str | None = None  # the most frequent cause among them


def severity_of(traffic: Traffic) -> Severity:
    lasting = {key: count for key, count in traffic.failures.items() if key not in RETRIED_BY_ITSELF and count}
    failed = sum(lasting.values())
    cause = min(lasting, key=lambda key: (-lasting[key], key), default=None)
    broken = (traffic.refused_now or traffic.silent or any(key in BROKEN for key in lasting)
              or (failed and failed >= FAILING_SHARE * traffic.requests))
    if broken:
        return Severity(Level.RED, failed, cause)
    busy = traffic.failures.get("busy", 0)
    if busy * 2 > traffic.requests:  # most requests answered "busy": stuck, not a passing load
        return Severity(Level.RED, busy, "busy")
    return Severity(Level.AMBER if failed else Level.NEUTRAL, failed, cause)
