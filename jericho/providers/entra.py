"""Microsoft Entra ID: the eight steps of its admin center, from the enterprise app to the start of
provisioning (ENTRA.md), and its words for the sync status pages. Its "why" reasons are the status
pages' own (status/reasons.py), written for Entra first."""
from __future__ import annotations

from datetime import datetime, timezone, tzinfo

from ..storage.models import ProvisioningEvent
from ..text import clock, counted
from .base import (
    ENTRA_KEY,
    Evidence,
    Provider,
    State,
    Step,
    active_tokens_words,
    connection_test_state,
    failing_requests,
    failing_users,
    last_request_time,
    revoked_tokens,
    unreachable,
)
from .base import refusal_words as _refusal_words


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
        return State.ATTENTION, (
            f"{e.mapping.affected} of the last {e.mapping.examined} users received have a userName "
            "that is not their email address: map mail to userName."
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
    if failing := failing_requests(e):
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
)
