"""A full Entra ID provisioning cycle replayed over HTTP, in both of Entra's PATCH dialects.

`EntraEngine` sends what ENTRA.md says the provisioning service sends — form-encoded query strings
(§2), application/scim+json; charset=utf-8 bodies, no Accept or User-Agent header — and acts on the
answers as Entra does (§3.9): it matches before it creates, caches the ids of 201 bodies, asks the
reference-check queries before writing manager and members, and re-matches by filter after a 409.
The final state is then read back and compared exactly, and so is the provisioning log.
"""
from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import quote_plus, urlencode

import pytest

from jericho.extensions import db
from jericho.storage.models import Organization, ProvisioningEvent

BASE = "http://localhost/scim_v2"
USER_URN = "urn:ietf:params:scim:schemas:core:2.0:User"
GROUP_URN = "urn:ietf:params:scim:schemas:core:2.0:Group"
ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
ADSCIM = "http://schemas.microsoft.com/2006/11/ResourceManagement/ADSCIM/2.0/Group"
PATCH_OP = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
LIST_RESPONSE = "urn:ietf:params:scim:api:messages:2.0:ListResponse"
ERROR = "urn:ietf:params:scim:api:messages:2.0:Error"
EMPTY_LIST = {"schemas": [LIST_RESPONSE], "totalResults": 0, "Resources": [], "startIndex": 1, "itemsPerPage": 0}

DEFAULT, FLAG = "default", "aadOptscim062020"
SAMPLES = Path(__file__).parent.parent / "scim" / "samples"


def entra_query(**params: str) -> str:
    # ENTRA.md §2: form-style encoding, spaces as "+", quotes as %22, "@" as %40.
    return urlencode(params, quote_via=quote_plus)


def user_body(given: str, family: str, *, mail: bool = True, employee: str, department: str, title: str,
              external_id: str | None = None) -> dict:
    """A POST /Users body as Entra builds it from the default mapping (ENTRA.md §3.2): attributes
    whose source is empty are left out."""
    upn = f"{given}.{family}@contoso.com"
    body = {
        "schemas": [USER_URN, ENTERPRISE],
        "externalId": external_id or f"{given}.{family}".lower(),
        "userName": upn,
        "active": True,
        "displayName": f"{given} {family}",
    }
    if mail:
        body["emails"] = [{"primary": True, "type": "work", "value": upn.lower()}]
    body |= {
        "meta": {"resourceType": "User"},
        "name": {"formatted": f"{given} {family}", "familyName": family, "givenName": given},
        "title": title,
        "preferredLanguage": "en-US",
        "addresses": [{"type": "work", "locality": "Seattle", "country": "US", "primary": True}],
        "phoneNumbers": [{"type": "work", "value": "+1 425 555 1000"}, {"type": "mobile", "value": "+1 206 555 2000"}],
        ENTERPRISE: {"employeeNumber": employee, "department": department},
        "roles": [],
    }
    return body


AVA = user_body("Ava", "Lindqvist", employee="E1000", department="Finance", title="Analyst",
                external_id="ava.lindqvist")
BEN = user_body("Ben", "Okafor", employee="E1001", department="Finance", title="Controller")
CHLOE = user_body("Chloe", "Martin", mail=False, employee="E1002", department="Finance", title="Clerk")
DAN = user_body("Dan", "Reyes", employee="E1003", department="Finance", title="Buyer")
EVE = user_body("Eve", "Novak", employee="E1004", department="Engineering", title="Engineer")


def group_body(display_name: str, object_id: str) -> dict:
    # ENTRA.md §3.7, including Microsoft's extra ADSCIM schema URI.
    return {"schemas": [GROUP_URN, ADSCIM], "externalId": object_id, "displayName": display_name,
            "meta": {"resourceType": "Group"}}


FINANCE = group_body("Finance", "8aa1a0c0-c4c3-4bc0-b4a5-2ef676900159")
ENGINEERING = group_body("Engineering", "0b7d5f2e-3c1a-4e9b-9d43-5a6f7e8c9d10")


class EntraEngine:
    """The Entra provisioning service, as seen from the SCIM endpoint."""

    def __init__(self, scim, dialect: str) -> None:
        self.scim = scim
        self.dialect = dialect
        self.requests = 0

    # -- transport ------------------------------------------------------------------------------

    def send(self, method: str, path: str, body: dict | None = None):
        self.requests += 1
        kwargs = {} if body is None else {"json": body}  # ScimClient: application/scim+json; charset=utf-8
        response = self.scim.request(method, path, **kwargs)
        assert "html" not in (response.content_type or "")
        if response.status_code != 204 and response.data:
            assert response.mimetype == "application/scim+json", response.data
        if response.status_code >= 400:
            error = response.get_json()
            assert error["schemas"] == [ERROR] and error["status"] == str(response.status_code)
        return response

    def op(self, name: str) -> str:
        # ENTRA.md §5.2: "Add"/"Replace"/"Remove" by default, lower case with the flag.
        return name.capitalize() if self.dialect == DEFAULT else name

    def patch(self, collection: str, scim_id: str, operations: list[dict]):
        return self.send("PATCH", f"/{collection}/{scim_id}", {"schemas": [PATCH_OP], "Operations": operations})

    def boolean(self, value: bool):
        # ENTRA.md §3.5: the default dialect sends the strings "True" / "False".
        return str(value) if self.dialect == DEFAULT else value

    # -- Test Connection (§3.1) -----------------------------------------------------------------

    def test_connection(self) -> None:
        users = self.send("GET", "/Users?" + entra_query(filter='userName eq "7d420df3-9995-4831-a406-ecf8166f5f6a"'))
        assert users.status_code == 200 and users.get_json() == EMPTY_LIST
        groups = self.send("GET", "/Groups?" + entra_query(
            excludedAttributes="members", filter='displayName eq "c0f4b3e2-1a55-4f0e-9a3b-6d2e8f1c7b90"'))
        assert groups.status_code == 200 and groups.get_json() == EMPTY_LIST

    # -- users (§3.2 - §3.6) --------------------------------------------------------------------

    def match_user(self, user_name: str) -> dict | None:
        response = self.send("GET", "/Users?" + entra_query(filter=f'userName eq "{user_name}"'))
        assert response.status_code == 200
        found = response.get_json()
        assert found["schemas"] == [LIST_RESPONSE] and found["startIndex"] == 1
        assert found["totalResults"] == found["itemsPerPage"] == len(found["Resources"]) <= 1
        return found["Resources"][0] if found["Resources"] else None

    def provision_user(self, body: dict) -> dict:
        """Match on userName, create when nothing matched (§3.2). Returns the resource."""
        assert self.match_user(body["userName"].lower()) is None
        response = self.send("POST", "/Users", body)
        assert response.status_code == 201, response.get_json()
        created = response.get_json()
        assert response.headers["Location"] == created["meta"]["location"] == f"{BASE}/Users/{created['id']}"
        return created

    def create_existing_user(self, body: dict) -> dict:
        """A restart that lost the link: the create meets 409 uniqueness, Entra re-matches (§3.9)."""
        response = self.send("POST", "/Users", body)
        assert response.status_code == 409
        assert response.get_json()["scimType"] == "uniqueness"
        matched = self.match_user(body["userName"])
        assert matched is not None
        return matched

    def has_manager(self, user_id: str, manager_id: str) -> bool:
        # §3.3 "Example 4": the reference check before writing manager.
        response = self.send("GET", "/Users?" + entra_query(
            filter=f'id eq "{user_id}" and manager eq "{manager_id}"', attributes="id"))
        assert response.status_code == 200
        found = response.get_json()
        for resource in found["Resources"]:
            assert set(resource) == {"schemas", "id"} and resource["id"] == user_id
        return found["totalResults"] == 1

    # -- groups (§3.7, §3.8) --------------------------------------------------------------------

    def match_group(self, display_name: str) -> dict | None:
        response = self.send("GET", "/Groups?" + entra_query(
            excludedAttributes="members", filter=f'displayName eq "{display_name}"'))
        assert response.status_code == 200
        found = response.get_json()
        assert found["totalResults"] == len(found["Resources"]) <= 1
        for resource in found["Resources"]:
            assert "members" not in resource  # §8 #9: MultipleEntriesInResponse otherwise
        return found["Resources"][0] if found["Resources"] else None

    def provision_group(self, body: dict) -> dict:
        assert self.match_group(body["displayName"]) is None
        response = self.send("POST", "/Groups", body)
        assert response.status_code == 201, response.get_json()
        created = response.get_json()
        assert response.headers["Location"] == f"{BASE}/Groups/{created['id']}"
        return created

    def is_member(self, group_id: str, user_id: str) -> bool:
        response = self.send("GET", "/Groups?" + entra_query(
            filter=f'id eq "{group_id}" and members eq "{user_id}"', attributes="id"))
        assert response.status_code == 200
        found = response.get_json()
        for resource in found["Resources"]:
            assert set(resource) == {"schemas", "id"} and resource["id"] == group_id
        return found["totalResults"] == 1

    def add_members(self, group_id: str, user_ids: list[str]) -> None:
        response = self.patch("Groups", group_id, [
            {"op": self.op("add"), "path": "members", "value": [{"$ref": None, "value": u} for u in user_ids]}])
        assert response.status_code == 204 and response.data == b""

    def remove_members(self, group_id: str, user_ids: list[str]) -> None:
        if self.dialect == DEFAULT:
            operations = [{"op": "Remove", "path": "members", "value": [{"value": u} for u in user_ids]}]
        else:
            operations = [{"op": "remove", "path": f'members[value eq "{u}"]'} for u in user_ids]
        response = self.patch("Groups", group_id, operations)
        assert response.status_code == 204 and response.data == b""

    def rename_group(self, group_id: str, display_name: str) -> None:
        if self.dialect == DEFAULT:
            operation = {"op": "Replace", "path": "displayName", "value": display_name}
        else:  # the SCIM Validator's path-less form (§3.7)
            operation = {"op": "replace", "value": {"displayName": display_name}}
        response = self.patch("Groups", group_id, [operation])
        assert response.status_code == 204


def without_meta(resource: dict) -> dict:
    return {key: value for key, value in resource.items() if key != "meta"}


def member(user_id: str, display: str) -> dict:
    return {"value": user_id, "$ref": f"{BASE}/Users/{user_id}", "type": "User", "display": display}


def group_ref(group_id: str, display: str) -> dict:
    return {"value": group_id, "$ref": f"{BASE}/Groups/{group_id}", "display": display, "type": "direct"}


def expected_user(body: dict, user_id: str, **changes) -> dict:
    """What the service must return for `body` (ENTRA.md §1.2: values stored exactly as sent):
    `meta` and the empty `roles` are not stored."""
    resource = {key: value for key, value in body.items() if key not in ("meta", "roles")}
    resource["id"] = user_id
    resource[ENTERPRISE] = dict(resource[ENTERPRISE])
    for key, value in changes.items():
        if key in ("employeeNumber", "department", "manager"):
            resource[ENTERPRISE][key] = value
        else:
            resource[key] = value
    return resource


@pytest.mark.parametrize("dialect", [DEFAULT, FLAG])
def test_entra_provisioning_cycle(app, scim, dialect):
    entra = EntraEngine(scim, dialect)
    # The bodies are those of ENTRA.md §3.2 and §3.7.
    assert AVA == json.loads((SAMPLES / "entra_create_user.json").read_text())
    assert FINANCE == json.loads((SAMPLES / "entra_create_group.json").read_text())

    # -- cycle 1 ---------------------------------------------------------------------------------
    entra.test_connection()

    ava = entra.provision_user(AVA)
    assert without_meta(ava) == expected_user(AVA, ava["id"])
    assert ava["active"] is True and ava["meta"]["resourceType"] == "User" and ava["meta"]["version"] == 'W/"1"'
    ben = entra.provision_user(BEN)
    chloe = entra.provision_user(CHLOE)
    assert "emails" not in chloe
    dan = entra.provision_user(DAN)
    eve = entra.provision_user(EVE)
    ids = {name: user["id"] for name, user in
           (("ava", ava), ("ben", ben), ("chloe", chloe), ("dan", dan), ("eve", eve))}
    assert len(set(ids.values())) == 5

    # §3.4: several attributes changed in Entra at once.
    work_email = 'emails[type eq "work"].value'
    if dialect == DEFAULT:
        operations = [
            {"op": "Replace", "path": "displayName", "value": "Ava Lindqvist-Berg"},
            {"op": "Replace", "path": work_email, "value": "ava.berg@contoso.com"},
            {"op": "Replace", "path": "name.givenName", "value": "Ava"},
            {"op": "Replace", "path": "name.familyName", "value": "Lindqvist-Berg"},
            {"op": "Replace", "path": "externalId", "value": "ava.berg"},
            {"op": "Replace", "path": f"{ENTERPRISE}:employeeNumber", "value": "E1000B"},
        ]
    else:
        operations = [
            {"op": "replace", "path": work_email, "value": "ava.berg@contoso.com"},
            {"op": "replace", "value": {"displayName": "Ava Lindqvist-Berg", "name.givenName": "Ava",
                                        "name.familyName": "Lindqvist-Berg", "externalId": "ava.berg",
                                        f"{ENTERPRISE}:employeeNumber": "E1000B"}},
        ]
    response = entra.patch("Users", ids["ava"], operations)
    assert response.status_code == 200
    patched = response.get_json()
    assert patched["displayName"] == "Ava Lindqvist-Berg" and patched["externalId"] == "ava.berg"
    assert patched["emails"] == [{"primary": True, "type": "work", "value": "ava.berg@contoso.com"}]
    assert patched["name"] == {"formatted": "Ava Lindqvist", "familyName": "Lindqvist-Berg", "givenName": "Ava"}
    assert patched[ENTERPRISE] == {"employeeNumber": "E1000B", "department": "Finance"}
    assert patched["meta"]["version"] == 'W/"2"' and response.headers["ETag"] == 'W/"2"'
    assert "name.givenName" not in patched  # §8 #11: keys are paths, not literal attribute names

    # Single-valued Add is a set (§3.4).
    response = entra.patch("Users", ids["ava"], [{"op": entra.op("add"), "path": "nickName", "value": "Babs"}])
    assert response.status_code == 200 and response.get_json()["nickName"] == "Babs"

    # UPN change: Replace userName (the flag dialect folds it into a path-less replace).
    new_upn = "Ben.Okafor-Smith@contoso.com"
    if dialect == DEFAULT:
        operation = {"op": "Replace", "path": "userName", "value": new_upn}
    else:
        operation = {"op": "replace", "value": {"userName": new_upn}}
    response = entra.patch("Users", ids["ben"], [operation])
    assert response.status_code == 200 and response.get_json()["userName"] == new_upn
    assert entra.match_user("ben.okafor@contoso.com") is None
    assert entra.match_user(new_upn)["id"] == ids["ben"]

    response = entra.patch("Users", ids["dan"], [
        {"op": entra.op("replace"), "path": f"{ENTERPRISE}:department", "value": "Sales"}])
    assert response.status_code == 200 and response.get_json()[ENTERPRISE]["department"] == "Sales"

    # §8 #10: Add on a filtered path creates the element the user did not have.
    response = entra.patch("Users", ids["chloe"], [
        {"op": entra.op("add"), "path": work_email, "value": "chloe.martin@contoso.com"}])
    assert response.status_code == 200
    assert response.get_json()["emails"] == [{"type": "work", "value": "chloe.martin@contoso.com"}]
    assert entra.send("GET", "/Users?" + entra_query(
        filter='emails[type eq "work"].value eq "chloe.martin@contoso.com"')).get_json()["totalResults"] == 1

    # Manager (§3.3, §3.4): reference check first, then write it — as a bare string (real traffic)
    # and as {"value": ...} (the SCIM Validator); always read back as the RFC object (§8 #4).
    manager_path = f"{ENTERPRISE}:manager"
    ben_as_manager = {"value": ids["ben"], "$ref": f"{BASE}/Users/{ids['ben']}", "displayName": "Ben Okafor"}
    assert not entra.has_manager(ids["ava"], ids["ben"])
    response = entra.patch("Users", ids["ava"], [{"op": entra.op("add"), "path": manager_path, "value": ids["ben"]}])
    assert response.status_code == 200 and response.get_json()[ENTERPRISE]["manager"] == ben_as_manager
    assert entra.has_manager(ids["ava"], ids["ben"])
    assert not entra.has_manager(ids["ava"], ids["chloe"])
    assert not entra.has_manager(ids["chloe"], ids["ben"])
    response = entra.patch("Users", ids["chloe"], [
        {"op": entra.op("add"), "path": manager_path, "value": {"value": ids["ben"]}}])
    assert response.status_code == 200 and response.get_json()[ENTERPRISE]["manager"] == ben_as_manager
    assert entra.has_manager(ids["chloe"], ids["ben"])

    # Disable (§3.5): still returned by id and by the userName filter, with a JSON boolean.
    response = entra.patch("Users", ids["dan"], [
        {"op": entra.op("replace"), "path": "active", "value": entra.boolean(False)}])
    assert response.status_code == 200 and response.get_json()["active"] is False
    assert entra.send("GET", f"/Users/{ids['dan']}").get_json()["active"] is False
    assert entra.match_user("dan.reyes@contoso.com")["active"] is False

    # Entra re-asserts active on an active user; nothing changes, not even the version.
    response = entra.patch("Users", ids["ava"], [
        {"op": entra.op("replace"), "path": "active", "value": entra.boolean(True)}])
    assert response.status_code == 200 and response.get_json()["active"] is True
    assert response.get_json()["meta"]["version"] == 'W/"4"'

    # Groups: match, create, then memberships in batches (§3.7, §3.8).
    finance = entra.provision_group(FINANCE)
    assert without_meta(finance) | {"members": finance.get("members", [])} == {
        "schemas": [GROUP_URN], "id": finance["id"], "externalId": FINANCE["externalId"],
        "displayName": "Finance", "members": []}
    engineering = entra.provision_group(ENGINEERING)
    gids = {"finance": finance["id"], "engineering": engineering["id"]}

    assert not entra.is_member(gids["finance"], ids["ben"])
    entra.add_members(gids["finance"], [ids["ava"], ids["ben"]])
    entra.add_members(gids["finance"], [ids["chloe"], ids["dan"], ids["eve"]])
    entra.add_members(gids["engineering"], [ids["ava"], ids["eve"]])
    assert entra.is_member(gids["finance"], ids["ben"])
    assert entra.is_member(gids["finance"], ids["dan"])  # a disabled user keeps its memberships (§3.5)
    assert not entra.is_member(gids["engineering"], ids["ben"])

    # Removing members removes only those (§3.8, §8 #5).
    entra.remove_members(gids["finance"], [ids["ben"], ids["chloe"]])
    assert not entra.is_member(gids["finance"], ids["ben"])
    assert entra.is_member(gids["finance"], ids["ava"])
    finance_members = entra.send("GET", f"/Groups/{gids['finance']}").get_json()["members"]
    assert [m["value"] for m in finance_members] == [ids["ava"], ids["dan"], ids["eve"]]

    entra.rename_group(gids["finance"], "Finance EMEA")
    assert entra.match_group("Finance") is None
    assert entra.match_group("Finance EMEA")["id"] == gids["finance"]

    # Hard delete (§3.6): 204, then 404 everywhere, and the memberships are gone.
    assert entra.send("DELETE", f"/Users/{ids['eve']}").status_code == 204
    assert entra.send("GET", f"/Users/{ids['eve']}").status_code == 404
    assert entra.patch("Users", ids["eve"], [
        {"op": entra.op("replace"), "path": "active", "value": entra.boolean(False)}]).status_code == 404
    assert entra.send("DELETE", f"/Users/{ids['eve']}").status_code == 404
    assert entra.match_user("eve.novak@contoso.com") is None
    assert not entra.is_member(gids["finance"], ids["eve"])
    assert not entra.is_member(gids["engineering"], ids["eve"])

    assert entra.send("DELETE", f"/Groups/{gids['engineering']}").status_code == 204
    assert entra.send("GET", f"/Groups/{gids['engineering']}?excludedAttributes=members").status_code == 404
    assert entra.match_group("Engineering") is None
    assert [g["value"] for g in entra.send("GET", f"/Users/{ids['ava']}").get_json()["groups"]] == [gids["finance"]]

    # -- cycle 2: a restart that lost its links re-creates, meets 409, and re-matches ------------
    entra.test_connection()
    renamed_ben = BEN | {"userName": new_upn}
    for name, body in (("ava", AVA), ("ben", renamed_ben), ("chloe", CHLOE), ("dan", DAN)):
        assert entra.create_existing_user(body)["id"] == ids[name]
    # Case-insensitive uniqueness (§8 #8), and a disabled user still counts (§8 #12).
    conflict = entra.send("POST", "/Users", AVA | {"userName": "AVA.LINDQVIST@CONTOSO.COM"})
    assert conflict.status_code == 409 and conflict.get_json()["scimType"] == "uniqueness"
    assert entra.match_user("DAN.REYES@contoso.com")["active"] is False
    response = entra.patch("Users", ids["dan"], [
        {"op": entra.op("replace"), "path": "active", "value": entra.boolean(True)}])
    assert response.status_code == 200 and response.get_json()["active"] is True

    # A deleted user's userName is free again: the re-hire gets a new id.
    eve_again = entra.provision_user(EVE)
    assert eve_again["id"] != ids["eve"]
    ids["eve"] = eve_again["id"]

    conflict = entra.send("POST", "/Groups", group_body("FINANCE emea", FINANCE["externalId"]))
    assert conflict.status_code == 409 and conflict.get_json()["scimType"] == "uniqueness"
    assert entra.match_group("Finance EMEA")["id"] == gids["finance"]
    engineering_again = entra.provision_group(ENGINEERING)
    assert engineering_again["id"] != gids["engineering"]
    gids["engineering"] = engineering_again["id"]
    entra.add_members(gids["engineering"], [ids["eve"], ids["ava"]])

    # -- the final state, read back in full -------------------------------------------------------
    users = entra.send("GET", "/Users").get_json()
    assert users["totalResults"] == 5 and users["itemsPerPage"] == 5
    assert [(u["id"], u["userName"], u["active"]) for u in users["Resources"]] == [
        (ids["ava"], "Ava.Lindqvist@contoso.com", True),
        (ids["ben"], new_upn, True),
        (ids["chloe"], "Chloe.Martin@contoso.com", True),
        (ids["dan"], "Dan.Reyes@contoso.com", True),
        (ids["eve"], "Eve.Novak@contoso.com", True),
    ]
    expected = {
        "ava": (expected_user(
            AVA, ids["ava"], displayName="Ava Lindqvist-Berg", externalId="ava.berg", nickName="Babs",
            emails=[{"primary": True, "type": "work", "value": "ava.berg@contoso.com"}],
            name={"formatted": "Ava Lindqvist", "familyName": "Lindqvist-Berg", "givenName": "Ava"},
            employeeNumber="E1000B", manager=ben_as_manager,
            groups=[group_ref(gids["engineering"], "Engineering"), group_ref(gids["finance"], "Finance EMEA")],
        ), 4),
        "ben": (expected_user(BEN, ids["ben"], userName=new_upn), 2),
        "chloe": (expected_user(
            CHLOE, ids["chloe"], emails=[{"type": "work", "value": "chloe.martin@contoso.com"}],
            manager=ben_as_manager), 3),
        "dan": (expected_user(DAN, ids["dan"], department="Sales",
                              groups=[group_ref(gids["finance"], "Finance EMEA")]), 4),
        "eve": (expected_user(EVE, ids["eve"], groups=[group_ref(gids["engineering"], "Engineering")]), 1),
    }
    listed = {resource["id"]: resource for resource in users["Resources"]}
    for name, (document, version) in expected.items():
        response = entra.send("GET", f"/Users/{ids[name]}")
        resource = response.get_json()
        assert without_meta(resource) == document, name
        assert without_meta(listed[ids[name]]) == document, name
        assert resource["meta"]["version"] == response.headers["ETag"] == f'W/"{version}"', name
        assert resource["meta"]["location"] == f"{BASE}/Users/{ids[name]}"

    groups = entra.send("GET", "/Groups").get_json()
    assert groups["totalResults"] == 2
    assert [(g["id"], g["displayName"]) for g in groups["Resources"]] == [
        (gids["finance"], "Finance EMEA"), (gids["engineering"], "Engineering")]
    expected_groups = {
        "finance": ({
            "schemas": [GROUP_URN], "id": gids["finance"], "externalId": FINANCE["externalId"],
            "displayName": "Finance EMEA",
            "members": [member(ids["ava"], "Ava Lindqvist-Berg"), member(ids["dan"], "Dan Reyes")],
        }, 5),  # create, two member batches, the removal, the rename
        "engineering": ({
            "schemas": [GROUP_URN], "id": gids["engineering"], "externalId": ENGINEERING["externalId"],
            "displayName": "Engineering",
            "members": [member(ids["ava"], "Ava Lindqvist-Berg"), member(ids["eve"], "Eve Novak")],
        }, 2),
    }
    listed = {resource["id"]: resource for resource in groups["Resources"]}
    for name, (document, version) in expected_groups.items():
        resource = entra.send("GET", f"/Groups/{gids[name]}").get_json()
        assert without_meta(resource) == document, name
        assert without_meta(listed[gids[name]]) == document, name
        assert resource["meta"]["version"] == f'W/"{version}"', name
        excluded = entra.send("GET", f"/Groups/{gids[name]}?excludedAttributes=members").get_json()
        assert without_meta(excluded) == {k: v for k, v in document.items() if k != "members"}

    assert_provisioning_log(app, scim.token, entra.requests, ids, gids, new_upn)


def assert_provisioning_log(app, token: str, requests: int, ids: dict, gids: dict, new_upn: str) -> None:
    with app.app_context():
        organization_id = db.session.execute(
            db.select(Organization.id).where(Organization.name == "Contoso")).scalar_one()
        events = db.session.execute(db.select(ProvisioningEvent).order_by(ProvisioningEvent.id)).scalars().all()

        # One event per request, all for this organization and this token.
        assert len(events) == requests
        assert {(e.organization_id, e.token_id is not None) for e in events} == {(organization_id, True)}
        assert all(e.operation in ProvisioningEvent.OPERATIONS for e in events)
        assert {e.operation for e in events} == {
            "test_connection", "lookup", "list", "read", "create", "update", "disable", "enable", "members",
            "delete"}

        # Never the token, in any column.
        secret_part = token.split("_", 2)[2]  # jer_<prefix>_<secret>; the secret may hold "_"
        for event in events:
            for column in ProvisioningEvent.__table__.columns:
                value = str(getattr(event, column.key))
                assert token not in value and secret_part not in value, (column.key, value)

        def rows(operation: str) -> list[tuple]:
            return [(e.method, e.status, e.action, e.resource_type, e.resource_id, e.scim_type)
                    for e in events if e.operation == operation]

        test_connections = [e for e in events if e.operation == "test_connection"]
        assert len(test_connections) == 2
        assert {(e.method, e.status, e.action, e.resource_type) for e in test_connections} == {
            ("GET", 200, "Test Connection: lookup of a random GUID", "User")}
        assert test_connections[0].path == (
            "/scim_v2/Users?filter=userName+eq+%227d420df3-9995-4831-a406-ecf8166f5f6a%22")

        created = [row for row in rows("create") if row[1] == 201]
        assert created == [
            ("POST", 201, "create user Ava.Lindqvist@contoso.com", "User", ids["ava"], None),
            ("POST", 201, "create user Ben.Okafor@contoso.com", "User", ids["ben"], None),
            ("POST", 201, "create user Chloe.Martin@contoso.com", "User", created[2][4], None),
            ("POST", 201, "create user Dan.Reyes@contoso.com", "User", ids["dan"], None),
            ("POST", 201, "create user Eve.Novak@contoso.com", "User", created[4][4], None),
            ("POST", 201, "create group Finance", "Group", gids["finance"], None),
            ("POST", 201, "create group Engineering", "Group", created[6][4], None),
            ("POST", 201, "create user Eve.Novak@contoso.com", "User", ids["eve"], None),
            ("POST", 201, "create group Engineering", "Group", gids["engineering"], None),
        ]
        conflicts = [e for e in events if e.operation == "create" and e.status == 409]
        assert len(conflicts) == 6
        assert {(e.scim_type, e.resource_type) for e in conflicts} == {
            ("uniqueness", "User"), ("uniqueness", "Group")}
        assert "Dan.Reyes@contoso.com" in " ".join(e.error_detail for e in conflicts)

        assert rows("disable") == [
            ("PATCH", 200, "disable user Dan.Reyes@contoso.com", "User", ids["dan"], None)]
        assert rows("enable") == [
            ("PATCH", 200, "enable user Dan.Reyes@contoso.com", "User", ids["dan"], None)]
        assert rows("members") == [
            ("PATCH", 204, "add 2 members to Finance", "Group", gids["finance"], None),
            ("PATCH", 204, "add 3 members to Finance", "Group", gids["finance"], None),
            ("PATCH", 204, "add 2 members to Engineering", "Group", rows("members")[2][4], None),
            ("PATCH", 204, "remove 2 members from Finance", "Group", gids["finance"], None),
            ("PATCH", 204, "add 2 members to Engineering", "Group", gids["engineering"], None),
        ]
        assert [(status, action) for _, status, action, *_ in rows("update")] == [
            (200, "update user Ava.Lindqvist@contoso.com"),
            (200, "update user Ava.Lindqvist@contoso.com"),
            (200, f"update user {new_upn}"),
            (200, "update user Dan.Reyes@contoso.com"),
            (200, "update user Chloe.Martin@contoso.com"),
            (200, "update user Ava.Lindqvist@contoso.com"),
            (200, "update user Chloe.Martin@contoso.com"),
            (200, "update user Ava.Lindqvist@contoso.com (no change)"),
            (204, "update group Finance EMEA"),
            (404, f"update user {rows('delete')[0][4]}"),
        ]
        assert [(status, action) for _, status, action, *_ in rows("delete")] == [
            (204, "delete user Eve.Novak@contoso.com"),
            (404, f"delete user {rows('delete')[0][4]}"),
            (204, "delete group Engineering"),
        ]
        lookups = [e.action for e in events if e.operation == "lookup"]
        assert "look up user ava.lindqvist@contoso.com" in lookups
        assert "look up group Finance EMEA" in lookups
        assert "search users" in lookups and "search groups" in lookups  # the reference checks
        assert all(e.duration_ms >= 0 for e in events)


def test_the_feature_flag_in_the_tenant_url_is_an_ignored_query_parameter(app, scim):
    # ENTRA.md §1.3: whether Entra forwards `?aadOptscim062020` from the Tenant URL is undocumented;
    # unknown query parameters are ignored.
    flag = "?aadOptscim062020"
    guid = "7d420df3-9995-4831-a406-ecf8166f5f6a"
    response = scim.get("/Users" + flag + "&" + entra_query(filter=f'userName eq "{guid}"'))
    assert response.status_code == 200 and response.get_json() == EMPTY_LIST
    created = scim.post("/Users" + flag, json=AVA)
    assert created.status_code == 201
    user_id = created.get_json()["id"]
    response = scim.patch(f"/Users/{user_id}{flag}", json={"schemas": [PATCH_OP], "Operations": [
        {"op": "replace", "path": "active", "value": False}]})
    assert response.status_code == 200 and response.get_json()["active"] is False
    group = scim.post("/Groups" + flag, json=FINANCE).get_json()
    response = scim.get("/Groups" + flag + "&" + entra_query(excludedAttributes="members",
                                                             filter='displayName eq "Finance"'))
    assert [r["id"] for r in response.get_json()["Resources"]] == [group["id"]]
    assert scim.delete(f"/Groups/{group['id']}{flag}").status_code == 204
    assert scim.delete(f"/Users/{user_id}{flag}").status_code == 204
    with app.app_context():
        operations = db.session.execute(
            db.select(ProvisioningEvent.operation).order_by(ProvisioningEvent.id)).scalars().all()
    assert operations == ["test_connection", "create", "disable", "create", "lookup", "delete", "delete"]
