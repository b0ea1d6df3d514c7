"""The user and group pages name the organization's identity provider, in its
own words (providers/entra.py, providers/okta.py): Entra's nested groups never reach an Okta
organization's pages, and what a directory sent stays text."""
from __future__ import annotations

import pytest

from status_helpers import ENTERPRISE, admin, page_text  # noqa: F401 (fixture)

OKTA_AGENT = {"User-Agent": "Okta SCIM Client 1.0.0"}
HOSTILE = "<script>alert(1)</script>"
USER = "urn:ietf:params:scim:schemas:core:2.0:User"
GROUP = "urn:ietf:params:scim:schemas:core:2.0:Group"

WORDS = {
    "entra": {
        "name": "Entra",
        "other": "Okta",
        "members": "Entra sends only the direct members of a group: people who are members through a group nested",
        "check": f"Check in the Entra admin center > Groups > {HOSTILE} > Members",
        "memberships": "Direct memberships, as Entra sends them.",
        "manager": "m-404 — not here: Entra sends a manager only once they are provisioned too",
    },
    "okta": {
        "name": "Okta",
        "other": "Entra",
        "members": "Okta pushes only the members of a group who are assigned to the app and active in Okta",
        "check": f"Check in the Okta Admin Console > Directory > Groups > {HOSTILE} > People",
        "memberships": "Memberships of the groups Okta pushes.",
        "manager": "m-404 — not here: Okta sends the manager value its attribute mapping gives",
    },
}


@pytest.fixture(params=sorted(WORDS))
def provider(request, scim):
    """The organization's provider, as its requests tell it; the words its pages must use."""
    return WORDS[request.param], OKTA_AGENT if request.param == "okta" else {}


def test_a_group_without_members_and_the_groups_note(admin, scim, provider):
    words, headers = provider
    group = scim.post("/Groups", json={"schemas": [GROUP], "displayName": HOSTILE}, headers=headers)
    assert group.status_code == 201, group.text
    response = admin.get(f"/status/groups/{group.get_json()['id']}")
    assert HOSTILE not in response.text and "&lt;script&gt;" in response.text
    text = page_text(response)
    assert words["members"] in text and words["check"] in text
    assert words["other"] not in text and ("nested" in text) == (words["name"] == "Entra")
    groups = page_text(admin.get("/status/groups?empty=1"))
    assert f"If one stays empty: {words['members']}" in groups and words["other"] not in groups


def test_a_user_without_groups_with_a_manager_not_here(admin, scim, provider):
    words, headers = provider
    response = scim.post("/Users", headers=headers, json={
        "schemas": [USER, ENTERPRISE], "userName": "dan@contoso.com",
        "costCenterCode": "4130", ENTERPRISE: {"manager": {"value": "m-404"}}})
    assert response.status_code == 201, response.text
    text = page_text(admin.get(f"/status/users/{response.get_json()['id']}"))
    assert words["manager"] in text
    assert f"No group. {words['members']}" in text
    assert f"{words['name']} sends costCenterCode, which Jericho keeps as received but does not use." in text
    assert words["other"] not in text


def test_a_user_in_a_group_says_which_memberships_arrive(admin, scim, provider):
    words, headers = provider
    user = scim.post("/Users", json={"schemas": [USER], "userName": "eve@contoso.com"}, headers=headers).get_json()
    group = {"schemas": [GROUP], "displayName": "Sales", "members": [{"value": user["id"]}]}
    assert scim.post("/Groups", json=group, headers=headers).status_code == 201
    text = page_text(admin.get(f"/status/users/{user['id']}"))
    assert words["memberships"] in text and words["other"] not in text

