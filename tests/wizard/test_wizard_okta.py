"""The setup guide for Okta: its eight steps' rules on plain values, the choice of provider, and the
pages driven by Okta's own requests (User-Agent `Okta SCIM Client`, Test Connector Configuration)."""
from __future__ import annotations

import html
import re
from dataclasses import replace

import pytest

from jericho.extensions import db
from jericho.providers import ENTRA, OKTA, okta, provider_of
from jericho.storage.accounts import organization_by_name, token_revoke
from jericho.storage.models import AdminAuditEvent, ScimToken
from jericho.wizard import onboarding
from jericho.wizard.onboarding import State
from wizard.test_wizard import (  # noqa: F401 (fixtures: admin, app_config)
    CONNECTED,
    FLOWING,
    FRESH,
    NOW,
    ONE_USER,
    REVOKED,
    USER_URN,
    WITH_TOKEN,
    admin,
    app_config,
    create_group,
    event,
    seen,
    step_page,
    task_states,
    text_of,
)

NS, WAIT, DONE, ATTN = State.NOT_STARTED, State.WAITING, State.DONE, State.ATTENTION
OKTA_AGENT = {"User-Agent": "Okta SCIM Client 1.0.0"}
TEST_CONNECTOR = "/Users?startIndex=1&count=2"


# --- Pure rules ------------------------------------------------------------------------------

@pytest.mark.parametrize(
    "evidence, states",
    [
        (FRESH, (NS,) * 8),
        (WITH_TOKEN, (WAIT, WAIT, NS, NS, DONE, WAIT, NS, NS)),
        (CONNECTED, (DONE, DONE, WAIT, WAIT, DONE, DONE, WAIT, WAIT)),
        (ONE_USER, (DONE,) * 8),
        (FLOWING, (DONE,) * 8),
        (replace(CONNECTED, tokens=(REVOKED,)), (DONE, DONE, WAIT, WAIT, ATTN, DONE, WAIT, WAIT)),
        # A base URL Okta cannot reach matters only until Okta got through anyway.
        (replace(WITH_TOKEN, url_warnings=("private",)), (WAIT, ATTN, NS, NS, DONE, WAIT, NS, NS)),
        (replace(CONNECTED, url_warnings=("private",)), (DONE, DONE, WAIT, WAIT, DONE, DONE, WAIT, WAIT)),
        # A refused token is the latest word from Okta: its Test Connector Configuration failed.
        (replace(WITH_TOKEN, last_refusal=event(1, status=401, operation="rejected", error_detail="unknown token")),
         (DONE, WAIT, NS, NS, DONE, ATTN, NS, NS)),
        # userNames that are not the users' email addresses: the application username format.
        (replace(FLOWING, mapping=onboarding.MappingReport(40, 40, ())), (DONE, DONE, State.SOME_USERS) + (DONE,) * 5),
        # Requests about users fail before any user arrived.
        (replace(CONNECTED, recent=(event(1, operation="create", status=400, resource_type="User"),)),
         (DONE, DONE, WAIT, WAIT, DONE, DONE, ATTN, WAIT)),
        (replace(FLOWING, recent=(event(1, operation="update", status=500), *FLOWING.recent)),
         (DONE,) * 7 + (ATTN,)),
    ],
)
def test_okta_step_states(evidence, states):
    assert tuple(step.state for step in onboarding.steps_of(evidence, OKTA)) == states


def test_okta_steps_speak_of_okta():
    steps = onboarding.steps_of(WITH_TOKEN, OKTA)
    assert [step.title for step in steps] == [
        "Create the app integration", "SCIM connector base URL", "Unique identifier: userName",
        "Supported provisioning actions", "Authentication: HTTP Header", "Test Connector Configuration",
        "To App: create, update, deactivate", "Assign people and push groups"]
    assert steps[0].label == "Waiting for Okta"
    assert [step.label for step in onboarding.steps_of(WITH_TOKEN)][0] == "Waiting for Entra"
    for step in onboarding.steps_of(replace(CONNECTED, mapping=onboarding.MappingReport(3, 1, ()))
                                    , OKTA):
        assert "Entra" not in step.summary


def test_okta_refusals_in_words():
    failed = event(status=500, error_detail="boom", operation="test_connection")
    assert okta.refusal_words(failed, NOW) == (
        "Okta's Test Connector Configuration arrived at 10:55 UTC and was answered 500: boom.")


def test_tenant_url_warnings_name_the_provider():
    assert onboarding.tenant_url_warnings("https://localhost/scim_v2", OKTA) == [
        "localhost is this computer itself: Okta, in Okta's cloud, cannot reach it."]


@pytest.mark.parametrize("key, provider", [("okta", OKTA), ("entra", ENTRA), (None, ENTRA), ("onelogin", ENTRA)])
def test_an_unknown_provider_key_reads_as_entra(key, provider):
    assert provider_of(key) is provider


# --- Choosing the provider -------------------------------------------------------------------

def provider_key(app) -> str:
    with app.app_context():
        return organization_by_name("Contoso").identity_provider


def test_a_new_organization_is_set_up_for_entra_and_can_choose_okta(app, client, admin):
    page = client.get("/wizard").text
    assert "Connect Microsoft Entra ID" in page
    assert re.search(r'<input checked id="provider-0" name="provider" required type="radio" value="entra">', page)
    response = client.post("/wizard/provider", data={"provider": "okta"})
    assert response.status_code == 302 and response.location == "/wizard"
    page = client.get("/wizard").text
    assert "Connect Okta" in page and "Eight steps in the Okta Admin Console" in text_of(page)
    for title in OKTA.step_titles:
        assert html.escape(title) in page
    assert task_states(page) == {n: "Not started" for n in range(1, 9)}
    with app.app_context():
        actions = db.session.execute(db.select(AdminAuditEvent.action)).scalars().all()
    assert "chose Okta as the identity provider" in actions
    client.post("/wizard/provider", data={"provider": "entra"})
    assert provider_key(app) == "entra"


@pytest.mark.parametrize("data", [{}, {"provider": "onelogin"}])
def test_an_unknown_choice_is_refused(app, client, admin, data):
    response = client.post("/wizard/provider", data=data)
    assert response.status_code == 400
    assert provider_key(app) == "entra"


def test_choosing_needs_sign_in(app, client, auth):
    auth.create()
    response = client.post("/wizard/provider", data={"provider": "okta"})
    assert response.status_code == 302 and response.location.startswith("/sign-in")
    assert provider_key(app) == "entra"


def test_a_request_from_okta_tells_the_provider(app, client, admin, scim, other_scim):
    assert other_scim.get("/Users?filter=userName+eq+%22x%40contoso.com%22").status_code == 200
    with app.app_context():
        assert organization_by_name("Fabrikam").identity_provider == "entra"  # Entra sends no User-Agent
    assert scim.get(TEST_CONNECTOR, headers=OKTA_AGENT).status_code == 200
    assert provider_key(app) == "okta"
    assert "Connect Okta" in client.get("/wizard").text


# --- Okta's steps over Okta's requests ---------------------------------------------------------

@pytest.fixture
def okta_admin(client, admin):
    client.post("/wizard/provider", data={"provider": "okta"})
    return admin


def okta_user(scim, user_name, email):
    body = {"schemas": [USER_URN], "userName": user_name, "active": True,
            "emails": [{"primary": True, "type": "work", "value": email}], "password": "1mz050nq"}
    response = scim.post("/Users", json=body, headers=OKTA_AGENT)
    assert response.status_code == 201, response.text
    return response.get_json()


def test_every_okta_step_page_has_its_instructions(client, okta_admin):
    expectations = {
        1: ["Create App Integration", "SAML 2.0", "SWA", "Jericho Security SCIM", "App Settings", "SCIM",
            "OpenID Connect"],
        2: ["SCIM connector base URL", "https://scim.contoso.com/scim_v2", "Integration"],
        3: ["Unique identifier field for users", "userName", "Application username format", "Email"],
        4: ["Push New Users", "Push Profile Updates", "Push Groups", "Import Groups"],
        5: ["Authentication Mode", "HTTP Header", "Authorization", "Bearer", "Generate"],
        6: ["Test Connector Configuration", "Close", "Save", "startIndex=1&count=2"],
        7: ["To App", "Create Users", "Update User Attributes", "Deactivate Users", "never deletes users"],
        8: ["Assignments", "Assign to People", "Assign to Groups", "Push Groups", "Find groups by name"],
    }
    for number, phrases in expectations.items():
        page = text_of(step_page(client, number))
        for phrase in phrases:
            assert phrase in page, (number, phrase)
        assert "Entra" not in page, number


def test_the_token_is_generated_on_step_five(app, client, okta_admin):
    assert seen(step_page(client, 5)) == ("Not started", "Choose HTTP Header and generate a token.")
    assert 'action="/wizard/step/3/token"' in step_page(client, 5)
    response = client.post("/wizard/step/3/token", data={"label": "Okta"}, follow_redirects=True)
    assert response.status_code == 200 and response.request.path == "/wizard/step/5"
    assert "Step 5 of 8" in response.text and "paste it into Okta's Authorization field" in text_of(response.text)
    assert seen(response.text)[0] == "Done"
    confirm = client.get("/wizard/step/3/token").text
    assert 'href="/wizard/step/5"' in confirm and "last used by Okta" in confirm


def test_okta_test_connector_configuration_turns_step_six_done(app, client, okta_admin, scim):
    assert seen(step_page(client, 6))[0] == "Waiting for Okta"
    assert scim.get(TEST_CONNECTOR, headers=OKTA_AGENT).status_code == 200
    state, summary = seen(step_page(client, 6))
    assert state == "Done"
    assert summary.startswith("Okta's Test Connector Configuration arrived at ")
    assert "Test Connector Configuration: list of 2 users" in client.get("/status/log").text
    assert task_states(client.get("/wizard").text) == {1: "Done", 2: "Done", 3: "Waiting for Okta",
                                                      4: "Waiting for Okta", 5: "Done", 6: "Done",
                                                      7: "Waiting for Okta", 8: "Waiting for Okta"}


def test_a_revoked_token_fails_okta_s_test(app, client, okta_admin, scim):
    scim.get(TEST_CONNECTOR, headers=OKTA_AGENT)
    with app.app_context():
        for token in db.session.execute(db.select(ScimToken)).scalars():
            token_revoke(prefix=token.prefix)
    assert scim.get(TEST_CONNECTOR, headers=OKTA_AGENT).status_code == 401
    page = step_page(client, 6)
    assert seen(page)[0] == "Needs attention"
    assert "This one was revoked" in text_of(page)
    assert seen(step_page(client, 5)) == ("Needs attention", "Every token is revoked: generate a new one for Okta.")


def test_okta_user_names_that_are_not_email_addresses_need_attention(client, okta_admin, scim):
    okta_user(scim, "ava.lindqvist", "ava@contoso.com")
    okta_user(scim, "ben@contoso.com", "ben@contoso.com")
    page = step_page(client, 3)
    assert seen(page) == ("Some users need you", "1 of the last 2 users received have a userName that is not "
                                                 "their email address: set the application username format to "
                                                 "Email. They keep arriving meanwhile, under that userName.")
    assert "ava.lindqvist ava@contoso.com" in text_of(page)
    assert "Credentials Details" in text_of(page)


def test_users_and_groups_pushed_by_okta_finish_the_steps(client, okta_admin, scim):
    scim.get(TEST_CONNECTOR, headers=OKTA_AGENT)
    ava = okta_user(scim, "ava@contoso.com", "ava@contoso.com")
    create_group(scim, "Finance", [ava["id"]])
    assert task_states(client.get("/wizard").text) == {n: "Done" for n in range(1, 9)}
    state, summary = seen(step_page(client, 8))
    assert state == "Done" and summary.startswith("Okta has sent 1 user and 1 group, last request at ")
    assert "Latest user created: ava@contoso.com" in text_of(step_page(client, 7))
    summary_page = text_of(client.get("/wizard/summary").text)
    assert "Last request from Okta" in summary_page and "Warnings None." in summary_page


# --- The status pages in Okta's words ----------------------------------------------------------

def test_why_speaks_of_okta(client, okta_admin, scim):
    ava = okta_user(scim, "ava@contoso.com", "ava@contoso.com")
    scim.patch(f"/Users/{ava['id']}", headers=OKTA_AGENT, json={
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [{"op": "replace", "value": {"active": False}}]})
    words = text_of(client.get("/status/why", query_string={"q": "ava@contoso.com"}).text)
    assert "was deactivated by Okta" in words and "Okta never deletes users" in words
    assert "Directory > People" in words

    words = text_of(client.get("/status/why", query_string={"q": "zoe@contoso.com"}).text)
    assert "No request from Okta named them" in words
    for title in ("Not assigned to the app", "Create Users is off", "Okta's push failed",
                  "Deactivated or suspended in Okta"):
        assert title in words
    assert "nested" not in words and "scoping filter" not in words and "Entra" not in words
    assert "Dashboard > Tasks" in words

    user_page = text_of(client.get(f"/status/users/{ava['id']}").text)
    assert "Okta never deletes users" in user_page
    assert "Okta never deletes users" in text_of(client.get("/status/users/deleted").text)
