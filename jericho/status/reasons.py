"""Why isn't this person here? What was received about them, and the likely reasons, in order.

Pure functions over plain values (no Flask, no queries).
"""
from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime
from typing import Mapping, Sequence

from ..providers import Reason
from .causes import ErrorGroup
from .cycles import FirstSync, FirstSyncState


class Finding(enum.Enum):
    HERE = "here"
    DEACTIVATED = "deactivated"
    DELETED = "deleted"
    REFUSED = "refused"  # Entra tried; this server answered with an error
    LOOKED_UP = "looked up"  # Entra asked for them and created nothing
    NEVER_SEEN = "never seen"


@dataclass(frozen=True)
class Person:
    id: str
    user_name: str
    display_name: str | None
    active: bool


@dataclass(frozen=True)
class WhyEvidence:
    query: str
    now: datetime
    exact: Person | None
    similar: Sequence[Person]
    deleted_at: datetime | None  # the latest deletion of this userName
    looked_up_at: datetime | None  # the latest lookup of this value by Entra
    refusals: Sequence[ErrorGroup]  # failed requests that name this value
    first_sync: FirstSync
    users: int  # users here
    mail_mapped: bool | None  # userName looks mapped from mail; None: no user to tell
    domains: frozenset[str]  # the email domains of the userNames here
    empty_groups: int


# The likely reasons in their usual order; evidence moves some of them up or leaves them out.
APP = "Entra admin center > Enterprise applications > your Jericho app"
REASONS = {
    "not_yet": Reason(
        "not_yet", "The sync has not reached them yet",
        "Entra's first sync takes from minutes to hours, depending on how many users, groups and "
        "memberships are in scope; later cycles run about every 40 minutes and only send changes.",
        f"{APP} > Provisioning: the progress bar and the time of the last cycle. Provision on demand "
        "sends one user at once."),
    "not_assigned": Reason(
        "not_assigned", "Not assigned to the app",
        "With the scope “Sync only assigned users and groups”, Entra sends only users assigned to "
        "the app, directly or through a group assigned to it.",
        f"{APP} > Users and groups: is the person, or a group they are a direct member of, listed?"),
    "nested_group": Reason(
        "nested_group", "Only in a nested group",
        "Entra provisions the direct members of an assigned group only: members of a group inside "
        "that group are not sent.",
        "Entra admin center > Groups > the assigned group > Members: assign the nested group itself "
        "to the app, or add the person directly."),
    "no_mailbox": Reason(
        "no_mailbox", "No mailbox while mail is mapped to userName",
        "userName here comes from the mail attribute; Entra skips users whose mail is empty "
        "(“Skipped”, MandatoryFieldsMissing in Entra's provisioning logs).",
        "Entra admin center > Users > the person > Properties > Email; "
        f"{APP} > Provisioning logs, search the person."),
    "other_name": Reason(
        "other_name", "Here under another userName",
        "userName here is not their email address, or they use another domain (a guest's userName "
        "can look like name_contoso.com#EXT#@…): search by their name.",
        f"{APP} > Provisioning > Mappings > Provision Microsoft Entra ID Users: the source of userName."),
    "disabled": Reason(
        "disabled", "Disabled in Entra",
        "Entra does not create users whose account is disabled, and deactivates them here when "
        "they are disabled later.",
        "Entra admin center > Users > the person > Properties: Account enabled."),
    "scoping_filter": Reason(
        "scoping_filter", "Outside a scoping filter",
        "An attribute scoping filter (department, country, …) leaves out users that do not match it.",
        f"{APP} > Provisioning > Mappings > Provision Microsoft Entra ID Users > Source Object Scope."),
}
USUAL_ORDER = ("not_assigned", "nested_group", "no_mailbox", "other_name", "disabled", "not_yet",
               "scoping_filter")


def finding_of(e: WhyEvidence) -> Finding:
    if e.exact is not None:
        return Finding.HERE if e.exact.active else Finding.DEACTIVATED
    if e.deleted_at is not None:
        return Finding.DELETED
    if e.refusals:
        return Finding.REFUSED
    if e.looked_up_at is not None:
        return Finding.LOOKED_UP
    return Finding.NEVER_SEEN


def reasons_of(e: WhyEvidence, reasons: Mapping[str, Reason] | None = None,
               usual_order: Sequence[str] | None = None) -> list[Reason]:
    """Why someone never arrived, the likeliest first; nothing when they are, or were, here.
    `reasons` and their `usual_order` are the identity provider's; None: Entra's, above."""
    if finding_of(e) in (Finding.HERE, Finding.DEACTIVATED, Finding.DELETED):
        return []
    reasons = REASONS if reasons is None else reasons
    order = list(USUAL_ORDER if usual_order is None else usual_order)
    if e.first_sync.state in (FirstSyncState.NOT_STARTED, FirstSyncState.ON_DEMAND_ONLY,
                              FirstSyncState.IN_PROGRESS):
        _move_first(order, "not_yet")
    if e.mail_mapped is False or "@" not in e.query:
        _leave_out(order, "no_mailbox")  # a missing mailbox stops only a mail-based userName
    domain = e.query.rpartition("@")[2].lower()
    if not (e.similar or e.mail_mapped is False or (domain and e.domains and domain not in e.domains)):
        _leave_out(order, "other_name")
    elif e.similar:
        _move_first(order, "other_name")
    return [reasons[key] for key in order]


def _leave_out(order: list[str], key: str) -> None:
    if key in order:  # a provider may not have this reason at all
        order.remove(key)


def _move_first(order: list[str], key: str) -> None:
    if key in order:
        order.remove(key)
        order.insert(0, key)
