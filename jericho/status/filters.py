"""What the status pages read from the query string: filters, sort orders, pages and positions
in the log. Anything typed that is not understood is ignored (or named in `problems`), never
sent to SQL as it is."""
from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta, timezone
from typing import Any, Mapping

from ..security import IdCipher
from ..storage.cause_rules import CAUSE_KEYS
from ..storage.models import ProvisioningEvent

# Numbers from the query string beyond these are answered as "nothing there", not sent to SQL
# (ids are Integer columns: 32 bits on PostgreSQL, which refuses a larger number).
MAX_ID = 2**31 - 1
MAX_PAGE = 1_000_000

# The log's filter and columns, in words (ProvisioningEvent.OPERATIONS).
OPERATION_WORDS = {
    "test_connection": "Test Connection",
    "lookup": "Look up",
    "list": "List",
    "read": "Read",
    "create": "Create",
    "update": "Update",
    "disable": "Deactivate",
    "enable": "Reactivate",
    "members": "Change members",
    "delete": "Delete",
    "discovery": "Discovery",
    "rejected": "Refused",
}
OUTCOMES = ("succeeded", "failed")
OBJECT_TYPES = ("User", "Group", "none")
USER_SORTS = ("user_name", "-user_name", "name", "-name", "-updated", "updated", "-created", "created")
USER_STATES = ("all", "active", "deactivated")
GROUP_SORTS = ("name", "-name", "members", "-members", "-created", "created")


def page_number(args: Mapping[str, str]) -> int:
    try:
        return min(max(int(args.get("page", 1)), 1), MAX_PAGE)
    except ValueError:
        return 1


@dataclass(frozen=True)
class Cursor:
    """A position in the log, newest first: keyset pagination stays fast at any depth."""

    occurred_at: datetime
    id: int

    def text(self, ids: IdCipher) -> str:
        """As a link carries it: the request's id as admins see it (security.IdCipher)."""
        return f"{self.occurred_at.astimezone(timezone.utc):%Y-%m-%dT%H:%M:%S.%f}~{ids.hide(self.id)}"

    @classmethod
    def parse(cls, text: str | None, ids: IdCipher) -> Cursor | None:
        moment, _, shown = (text or "").partition("~")
        number = ids.reveal(shown)
        try:
            cursor = cls(datetime.fromisoformat(moment).replace(tzinfo=timezone.utc), number or 0)
        except ValueError:
            return None
        return cursor if 0 < cursor.id <= MAX_ID else None


def parse_moment(text: str, *, end: bool) -> datetime | None:
    """A date or date and time typed into the filter, in UTC. An end includes the whole day or
    minute given, as people mean it; None when it is not a date."""
    text = text.strip()
    if not text:
        return None
    try:
        if len(text) <= 10:
            day = date.fromisoformat(text)
            moment = datetime.combine(day, time(), tzinfo=timezone.utc)
            return moment + timedelta(days=1) if end else moment
        moment = datetime.fromisoformat(text.removesuffix("Z")).replace(tzinfo=timezone.utc)
        unit = timedelta(seconds=1) if moment.second or moment.microsecond or text.count(":") > 1 else timedelta(minutes=1)
        return moment + unit if end else moment
    except (ValueError, OverflowError):  # not a date, or the end of year 9999
        return None


@dataclass(frozen=True)
class LogFilters:
    outcome: str = ""
    operation: str = ""
    object_type: str = ""
    since_text: str = ""  # as typed, to show again
    until_text: str = ""
    q: str = ""
    resource_id: str = ""  # the requests about one user or group
    cause: str = ""  # a key of storage.cause_rules
    problems: tuple[str, ...] = ()  # why a value typed was ignored

    @classmethod
    def from_args(cls, args: Mapping[str, str]) -> LogFilters:
        outcome, operation, object_type = (args.get(k, "") for k in ("outcome", "operation", "type"))
        filters = cls(
            outcome=outcome if outcome in OUTCOMES else "",
            operation=operation if operation in ProvisioningEvent.OPERATIONS else "",
            object_type=object_type if object_type in OBJECT_TYPES else "",
            since_text=args.get("from", "").strip(),
            until_text=args.get("to", "").strip(),
            q=args.get("q", "").strip(),
            resource_id=args.get("object", "").strip(),
            cause=args.get("cause", "") if args.get("cause") in CAUSE_KEYS else "",
        )
        problems = tuple(
            f"“{text}” is not a date: use the form 2026-11-30 or 2026-11-30T10:40 (UTC)."
            for text, end in ((filters.since_text, False), (filters.until_text, True))
            if text and parse_moment(text, end=end) is None
        )
        return replace(filters, problems=problems)

    @property
    def since(self) -> datetime | None:
        return parse_moment(self.since_text, end=False)

    @property
    def until(self) -> datetime | None:
        return parse_moment(self.until_text, end=True)

    @property
    def active(self) -> bool:
        return any((self.outcome, self.operation, self.object_type, self.since_text, self.until_text,
                    self.q, self.resource_id, self.cause))

    def args(self, **changes: Any) -> dict[str, str]:
        values = {"outcome": self.outcome, "operation": self.operation, "type": self.object_type,
                  "from": self.since_text, "to": self.until_text, "q": self.q, "object": self.resource_id,
                  "cause": self.cause}
        values.update(changes)
        return {key: value for key, value in values.items() if value}


@dataclass(frozen=True)
class UserFilters:
    q: str = ""
    state: str = "all"
    group: str = ""  # a group's SCIM id: its direct members
    group_name: str = ""  # part of a group's name: the direct members of the groups it matches
    manager: str = ""  # a user's SCIM id: their direct reports
    sort: str = "user_name"
    page: int = 1

    @classmethod
    def from_args(cls, args: Mapping[str, str]) -> UserFilters:
        state, sort = args.get("state", "all"), args.get("sort", "user_name")
        return cls(
            q=args.get("q", "").strip(),
            state=state if state in USER_STATES else "all",
            group=args.get("group", "").strip(),
            group_name=args.get("group_name", "").strip(),
            manager=args.get("manager", "").strip(),
            sort=sort if sort in USER_SORTS else "user_name",
            page=page_number(args),
        )

    @property
    def narrowed(self) -> bool:
        """Whether the users shown are fewer than those of their state."""
        return bool(self.q or self.group or self.group_name or self.manager)

    def args(self, **changes: Any) -> dict[str, Any]:
        """Query-string arguments for a link to these filters, changed by `changes`."""
        values = {**self.__dict__, **changes}
        defaults = UserFilters()
        return {key: value for key, value in values.items() if value != getattr(defaults, key)}


@dataclass(frozen=True)
class GroupFilters:
    q: str = ""
    empty: bool = False
    sort: str = "name"
    page: int = 1

    @classmethod
    def from_args(cls, args: Mapping[str, str]) -> GroupFilters:
        sort = args.get("sort", "name")
        return cls(q=args.get("q", "").strip(), empty=args.get("empty") == "1",
                   sort=sort if sort in GROUP_SORTS else "name", page=page_number(args))

    def args(self, **changes: Any) -> dict[str, Any]:
        values = {**self.__dict__, **changes}
        values["empty"] = "1" if values["empty"] else ""
        defaults = {"q": "", "empty": "", "sort": "name", "page": 1}
        return {key: value for key, value in values.items() if value != defaults[key]}
