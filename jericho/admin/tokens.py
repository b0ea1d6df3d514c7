"""The tokens page: every SCIM token of the organization, which one its identity provider uses,
creating one for a rotation, revoking one, and the admin audit log."""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from ..providers import Provider, provider_of
from ..storage import tokens as token_admin
from ..storage.accounts import tokens_of
from ..storage.audit import audit_events_of
from ..storage.models import utcnow
from .forms import TokenForm
from .new_token import keep_for_next_view, take_new_token

bp = Blueprint("tokens", __name__, url_prefix="/tokens")


@bp.before_request
@login_required
def require_admin() -> None:
    """Every page here is for a signed-in admin."""


def identity_provider() -> Provider:
    return provider_of(current_user.organization.identity_provider)


@bp.context_processor
def provider_words() -> dict:
    """The organization's provider: the pages name it and its token field."""
    return {"provider": identity_provider()}


@bp.route("", methods=["GET", "POST"])
def index():
    form = TokenForm(label=identity_provider().short_name)
    if form.validate_on_submit():
        keep_for_next_view(*token_admin.token_issue(
            admin_id=current_user.id,
            label=form.label.data or "",
            revoke_active=False,
            remote_addr=request.remote_addr,
            now=utcnow(),
        ))
        return redirect(url_for("tokens.index"))
    new_token, secret = take_new_token(current_user.organization_id)
    return render_template(
        "tokens/index.html",
        form=form,
        new_token=new_token,
        secret=secret,
        tokens=tokens_of(current_user.organization),
        in_use=token_admin.token_in_use(current_user.organization_id),
        audit=audit_events_of(current_user.organization_id),
    )


@bp.route("/<prefix>/revoke", methods=["GET", "POST"])
def revoke(prefix: str):
    token = token_admin.token_of(current_user.organization_id, prefix)
    if token is None:
        abort(404)
    if request.method == "POST":
        token_admin.token_withdraw(
            admin_id=current_user.id, prefix=prefix, remote_addr=request.remote_addr, now=utcnow()
        )
        flash(f"Token {prefix} is revoked: every request that uses it is refused from now on.", "success")
        return redirect(url_for("tokens.index"))
    return render_template(
        "tokens/revoke.html",
        token=token,
        in_use=token_admin.token_in_use(current_user.organization_id),
    )
