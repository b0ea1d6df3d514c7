"""Where Microsoft Entra ID's provisioning service departs from RFC 7643/7644 (ENTRA.md), one named
function per deviation. The PATCH-specific ones (member removal by value array, filtered paths that
create their element) are handled in `patch.py`, where the comments say so."""
from __future__ import annotations

import re
from typing import Any

from .filter import Comparison, Expr
from .schema import USER_URN

_GUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", re.IGNORECASE)


def parse_boolean(value: Any) -> bool | None:
    # RFC 7643 §2.3.2 allows only JSON true/false. Entra's default PATCH dialect sends "True"/"False"
    # (ENTRA.md §3.5, §8 #1) and lower-case "false" has been seen (§5.3). None: not a boolean.
    if isinstance(value, bool):
        return value
    if isinstance(value, str):
        return {"true": True, "false": False}.get(value.lower())
    return None


def manager_reference(value: Any) -> Any:
    # RFC 7643 §4.3: manager is complex ({"value", "$ref", "displayName"}). Entra sends the manager's
    # id as a bare string (ENTRA.md §3.4, §8 #4); the tutorial's Example 5 wraps the object in a
    # one-element array. Both become the RFC shape, which is also what Entra needs back.
    if isinstance(value, str):
        return {"value": value}
    if isinstance(value, list) and len(value) == 1:
        return value[0]
    return value


def is_test_connection_lookup(expr: Expr) -> bool:
    # ENTRA.md §3.1: Test Connection (and step 1 of provision-on-demand) looks up a user by a random
    # GUID, `userName eq "<GUID>"`, and expects 200 with an empty ListResponse.
    return (isinstance(expr, Comparison) and expr.op == "eq"
            and expr.path.name.lower() == "username" and expr.path.sub is None
            and (expr.path.schema is None or expr.path.schema.lower() == USER_URN.lower())
            and isinstance(expr.value, str) and _GUID.fullmatch(expr.value) is not None)
