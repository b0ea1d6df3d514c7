"""The Entra setup wizard: the rules that derive each step's state (on plain values), and every
step page in every state it can show, driven by real SCIM requests where they can produce it."""
from __future__ import annotations

import html
import re
from dataclasses import replace
from datetime import datetime, timedelta, timezone

import pytest
from flask import url_for

from jericho.extensions import db
from jericho.providers import ENTRA, entra
from jericho.scim import document
from jericho.security import hash_token
from jericho.storage.accounts import organization_by_name, token_revoke
from jericho.storage.models import ProvisioningEvent, ScimToken, User
from jericho.wizard import onboarding
from jericho.wizard.onboarding import State

from conftest import ScimClient, new_token
from status_helpers import without_breaks

NOW = datetime(2026, 11, 30, 11, 0, tzinfo=timezone.utc)
GUID_FILTER = "/Users?filter=userName+eq+%227d420df3-9995-4831-a406-ecf8166f5f6a%22"
USER_URN = "urn:ietf:params:scim:schemas:core:2.0:User"
GROUP_URN = "urn:ietf:params:scim:schemas:core:2.0:Group"
NS, WAIT, DONE, TRIAL, ATTN = State.NOT_STARTED, State.WAITING, State.DONE, State.TRIAL, State.ATTENTION
SOME = State.SOME_USERS


# --- Pure rules ------------------------------------------------------------------------------

@pytest.mark.parametrize(
    "url, expected",
    [
        ("https://scim.contoso.com/scim_v2", []),
        ("https://52.174.10.20/scim_v2", []),
        ("http://scim.contoso.com/scim_v2", ["https://"]),
        ("https://localhost:8000/scim_v2", ["this computer itself"]),
        ("http://127.0.0.1:5000/scim_v2", ["https://", "this computer itself"]),
        ("https://[::1]/scim_v2", ["this computer itself"]),
        ("https://10.0.0.5/scim_v2", ["private address"]),
        ("https://192.168.1.20/scim_v2", ["private address"]),
        ("https://169.254.10.1/scim_v2", ["private address"]),
        ("https://[fd00::1]/scim_v2", ["private address"]),
        ("https://scimbox/scim_v2", ["local network name"]),
        ("https://scim.corp.local/scim_v2", ["local network name"]),
    ],
)
def test_tenant_url_warnings(url, expected):
    warnings = onboarding.tenant_url_warnings(url)
    assert len(warnings) == len(expected)
    for warning, words in zip(warnings, expected):
        assert words in warning


def test_mapping_report_names_the_attributes_outside_the_schema_once():
    custom = "urn:ietf:params:scim:schemas:extension:Contoso:2.0:User"
    users = [("a", "a@contoso.com", {"costCenterCode": "1", custom: {"badge": 7}}),
             ("b", "b@contoso.com", {"costCenterCode": "2", "name": {"nickname": "B"}})]
    assert onboarding.mapping_report(users).unused == ("costCenterCode", f"{custom}:badge", "name.nickname")


def test_mapping_report_counts_every_problem_and_keeps_a_few_examples():
    users = [(f"id{n}", f"user{n}", {}) for n in range(8)] + [("ok", "ok@contoso.com", {})]
    report = onboarding.mapping_report(users)
    assert (report.examined, report.affected) == (9, 8)
    assert [p.user_id for p in report.examples] == ["id0", "id1", "id2", "id3", "id4"]


def test_first_cycle_estimate_uses_entras_rate_per_object():
    assert onboarding.first_cycle_estimate(1000) == ("10 minutes", "1 hour 20 minutes")


def event(minutes_ago: int = 5, **fields) -> ProvisioningEvent:
    values = dict(method="GET", path="/scim_v2/Users", status=200, operation="lookup",
                  action="look up user ava@contoso.com", organization_id=1)
    values.update(fields)
    return ProvisioningEvent(occurred_at=NOW - timedelta(minutes=minutes_ago), **values)


TEST_CONNECTION = dict(operation="test_connection", action="Test Connection: lookup of a random GUID")
TOKEN = ScimToken(prefix="abcd1234", label="Entra")
REVOKED = ScimToken(prefix="dead0000", revoked_at=NOW - timedelta(days=1))
USER = User(id="u1", user_name="ava@contoso.com", created_at=NOW - timedelta(minutes=3))
NO_PROBLEMS = onboarding.MappingReport(0, 0, ())

FRESH = onboarding.Evidence(
    now=NOW, zone=timezone.utc, tenant_url="https://scim.contoso.com/scim_v2", tenant_url_derived=False,
    url_warnings=(), tokens=(), last_success=None, last_test_connection=None, last_refusal=None,
    recent=(), users=0, groups=0, memberships=0, latest_user=None, mapping=NO_PROBLEMS,
)
WITH_TOKEN = replace(FRESH, tokens=(TOKEN,))
CONNECTED = replace(WITH_TOKEN, last_success=event(**TEST_CONNECTION), last_test_connection=event(**TEST_CONNECTION))
ONE_USER = replace(CONNECTED, users=1, latest_user=USER, mapping=onboarding.MappingReport(1, 0, ()),
                   recent=(event(2, operation="create", action="create user ava@contoso.com", status=201),))
FLOWING = replace(ONE_USER, users=40, groups=3)


@pytest.mark.parametrize(
    "evidence, states",
    [
        (FRESH, (NS, NS, NS, NS, NS, NS, NS, NS)),
        (WITH_TOKEN, (WAIT, WAIT, DONE, WAIT, NS, NS, NS, NS)),
        (CONNECTED, (DONE, DONE, DONE, DONE, WAIT, WAIT, WAIT, NS)),
        (ONE_USER, (DONE, DONE, DONE, DONE, DONE, DONE, DONE, WAIT)),
        (FLOWING, (DONE,) * 8),
        # Every token revoked: Entra's requests now fail.
        (replace(CONNECTED, tokens=(REVOKED,)), (DONE, DONE, ATTN, DONE, WAIT, WAIT, WAIT, NS)),
        # A Tenant URL Entra cannot reach matters only until Entra got through anyway. Set in
        # PUBLIC_URL, it fails; taken from the browser's address, it is a trial's.
        (replace(WITH_TOKEN, url_warnings=("private",)), (WAIT, WAIT, ATTN, WAIT, NS, NS, NS, NS)),
        (replace(WITH_TOKEN, url_warnings=("private",), tenant_url_derived=True),
         (WAIT, WAIT, TRIAL, WAIT, NS, NS, NS, NS)),
        (replace(CONNECTED, url_warnings=("private",)), (DONE, DONE, DONE, DONE, WAIT, WAIT, WAIT, NS)),
        # A refusal is the latest word from Entra.
        (replace(WITH_TOKEN, last_refusal=event(1, status=401, operation="rejected", error_detail="unknown token")),
         (DONE, DONE, DONE, ATTN, NS, NS, NS, NS)),
        (replace(CONNECTED, last_refusal=event(1, status=401, operation="rejected", error_detail="revoked token")),
         (DONE, DONE, DONE, ATTN, WAIT, WAIT, WAIT, NS)),
        (replace(CONNECTED, last_refusal=event(60, status=401, operation="rejected")),
         (DONE, DONE, DONE, DONE, WAIT, WAIT, WAIT, NS)),
        # userNames that are not the users' email addresses: they arrive, and need the admin.
        (replace(FLOWING, mapping=onboarding.MappingReport(40, 40, ())), (DONE,) * 4 + (SOME,) + (DONE,) * 3),
        # Requests about users fail before any user arrived.
        (replace(CONNECTED, recent=(event(1, operation="create", status=400, resource_type="User"),)),
         (DONE, DONE, DONE, DONE, WAIT, WAIT, ATTN, NS)),
        # Failures while provisioning runs.
        (replace(FLOWING, recent=(event(1, operation="update", status=500), *FLOWING.recent)),
         (DONE,) * 7 + (ATTN,)),
    ],
)
def test_step_states(evidence, states):
    assert tuple(step.state for step in onboarding.steps_of(evidence)) == states


def test_progress_names_the_next_step_and_the_warnings():
    steps = onboarding.steps_of(replace(CONNECTED, tokens=(REVOKED,)))
    progress = onboarding.Progress(CONNECTED, steps)
    assert progress.next_step.number == 3
    assert [step.number for step in progress.warnings] == [3]
    assert onboarding.Progress(FLOWING, onboarding.steps_of(FLOWING)).next_step is None


@pytest.mark.parametrize(
    "refusal, words",
    [
        (event(status=401, operation="rejected", error_detail="revoked token"),
         "A request arrived at 10:55 UTC with a revoked token and was answered 401."),
        (event(status=401, operation="rejected", error_detail="unknown token"),
         "A request arrived at 10:55 UTC with an unknown token and was answered 401."),
        (event(status=401, operation="rejected", error_detail="missing bearer token: send Authorization"),
         "A request arrived at 10:55 UTC with no token and was answered 401."),
        (event(status=500, error_detail="boom", **TEST_CONNECTION),
         "Entra's Test Connection arrived at 10:55 UTC and was answered 500: boom."),
        (event(status=404, operation="rejected", action="rejected: not found", error_detail="not found"),
         "A request arrived at 10:55 UTC and was refused with 404: not found."),
    ],
)
def test_refusals_in_words(refusal, words):
    assert entra.refusal_words(refusal, NOW, timezone.utc) == words


# --- Pages -------------------------------------------------------------------------------------

@pytest.fixture
def app_config():
    return {"PUBLIC_URL": "https://scim.contoso.com"}


@pytest.fixture
def admin(auth):
    auth.create()
    auth.sign_in()
    return auth


@pytest.fixture
def clock(clock):
    """The app's clock (conftest's) at NOW, for events recorded at set times."""
    clock.now = NOW
    return clock


def record(app, organization: str | None = "Contoso", **fields) -> None:
    """An event as the provisioning log writes it, at a time the test chooses."""
    with app.app_context():
        found = organization_by_name(organization) if organization else None
        made = event(**fields)
        made.organization_id = found.id if found else None
        db.session.add(made)
        db.session.commit()


def create_user(scim: ScimClient, user_name: str, email: str | None = None, **extra):
    body = {"schemas": [USER_URN], "userName": user_name, "active": True, **extra}
    if email:
        body["emails"] = [{"type": "work", "value": email, "primary": True}]
    response = scim.post("/Users", json=body)
    assert response.status_code == 201, response.text
    return response.get_json()


def create_group(scim: ScimClient, name: str, members: list[str] = ()):
    response = scim.post("/Groups", json={"schemas": [GROUP_URN], "displayName": name,
                                          "members": [{"value": m} for m in members]})
    assert response.status_code == 201, response.text


def text_of(fragment: str) -> str:
    """The words of some HTML, as a reader sees them (an address marked where it may break is
    one word)."""
    words = " ".join(html.unescape(re.sub(r"<[^>]+>", " ", without_breaks(fragment))).split())
    return re.sub(r" ([,.:;)])", r"\1", words)


def seen(page: str) -> tuple[str, str]:
    """The state and the summary in a step page's "What the server saw"."""
    paragraph = re.search(r'<p class="seen__summary">(.*?)</p>', page, re.S).group(1)
    state = re.search(r'class="badge badge--[\w-]+">(.*?)</span>', paragraph).group(1)
    return state, text_of(paragraph)[len(state):].strip()


def task_states(page: str) -> dict[int, str]:
    return {
        int(number): state
        for number, state in re.findall(
            r'<span class="visually-hidden">Step (\d): </span>.*?</span>\s*<span class="badge badge--[\w-]+">(.*?)</span>',
            page, re.S,
        )
    }


def step_page(client, number: int, **query) -> str:
    response = client.get(f"/wizard/step/{number}", query_string=query)
    assert response.status_code == 200
    return response.text


@pytest.mark.parametrize(
    "path", ["/", "/wizard", "/wizard/step/1", "/wizard/step/8", "/wizard/step/3/token", "/wizard/summary"]
)
def test_wizard_pages_need_sign_in(client, auth, path):
    auth.create()
    response = client.get(path)
    assert response.status_code == 302
    assert response.location.startswith("/sign-in?next=")


def test_a_fresh_organization_starts_at_step_one(client, admin):
    page = client.get("/wizard").text
    assert task_states(page) == {n: "Not started" for n in range(1, 9)}
    for title in ENTRA.step_titles:
        assert html.escape(title) in page
    assert "Next: " in page and "step 1, Create the app in Entra" in text_of(page)
    assert client.get("/").location == "/wizard"


@pytest.mark.parametrize("number", [0, 9, 99])
def test_unknown_steps_are_not_found(client, admin, number):
    assert client.get(f"/wizard/step/{number}").status_code == 404


def test_every_step_page_has_its_entra_instructions(client, admin):
    expectations = {
        1: ["Enterprise applications", "New application", "Create your own application",
            "Jericho Security SCIM", "Non-gallery", "Create"],
        2: ["Provisioning", "Get started", "again", "Provisioning Mode", "Automatic", "+ New configuration"],
        3: ["Tenant URL", "Secret Token", "https://scim.contoso.com/scim_v2"],
        4: ["Test Connection", "Save", "Check again"],
        5: ["Provision Microsoft Entra ID Groups", "Provision Microsoft Entra ID Users", "mail",
            "userName", "Entra's list calls it userPrincipalName; some guides misspell it userPrincipleName",
            "skipped", "Coalesce([mail],[userPrincipalName])", "restart"],
        6: ["Scope", "Sync only assigned users and groups", "Sync all users and groups"],
        7: ["Users and groups", "+ Add user/group", "direct members", "nested", "security groups",
            "Provision on demand"],
        8: ["Provisioning Status", "On", "40 minutes", "24 hours", "Users and groups in scope"],
    }
    for number, phrases in expectations.items():
        page = text_of(step_page(client, number))
        for phrase in phrases:
            assert phrase in page, (number, phrase)


def test_step_pages_link_to_their_neighbours_and_mark_the_current_step(client, admin):
    page = step_page(client, 4)
    assert 'href="/wizard/step/3" rel="prev"' in page
    assert 'href="/wizard/step/5" rel="next"' in page
    assert 'href="/wizard/step/4" aria-current="step"' in page
    assert 'href="/wizard/summary" rel="next"' in step_page(client, 8)


# Step 1 and 2 -------------------------------------------------------------------------------------

def test_steps_one_and_two_wait_for_entras_first_request_once_a_token_exists(app, client, admin, scim):
    assert seen(step_page(client, 1)) == ("Waiting for Entra", "This turns Done when Entra's first request arrives (step 4).")
    assert seen(step_page(client, 2))[0] == "Waiting for Entra"
    scim.get(GUID_FILTER)
    assert seen(step_page(client, 1))[0] == "Done"
    assert seen(step_page(client, 2)) == ("Done", "Entra is sending requests, so provisioning is set to Automatic.")


# Step 3 ---------------------------------------------------------------------------------------------

def test_tenant_url_from_public_url_has_no_warnings(client, admin):
    page = step_page(client, 3)
    assert '<code class="copyable__value" id="tenant-url">https://scim.contoso.com/scim_v2</code>' in page
    assert 'data-copy="tenant-url" hidden' in page  # the copy button exists once JavaScript runs
    assert "may not reach" not in page
    assert seen(page) == ("Not started", "Copy the Tenant URL and generate a Secret Token.")


@pytest.mark.parametrize("app_config", [{}])
def test_a_trial_on_this_computer_is_fine_for_a_trial(client, admin, scim):
    page = step_page(client, 3)
    assert "http://localhost/scim_v2" in page
    assert "Taken from the address your browser used" in text_of(page)
    assert "does not start with https://" in page
    assert "localhost is this computer itself" in page
    assert seen(page) == ("Fine for a trial", "Entra can only reach a public https URL, and "
                          "http://localhost/scim_v2 is not one. That is fine for a trial here; Entra "
                          "connects once the server has a public https address.")
    assert '<div class="note note--caution">' in page and 'class="warning"' not in page
    assert 'href="/wizard/deploy.md">docs/deploy.md</a>' in page
    guide = client.get("/wizard/deploy.md")
    assert guide.mimetype == "text/plain" and "PUBLIC_URL" in guide.text
    summary = client.get("/wizard/summary").text
    assert "Fine for a trial Step 3, Tenant URL and Secret Token: Entra can only reach" in text_of(summary)
    # The banner names the step that makes it amber, not the amber of users who need the admin.
    assert text_of(summary_banner(summary)).startswith("Fine for a trial Step 3, Tenant URL and Secret Token:")
    scim.get(GUID_FILTER)
    page = step_page(client, 3)
    assert seen(page)[0] == "Done"
    assert "Entra's requests arrive all the same" in page


def summary_banner(page: str) -> str:
    return re.search(r'<div class="sync-banner".*?</div>', page, re.S).group(0)


@pytest.mark.parametrize("app_config", [{"PUBLIC_URL": "http://scim.contoso.local"}])
def test_a_public_url_entra_cannot_reach_needs_attention(client, admin, scim):
    page = step_page(client, 3)
    assert seen(page) == ("Needs attention", "Entra cannot reach the Tenant URL http://scim.contoso.local/scim_v2: "
                          "set PUBLIC_URL to this server's public https address.")
    assert '<div class="warning">' in page
    assert 'href="/wizard/deploy.md">docs/deploy.md</a>' in page


def test_a_token_is_generated_shown_once_and_stored_hashed(app, client, admin):
    created = client.post("/wizard/step/3/token", data={"label": "Entra production"})
    assert (created.status_code, created.location) == (302, "/wizard/step/3")  # Reload never posts again
    response = client.get("/wizard/step/3")
    assert response.headers["Cache-Control"] == "no-store"
    secret = re.search(r'<code class="copyable__value" id="secret-token">([^<]+)</code>', response.text).group(1)
    assert secret.startswith("jer_")
    assert "shown only this once" in response.text
    assert seen(response.text)[0] == "Done"
    with app.app_context():
        token = db.session.execute(db.select(ScimToken)).scalar_one()
        assert token.secret_hash == hash_token(secret)
        assert token.label == "Entra production"
        assert token.secret_hash not in response.text

    again = step_page(client, 3)  # Reload, or Back to this page
    assert secret not in again
    assert token.prefix in again and "shown once" in again
    assert secret not in client.get("/tokens").text


def test_back_to_the_form_after_generating_a_token_is_calm(client, admin):
    client.post("/wizard/step/3/token", data={"label": "first"})
    step_page(client, 3)
    back = client.get("/wizard/step/3/token")
    assert back.status_code == 200
    assert "field__errors" not in back.text and "alert--error" not in back.text


def test_generating_again_asks_what_happens_to_the_old_token(app, client, admin):
    client.post("/wizard/step/3/token", data={"label": "first"})
    assert "secret-token" in step_page(client, 3)
    assert 'href="/wizard/step/3/token"' in step_page(client, 3)
    confirm = client.get("/wizard/step/3/token").text
    assert "What happens to the current token" in confirm
    assert "Revoke it now" in confirm and "Keep it working" in confirm
    assert "refused (401)" in confirm
    assert re.search(r'<input checked id="old_tokens-0"[^>]*value="revoke"', confirm)  # never used yet

    refused = client.post("/wizard/step/3/token", data={"label": "second"})
    assert "Choose what happens to the current token." in refused.text
    assert "secret-token" not in refused.text

    client.post("/wizard/step/3/token", data={"label": "second", "old_tokens": "revoke"})
    client.post("/wizard/step/3/token", data={"label": "third", "old_tokens": "keep"})
    with app.app_context():
        states = dict(db.session.execute(db.select(ScimToken.label, ScimToken.revoked_at)).all())
    assert states["first"] is not None
    assert states["second"] is None and states["third"] is None


def test_a_token_entra_uses_is_kept_by_default(client, admin, scim):
    scim.get(GUID_FILTER)
    confirm = client.get("/wizard/step/3/token").text
    assert re.search(r'<input checked id="old_tokens-1"[^>]*value="keep"', confirm), confirm


def test_step_three_needs_attention_when_every_token_is_revoked(app, client, admin, scim):
    with app.app_context():
        for token in db.session.execute(db.select(ScimToken)).scalars():
            token_revoke(prefix=token.prefix)
    assert seen(step_page(client, 3)) == ("Needs attention", "Every token is revoked: generate a new one for Entra.")
    assert 'action="/wizard/step/3/token"' in step_page(client, 3)


# Step 4 ---------------------------------------------------------------------------------------------

def test_step_four_before_anything_arrives(client, admin, scim):
    page = step_page(client, 4)
    assert seen(page) == (
        "Waiting for Entra",
        "Nothing has arrived yet — check the Tenant URL and that this server is reachable from the internet.",
    )
    assert "https://scim.contoso.com/scim_v2" in page
    assert '<button type="submit" class="button button--secondary">Check again</button>' in page
    assert 'role="status"' in page and "data-auto-refresh" in page


def test_step_four_without_a_token(client, admin):
    assert seen(step_page(client, 4)) == ("Not started", "Generate a token first (step 3).")


def test_entras_test_connection_turns_step_four_done(client, admin, scim):
    assert scim.get(GUID_FILTER).status_code == 200
    state, summary = seen(step_page(client, 4))
    assert state == "Done"
    assert re.fullmatch(r"Entra's Test Connection arrived at \d\d:\d\d UTC and was answered 200\.", summary)


def test_step_four_tells_the_time_of_the_test_connection(app, client, admin, scim, clock):
    record(app, minutes_ago=18, **TEST_CONNECTION)
    assert seen(step_page(client, 4)) == ("Done", "Entra's Test Connection arrived at 10:42 UTC and was answered 200.")
    assert "Last Test Connection: 10:42 UTC, answered 200." in text_of(step_page(client, 4))


def test_any_authenticated_request_proves_the_connection(app, client, admin, scim, clock):
    record(app, minutes_ago=3)
    assert seen(step_page(client, 4)) == (
        "Done", "A request from Entra arrived at 10:57 UTC and was answered 200 (look up user ava@contoso.com)."
    )


def test_a_revoked_token_needs_attention(app, client, admin, scim):
    scim.get(GUID_FILTER)
    with app.app_context():
        token_revoke(prefix=scim.token.split("_")[1])
    assert scim.get(GUID_FILTER).status_code == 401
    page = step_page(client, 4)
    state, summary = seen(page)
    assert state == "Needs attention"
    assert re.fullmatch(r"A request arrived at \d\d:\d\d UTC with a revoked token and was answered 401\.", summary)
    assert "Entra still has a token that was revoked" in page


@pytest.mark.parametrize("header", [{"Authorization": "Bearer jer_00000000_wrong"}, {}])
def test_a_bad_token_is_not_blamed_on_the_only_organization(app, client, admin, header):
    """Anyone can send one: it names no organization, so it sets no step's state."""
    new_token(app)
    for _ in range(25):
        assert client.get("/scim_v2" + GUID_FILTER, headers=header).status_code in (401, 429)
    assert seen(step_page(client, 4))[0] == "Waiting for Entra"


def test_a_bad_token_is_not_blamed_on_one_of_several_organizations(app, client, admin):
    new_token(app)
    new_token(app, "Fabrikam")
    client.get("/scim_v2" + GUID_FILTER, headers={"Authorization": "Bearer jer_00000000_wrong"})
    assert seen(step_page(client, 4))[0] == "Waiting for Entra"


def test_step_four_follows_the_latest_word_from_entra(app, client, admin, scim, clock):
    record(app, minutes_ago=10, status=401, operation="rejected", action="rejected: revoked token",
           error_detail="revoked token")
    record(app, minutes_ago=5, **TEST_CONNECTION)
    assert seen(step_page(client, 4))[0] == "Done"
    record(app, minutes_ago=1, status=500, error_detail="database unavailable", **TEST_CONNECTION)
    assert seen(step_page(client, 4)) == (
        "Needs attention", "Entra's Test Connection arrived at 10:59 UTC and was answered 500: database unavailable."
    )


# Step 5 -----------------------------------------------------------------------------------------------

def test_step_five_waits_for_the_first_user(client, admin, scim):
    scim.get(GUID_FILTER)
    assert seen(step_page(client, 5)) == ("Waiting for Entra", "This is checked when the first user arrives.")


def test_users_with_their_email_as_user_name_turn_step_five_done(client, admin, scim):
    create_user(scim, "Ava@Contoso.com", "ava@contoso.com")
    create_user(scim, "ben@contoso.com")
    assert seen(step_page(client, 5)) == ("Done", "The users received have their email address as userName.")


def test_step_five_names_the_attributes_jericho_keeps_but_does_not_use(client, admin, scim):
    create_user(scim, "ava@contoso.com", "ava@contoso.com", costCenterCode="4130", **{"<i>badge</i>": "7"})
    create_user(scim, "ben@contoso.com", "ben@contoso.com", costCenterCode="4140")
    page = step_page(client, 5)
    assert seen(page)[0] == "Done"
    assert ("Entra sends costCenterCode and <i>badge</i>, which Jericho keeps as received but does not use."
            in text_of(page))
    assert "<code>costCenterCode</code>" in page and "<i>badge" not in page  # escaped


def test_step_five_says_nothing_of_unused_attributes_when_there_are_none(client, admin, scim):
    create_user(scim, "ava@contoso.com", "ava@contoso.com")
    assert "does not use" not in step_page(client, 5)


@pytest.mark.parametrize(
    "user_name, email, reason",
    [
        ("ava_fabrikam.com#EXT#@contoso.onmicrosoft.com", "ava@fabrikam.com", document.GUEST_UPN),
        ("ava.lindqvist", "ava@contoso.com", document.NOT_EMAIL),
        ("ava.lindqvist@contoso.com", "ava@contoso.com", document.DIFFERS),
        ("ava@contoso.onmicrosoft.com", None, document.INITIAL_DOMAIN),
    ],
)
def test_wrong_user_name_mapping_needs_attention(client, admin, scim, user_name, email, reason):
    created = create_user(scim, user_name, email)
    create_user(scim, "ok@contoso.com", "ok@contoso.com")
    page = step_page(client, 5)
    state, summary = seen(page)
    assert state == "Some users need you"
    assert summary == ("1 of the last 2 users received have a userName that is not their email address: "
                       "map mail to userName. They keep arriving meanwhile, under that userName.")
    words = text_of(page)
    assert f"{user_name} {email or '—'} {reason}" in words
    assert f'href="/status/users/{created["id"]}"' in page or created["id"] in page
    for phrase in ("Provision Microsoft Entra ID Users", "Attribute Mappings", "customappsso Attribute",
                   "Source attribute", "Match objects using this attribute"):
        assert phrase in words
    assert task_states(client.get("/wizard").text)[5] == "Some users need you"


# Step 6 and 7 -------------------------------------------------------------------------------------

def test_scope_is_done_when_users_or_groups_arrive(client, admin, scim):
    assert seen(step_page(client, 6))[0] == "Not started"
    scim.get(GUID_FILTER)
    assert seen(step_page(client, 6)) == ("Waiting for Entra", "This turns Done when the first user or group arrives.")
    create_group(scim, "Finance")
    page = step_page(client, 6)
    assert seen(page)[0] == "Done"
    assert "Received so far: 0 users and 1 group." in text_of(page)


def test_step_seven_shows_the_provisioned_user_arriving(client, admin, scim):
    scim.get(GUID_FILTER)
    assert seen(step_page(client, 7)) == (
        "Waiting for Entra", "Assign one user, then use Provision on demand and watch it arrive."
    )
    scim.get('/Users?filter=userName+eq+%22ava%40contoso.com%22')
    created = create_user(scim, "ava@contoso.com", "ava@contoso.com", displayName="Ava Lindqvist")
    page = step_page(client, 7)
    state, summary = seen(page)
    assert state == "Done"
    assert re.fullmatch(r"ava@contoso\.com arrived at \d\d:\d\d UTC\.", summary)
    words = text_of(page)
    assert "Latest user received: Ava Lindqvist (ava@contoso.com)" in words
    assert "create user ava@contoso.com 201 OK" in words
    assert "look up user ava@contoso.com 200 OK" in words
    assert f'/status/users/{created["id"]}' in page


def test_step_seven_needs_attention_when_users_fail_to_arrive(app, client, admin, scim, clock):
    record(app, minutes_ago=30, **TEST_CONNECTION)
    record(app, minutes_ago=2, method="POST", status=400, operation="create", resource_type="User",
           action="create user ava@contoso.com", error_detail="invalid value")
    assert seen(step_page(client, 7)) == (
        "Needs attention",
        "1 request about users failed, and no user has arrived yet. Latest: create user ava@contoso.com (400).",
    )


# Step 8 ------------------------------------------------------------------------------------------------

def test_step_eight_waits_for_the_cycle_after_the_on_demand_user(client, admin, scim):
    assert seen(step_page(client, 8))[0] == "Not started"
    create_user(scim, "ava@contoso.com", "ava@contoso.com")
    assert seen(step_page(client, 8)) == (
        "Waiting for Entra", "Set Provisioning Status to On. Entra usually starts within about 40 minutes."
    )
    assert client.get("/").location == "/wizard"


def test_step_eight_shows_live_progress(app, client, admin, scim):
    ava = create_user(scim, "ava@contoso.com", "ava@contoso.com")
    ben = create_user(scim, "ben@contoso.com", "ben@contoso.com")
    create_group(scim, "Finance", [ava["id"], ben["id"]])
    page = step_page(client, 8)
    state, summary = seen(page)
    assert state == "Done"
    assert re.fullmatch(r"Provisioning is running: 2 users and 1 group received, last request at \d\d:\d\d UTC\.", summary)
    words = text_of(page)
    assert "Users received 2 Groups received 1 Group memberships 2" in words
    assert "create group Finance" in words
    with app.test_request_context():
        assert client.get("/").location == url_for("status.dashboard")


def test_step_eight_needs_attention_when_requests_fail(app, client, admin, scim):
    create_user(scim, "ava@contoso.com", "ava@contoso.com")
    create_user(scim, "ben@contoso.com", "ben@contoso.com")
    assert scim.post("/Users", json={"schemas": [USER_URN], "userName": "ava@contoso.com"}).status_code == 409
    page = step_page(client, 8)
    state, summary = seen(page)
    assert state == "Needs attention"
    assert summary.startswith("1 of the last 3 requests failed. Latest: create user ava@contoso.com (409).")
    assert "Latest failed requests" in page
    with app.test_request_context():
        assert f'href="{url_for("status.log")}"' in page


def test_step_eight_estimates_the_first_cycle_from_the_head_count(client, admin):
    page = text_of(step_page(client, 8, assigned="1000"))
    assert "between 10 minutes and 1 hour 20 minutes for 1000 users, groups and members" in page
    page = step_page(client, 8, assigned="1000")
    assert '<input type="hidden" name="assigned" value="1000">' in page  # "Check again" keeps it
    assert "Number must be between 1 and 10000000" in step_page(client, 8, assigned="0")
    assert "Not a valid integer value" in step_page(client, 8, assigned="many")
    assert "Enter how many users and groups are in scope." in step_page(client, 8, assigned="")
    assert "should take between" not in step_page(client, 8)


# Index, summary, "/" ------------------------------------------------------------------------------

def test_task_list_follows_the_evidence(client, admin, scim):
    scim.get(GUID_FILTER)
    create_user(scim, "ava@contoso.com", "ava@contoso.com")
    page = client.get("/wizard").text
    assert task_states(page) == {1: "Done", 2: "Done", 3: "Done", 4: "Done", 5: "Done", 6: "Done",
                                 7: "Done", 8: "Waiting for Entra"}
    assert "step 8, Start provisioning" in text_of(page)


def test_summary_lists_figures_warnings_and_the_way_on(app, client, admin, scim):
    create_user(scim, "ava.lindqvist", "ava@contoso.com")
    create_group(scim, "Finance")
    page = client.get("/wizard/summary").text
    words = text_of(page)
    assert "Users received 1 Groups received 1" in words
    assert "Some users need you Step 5, Mappings: 1 of the last 1 users received" in words
    with app.test_request_context():
        for endpoint in ("status.dashboard", "status.users", "status.groups", "status.log", "status.why",
                         "tokens.index"):
            assert f'href="{url_for(endpoint)}"' in page


def test_summary_without_warnings(client, admin, scim):
    scim.get(GUID_FILTER)
    create_user(scim, "ava@contoso.com", "ava@contoso.com")
    create_user(scim, "ben@contoso.com", "ben@contoso.com")
    page = client.get("/wizard/summary").text
    assert "Warnings None." in text_of(page)
    assert text_of(summary_banner(page)) == (
        "Nothing needs you What arrives is applied, and what failed is retried by itself.")


# Escaping, assets, isolation ------------------------------------------------------------------------

def test_directory_values_are_escaped(client, admin, scim):
    nasty = '<script>alert("x")</script>'
    create_user(scim, f"{nasty}@contoso.com", displayName="<img src=x onerror=alert(1)>")
    for page in (step_page(client, 5), step_page(client, 7), step_page(client, 8), client.get("/wizard").text):
        assert "<script>alert" not in page
        assert "<img src=x" not in page
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;@contoso.com" in step_page(client, 7)


ALL_PAGES = ["/wizard", *[f"/wizard/step/{n}" for n in range(1, 9)], "/wizard/step/3/token",
             "/wizard/summary", "/tokens"]


def test_pages_have_no_inline_code_and_load_only_local_assets(client, admin, scim):
    scim.get(GUID_FILTER)
    for path in ["/sign-in", *ALL_PAGES]:
        page = client.get(path).text
        for script in re.findall(r"<script\b[^>]*>", page):
            assert re.search(r'src="/static/[\w.]+"', script), (path, script)
        assert not re.search(r"<script\b[^>]*>(?!</script>)", page), path  # no inline script body
        assert not re.search(r"\son[a-z]+=", page), path  # no event handler attributes
        assert not re.search(r"\sstyle=", page), path
        for asset in re.findall(r'<(?:link|script|img)\b[^>]*(?:href|src)="([^"]+)"', page):
            assert asset.startswith("/static/"), (path, asset)


def test_forms_label_every_input(client, admin):
    for path in ["/wizard/step/3", "/wizard/step/8", "/tokens"]:
        page = client.get(path).text
        for input_id in re.findall(r'<input(?![^>]*type="(?:hidden|submit|checkbox)")[^>]*\sid="([^"]+)"', page):
            assert f'for="{input_id}"' in page, (path, input_id)


def test_an_admin_never_sees_another_organizations_setup(app, client, admin, other_scim):
    other_scim.get(GUID_FILTER)
    create_user(other_scim, "fiona@fabrikam.com", "fiona@fabrikam.com", displayName="Fiona Fabrikam")
    create_user(other_scim, "gus", "gus@fabrikam.com")
    create_group(other_scim, "Fabrikam Finance")
    with app.app_context():
        token_revoke(prefix=other_scim.token.split("_")[1])
    other_scim.get(GUID_FILTER)
    other_prefix = other_scim.token.split("_")[1]

    for path in ALL_PAGES:
        page = client.get(path).text
        for secret in ("fiona", "Fiona", "gus@", "Fabrikam", other_prefix):
            assert secret not in page, (path, secret)
    assert task_states(client.get("/wizard").text) == {n: "Not started" for n in range(1, 9)}
    assert client.get("/").location == "/wizard"
