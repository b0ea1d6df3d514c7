"""Sync status: what Entra sent and whether provisioning is healthy — the dashboard, users and
groups as received, the provisioning log, "why isn't this person here?", and CSV exports.

Views read the query string, ask `status_data` and `insights`, and render. Every page is for a
signed-in admin and shows only their organization: another organization's ids answer 404.
"""
from __future__ import annotations

from datetime import datetime
from typing import Iterator

from flask import Blueprint, Flask, Response, current_app, render_template, request
from flask_login import current_user, login_required
from markupsafe import Markup

from . import exports, insights, retention, data as status_data
from .insights import CHART_RANGES, OPERATION_WORDS, FirstSyncState
from ..storage.models import ProvisioningEvent, utcnow
from ..storage.webhooks import consumers_summary
from ..wizard.onboarding import work_email
from .data import Cursor, GroupFilters, LogFilters, UserFilters

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


@bp.context_processor
def page_helpers() -> dict:
    moment = now()
    return {
        "ago": lambda value: insights.ago(value, now=moment),
        "lasting": insights.lasting,
        "plural": insights.plural,
        "first_sync_words": lambda sync: insights.first_sync_words(sync, now=moment),
        "operation_words": OPERATION_WORDS,
        "operations": ProvisioningEvent.OPERATIONS,
        "causes_by_key": insights.CAUSES_BY_KEY,
        "scim_error_body": insights.scim_error_body,
        "work_email": work_email,
        "person_name": insights.person_name,
        "department": insights.department,
    }


@bp.get("/")
def dashboard():
    chart_range = CHART_RANGES.get(request.args.get("range", ""), CHART_RANGES["24h"])
    moment = now()
    data = status_data.dashboard_of(organization_id(), now=moment, chart_range=chart_range)
    sync, chart, today = data.sync, data.chart, utcnow().date()
    # What the page says of the time is worked out here, and the page is kept under it with what
    # the log holds (status_data.kept): it is made again when a text changes, at most once a
    # minute, rather than on each view.
    agos = {value: insights.ago(value, now=moment) for value in (
        *(event.occurred_at for event in (data.last_request, data.last_change, data.last_failure) if event),
        *((data.last_cycle.start,) if data.last_cycle else ()),
    )}
    first = sync.first_sync
    first_words = "" if first.state is FirstSyncState.EARLIER else insights.first_sync_words(first, now=moment)
    key = ("dashboard", chart_range, *sync.kept_as, data.health, first.state, first_words, tuple(agos.items()),
           chart.start, today)
    content = status_data.kept(organization_id(), key, lambda: Markup(render_template(
        "status/_dashboard.html",
        data=data,
        chart_range=chart_range,
        chart_ranges=CHART_RANGES.values(),
        activity_limit=status_data.ACTIVITY_LIMIT,
        ago=agos.__getitem__,
        first_sync_words=lambda sync: first_words,
    )))
    return render_template("status/dashboard.html", content=content,
                           consumers=consumers_summary(organization_id()))


@bp.get("/users")
def users():
    filters = UserFilters.from_args(request.args)
    # Below the site's header the page is the same for every admin of the organization until
    # the log changes (status_data.kept); its times read differently from one day to the next.
    content = status_data.kept(organization_id(), ("users page", filters, utcnow().date()),
                               lambda: _users_content(organization_id(), filters))
    return render_template("status/users.html", content=content)


def _users_content(organization_id: int, filters: UserFilters) -> Markup:
    counts = status_data.user_counts(organization_id)
    page, rows = status_data.users_page(organization_id, filters, counts)
    # A list of the groups while they are few, else a name to type (kept once typed).
    groups = None if filters.group_name else status_data.group_choices(organization_id)
    return Markup(render_template(  # rendered with autoescaping, like every page
        "status/_users.html", filters=filters, page=page, rows=rows, groups=groups, counts=counts,
        group=status_data.group_of(organization_id, filters.group) if filters.group and groups is None else None,
        manager=status_data.user_of(organization_id, filters.manager) if filters.manager else None,
    ))


@bp.get("/users/deleted")
def deleted_users():
    page, deletions = status_data.deletions_page(organization_id(), status_data.page_number(request.args))
    return render_template("status/deleted_users.html", page=page, deletions=deletions,
                           counts=status_data.user_counts(organization_id()))


@bp.get("/users/<scim_id>")
def user(scim_id: str):
    detail = status_data.user_detail(organization_id(), scim_id)
    return render_template(
        "status/user.html", detail=detail, user=detail.user,
        attributes=insights.attribute_rows(detail.user.document),
        enterprise=insights.enterprise_fields(detail.user.document),
    )


@bp.get("/groups")
def groups():
    filters = GroupFilters.from_args(request.args)
    page, member_counts = status_data.groups_page(organization_id(), filters)
    return render_template("status/groups.html", filters=filters, page=page, member_counts=member_counts)


@bp.get("/groups/<scim_id>")
def group(scim_id: str):
    detail = status_data.group_detail(organization_id(), scim_id, page=status_data.page_number(request.args))
    return render_template(
        "status/group.html", detail=detail, group=detail.group,
        attributes=insights.attribute_rows(detail.group.document),
    )


@bp.get("/log")
def log():
    filters = LogFilters.from_args(request.args)
    page = status_data.events_page(
        organization_id(), filters,
        before=Cursor.parse(request.args.get("before")), after=Cursor.parse(request.args.get("after")),
    )
    return render_template("status/log.html", filters=filters, page=page, search_limit=status_data.SEARCH_LIMIT,
                           retention_days=retention.retention_days(current_app))


@bp.get("/log/errors")
def errors():
    filters = LogFilters.from_args(request.args)
    groups = status_data.error_groups(organization_id(), *filters.conditions())
    return render_template("status/errors.html", filters=filters, groups=groups)


@bp.get("/log/<int:event_id>")
def event(event_id: int):
    return render_template("status/event.html", detail=status_data.event_detail(organization_id(), event_id))


@bp.get("/why")
def why():
    query = request.args.get("q", "").strip()
    evidence = status_data.why_evidence(organization_id(), query, now=now()) if query else None
    return render_template(
        "status/why.html", query=query, evidence=evidence,
        finding=insights.finding_of(evidence) if evidence else None,
        reasons=insights.reasons_of(evidence) if evidence else [],
    )


@bp.get("/export/users.csv")
def export_users():
    filters = UserFilters.from_args(request.args)
    return _csv("users", exports.users_csv(current_app._get_current_object(), organization_id(), filters))


@bp.get("/export/log.csv")
def export_log():
    filters = LogFilters.from_args(request.args)
    return _csv("log", exports.log_csv(current_app._get_current_object(), organization_id(), filters))


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
