"""Okta's provisioning replayed over HTTP: Test Connector Configuration, user import and create,
full-user PUT updates, deactivation and password sync by path-less PATCH, and Group Push (create,
rename, members added, removed by `members[value eq "…"]` and replaced, delete), then the checks of
Okta's published SCIM 2.0 spec test.

`OktaEngine` sends what Okta's SCIM 2.0 protocol reference shows (bodies in tests/scim/samples/okta_*,
every request with `User-Agent: Okta SCIM Client 1.0.0`) and checks the answers Okta relies on:
integer paging figures, a 201 body with the new id, PATCH answered 200 or 204, 409 on a duplicate.
"""
from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import quote

from jericho.extensions import db
from jericho.storage.models import ProvisioningEvent

BASE = "http://localhost/scim_v2"
USER_URN = "urn:ietf:params:scim:schemas:core:2.0:User"
LIST_RESPONSE = "urn:ietf:params:scim:api:messages:2.0:ListResponse"
ERROR = "urn:ietf:params:scim:api:messages:2.0:Error"
USER_AGENT = "Okta SCIM Client 1.0.0"
SAMPLES = Path(__file__).parent.parent / "scim" / "samples"


def okta_sample(name: str, **ids: str) -> dict:
    """A request body from Okta's reference, with the ids the server gave in place of `{name}`."""
    text = (SAMPLES / f"okta_{name}.json").read_text()
    for key, value in ids.items():
        text = text.replace("{" + key + "}", value)
    return json.loads(text)


def okta_query(**params) -> str:
    # Okta's reference encodes spaces as %20 and quotes as %22.
    return "&".join(f"{key}={quote(str(value), safe='')}" for key, value in params.items())


class OktaEngine:
    """Okta's provisioning, as seen from the SCIM endpoint."""

    def __init__(self, scim) -> None:
        self.scim = scim

    def send(self, method: str, path: str, body: dict | None = None):
        kwargs = {} if body is None else {"json": body}
        response = self.scim.request(method, path, headers={"User-Agent": USER_AGENT}, **kwargs)
        if response.status_code != 204 and response.data:
            assert response.mimetype == "application/scim+json", response.data
        if response.status_code >= 400:
            error = response.get_json()
            assert error["schemas"] == [ERROR] and error["detail"]
        return response

    def listing(self, path: str) -> dict:
        response = self.send("GET", path)
        assert response.status_code == 200
        found = response.get_json()
        assert found["schemas"] == [LIST_RESPONSE]
        # "The itemsPerPage, startIndex, and totalResults values need to be exchanged as integers."
        for key in ("totalResults", "startIndex", "itemsPerPage"):
            assert type(found[key]) is int, key
        assert found["itemsPerPage"] == len(found["Resources"])
        return found

    def test_connector(self) -> dict:
        return self.listing("/Users?" + okta_query(startIndex=1, count=2))

    def find_user(self, user_name: str) -> list[dict]:
        return self.listing("/Users?" + okta_query(filter=f'userName eq "{user_name}"', startIndex=1,
                                                  count=100))["Resources"]

    def assign(self, body: dict) -> dict:
        """A user assigned to the app: Okta looks the userName up, then creates the user."""
        assert self.find_user(body["userName"]) == []
        response = self.send("POST", "/Users", body)
        assert response.status_code == 201, response.get_json()
        return response.get_json()

    def patch(self, collection: str, scim_id: str, body: dict):
        response = self.send("PATCH", f"/{collection}/{scim_id}", body)
        assert response.status_code in (200, 204), response.get_json()
        return response


def test_okta_provisioning(app, scim):
    okta = OktaEngine(scim)

    # Test Connector Configuration, before anyone is assigned.
    assert okta.test_connector() == {"schemas": [LIST_RESPONSE], "totalResults": 0, "startIndex": 1,
                                     "itemsPerPage": 0, "Resources": []}

    # -- users ------------------------------------------------------------------------------------
    create = okta_sample("create_user")
    user = okta.assign(create)
    user_id = user["id"]
    assert "password" not in user and "groups" not in user  # a password is never kept or returned
    assert {key: user[key] for key in ("userName", "name", "emails", "displayName", "locale", "externalId",
                                       "active")} == {key: create[key] for key in (
        "userName", "name", "emails", "displayName", "locale", "externalId", "active")}
    # Assigned again (an app re-assigned elsewhere): the 409 that stops Okta's job.
    assert okta.send("POST", "/Users", create).status_code == 409
    # Okta matches a userName whatever its case.
    assert [found["id"] for found in okta.find_user("TEST.USER@OKTA.LOCAL")] == [user_id]

    second = okta.assign({**create, "userName": "second.user@okta.local", "externalId": "00ujl29u0le5T6Aj10h8",
                          "emails": [{"primary": True, "value": "second.user@okta.local", "type": "work"}]})

    # Import: every user, page by page.
    imported = okta.listing("/Users?" + okta_query(startIndex=1, count=100))
    assert imported["totalResults"] == 2 and [u["id"] for u in imported["Resources"]] == [user_id, second["id"]]
    assert okta.test_connector()["itemsPerPage"] == 2

    # Update User Attributes: read the user, then PUT it whole with what changed.
    assert okta.send("GET", f"/Users/{user_id}").status_code == 200
    response = okta.send("PUT", f"/Users/{user_id}", okta_sample("replace_user", id=user_id))
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["name"] == {"givenName": "Another", "middleName": "Excited", "familyName": "User"}

    # Password sync: accepted, and nothing is kept.
    before = okta.send("GET", f"/Users/{user_id}").get_json()
    after = okta.patch("Users", user_id, okta_sample("sync_password")).get_json()
    assert "password" not in after and after["meta"]["version"] == before["meta"]["version"]

    # Deactivate Users: Okta never deletes a user; the deactivated user stays visible.
    deactivated = okta.patch("Users", user_id, okta_sample("deactivate_user")).get_json()
    assert deactivated["active"] is False
    assert okta.find_user("test.user@okta.local")[0]["active"] is False
    # Re-assigned: the same path-less replace turns the user back on.
    reactivated = okta.patch("Users", second["id"], {"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
                                                    "Operations": [{"op": "replace", "value": {"active": False}}]})
    assert reactivated.get_json()["active"] is False
    reactivated = okta.patch("Users", second["id"], {"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
                                                    "Operations": [{"op": "replace", "value": {"active": True}}]})
    assert reactivated.get_json()["active"] is True

    # -- Group Push -------------------------------------------------------------------------------
    response = okta.send("POST", "/Groups", okta_sample("push_group"))
    assert response.status_code == 201
    group_id = response.get_json()["id"]
    assert response.get_json()["displayName"] == "Test SCIMv2"
    assert [g["id"] for g in okta.listing("/Groups?" + okta_query(startIndex=1, count=100))["Resources"]] == [group_id]

    # Membership pushed: the rename that comes with every membership update, then the members.
    okta.patch("Groups", group_id, okta_sample("rename_group", id=group_id))
    okta.patch("Groups", group_id, okta_sample("replace_group_members", first=user_id, second=second["id"]))
    okta.patch("Groups", group_id, okta_sample("rename_group", id=group_id))  # the same name again
    okta.patch("Groups", group_id, okta_sample("group_members", removed=second["id"], added=user_id))
    group = okta.send("GET", f"/Groups/{group_id}").get_json()
    assert group["displayName"] == "Test SCIMv20"
    assert [m["value"] for m in group["members"]] == [user_id]

    # A rename that names another group's id is refused, and nothing of it is applied.
    other = okta_sample("rename_group", id="00000000-0000-0000-0000-000000000000")
    other["Operations"][0]["value"]["displayName"] = "Hijacked"
    response = okta.send("PATCH", f"/Groups/{group_id}", other)
    assert response.status_code == 400 and response.get_json()["scimType"] == "mutability"
    assert okta.send("GET", f"/Groups/{group_id}").get_json()["displayName"] == "Test SCIMv20"

    # Unlink pushed group, "Delete the group in the target app".
    assert okta.send("DELETE", f"/Groups/{group_id}").status_code == 204
    assert okta.send("GET", f"/Groups/{group_id}").status_code == 404

    with app.app_context():
        events = db.session.execute(db.select(ProvisioningEvent).order_by(ProvisioningEvent.id)).scalars().all()
        log = [(e.operation, e.status, e.action) for e in events]
    assert log[0] == ("test_connection", 200, "Test Connector Configuration: list of 2 users")
    assert ("test_connection", 200, "Test Connector Configuration: list of 2 users") in log[1:]
    assert ("list", 200, "list users") in log
    assert ("create", 409, "create user test.user@okta.local") in log
    assert [entry for entry in log if entry[0] in ("disable", "enable")] == [
        ("disable", 200, "disable user test.user@okta.local"),
        ("disable", 200, "disable user second.user@okta.local"),
        ("enable", 200, "enable user second.user@okta.local"),
    ]
    assert ("update", 200, "update user test.user@okta.local (no change)") in log  # the password
    assert [entry for entry in log if entry[0] in ("members", "delete") or "group" in entry[2]
            and entry[0] == "update"] == [
        ("update", 204, "update group Test SCIMv20"),
        ("members", 204, "set the members of Test SCIMv20 to 2 members"),
        ("update", 204, "update group Test SCIMv20 (no change)"),
        ("members", 204, "remove 1 member from Test SCIMv20"),  # the user added was a member already
        ("update", 400, f"update group {group_id}"),
        ("delete", 204, "delete group Test SCIMv20"),
    ]


def test_okta_scim_2_spec_test(app, scim):
    """The requests of Okta's "SCIM 2.0 Spec Test" (Okta-SCIM-20-SPEC-Test.json), with its checks."""
    okta = OktaEngine(scim)
    created = okta.send("POST", "/Users", okta_sample("create_user"))
    assert created.status_code == 201
    entity = created.get_json()
    assert entity["active"] is True and entity["id"] and USER_URN in entity["schemas"]

    first = okta.listing("/Users?" + okta_query(count=1, startIndex=1))
    user = first["Resources"][0]
    assert user["id"] and user["name"]["familyName"] and user["name"]["givenName"]
    assert user["userName"] and user["active"] and user["emails"][0]["value"]

    assert okta.send("GET", f"/Users/{user['id']}").get_json()["id"] == user["id"]
    assert okta.listing("/Users?" + okta_query(filter='userName eq "nobody.at.all@atko.com"'))["totalResults"] == 0
    assert okta.listing("/Users?" + okta_query(filter='userName eq "TEST.USER@OKTA.LOCAL"'))["totalResults"] == 1
    missing = okta.send("GET", "/Users/010101010101010101010101")
    assert missing.status_code == 404 and missing.get_json()["detail"]
    assert okta.send("POST", "/Users", okta_sample("create_user")).status_code == 409
    assert okta.send("GET", "/Groups").status_code == 200
