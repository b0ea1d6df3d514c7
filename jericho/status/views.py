"""Sync status: what the identity provider sent and whether provisioning is healthy — the dashboard, users and
groups as received, the provisioning log, "why isn't this person here?", and CSV exports.

Views read the query string (filters.py), ask the query modules, and render; a query that finds
nothing answers None, and the view answers 404. Every page is for a signed-in admin and shows
only their organization: another organization's ids answer 404. No page is kept between views,
and none writes.
"""
from __future__ import annotations

from datetime import datetime
from typing import Iterator

from flask import Blueprint, Flask, Response, abort, current_app, render_template, request
from flask_login import current_user, login_required

from .. import text
from ..admin.web import shown_ids
from ..providers import Provider, provider_of
from ..scim import document
from ..scim.schema import GROUP, USER
from ..scim.unknown import unknown_attributes
from ..storage.models import ProvisioningEvent, utcnow
from ..storage.webhooks import consumers_summary
from . import dashboard as dashboard_queries
from . import directory, exports, log_queries, retention
from .causes import causes_of, scim_error_body
from .chart import CHART_RANGES
from .counts import counts_of, user_counts
from .cycles import first_sync_words
from .filters import OPERATION_WORDS, Cursor, GroupFilters, LogFilters, UserFilters, page_number
from .reasons import finding_of, reasons_of
from .why import why_evidence

bp = Blueprint("status", __name__, url_prefix="/status")


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
    retention.init_app(app)


def now() -> datetime:
    """The one clock of these pages, so tests can set the time."""
    return utcnow()


@bp.before_request
@login_required
def require_admin() -> None:
    """Every page here is for a signed-in admin."""


def organization_id() -> int:
    return current_user.organization_id


@bp.app_template_filter("cursor")
def cursor_text(cursor: Cursor) -> str:
    return cursor.text(shown_ids())


def identity_provider() -> Provider:
    """The organization's provider: the pages speak of its concepts."""
    return provider_of(current_user.organization.identity_provider)


@bp.context_processor
def page_helpers() -> dict:
    moment = now()
    provider = identity_provider()
    return {
        "ago": lambda value: text.ago(value, now=moment),
        "lasting": text.lasting,
        "first_sync_words": lambda sync: first_sync_words(sync, now=moment, zone=current_user.zone,
                                                          habits=provider.sync),
        "operation_words": OPERATION_WORDS,
        "operations": ProvisioningEvent.OPERATIONS,
        "causes_by_key": causes_of(provider),
        "scim_error_body": scim_error_body,
        "work_email": document.work_email,
        "person_name": document.person_name,
        "provider": provider,
    }


@bp.get("/")
def dashboard():
    chart_range = CHART_RANGES.get(request.args.get("range", ""), CHART_RANGES["24h"])
    data = dashboard_queries.dashboard_of(organization_id(), now=now(), zone=current_user.zone, chart_range=chart_range,
                                          provider=identity_provider())
    return render_template("status/dashboard.html", data=data, chart_range=chart_range,
                           chart_ranges=CHART_RANGES.values(), activity_limit=dashboard_queries.ACTIVITY_LIMIT,
                           consumers=consumers_summary(organization_id()))


@bp.get("/users")
def users():
    filters = UserFilters.from_args(request.args)
    all_counts = counts_of(organization_id())
    counts = all_counts.users
    page, rows = directory.users_page(organization_id(), filters, counts)
    # A list of the groups while they are few, else a name to type (kept once typed).
    groups = None if filters.group_name else directory.group_choices(organization_id(), groups=all_counts.groups)
    group = directory.group_of(organization_id(), filters.group) if filters.group and groups is None else None
    manager = (directory.user_of(organization_id(), filters.manager) or abort(404)) if filters.manager else None
    return render_template("status/users.html", filters=filters, page=page, rows=rows, groups=groups,
                           counts=counts, group=group, manager=manager)


@bp.get("/users/deleted")
def deleted_users():
    page, deletions = directory.deletions_page(organization_id(), page_number(request.args))
    return render_template("status/deleted_users.html", page=page, deletions=deletions,
                           counts=user_counts(organization_id()))


@bp.get("/users/<scim_id>")
def user(scim_id: str):
    detail = directory.user_detail(organization_id(), scim_id) or abort(404)
    return render_template(
        "status/user.html", detail=detail, user=detail.user,
        attributes=document.attribute_rows(detail.user.document),
        enterprise=document.enterprise_fields(detail.user.document),
        unused=unknown_attributes(detail.user.document, USER),
    )


@bp.get("/groups")
def groups():
    filters = GroupFilters.from_args(request.args)
    page, member_counts = directory.groups_page(organization_id(), filters)
    return render_template("status/groups.html", filters=filters, page=page, member_counts=member_counts)


@bp.get("/groups/<scim_id>")
def group(scim_id: str):
    detail = directory.group_detail(organization_id(), scim_id, page=page_number(request.args)) or abort(404)
    return render_template(
        "status/group.html", detail=detail, group=detail.group,
        attributes=document.attribute_rows(detail.group.document),
        unused=unknown_attributes(detail.group.document, GROUP),
    )


@bp.get("/log")
def log():
    filters = LogFilters.from_args(request.args)
    page = log_queries.events_page(
        organization_id(), filters,
        before=Cursor.parse(request.args.get("before"), shown_ids()),
        after=Cursor.parse(request.args.get("after"), shown_ids()),
    )
    return render_template("status/log.html", filters=filters, page=page, search_limit=log_queries.SEARCH_LIMIT,
                           retention_days=retention.retention_days(current_app),
                           unknown_tokens_shown=log_queries.unknown_tokens_shown())


@bp.get("/log/errors")
def errors():
    filters = LogFilters.from_args(request.args)
    groups = log_queries.error_groups(organization_id(), *log_queries.event_conditions(filters),
                                      causes=causes_of(identity_provider()))
    return render_template("status/errors.html", filters=filters, groups=groups)


@bp.get("/log/unknown-tokens")
def unknown_tokens():
    requests = log_queries.unknown_token_requests(limit=log_queries.PAGE_SIZE)
    if requests is None:  # several organizations: they are no admin's to see
        abort(404)
    return render_template("status/unknown_tokens.html", requests=requests, limit=log_queries.PAGE_SIZE)


@bp.get("/log/<event_ref>")
def event(event_ref: str):
    event_id = shown_ids().reveal(event_ref) or abort(404)
    detail = log_queries.event_detail(organization_id(), event_id, causes_of(identity_provider()))
    return render_template("status/event.html", detail=detail or abort(404))


@bp.get("/why")
def why():
    query = request.args.get("q", "").strip()
    provider = identity_provider()
    evidence = why_evidence(organization_id(), query, now=now(), provider=provider) if query else None
    return render_template(
        "status/why.html", query=query, evidence=evidence,
        finding=finding_of(evidence) if evidence else None,
        reasons=reasons_of(evidence, provider.reasons, provider.reason_order) if evidence else [],
    )


@bp.get("/export/users.csv")
def export_users():
    filters = UserFilters.from_args(request.args)
    return _csv("users", exports.users_csv(current_app._get_current_object(), organization_id(), filters))


@bp.get("/export/log.csv")
def export_log():
    filters = LogFilters.from_args(request.args)
    return _csv("log", exports.log_csv(current_app._get_current_object(), organization_id(), filters, shown_ids()))


def _csv(kind: str, chunks: Iterator[str]) -> Response:
    name = exports.filename(kind, current_user.organization.name, now())
    return Response(
        chunks,
        mimetype="text/csv",
        headers={
            "Content-Disposition": f'attachment; filename="{name}"',
            "Cache-Control": "no-store",  # a list of people and their details
        },
    )
