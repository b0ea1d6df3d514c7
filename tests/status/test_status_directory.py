"""Users and groups as received: search, filters, sorting, pagination, a user's and a group's
page, deactivated and deleted users — all over real SCIM requests."""
import re

import pytest
from sqlalchemy import event

from jericho.extensions import db
from jericho.status import directory

from status_helpers import (  # noqa: F401 (fixtures)
    ENTERPRISE,
    add_members,
    admin,
    deactivate,
    lookup,
    page_html,
    page_text,
    provision_group,
    provision_user,
)


def user_names(response) -> list[str]:
    assert response.status_code == 200
    return re.findall(r'<td><a href="/status/users/[^"]+">([^<]+)</a></td>', page_html(response))


@pytest.fixture
def people(scim):
    ava = provision_user(scim, "ava@contoso.com", displayName="Ava Lindqvist",
                         name={"givenName": "Ava", "familyName": "Lindqvist"},
                         **{ENTERPRISE: {"department": "Finance", "employeeNumber": "E1"}})
    bob = provision_user(scim, "bob@contoso.com", displayName="Bob Berg",
                         emails=[{"type": "work", "value": "robert.berg@contoso.com"}],
                         **{ENTERPRISE: {"department": "Sales", "manager": ava["id"]}})
    cid = provision_user(scim, "cid@contoso.com", displayName="Cid Carlsson")
    finance = provision_group(scim, "Finance", [ava["id"], bob["id"]])
    provision_group(scim, "Nested parent")
    deactivate(scim, cid["id"])
    return {"ava": ava, "bob": bob, "cid": cid, "finance": finance}


# --- users ----------------------------------------------------------------------------------

def test_users_listed_by_user_name(admin, people):
    response = admin.get("/status/users")
    assert user_names(response) == ["ava@contoso.com", "bob@contoso.com", "cid@contoso.com"]
    text = page_text(response)
    assert "All 3 Active 2 Deactivated 1 Deleted 0" in text
    assert "ava@contoso.com Ava Lindqvist ava@contoso.com Finance 1 Active" in text
    assert "bob@contoso.com Bob Berg robert.berg@contoso.com Sales 1 Active" in text
    assert re.search(r"cid@contoso.com Cid Carlsson cid@contoso.com 0 Deactivated since \S+ UTC", text)
    assert "Showing 1–3 of 3 users." in text


@pytest.mark.parametrize("query, expected", [
    ("AVA", ["ava@contoso.com"]),  # userName, any case
    ("berg", ["bob@contoso.com"]),  # the name
    ("robert.berg", ["bob@contoso.com"]),  # an email that is not the userName
    ("contoso", ["ava@contoso.com", "bob@contoso.com", "cid@contoso.com"]),
    ("%", []),  # a LIKE wildcard is searched for literally
    ("_", []),
])
def test_search(admin, people, query, expected):
    assert user_names(admin.get("/status/users", query_string={"q": query})) == expected


def test_filters(admin, people):
    assert user_names(admin.get("/status/users?state=active")) == ["ava@contoso.com", "bob@contoso.com"]
    assert user_names(admin.get("/status/users?state=deactivated")) == ["cid@contoso.com"]
    assert user_names(admin.get(f"/status/users?group={people['finance']['id']}")) == ["ava@contoso.com", "bob@contoso.com"]
    assert user_names(admin.get(f"/status/users?group={people['finance']['id']}&q=bob")) == ["bob@contoso.com"]
    assert user_names(admin.get("/status/users?group=no-such-group")) == []
    reports = admin.get(f"/status/users?manager={people['ava']['id']}")
    assert user_names(reports) == ["bob@contoso.com"] and "Direct reports of Ava Lindqvist" in page_text(reports)
    assert user_names(admin.get("/status/users?state=bogus&sort=bogus")) == ["ava@contoso.com", "bob@contoso.com",
                                                                          "cid@contoso.com"]


def test_a_group_name_filters_by_the_groups_it_matches(admin, scim, people):
    provision_group(scim, "Finance EMEA", [people["cid"]["id"]])
    assert user_names(admin.get("/status/users?group_name=FINANCE")) == ["ava@contoso.com", "bob@contoso.com",
                                                                          "cid@contoso.com"]
    assert user_names(admin.get("/status/users?group_name=emea")) == ["cid@contoso.com"]
    assert user_names(admin.get("/status/users?group_name=emea&state=active")) == []
    assert user_names(admin.get("/status/users?group_name=%25")) == []  # a LIKE wildcard, literally
    assert user_names(admin.get("/status/users?group_name=no+such+group")) == []
    exported = admin.get("/status/export/users.csv?group_name=emea").get_data(as_text=True)
    assert "cid@contoso.com" in exported and "ava@contoso.com" not in exported


def test_few_groups_are_listed_and_many_are_typed(app, admin, scim, people, monkeypatch):
    listed = admin.get("/status/users").get_data(as_text=True)
    assert f'<option value="{people["finance"]["id"]}">Finance</option>' in listed
    assert 'name="group_name"' not in listed
    monkeypatch.setattr(directory, "GROUP_CHOICES", 1)
    typed = admin.get("/status/users").get_data(as_text=True)
    assert 'name="group_name"' in typed and "<option" not in typed.partition('id="sort"')[0].partition('id="group')[2]
    assert "Finance</option>" not in typed
    # A link from the groups page names the group, and the form keeps it.
    linked = admin.get(f"/status/users?group={people['finance']['id']}")
    assert user_names(linked) == ["ava@contoso.com", "bob@contoso.com"]
    assert "Direct members of Finance. Show everyone" in page_text(linked)
    assert f'<input type="hidden" name="group" value="{people["finance"]["id"]}">' in linked.get_data(as_text=True)
    assert "Direct members of" not in page_text(admin.get("/status/users?group=no-such-group"))


def test_a_group_name_typed_stays_in_the_form(admin, people):
    body = admin.get("/status/users", query_string={"group_name": '<b>"fin'}).get_data(as_text=True)
    assert 'name="group_name" value="&lt;b&gt;&#34;fin"' in body
    assert "<b>" not in body


def test_sorting(admin, scim, people, clock):
    clock.advance(seconds=1)
    scim.patch(f"/Users/{people['ava']['id']}", json={"Operations": [{"op": "Replace", "path": "title", "value": "CFO"}]})
    assert user_names(admin.get("/status/users?sort=-user_name")) == ["cid@contoso.com", "bob@contoso.com", "ava@contoso.com"]
    assert user_names(admin.get("/status/users?sort=-name")) == ["cid@contoso.com", "bob@contoso.com", "ava@contoso.com"]
    assert user_names(admin.get("/status/users?sort=-updated"))[0] == "ava@contoso.com"
    assert user_names(admin.get("/status/users?sort=-created")) == ["cid@contoso.com", "bob@contoso.com", "ava@contoso.com"]
    assert user_names(admin.get("/status/users?sort=created")) == ["ava@contoso.com", "bob@contoso.com", "cid@contoso.com"]


def test_pagination_keeps_the_filters(admin, scim, monkeypatch):
    monkeypatch.setattr(directory, "PAGE_SIZE", 2)
    for number in range(5):
        scim.post("/Users", json={"userName": f"p{number}@contoso.com"})
    first = admin.get("/status/users?q=contoso&sort=-user_name")
    assert user_names(first) == ["p4@contoso.com", "p3@contoso.com"]
    assert "Page 1 of 3" in page_text(first)
    assert 'href="/status/users?q=contoso&amp;sort=-user_name&amp;page=2"' in first.get_data(as_text=True)
    assert user_names(admin.get("/status/users?q=contoso&sort=-user_name&page=3")) == ["p0@contoso.com"]
    assert user_names(admin.get("/status/users?page=99")) == []
    assert user_names(admin.get("/status/users?page=x")) == ["p0@contoso.com", "p1@contoso.com"]


def test_a_page_of_users_costs_the_same_queries_whatever_its_size(app, admin, scim):
    def queries(path: str) -> int:
        statements = []
        with app.app_context():
            engine = db.engine
        listener = lambda *args: statements.append(args[2])  # noqa: E731
        event.listen(engine, "before_cursor_execute", listener)
        try:
            assert admin.get(path).status_code == 200
        finally:
            event.remove(engine, "before_cursor_execute", listener)
        return len(statements)

    group = provision_group(scim, "All")
    created = [scim.post("/Users", json={"userName": f"u{n}@contoso.com", "active": False}).get_json() for n in range(3)]
    add_members(scim, group["id"], [user["id"] for user in created])
    few = queries("/status/users")
    more = [scim.post("/Users", json={"userName": f"v{n}@contoso.com", "active": False}).get_json() for n in range(20)]
    add_members(scim, group["id"], [user["id"] for user in more])
    assert queries("/status/users") == few
    few_groups = queries("/status/groups")
    for number in range(10):
        provision_group(scim, f"Team {number}", [more[number]["id"]])
    assert queries("/status/groups") == few_groups
    assert queries(f"/status/groups/{group['id']}") == queries(f"/status/groups/{group['id']}?page=2")


def test_a_users_page(admin, scim, people):
    response = admin.get(f"/status/users/{people['bob']['id']}")
    text = page_text(response)
    assert "Bob Berg bob@contoso.com Active" in text
    assert "Manager Ava Lindqvist (ava@contoso.com)" in text
    assert "department Sales" in text
    assert "Groups Finance Direct memberships" in text
    assert "emails[0].value robert.berg@contoso.com" in text
    assert f"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User.manager.value {people['ava']['id']}" in text
    assert "create user bob@contoso.com" in text
    html = response.get_data(as_text=True)
    assert f'href="/status/users/{people["ava"]["id"]}"' in html
    assert f'href="/status/log?object={people["bob"]["id"]}"' in html

    manager = page_text(admin.get(f"/status/users/{people['ava']['id']}"))
    assert "Direct reports Bob Berg" in manager and "employeeNumber E1" in manager


def test_a_deactivated_users_page_says_when_and_why(admin, people):
    text = page_text(admin.get(f"/status/users/{people['cid']['id']}"))
    assert re.search(r"Deactivated since \S+ UTC", text)
    assert "Entra deactivates a user here when they are unassigned" in text
    assert "disable user cid@contoso.com" in text


def test_a_manager_not_received(admin, scim):
    user = provision_user(scim, "dan@contoso.com", **{ENTERPRISE: {"manager": "not-here-yet"}})
    assert "not-here-yet — not here: Entra sends a manager only once they are provisioned too" in page_text(
        admin.get(f"/status/users/{user['id']}"))


def test_a_users_and_a_groups_page_name_the_attributes_jericho_keeps_but_does_not_use(admin, scim, people):
    custom = "urn:ietf:params:scim:schemas:extension:Contoso:2.0:User"
    user = provision_user(scim, "dan@contoso.com", costCenterCode="4130", **{custom: {"badge": "7"}})
    text = page_text(admin.get(f"/status/users/{user['id']}"))
    assert f"Entra sends costCenterCode and {custom}:badge, which Jericho keeps as received but does not use." \
        in text
    assert "costCenterCode 4130" in text
    assert "does not use" not in page_text(admin.get(f"/status/users/{people['bob']['id']}"))
    group = scim.post("/Groups", json={"displayName": "Owners", "owner": "dan"}).get_json()
    assert "Entra sends owner, which Jericho keeps as received but does not use." in page_text(
        admin.get(f"/status/groups/{group['id']}"))


def test_unknown_user_is_404(admin, people):
    assert admin.get("/status/users/00000000-0000-0000-0000-000000000000").status_code == 404


# --- deleted users --------------------------------------------------------------------------

def test_deleted_users_are_listed_apart_with_dates(admin, scim, people):
    scim.delete(f"/Users/{people['cid']['id']}")
    scim.delete(f"/Users/{people['bob']['id']}")
    provision_user(scim, "bob@contoso.com")  # hired again
    assert user_names(admin.get("/status/users")) == ["ava@contoso.com", "bob@contoso.com"]
    response = admin.get("/status/users/deleted")
    text = page_text(response)
    assert "All 2 Active 2 Deactivated 0 Deleted 2" in text
    assert re.search(r"bob@contoso.com \S+ UTC Provisioned again cid@contoso.com \S+ UTC Gone", text)
    assert admin.get(f"/status/users/{people['cid']['id']}").status_code == 404


def test_no_deleted_users(admin, people):
    assert "The provisioning log holds no deletion of a user." in page_text(admin.get("/status/users/deleted"))


# --- groups ---------------------------------------------------------------------------------

def group_names(response) -> list[str]:
    assert response.status_code == 200
    return re.findall(r'<td><a href="/status/groups/[^"]+">([^<]+)</a></td>', response.get_data(as_text=True))


def test_groups_with_member_counts_and_a_warning_when_empty(admin, people):
    response = admin.get("/status/groups")
    assert group_names(response) == ["Finance", "Nested parent"]
    text = page_text(response)
    assert "Finance 2" in text and "Nested parent No members" in text
    assert f'href="/status/users?group={people["finance"]["id"]}"' in response.get_data(as_text=True)


def test_group_search_sort_and_empty_filter(admin, scim, people):
    provision_group(scim, "Big", [people["ava"]["id"], people["bob"]["id"], people["cid"]["id"]])
    assert group_names(admin.get("/status/groups?q=FIN")) == ["Finance"]
    assert group_names(admin.get("/status/groups?sort=-members")) == ["Big", "Finance", "Nested parent"]
    assert group_names(admin.get("/status/groups?sort=members")) == ["Nested parent", "Finance", "Big"]
    assert group_names(admin.get("/status/groups?sort=-name")) == ["Nested parent", "Finance", "Big"]
    assert group_names(admin.get("/status/groups?sort=-created")) == ["Big", "Nested parent", "Finance"]
    empty = admin.get("/status/groups?empty=1")
    assert group_names(empty) == ["Nested parent"]
    assert "members through a group nested inside it do not arrive" in page_text(empty)


def test_a_groups_page_with_its_members_paginated(admin, scim, people, monkeypatch):
    monkeypatch.setattr(directory, "PAGE_SIZE", 1)
    response = admin.get(f"/status/groups/{people['finance']['id']}")
    text = page_text(response)
    assert "Direct members 2" in text and "ava@contoso.com Ava Lindqvist" in text and "bob@contoso.com" not in text
    assert "Page 1 of 2" in text and "add 2 members to Finance" in text
    second = page_text(admin.get(f"/status/groups/{people['finance']['id']}?page=2"))
    assert "bob@contoso.com Bob Berg robert.berg@contoso.com Active" in second


def test_an_empty_groups_page_warns(admin, people, scim):
    groups = scim.get("/Groups?filter=displayName+eq+%22Nested+parent%22").get_json()["Resources"]
    text = page_text(admin.get(f"/status/groups/{groups[0]['id']}"))
    assert "This group has no members here." in text
    assert "Entra sends only the direct members of a group" in text


def test_unknown_group_is_404(admin, people):
    assert admin.get("/status/groups/00000000-0000-0000-0000-000000000000").status_code == 404
