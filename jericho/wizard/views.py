"""The Entra setup wizard: a task list, one page per step, a summary, and the app's "/"."""
from __future__ import annotations

from pathlib import Path

from flask import Blueprint, abort, current_app, redirect, render_template, request, send_from_directory, url_for
from flask_login import current_user, login_required

from . import onboarding
from ..admin.forms import EstimateForm, TokenForm, TokenReplaceForm
from ..admin.new_token import keep_for_next_view, take_new_token
from ..storage import tokens as token_admin
from ..storage.accounts import tokens_of
from ..storage.models import utcnow

bp = Blueprint("wizard", __name__)


@bp.before_request
@login_required
def require_admin() -> None:
    """Every page here is for a signed-in admin."""


def progress() -> onboarding.Progress:
    return onboarding.progress_of(current_user.organization_id, now=utcnow(), zone=current_user.zone)


def render_step(number: int, **context):
    current = progress()
    return render_template(
        f"wizard/step{number}.html", progress=current, step=current.steps[number - 1], **context
    )


@bp.get("/")
def home():
    started = progress().evidence.flowing
    return redirect(url_for("status.dashboard" if started else "wizard.index"))


@bp.get("/wizard")
def index():
    return render_template("wizard/index.html", progress=progress())


@bp.get("/wizard/step/<int:number>")
def step(number: int):
    if not 1 <= number <= len(onboarding.STEP_TITLES):
        abort(404)
    context = {}
    if number == 3:
        context["form"] = TokenForm(formdata=None)
        context["new_token"], context["secret"] = take_new_token(current_user.organization_id)
    if number == 8:
        form = EstimateForm(formdata=request.args)
        context["form"] = form
        if form.assigned.raw_data and form.validate():
            context["estimate"] = onboarding.first_cycle_estimate(form.assigned.data)
    return render_step(number, **context)


@bp.route("/wizard/step/3/token", methods=["GET", "POST"])
def new_token():
    """Generate a token; while others are active, first ask what happens to them."""
    active = [token for token in tokens_of(current_user.organization) if token.is_active]
    form = TokenReplaceForm()
    if form.validate_on_submit():
        if active and form.old_tokens.data is None:
            form.old_tokens.errors.append("Choose what happens to the current token.")
        else:
            keep_for_next_view(*token_admin.token_issue(
                admin_id=current_user.id,
                label=form.label.data or "",
                revoke_active=form.old_tokens.data == "revoke",
                remote_addr=request.remote_addr,
                now=utcnow(),
            ))
            return redirect(url_for("wizard.step", number=3))
    elif not form.is_submitted():
        # A token Entra never used is best revoked; one in use is kept until Entra has the new one.
        form.old_tokens.data = "keep" if any(token.last_used_at for token in active) else "revoke"
    return render_template("wizard/new_token.html", form=form, active=active)


@bp.get("/wizard/summary")
def summary():
    return render_template("wizard/summary.html", progress=progress())


@bp.get("/wizard/deploy.md")
def deploy_guide():
    """docs/deploy.md, how to serve the app at a public https address, as the text it is."""
    docs = Path(current_app.root_path).parent / "docs"
    return send_from_directory(docs, "deploy.md", mimetype="text/plain")
