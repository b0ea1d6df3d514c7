"""The setup wizard: the identity provider's task list, one page per step, a summary, and the
app's "/"."""
from __future__ import annotations

from pathlib import Path

from flask import Blueprint, abort, current_app, redirect, render_template, request, send_from_directory, url_for
from flask_login import current_user, login_required

from ..admin.forms import EstimateForm, ProviderForm, TokenForm, TokenReplaceForm
from ..admin.new_token import keep_for_next_view, take_new_token
from ..providers import PROVIDERS, provider_of
from ..storage import tokens as token_admin
from ..storage.accounts import organization_choose_provider, tokens_of
from ..storage.models import utcnow
from . import onboarding

bp = Blueprint("wizard", __name__)


@bp.before_request
@login_required
def require_admin() -> None:
    """Every page here is for a signed-in admin."""


def progress() -> onboarding.Progress:
    return onboarding.progress_of(current_user.organization, now=utcnow(), zone=current_user.zone)


def render_step(number: int, **context):
    current = progress()
    return render_template(
        current.provider.template(number), progress=current, step=current.steps[number - 1], **context
    )


@bp.get("/")
def home():
    started = progress().evidence.flowing
    return redirect(url_for("status.dashboard" if started else "wizard.index"))


@bp.get("/wizard")
def index():
    current = progress()
    form = ProviderForm(formdata=None, provider=current.provider.key)
    return render_template("wizard/index.html", progress=current, provider_form=form)


@bp.post("/wizard/provider")
def choose_provider():
    """Which identity provider the organization connects: its steps, and the status pages' words."""
    form = ProviderForm()
    if not form.validate_on_submit():
        return render_template("wizard/index.html", progress=progress(), provider_form=form), 400
    organization_choose_provider(
        admin_id=current_user.id,
        provider=form.provider.data,
        provider_name=PROVIDERS[form.provider.data].name,
        remote_addr=request.remote_addr,
        now=utcnow(),
    )
    return redirect(url_for("wizard.index"))


@bp.get("/wizard/step/<int:number>")
def step(number: int):
    provider = provider_of(current_user.organization.identity_provider)
    if not 1 <= number <= len(provider.steps):
        abort(404)
    context = {}
    if number == provider.token_step:
        context["form"] = TokenForm(formdata=None, label=provider.short_name)
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
    provider = provider_of(current_user.organization.identity_provider)
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
            return redirect(url_for("wizard.step", number=provider.token_step))
    elif not form.is_submitted():
        form.label.data = provider.short_name
        # A token never used is best revoked; one in use is kept until the provider has the new one.
        form.old_tokens.data = "keep" if any(token.last_used_at for token in active) else "revoke"
    return render_template("wizard/new_token.html", form=form, active=active, provider=provider)


@bp.get("/wizard/summary")
def summary():
    return render_template("wizard/summary.html", progress=progress())


@bp.get("/wizard/deploy.md")
def deploy_guide():
    """docs/deploy.md, how to serve the app at a public https address, as the text it is."""
    docs = Path(current_app.root_path).parent / "docs"
    return send_from_directory(docs, "deploy.md", mimetype="text/plain")
