""""Why isn't this person here?" over real SCIM requests: what was found about them, and the
likely reasons in order, with where to check in Entra."""
import re

from status_helpers import admin, deactivate, lookup, page_text, provision_group, provision_user  # noqa: F401 (fixtures)


def why(client, query: str) -> str:
    response = client.get("/status/why", query_string={"q": query})
    assert response.status_code == 200
    return page_text(response)


def reason_titles(client, query: str) -> list[str]:
    html = client.get("/status/why", query_string={"q": query}).get_data(as_text=True)
    return re.findall(r"<h3>([^<]+)</h3>", html)


def test_the_question_page(admin):
    text = page_text(admin.get("/status/why"))
    assert "Enter the email address of someone who should have arrived" in text


def test_someone_who_is_here(admin, scim):
    ava = provision_user(scim, "ava@contoso.com", displayName="Ava Lindqvist",
                         emails=[{"type": "work", "value": "ava.lindqvist@contoso.com"}])
    text = why(admin, "AVA@contoso.com")
    assert "AVA@contoso.com is here Ava Lindqvist (ava@contoso.com) is active." in text
    assert "is here" in why(admin, "ava.lindqvist@contoso.com")  # by email too
    assert reason_titles(admin, "ava@contoso.com") == []
    deactivate(scim, ava["id"])
    assert "ava@contoso.com is here, but deactivated" in why(admin, "ava@contoso.com")


def test_someone_deleted(admin, scim):
    bob = provision_user(scim, "bob@contoso.com")
    scim.delete(f"/Users/{bob['id']}")
    text = why(admin, "Bob@Contoso.com")
    assert re.search(r"Bob@Contoso.com was deleted Entra deleted this user here on \S+ UTC", text)


def test_someone_refused(admin, scim):
    provision_user(scim, "jane@contoso.com")
    scim.post("/Users", json={"userName": "JANE@contoso.com"})
    text = why(admin, "JANE@contoso.com")
    assert "JANE@contoso.com is here" in text  # the same person, as far as userName goes
    provision_user(scim, "x@contoso.com")
    scim.post("/Users", json={"userName": "Kim@contoso.com", "emails": "not a list"})
    lookup(scim, "kim@contoso.com")
    text = why(admin, "kim@contoso.com")
    assert "Entra looked for kim@contoso.com but created nothing" in text
    assert "see the errors in that minute" in text


def test_a_refusal_that_names_them(admin, scim):
    provision_user(scim, "lee@contoso.com")
    scim.patch("/Users/no-such-id", json={"Operations": [{"op": "Replace", "path": "userName", "value": "x"}]})
    group = provision_group(scim, "Finance")
    scim.patch(f"/Groups/{group['id']}", json={"Operations": [
        {"op": "Add", "path": "members", "value": [{"value": "max-id-1234"}]}]})
    text = why(admin, "max-id-1234")
    assert "Entra tried, and this server refused" in text
    assert "A group member has not been provisioned here" in text


def test_never_seen_during_the_first_sync_the_sync_comes_first(admin, scim, clock):
    for number in range(3):
        provision_user(scim, f"user{number}@contoso.com")
    titles = reason_titles(admin, "jane@contoso.com")
    assert titles == ["The sync has not reached them yet", "Not assigned to the app", "Only in a nested group",
                      "No mailbox while mail is mapped to userName", "Disabled in Entra", "Outside a scoping filter"]
    text = why(admin, "jane@contoso.com")
    assert "Nothing about jane@contoso.com has arrived No request from Entra named them, among the 3 users received." in text
    assert "The first sync is running since" in text
    assert "Where to check: Entra admin center > Enterprise applications > your Jericho app > Users and groups" in text
    assert "Provision on demand" in text


def test_never_seen_after_the_first_sync(admin, scim, clock):
    for number in range(3):
        provision_user(scim, f"user{number}@contoso.com")
    provision_group(scim, "Nested parent")
    clock.advance(hours=1)
    titles = reason_titles(admin, "jane@contoso.com")
    assert titles[:3] == ["Not assigned to the app", "Only in a nested group", "No mailbox while mail is mapped to userName"]
    assert titles[-2:] == ["The sync has not reached them yet", "Outside a scoping filter"]
    assert "Here, 1 group has no members, which is what nested groups look like." in why(admin, "jane@contoso.com")


def test_user_names_from_the_user_principal_name(admin, scim, clock):
    for number in range(3):
        provision_user(scim, f"user{number}@contoso.onmicrosoft.com",
                       emails=[{"type": "work", "value": f"user{number}@contoso.com"}])
    titles = reason_titles(admin, "jane@contoso.com")
    assert "No mailbox while mail is mapped to userName" not in titles
    assert "Here under another userName" in titles


def test_similar_people_are_suggested_first(admin, scim, clock):
    provision_user(scim, "jane.doe@contoso.com", displayName="Jane Doe")
    text = why(admin, "jane@fabrikam.com")
    assert "Similar people here Jane Doe jane.doe@contoso.com" in text
    assert reason_titles(admin, "jane@fabrikam.com")[0] == "Here under another userName"


def test_a_search_on_the_users_page_that_finds_nobody_links_here(admin, scim):
    response = admin.get("/status/users?q=nobody%40contoso.com")
    assert 'href="/status/why?q=nobody@contoso.com"' in response.get_data(as_text=True)
