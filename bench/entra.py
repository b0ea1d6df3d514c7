"""The requests Entra ID sends, shaped as /work/shared/ENTRA.md §3 describes them: match by
filter then POST, groups created empty and filled by PATCH batches, and incremental PATCHes in
both dialects (default, and `aadOptscim062020`).

Every function that yields `Request`s is a builder for `load.Clients.run`.
"""
from __future__ import annotations

import itertools
import time
import uuid
from typing import Iterable, Iterator
from urllib.parse import quote_plus

from bench.load import Request

SCIM = "/scim_v2"
USER_SCHEMAS = ["urn:ietf:params:scim:schemas:core:2.0:User",
                "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"]
ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
GROUP_SCHEMAS = ["urn:ietf:params:scim:schemas:core:2.0:Group",
                 "http://schemas.microsoft.com/2006/11/ResourceManagement/ADSCIM/2.0/Group"]
PATCH_OP = ["urn:ietf:params:scim:api:messages:2.0:PatchOp"]
DEPARTMENTS = ("Finance", "Sales", "Engineering", "Support", "Legal", "Marketing")
# Memberships are sent in PATCH batches of this many (Microsoft publishes no number).
BATCH = 100


def user_name(index: int) -> str:
    return f"User{index}.Bench@contoso.com"


def probe_user_name(index: int) -> str:
    return f"Probe{index}.Bench@contoso.com"


def neighbour_user_name(index: int) -> str:
    return f"User{index}.Bench@fabrikam.com"


def group_name(index: int) -> str:
    return f"Bench Group {index}"


def _filter(attribute: str, value: str) -> str:
    # Entra's form-style encoding: spaces as +, quotes as %22 (ENTRA.md §2).
    return "filter=" + quote_plus(f'{attribute} eq "{value}"')


def user_lookup(name: str, kind: str = "filter") -> Request:
    return Request(kind, "GET", f"{SCIM}/Users?{_filter('userName', name)}")


def test_connection() -> Iterator[Request]:
    yield Request("test_connection", "GET", f"{SCIM}/Users?{_filter('userName', str(uuid.uuid4()))}")
    yield Request("test_connection", "GET",
                  f"{SCIM}/Groups?excludedAttributes=members&{_filter('displayName', str(uuid.uuid4()))}")


def user_document(name: str, index: int) -> dict:
    given, family = name.split("@")[0].split(".")
    return {
        "schemas": USER_SCHEMAS,
        "externalId": f"{given.lower()}.{family.lower()}",
        "userName": name,
        "active": True,
        "displayName": f"{given} {family}",
        "emails": [{"primary": True, "type": "work", "value": name.lower()}],
        "meta": {"resourceType": "User"},
        "name": {"formatted": f"{given} {family}", "familyName": family, "givenName": given},
        "title": "Analyst",
        "preferredLanguage": "en-US",
        "addresses": [{"type": "work", "locality": "Seattle", "country": "US", "primary": True}],
        "phoneNumbers": [{"type": "work", "value": f"+1 425 555 {index % 10000:04d}"}],
        ENTERPRISE: {"employeeNumber": f"E{index}", "department": DEPARTMENTS[index % len(DEPARTMENTS)]},
        "roles": [],
    }


def user_creates(users: list[tuple[object, str, int]]) -> Iterator[Request]:
    """Initial cycle, per (key, userName, number): the match query (no hit), then POST; the new
    id is kept under the key."""
    for key, name, number in users:
        yield user_lookup(name)
        yield Request("create", "POST", f"{SCIM}/Users", user_document(name, number), expect=201, capture=key)


def group_creates(indices: Iterable[int]) -> Iterator[Request]:
    for index in indices:
        name = group_name(index)
        yield Request("group_filter", "GET", f"{SCIM}/Groups?excludedAttributes=members&{_filter('displayName', name)}")
        body = {"schemas": GROUP_SCHEMAS, "externalId": str(uuid.UUID(int=index + 1)), "displayName": name,
                "meta": {"resourceType": "Group"}}
        yield Request("group_create", "POST", f"{SCIM}/Groups", body, expect=201, capture=index)


def add_members(group_id: str, user_ids: list[str], kind: str = "add_members") -> Request:
    value = [{"$ref": None, "value": user_id} for user_id in user_ids]
    body = {"schemas": PATCH_OP, "Operations": [{"op": "Add", "path": "members", "value": value}]}
    return Request(kind, "PATCH", f"{SCIM}/Groups/{group_id}", body, expect=204)


def remove_members(group_id: str, user_ids: list[str], *, flag: bool, kind: str = "remove_member") -> Request:
    """Default dialect: `Remove members` with a value array (remove only these). With
    aadOptscim062020: one `remove members[value eq "…"]` per member, no value."""
    if flag:
        operations = [{"op": "remove", "path": f'members[value eq "{user_id}"]'} for user_id in user_ids]
    else:
        operations = [{"op": "Remove", "path": "members", "value": [{"value": user_id} for user_id in user_ids]}]
    return Request(kind, "PATCH", f"{SCIM}/Groups/{group_id}", {"schemas": PATCH_OP, "Operations": operations},
                   expect=204)


def member_batches(batches: list[tuple[str, list[str]]]) -> Iterator[Request]:
    for group_id, user_ids in batches:
        yield add_members(group_id, user_ids)


def update_user(user_id: str, index: int, *, flag: bool) -> Request:
    """An attribute change (new title and department), in either dialect."""
    title, department = f"Senior Analyst {index}", DEPARTMENTS[(index + 1) % len(DEPARTMENTS)]
    if flag:
        operations = [{"op": "replace", "value": {"title": title, f"{ENTERPRISE}:department": department}}]
    else:
        operations = [{"op": "Replace", "path": "title", "value": title},
                      {"op": "Replace", "path": f"{ENTERPRISE}:department", "value": department}]
    return Request("update", "PATCH", f"{SCIM}/Users/{user_id}", {"schemas": PATCH_OP, "Operations": operations})


def disable_user(user_id: str, *, flag: bool) -> Request:
    operation = {"op": "replace", "path": "active", "value": False} if flag else \
        {"op": "Replace", "path": "active", "value": "False"}  # the default dialect's string boolean
    return Request("disable", "PATCH", f"{SCIM}/Users/{user_id}", {"schemas": PATCH_OP, "Operations": [operation]})


def incremental(changes: list[tuple]) -> Iterator[Request]:
    """An incremental cycle: users are matched by filter again, then PATCHed; member removals go
    straight to the group. Changes alternate between the two dialects."""
    for number, (what, *args) in enumerate(changes):
        flag = number % 2 == 1
        if what == "update":
            user_id, name, index = args
            yield user_lookup(name, "incremental_filter")
            yield update_user(user_id, index, flag=flag)
        elif what == "disable":
            user_id, name = args
            yield user_lookup(name, "incremental_filter")
            yield disable_user(user_id, flag=flag)
        else:
            group_id, user_id = args
            yield remove_members(group_id, [user_id], flag=flag)


def lookups(names: list[str]) -> Iterator[Request]:
    for name in names:
        yield user_lookup(name)


def expensive_filter(cost: int, document_cost: int) -> str:
    """Departments that nobody is in: a read of every user's stored document per comparison, as
    many as `cost` allows, among the dearest filters within it."""
    return " or ".join(f'{ENTERPRISE}:department eq "None {number}"' for number in range(cost // document_cost))


def expensive_search(text: str) -> Request:
    # A 503 is the request's deadline (SCIM_DATABASE_TIMEOUT_SECONDS), a 429 the rate of filters
    # dearer than Entra's (RATE_LIMIT_EXPENSIVE_FILTER_*).
    return Request("expensive_filter", "GET", f"{SCIM}/Users?filter={quote_plus(text)}", expect=(200, 503, 429))


def paced(requests: list[Request], per_second: float, seconds: float) -> Iterator[Request]:
    """`requests` over and over at `per_second` for `seconds`; when answers are slower than that,
    the next request is sent as soon as the last is answered."""
    started = time.monotonic()
    for number in itertools.count():
        due = started + number / per_second
        if due - started >= seconds:
            return
        time.sleep(max(due - time.monotonic(), 0))
        yield requests[number % len(requests)]


def floor_inserts(prefix: str, count: int, lookup_first: bool = False) -> Iterator[Request]:
    """`count` one-row commits; with `lookup_first`, each after a lookup of its key, as the sync
    looks up each user before creating it."""
    for number in range(count):
        key = f"{prefix}-{number}"
        if lookup_first:
            yield Request("floor_lookup", "GET", f"/lookup?key={quote_plus(key)}")
        yield Request("floor_insert", "POST", "/insert", {"key": key, "userName": key}, expect=201,
                      content_type="application/json")


def floor_lookups(keys: list[str]) -> Iterator[Request]:
    for key in keys:
        yield Request("floor_lookup", "GET", f"/lookup?key={quote_plus(key)}")


def page_views(paths: list[tuple[str, str]], rounds: int) -> Iterator[Request]:
    """GETs of (kind, path) pairs, `rounds` times over."""
    for _ in range(rounds):
        for kind, path in paths:
            yield Request(kind, "GET", path)
