"""Okta: the eight steps of its Admin Console, from a SAML or SWA app integration with SCIM
provisioning to assigned people and pushed groups ("Okta and SCIM Version 2.0" and Okta's guide to
connecting a SCIM service), and its words for the sync status pages.

Okta differs from Entra where the admin sees it: it sends a change as soon as it happens (no
provisioning cycle to wait for), it tests the connection by listing two users, it never deletes a
user (a deactivated user is how someone leaves), and userName is the application username, whose
format the app's Sign On settings choose."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone, tzinfo

from ..storage.models import ProvisioningEvent
from ..text import clock, counted
from .base import (
    OKTA_KEY,
    CauseWords,
    Evidence,
    Provider,
    Reason,
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

APP = "Okta Admin Console > Applications > Applications > your Jericho app"
TASKS = "Okta Admin Console > Dashboard > Tasks"

# Okta sends each change as it happens and nothing while nothing changes: no cycle, and a silence of
# any length is a quiet directory. An assignment of a group sends its people one after another, so
# requests a few minutes apart still belong to one batch.
SYNC = SyncHabits(
    cycle_gap=timedelta(minutes=10),
    stale_after=None,
    cycle="batch",
    cycles_heading="Batches of changes",
    cycles_intro=(
        "Requests grouped by the pauses between them: Okta sends each change as soon as it happens "
        "(an assignment, a profile update, a pushed group), and nothing while nothing changes."),
    test_label="Test Connector Configuration",
    small_label="A small change",
    waiting=(
        "In Okta, open the app's Provisioning > Integration, enter the SCIM connector base URL and "
        "the token from the setup guide, and click Test Connector Configuration."),
    silence=(
        "Okta sends a change as soon as it happens and nothing while nothing changes, so a quiet "
        "time is normal. If someone changed in Okta and did not arrive, check the app's Assignments "
        f"and {TASKS}, where a failed task waits to be retried."),
    retries=f"Okta lists each failed task in {TASKS}, where it can be retried.",
    first_sync_partial=(
        "Only one user or group has arrived so far: Okta sends people as soon as they are assigned "
        "to the app (Assignments) with Create Users on, and groups once they are pushed."),
    first_sync_pending=(
        "Nobody has been created yet: Okta creates people as soon as they are assigned to the app, "
        "with Create Users on (Provisioning > To App)."),
    first_sync_earlier="The first people arrived earlier; Okta now sends each change as it happens.",
)

TOKEN_PASTE = (
    "In Okta, open the app's Provisioning > Integration, click Edit, paste it as the Authorization "
    "token (HTTP Header), click Test Connector Configuration, then Save."
)
TOKEN_FIX = f"Create a token on the Tokens page. {TOKEN_PASTE}"
CAUSES = {**common_causes("Okta", TOKEN_FIX), **{key: CauseWords(title, fix) for key, title, fix in (
    ("no_token", "Requests without a token", (
        "Okta sends its token in the Authorization header when Authentication Mode is HTTP Header, "
        "so these come from something else. If they come from Okta, check Provisioning > "
        "Integration: HTTP Header, with the token.")),
    ("user_conflict", "A user with the same userName is already here", (
        "Okta looks a person up by userName before creating them, so this usually comes from an "
        "update: someone's application username changed in Okta to one another user here already "
        "has. Find the user here by that userName; in Okta, compare both people on the app's "
        f"Assignments and the username format (Sign On > Settings), then retry the task in {TASKS}.")),
    ("group_conflict", "A group with the same name is already here", (
        "Push Groups needs unique group names here (displayName). Rename one of the groups in Okta, "
        "then push it again from the app's Push Groups tab.")),
    ("missing_member", "A group member has not been provisioned here", (
        "Okta adds members by the id this server gave the user; that user is missing here (not "
        "assigned to the app, or deleted here). Assign the person to the app (Assignments), then "
        "choose Push now for the group on the Push Groups tab.")),
    ("unsupported_filter", "A query this server cannot answer", (
        "Okta looks users up by userName and groups by displayName; another filter comes from a "
        "custom attribute or another client. Open an example: it names the filter.")),
    ("unknown_object", "Okta refers to a user or group that is no longer here", (
        "It was deleted here, but Okta still has its id. For a person, remove their assignment in "
        "Okta and assign them again; for a group, unlink it on the Push Groups tab and push it "
        "again.")),
    ("wrong_address", "Okta calls an address this server does not serve", (
        "SCIM connector base URL in Okta (Provisioning > Integration) must be this server's address "
        "followed by /scim_v2 and nothing else: copy it from the setup guide.")),
    ("changed_meanwhile", "The object changed in between", (
        f"Another request changed it first (If-Match). Nothing to do unless it persists: then retry "
        f"the task in {TASKS}.")),
    ("too_large", "A request too large", (
        "Too many members or too large a body in one request. Push the group again from the Push "
        "Groups tab; if it persists, tell the server operator.")),
    ("rejected_value", "Okta sent a value this server refused", (
        "The error detail names the attribute. Check its mapping in Okta (Provisioning > To App > "
        "Attribute Mappings): a source without a value, or an attribute this server does not know.")),
    ("server_error", "An error in this server", (
        f"The server's log has the details. Okta lists the failed task in {TASKS}, where it can be "
        "retried once the server is fixed.")),
)}}


def refusal_words(event: ProvisioningEvent, now: datetime, zone: tzinfo = timezone.utc) -> str:
    return _refusal_words(event, now, zone, who="Okta", test="Test Connector Configuration")


def _app_integration(e: Evidence) -> tuple[State, str]:
    if e.heard:
        return State.DONE, "Requests from your Okta app have arrived, so its SCIM provisioning is on."
    if e.tokens:
        return State.WAITING, "This turns Done when Okta's first request arrives (step 6)."
    return State.NOT_STARTED, "Create a SAML 2.0 or SWA app integration and enable SCIM provisioning."


def _base_url(e: Evidence) -> tuple[State, str]:
    if e.connected:
        return State.DONE, "Okta reaches this server at the base URL."
    if e.url_warnings:
        return unreachable(e, who="Okta", setting="base URL")
    if e.tokens:
        return State.WAITING, "This turns Done when Okta's first request arrives (step 6)."
    return State.NOT_STARTED, "Copy the base URL into SCIM connector base URL."


def _unique_identifier(e: Evidence) -> tuple[State, str]:
    if e.mapping.affected:
        return State.SOME_USERS, (
            f"{e.mapping.affected} of the last {e.mapping.examined} users received have a userName "
            "that is not their email address: set the application username format to Email. They "
            "keep arriving meanwhile, under that userName."
        )
    if e.users:
        return State.DONE, "The users received have their email address as userName."
    if e.connected:
        return State.WAITING, "This is checked when the first user arrives."
    return State.NOT_STARTED, "Set Unique identifier field for users to userName."


def _provisioning_actions(e: Evidence) -> tuple[State, str]:
    if e.users or e.groups:
        return State.DONE, "Okta pushes users or groups, so the actions are on."
    if e.connected:
        return State.WAITING, "This turns Done when Okta pushes its first user or group."
    return State.NOT_STARTED, "Select Push New Users, Push Profile Updates and Push Groups."


def _authentication(e: Evidence) -> tuple[State, str]:
    if not e.tokens:
        return State.NOT_STARTED, "Choose HTTP Header and generate a token."
    return revoked_tokens(e, who="Okta") or (State.DONE, active_tokens_words(e))


def _test_connector(e: Evidence) -> tuple[State, str]:
    return connection_test_state(e, who="Okta", test="Test Connector Configuration", address="base URL",
                                 token_step=5)


def _to_app(e: Evidence) -> tuple[State, str]:
    if e.latest_user is not None:
        return State.DONE, (
            f"Okta created {e.latest_user.user_name} at {clock(e.latest_user.created_at, e.now, e.zone)}, "
            "so Create Users is on."
        )
    if failing := failing_users(e):
        return failing
    if e.connected:
        return State.WAITING, "This turns Done when Okta creates the first user it is given (step 8)."
    return State.NOT_STARTED, "Enable Create Users, Update User Attributes and Deactivate Users."


def _assign_and_push(e: Evidence) -> tuple[State, str]:
    if failing := failing_requests(e, "Okta", SYNC):
        return failing
    if e.users or e.groups:
        return State.DONE, (
            f"Okta has sent {counted(e.users, 'user')} and {counted(e.groups, 'group')}, "
            f"last request at {last_request_time(e)}."
        )
    if e.connected:
        return State.WAITING, "Assign people and push groups: Okta sends them within moments."
    return State.NOT_STARTED, "Assign people to the app and push groups."


OKTA = Provider(
    key=OKTA_KEY,
    name="Okta",
    short_name="Okta",
    cloud="Okta's cloud",
    console="the Okta Admin Console",
    steps=(
        Step("Create the app integration", _app_integration),
        Step("SCIM connector base URL", _base_url),
        Step("Unique identifier: userName", _unique_identifier),
        Step("Supported provisioning actions", _provisioning_actions),
        Step("Authentication: HTTP Header", _authentication),
        Step("Test Connector Configuration", _test_connector),
        Step("To App: create, update, deactivate", _to_app),
        Step("Assign people and push groups", _assign_and_push),
    ),
    step_template="wizard/okta/step{number}.html",
    token_step=5,
    # Okta's reference: "Okta doesn't perform DELETE operations on User objects"; a user suspended,
    # deactivated or unassigned in Okta gets `active` false.
    deactivation=(
        "Okta deactivates a user here when they are unassigned from the app, or deactivated or "
        "suspended in Okta. Okta never deletes users: a deactivated user is how someone leaves."),
    deactivation_check="Okta Admin Console > Directory > People > the person (their status), and the app's Assignments.",
    deleted_by="This user was deleted here",
    deletion=(
        "Okta never deletes users (it deactivates them), so a deletion here came from another "
        "client with a token of this organization."),
    deletion_undo="If they should be here, remove their assignment in Okta and assign them again.",
    attempt_log="Okta's System Log (Reports > System Log) shows the same attempt and its outcome.",
    checking=(
        "In Okta, open the app's Assignments and find the person. A push that failed is listed under "
        "Dashboard > Tasks with the answer this server gave, and Reports > System Log has the details."),
    # Group Push sends the members who are assigned to the app and active in Okta; a manager is the
    # value its attribute mapping gives, not this server's id of them.
    members_sent=(
        "Okta pushes only the members of a group who are assigned to the app and active in Okta: "
        "the group's other people do not arrive."),
    members_check=(
        "Check in the Okta Admin Console > Directory > Groups > {group} > People, and the app's Push "
        "Groups tab."),
    memberships_shown="Memberships of the groups Okta pushes.",
    manager_missing=(
        "Okta sends the manager value its attribute mapping gives, which is often not this server's "
        "id of them"),
    token_field="Authorization",
    token_paste=TOKEN_PASTE,
    reasons={reason.key: reason for reason in (
        Reason(
            "not_assigned", "Not assigned to the app",
            "Okta sends only people assigned to the app, directly or through a group on its "
            "Assignments tab. Push Groups sends a group and its members who are assigned, not the "
            "group's other people.",
            f"{APP} > Assignments: is the person, or a group they are in, listed?"),
        Reason(
            "create_users_off", "Create Users is off",
            "Okta creates people here only while Create Users is enabled on the app's To App "
            "settings; without it, Okta only looks the person up and lists a task (“Matching user "
            "not found”).",
            f"{APP} > Provisioning > To App: Create Users."),
        Reason(
            "push_failed", "Okta's push failed",
            "When this server refuses a user, Okta lists the error as a task, where it can be "
            "retried.",
            "Okta Admin Console > Dashboard > Tasks, and Reports > System Log: search the person."),
        Reason(
            "other_name", "Here under another userName",
            "userName here is the person's application username, in the format the app's Sign On "
            "settings choose (Okta username, email, …): search by their name.",
            f"{APP} > Sign On > Settings > Credentials Details: Application username format."),
        Reason(
            "deactivated", "Deactivated or suspended in Okta",
            "Okta provisions active people: someone deactivated or suspended in Okta is not "
            "created here, and is deactivated here when it happens later.",
            "Okta Admin Console > Directory > People > the person: their status."),
    )},
    sync=SYNC,
    causes=CAUSES,
    reason_order=("not_assigned", "create_users_off", "push_failed", "other_name", "deactivated"),
)
