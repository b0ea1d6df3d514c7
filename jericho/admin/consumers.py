"""The API page: how the training product reads the directory — its API keys, and the webhook
endpoints that receive the events, each with its health, backlog and delivery log. Keys and
signing secrets are shown once, when they are made. Endpoints and deliveries are named by the ids
admins see (web.shown_ids), as every organization adds to them. Another organization's keys,
endpoints and deliveries answer 404."""
from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from ..storage.accounts import AccountError
from ..storage.api_keys import api_key_create, api_key_revoke
from ..storage.models import utcnow
from ..storage.webhooks import (
    consumers_summary,
    webhook_deliveries_of,
    webhook_endpoint_delete,
    webhook_endpoint_disable,
    webhook_endpoint_resume,
    webhook_endpoint_status,
    webhook_redeliver,
)
from ..urls import API_PREFIX
from ..webhooks.addresses import WebhookUrlError
from ..webhooks.delivery import retention_days
from ..webhooks.endpoints import endpoint_add
from .forms import ApiKeyForm, WebhookForm
from .web import shown_ids

bp = Blueprint("consumers", __name__, url_prefix="/api")
MAX_ROW_ID = 2**31 - 1  # what an Integer column holds (32 bits on PostgreSQL)

RECENT_DELIVERIES = 5  # per endpoint on the API page; its own page shows more


@bp.before_request
@login_required
def require_admin() -> None:
    """Every page here is for a signed-in admin."""


def _organization_id() -> int:
    return current_user.organization_id


def _page(*, key_form: ApiKeyForm | None = None, webhook_form: WebhookForm | None = None, status: int = 200,
          **shown):
    """The API page; `shown` holds what is shown once (a new key, a new endpoint's secret)."""
    summary = consumers_summary(_organization_id())
    base = current_app.config.get("PUBLIC_URL") or request.url_root.rstrip("/")
    return render_template(
        "api/index.html",
        key_form=key_form or ApiKeyForm(formdata=None),
        webhook_form=webhook_form or WebhookForm(formdata=None),
        keys=summary.keys,
        endpoints=summary.endpoints,
        recent={status.endpoint.id: webhook_deliveries_of(status.endpoint.id, limit=RECENT_DELIVERIES)
                for status in summary.endpoints},
        api_url=base + API_PREFIX,
        **shown,
    ), status


@bp.get("")
def index():
    return _page()


@bp.post("/keys")
def create_key():
    form = ApiKeyForm()
    if not form.validate_on_submit():
        return _page(key_form=form, status=400)
    key, secret = api_key_create(organization_id=_organization_id(), label=form.label.data or "",
                                 admin_id=current_user.id, remote_addr=request.remote_addr)
    return _page(new_key=key, new_key_secret=secret)


@bp.post("/keys/<key_prefix>/revoke")
def revoke_key(key_prefix: str):
    try:
        api_key_revoke(prefix=key_prefix, organization_id=_organization_id(), admin_id=current_user.id,
                       remote_addr=request.remote_addr, now=utcnow())
    except AccountError:
        abort(404)
    flash(f"API key {key_prefix} is revoked: every request that uses it is refused from now on.", "success")
    return redirect(url_for("consumers.index"))


@bp.post("/webhooks")
def add_webhook():
    form = WebhookForm()
    if form.validate_on_submit():
        try:
            endpoint, secret = endpoint_add(
                organization_id=_organization_id(), url=form.url.data, events=",".join(form.events.data),
                admin_id=current_user.id, remote_addr=request.remote_addr, now=utcnow(),
            )
        except (WebhookUrlError, AccountError) as refused:
            form.url.errors.append(f"Refused: {refused}.")
        else:
            return _page(new_endpoint=endpoint, new_endpoint_secret=secret)
    return _page(webhook_form=form, status=400)


@bp.get("/webhooks/<endpoint_ref>")
def webhook(endpoint_ref: str):
    endpoint_id = _row_id(endpoint_ref)
    status = webhook_endpoint_status(_organization_id(), endpoint_id) or abort(404)
    return render_template("api/webhook.html", status=status, deliveries=webhook_deliveries_of(endpoint_id),
                           retention_days=retention_days(current_app))


# What each action on an endpoint does, and what the admin is told.
_CHANGES = {
    "disable": (webhook_endpoint_disable, "is disabled: its events wait until you resume it"),
    "resume": (webhook_endpoint_resume, "delivers again, from the first event it has not had"),
    "delete": (webhook_endpoint_delete, "is deleted, with its delivery log"),
}


@bp.post("/webhooks/<endpoint_ref>/<any(disable, resume, delete):action>")
def change_webhook(endpoint_ref: str, action: str):
    change, words = _CHANGES[action]
    try:
        change(organization_id=_organization_id(), endpoint_id=_row_id(endpoint_ref), admin_id=current_user.id,
               remote_addr=request.remote_addr, now=utcnow())
    except AccountError:
        abort(404)
    flash(f"The webhook endpoint {words}.", "success")
    if action == "delete":
        return redirect(url_for("consumers.index"))
    return redirect(url_for("consumers.webhook", endpoint_ref=endpoint_ref))


@bp.post("/webhooks/<endpoint_ref>/deliveries/<delivery_ref>/redeliver")
def redeliver(endpoint_ref: str, delivery_ref: str):
    try:
        again = webhook_redeliver(organization_id=_organization_id(), endpoint_id=_row_id(endpoint_ref),
                                  delivery_id=_row_id(delivery_ref), admin_id=current_user.id,
                                  remote_addr=request.remote_addr, now=utcnow())
    except AccountError:
        abort(404)
    flash(f"Event {again.event_seq} is queued for redelivery: it is sent within seconds.", "success")
    return redirect(url_for("consumers.webhook", endpoint_ref=endpoint_ref))


def _row_id(shown: str) -> int:
    """The id of the row that an id shown on these pages names; 404 for any other text."""
    row_id = shown_ids().reveal(shown)
    if row_id is None or row_id > MAX_ROW_ID:
        abort(404)
    return row_id
