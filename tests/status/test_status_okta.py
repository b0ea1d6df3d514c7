"""The sync status pages for an organization provisioned by Okta: Okta's words on the health
banner, the cycles (Okta's batches) and the causes, Okta's quiet that is never stale, and "why
isn't this person here" in terms of assignment and deactivation."""
from datetime import timedelta

from jericho.providers import OKTA
from jericho.status import cycles as cycle_rules
from jericho.status.causes import ErrorGroup, causes_of
from jericho.status.cycles import FirstSync, FirstSyncState
from jericho.status.health import HealthState
from status.test_insights import activity, at, event, health

from status_helpers import PATCH_OP, admin, age_log, page_text  # noqa: F401 (fixtures)

OKTA_AGENT = {"User-Agent": "Okta SCIM Client 1.0.0"}
TEST_CONNECTOR = "/Users?startIndex=1&count=2"
USER_URN = "urn:ietf:params:scim:schemas:core:2.0:User"


# --- Rules on plain values ---------------------------------------------------------------------

def test_okta_quiet_for_hours_is_not_stale():
    result = health(last=event(0), items=[activity(0, "update")], now=at(300), provider=OKTA)
    assert result.state is HealthState.CONNECTED and result.level.value == "neutral"
    assert result.summary == "Quiet: no request from Okta for 5 hours (last at 10:00 UTC)."
    assert result.details[-1].startswith("Okta sends a change as soon as it happens and nothing while nothing "
                                         "changes, so a quiet time is normal.")
    # Entra, after the same silence, has missed cycles.
    assert health(last=event(0), items=[activity(0, "update")], now=at(300)).state is HealthState.STALE


def test_okta_users_here_and_a_log_emptied_by_retention_is_quiet_too():
    result = health(last=None, started=True, provider=OKTA)
    assert result.state is HealthState.CONNECTED
    assert result.summary == "No request from Okta in the whole provisioning log."


def test_okta_waiting_and_connected_name_okta_s_test():
    waiting = health(started=False, provider=OKTA)
    assert waiting.summary == "Nothing has arrived from Okta yet."
    assert "Test Connector Configuration" in waiting.details[0]
    connected = health(last=event(0, operation="test_connection"), started=False,
                       items=[activity(0, "test_connection")], sync=FirstSync(FirstSyncState.NOT_STARTED),
                       provider=OKTA)
    assert connected.summary == "Okta's Test Connector Configuration works (last request at 10:00 UTC)."
    assert "assigned to the app" in connected.details[0]


def test_okta_failures_in_okta_s_words():
    items = [activity(0, "update", 90), activity(0, "create", 10, failed=True)]
    conflicts = ErrorGroup(causes_of(OKTA)["user_conflict"], 10, at(0), at(0), 7)
    result = health(last=event(0), items=items, errors=[conflicts], provider=OKTA)
    assert result.state is HealthState.FAILING
    assert result.summary == "10 of the 100 requests in the last batch failed."
    assert "Assignments" in result.details[0] and "Dashboard > Tasks" in result.details[0]
    assert "Entra" not in " ".join(result.details)


def test_okta_batches_are_what_one_change_sends():
    items = [activity(0, "test_connection"), activity(15, "create"), activity(40, "create", 5)]
    okta = cycle_rules.cycles_of(items, OKTA.sync)
    assert [cycle.label for cycle in okta] == ["Test Connector Configuration", "A small change", "Sync"]
    assert len(cycle_rules.cycles_of(items)) == 2  # Entra's cycles: half of 40 minutes apart
    words = cycle_rules.first_sync_words(FirstSync(FirstSyncState.ON_DEMAND_ONLY), now=at(0), habits=OKTA.sync)
    assert "Provision on demand" not in words and "assigned to the app" in words


# --- Pages over Okta's requests ----------------------------------------------------------------

def okta_user(scim, user_name: str) -> dict:
    body = {"schemas": [USER_URN], "userName": user_name, "active": True,
            "emails": [{"primary": True, "type": "work", "value": user_name}]}
    response = scim.post("/Users", json=body, headers=OKTA_AGENT)
    assert response.status_code == 201, response.text
    return response.get_json()


def okta_import(scim, users: int = 3) -> list[dict]:
    """Okta's Test Connector Configuration, then the people assigned to the app."""
    assert scim.get(TEST_CONNECTOR, headers=OKTA_AGENT).status_code == 200
    return [okta_user(scim, f"user{n}@contoso.com") for n in range(users)]


def test_the_dashboard_speaks_of_okta(admin, scim, clock):
    okta_import(scim)
    duplicate = {"schemas": [USER_URN], "userName": "user0@contoso.com"}
    assert scim.post("/Users", json=duplicate, headers=OKTA_AGENT).status_code == 409
    text = page_text(admin.get("/status/"))
    assert "Batches of changes" in text and "The last batch" in text
    assert "Okta sends each change as soon as it happens" in text
    assert "1 of the 5 requests in the last batch failed." in text
    assert "Main cause: A user with the same userName is already here. Okta looks a person up" in text
    assert "Dashboard > Tasks" in text
    assert "Entra" not in text
    errors = page_text(admin.get("/status/log/errors"))
    assert "Okta lists each failed task in Okta Admin Console > Dashboard > Tasks" in errors
    assert "application username" in errors and "Entra" not in errors


def test_okta_quiet_for_hours_is_connected_on_the_dashboard(app, admin, scim, clock):
    okta_import(scim, users=2)
    age_log(app, timedelta(hours=6))
    response = admin.get("/status/")
    assert 'class="sync-banner sync-banner--connected" data-severity="neutral"' in response.text
    text = page_text(response)
    assert "Quiet: no request from Okta for 6 hours" in text
    assert "a quiet time is normal" in text


def test_why_for_okta_speaks_of_deactivation_and_assignment(admin, scim, clock):
    (ava,) = okta_import(scim, users=1)
    response = scim.patch(f"/Users/{ava['id']}", headers=OKTA_AGENT, json={
        "schemas": [PATCH_OP], "Operations": [{"op": "replace", "value": {"active": False}}]})
    assert response.status_code == 200
    text = page_text(admin.get("/status/why", query_string={"q": "user0@contoso.com"}))
    assert "was deactivated by Okta" in text
    assert "Okta never deletes users: a deactivated user is how someone leaves." in text
    assert "Assignments" in text
    never_seen = page_text(admin.get("/status/why", query_string={"q": "zoe@contoso.com"}))
    assert "Not assigned to the app" in never_seen and "Entra" not in never_seen
