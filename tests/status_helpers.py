"""Helpers for the sync status tests: Entra's requests as it sends them, and moving the
provisioning log back in time to make gaps between cycles. (The clock is conftest's.)"""
from __future__ import annotations

import html
import re
from datetime import datetime, timedelta
from typing import NamedTuple
from urllib.parse import quote

import pytest
from sqlalchemy import select

from jericho.extensions import db
from jericho.security import IdCipher
from jericho.status.cycles import Tally
from jericho.storage import accounts
from jericho.storage.models import ProvisioningEvent, User
from jericho.storage.rollups import TALLIED, rollups_count_log, tallied_in


def shown_id(app, event_id: int) -> str:
    """A request's id as the status pages show it."""
    return IdCipher(app.config["SECRET_KEY"]).hide(event_id)


PATCH_OP = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
TEST_CONNECTION = "/Users?filter=userName+eq+%227d420df3-9995-4831-a406-ecf8166f5f6a%22"


def lookup(scim, user_name: str):
    return scim.get("/Users?filter=" + quote(f'userName eq "{user_name}"'))


def provision_user(scim, user_name: str, **attributes) -> dict:
    """Entra's match-then-create (ENTRA.md §3.2): a lookup, then the POST."""
    lookup(scim, user_name)
    body = {
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User", ENTERPRISE],
        "userName": user_name,
        "active": True,
        "emails": [{"primary": True, "type": "work", "value": user_name}],
        **attributes,
    }
    response = scim.post("/Users", json=body)
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def provision_group(scim, name: str, member_ids=()) -> dict:
    scim.get("/Groups?excludedAttributes=members&filter=" + quote(f'displayName eq "{name}"'))
    group = scim.post("/Groups", json={"displayName": name}).get_json()
    if member_ids:
        add_members(scim, group["id"], member_ids)
    return group


def add_members(scim, group_id: str, member_ids) -> None:
    response = scim.patch(f"/Groups/{group_id}", json={"schemas": [PATCH_OP], "Operations": [
        {"op": "Add", "path": "members", "value": [{"value": member_id} for member_id in member_ids]}]})
    assert response.status_code == 204


def deactivate(scim, user_id: str) -> None:
    # Entra's default dialect: the string "False" (ENTRA.md §3.5).
    response = scim.patch(f"/Users/{user_id}", json={"schemas": [PATCH_OP], "Operations": [
        {"op": "Replace", "path": "active", "value": "False"}]})
    assert response.status_code == 200


def revoke_the_token(app, organization: str = "Contoso") -> None:
    with app.app_context():
        (token,) = accounts.tokens_of(accounts.organization_by_name(organization))
        accounts.token_revoke(prefix=token.prefix)


def age_log(app, delta: timedelta) -> None:
    """Move every request received so far `delta` into the past (users and groups too), as if
    it had happened then: the next requests start a later cycle."""
    with app.app_context():  # row by row: SQLite has no arithmetic on its datetime text
        for event in db.session.execute(select(ProvisioningEvent)).scalars():
            event.occurred_at -= delta
        for user in db.session.execute(select(User)).scalars():
            user.created_at -= delta
            user.updated_at -= delta
        # The rollups of a log written at the earlier times.
        db.session.flush()
        rollups_count_log(db.session.connection())
        db.session.commit()


@pytest.fixture
def admin(auth, scim, client):
    """The Contoso admin, signed in (after `scim` made the organization and its token)."""
    auth.create()
    assert auth.sign_in().status_code == 302
    return client


@pytest.fixture
def other_admin(app, auth, other_scim):
    """Fabrikam's admin, signed in with a client of their own."""
    client = app.test_client()
    auth.create(email="it@fabrikam.com", organization="Fabrikam")
    assert auth.sign_in(email="it@fabrikam.com", client=client).status_code == 302
    return client


INLINE_TAGS = r"a|abbr|code|em|span|strong|time|wbr"


def without_breaks(body: str) -> str:
    """HTML with its addresses as they were before the `breakable` filter marked where they may
    break."""
    return re.sub(r'<span class="address">([^<]*)</span>', r"\1", body.replace("<wbr>", ""))


def page_html(response) -> str:
    return without_breaks(response.get_data(as_text=True))


def page_text(response) -> str:
    """The page as text: tags stripped (inline ones without adding space), whitespace collapsed,
    entities decoded."""
    body = response.get_data(as_text=True)
    body = re.sub(r"<(script|style)\b.*?</\1>", " ", body, flags=re.S)
    body = re.sub(rf"</?(?:{INLINE_TAGS})\b[^>]*>", "", body)
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", body)).split())


class Activity(NamedTuple):
    """Requests of one kind, outcome and cause within one ten-minute bucket, as a rollup holds
    them (storage/rollups.py). The tests state the cycle and chart rules in these, and check the
    database's sums by bucket (status/activity.py) against their tally by the same rules."""

    bucket: datetime
    first: datetime
    last: datetime
    operation: str
    resource_type: str | None
    failed: bool
    count: int
    cause: str | None = None  # a key of CAUSES, for failed requests
    example_id: int = 0  # the largest id among them

    @property
    def tally(self) -> Tally:
        counts = tallied_in(self.operation, self.resource_type or "", self.failed)
        return Tally(*(self.count if name in counts else 0 for name in TALLIED))
