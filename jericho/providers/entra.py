"""Microsoft Entra ID: the eight steps of its admin center, from the enterprise app to the start of
provisioning (ENTRA.md), how it sends (a cycle about every 40 minutes), and its words for the sync
status pages and the causes of failed requests. Its "why" reasons are the status pages' own
(status/reasons.py), written for Entra first."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone, tzinfo

from ..storage.models import ProvisioningEvent
from ..text import clock, counted
from .base import (
    ENTRA_KEY,
    CauseWords,
    Evidence,
    Provider,
    State,
    Step,
    SyncHabits,
    active_tokens_words,
    common_causes,
    connection_test_state,
    failing_requests,
    failing_users,
    last_request_time,
    revoked_tokens,
    unreachable,
)
from .base import refusal_words as _refusal_words

# Entra starts a provisioning cycle about every 40 minutes (ENTRA.md §6). Requests less than half a
# cycle apart belong to the same cycle; no request for about two cycles after provisioning started:
# Entra may have paused the job.
CYCLE_INTERVAL = timedelta(minutes=40)

SYNC = SyncHabits(
    cycle_gap=CYCLE_INTERVAL / 2,
    stale_after=2 * CYCLE_INTERVAL,
    cycle="cycle",
    cycles_heading="Sync cycles",
    cycles_intro=(
        "Requests grouped by the pauses between them: Entra runs a cycle about every 40 minutes. A "
        "cycle with nothing to change in the directory sends no request."),
    test_label="Test Connection",
    small_label="Provision on demand, or a small change",
    waiting=(
        "In Entra, open the app's Provisioning page, enter the Tenant URL and Secret Token from the "
        "setup guide, and click Test Connection."),
    silence=(
        "Entra runs about every 40 minutes, and a cycle with no change in the directory sends "
        "nothing. If people changed in Entra and did not arrive, open the app's Provisioning page "
        "in Entra: the job may be paused, stopped or in quarantine."),
    paused="Entra may have put the job in quarantine (its Provisioning page says so).",
    retries="Entra retries them on later cycles.",
    first_sync_partial=(
        "Only what Provision on demand sends has arrived so far: the first sync starts when "
        "Provisioning Status is On in Entra."),
    first_sync_pending=(
        "The first sync has not started: it begins when Provisioning Status is On in Entra, usually "
        "within 40 minutes."),
    first_sync_earlier="The first sync finished earlier; later cycles send only what changes in Entra.",
)

TOKEN_PASTE = (
    "In Entra, open the app's Provisioning page, paste it into Secret Token under Admin Credentials, "
    "click Test Connection, then Save."
)
TOKEN_FIX = f"Create a token on the Tokens page. {TOKEN_PASTE}"
CAUSES = {**common_causes("Entra", TOKEN_FIX), **{key: CauseWords(title, fix) for key, title, fix in (
    ("no_token", "Requests without a token", (
        "Entra always sends its Secret Token, so these come from something else. If they come from "
        "Entra, fill in Secret Token on its Provisioning page.")),
    ("user_conflict", "A user with the same userName is already here", (
        "Two users in Entra map to the same userName (often the same mail), or a user was deleted "
        "and created again in Entra. Find the user here by that userName; in Entra, compare both "
        "users' mail and userPrincipalName, and check which source attribute is mapped to userName "
        "(Provisioning > Mappings > Provision Microsoft Entra ID Users).")),
    ("group_conflict", "A group with the same name is already here", (
        "Entra needs unique group names (displayName). Rename one of the groups in Entra, or remove "
        "the duplicate from the app's Users and groups.")),
    ("missing_member", "A group member has not been provisioned here", (
        "Entra adds members by the id this server gave the user; that user is missing here (never "
        "provisioned, or deleted). Check that the member is assigned to the app and in scope; after "
        "fixing, Restart provisioning in Entra so memberships are sent again.")),
    ("unsupported_filter", "A query this server cannot answer", (
        'Matching attributes in Entra must be userName, externalId or emails[type eq "work"].value '
        "for users and displayName for groups (Provisioning > Mappings > the object > Matching "
        "precedence).")),
    ("unknown_object", "Entra refers to a user or group that is no longer here", (
        "It was deleted here, but Entra still has its id (InvalidAnchor in Entra's provisioning "
        "logs). In Entra, Restart provisioning (Provisioning > Overview) so it matches the objects "
        "again.")),
    ("wrong_address", "Entra calls an address this server does not serve", (
        "The Tenant URL in Entra must be this server's address followed by /scim_v2 and nothing "
        "else: copy it from the setup guide.")),
    ("changed_meanwhile", "The object changed in between", (
        "Another request changed it first (If-Match). Entra retries; nothing to do unless it "
        "persists.")),
    ("too_large", "A request too large", (
        "Too many members or too large a body in one request. Entra retries with the change on "
        "later cycles; if it persists, tell the server operator.")),
    ("rejected_value", "Entra sent a value this server refused", (
        "The error detail names the attribute. Check its mapping in Entra (Provisioning > "
        "Mappings): a source without a value, or a target attribute this server does not know.")),
    ("server_error", "An error in this server", (
        "The server's log has the details. Entra retries failed objects on later cycles.")),
)}}


def refusal_words(event: ProvisioningEvent, now: datetime, zone: tzinfo = timezone.utc) -> str:
    return _refusal_words(event, now, zone, who="Entra", test="Test Connection")


def _create_app(e: Evidence) -> tuple[State, str]:
    if e.heard:
        return State.DONE, "Requests from your Entra app have arrived, so the app exists."
    if e.tokens:
        return State.WAITING, "This turns Done when Entra's first request arrives (step 4)."
    return State.NOT_STARTED, "Create an enterprise application in the Entra admin center."


def _provisioning_mode(e: Evidence) -> tuple[State, str]:
    if e.heard:
        return State.DONE, "Entra is sending requests, so provisioning is set to Automatic."
    if e.tokens:
        return State.WAITING, "This turns Done when Entra's first request arrives (step 4)."
    return State.NOT_STARTED, "Set Provisioning Mode to Automatic."


def _credentials(e: Evidence) -> tuple[State, str]:
    if not e.tokens:
        return State.NOT_STARTED, "Copy the Tenant URL and generate a Secret Token."
    if revoked := revoked_tokens(e, who="Entra"):
        return revoked
    if e.url_warnings and not e.connected:
        return unreachable(e, who="Entra", setting="Tenant URL")
    return State.DONE, active_tokens_words(e)


def _test_connection(e: Evidence) -> tuple[State, str]:
    return connection_test_state(e, who="Entra", test="Test Connection", address="Tenant URL", token_step=3)


def _mappings(e: Evidence) -> tuple[State, str]:
    if e.mapping.affected:
        return State.SOME_USERS, (
            f"{e.mapping.affected} of the last {e.mapping.examined} users received have a userName "
            "that is not their email address: map mail to userName. They keep arriving meanwhile, "
            "under that userName."
        )
    if e.users:
        return State.DONE, "The users received have their email address as userName."
    if e.connected:
        return State.WAITING, "This is checked when the first user arrives."
    return State.NOT_STARTED, "Map the source attribute mail to the target attribute userName."


def _scope(e: Evidence) -> tuple[State, str]:
    if e.users or e.groups:
        return State.DONE, "Users or groups in scope are arriving."
    if e.connected:
        return State.WAITING, "This turns Done when the first user or group arrives."
    return State.NOT_STARTED, "Set Scope to “Sync only assigned users and groups”."


def _assign(e: Evidence) -> tuple[State, str]:
    if e.latest_user is not None:
        return State.DONE, (
            f"{e.latest_user.user_name} arrived at {clock(e.latest_user.created_at, e.now, e.zone)}."
        )
    if failing := failing_users(e):
        return failing
    if e.connected:
        return State.WAITING, "Assign one user, then use Provision on demand and watch it arrive."
    return State.NOT_STARTED, "Assign users and groups to the app in Entra."


def _start(e: Evidence) -> tuple[State, str]:
    if failing := failing_requests(e, "Entra", SYNC):
        return failing
    if e.flowing:
        return State.DONE, (
            f"Provisioning is running: {counted(e.users, 'user')} and "
            f"{counted(e.groups, 'group')} received, last request at {last_request_time(e)}."
        )
    if e.users:
        return State.WAITING, (
            "Set Provisioning Status to On. Entra usually starts within about 40 minutes."
        )
    return State.NOT_STARTED, "Set Provisioning Status to On when the test user has arrived."


ENTRA = Provider(
    key=ENTRA_KEY,
    name="Microsoft Entra ID",
    short_name="Entra",
    cloud="Microsoft's cloud",
    console="the Entra admin center",
    steps=(
        Step("Create the app in Entra", _create_app),
        Step("Provisioning mode", _provisioning_mode),
        Step("Tenant URL and Secret Token", _credentials),
        Step("Test Connection", _test_connection),
        Step("Mappings", _mappings),
        Step("Scope", _scope),
        Step("Assign users and groups", _assign),
        Step("Start provisioning", _start),
    ),
    step_template="wizard/step{number}.html",
    token_step=3,
    deactivation=(
        "Entra deactivates a user here when they are unassigned from the app, leave its scope, are "
        "disabled, or are deleted in Entra (deleted users are usually deleted here 30 days later)."),
    deactivation_check="Entra admin center > Users > the person (Account enabled), and the app's Users and groups.",
    deleted_by="Entra deleted this user here",
    deletion=(
        "Entra deletes a user here when it deletes them for good (usually 30 days after they were "
        "deleted in Entra), or when the app is set to delete instead of deactivate."),
    deletion_undo="If they should be here, restore or assign them in Entra; the next cycle creates them again.",
    attempt_log="Entra's Provisioning logs show the same attempt and its outcome.",
    checking=(
        "In Entra, open the app's Provision on demand, pick the person and click Provision. Entra "
        "shows whether they are in scope, what it would send, and what this server answered."),
    # Entra provisions direct members only (ENTRA.md), and a manager by the id this server gave them.
    members_sent=(
        "Entra sends only the direct members of a group: people who are members through a group "
        "nested inside it do not arrive. Members that are not assigned to the app, or fall outside a "
        "scoping filter, are left out too."),
    members_check="Check in the Entra admin center > Groups > {group} > Members, and in the app's Provisioning logs.",
    memberships_shown="Direct memberships, as Entra sends them.",
    manager_missing="Entra sends a manager only once they are provisioned too",
    token_field="Secret Token",
    token_paste=TOKEN_PASTE,
    sync=SYNC,
    causes=CAUSES,
)
