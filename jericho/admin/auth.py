"""Admin sign-in: the first-run gate, the first-run and sign-in pages, sign-out, Flask-Login."""
from __future__ import annotations

from functools import partial
from typing import Callable

from flask import (
    Blueprint,
    Flask,
    Response,
    current_app,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_login import current_user, logout_user
from flask_wtf import FlaskForm
from sqlalchemy import bindparam, select
from sqlalchemy.orm import joinedload

from ..extensions import db, login_manager
from ..security import is_safe_redirect
from ..storage.accounts import AccountError
from ..storage.models import AdminUser, utcnow
from ..urls import is_api_request, is_scim_request
from . import sessions, signin
from .forms import SetupForm, SignInForm

bp = Blueprint("auth", __name__)

# Until the first admin exists, every request leads to the first-run page except these
# endpoints, /scim_v2 and /api/v1, whose clients are not browsers.
SETUP_ENDPOINTS = frozenset({"auth.setup", "static"})
SETUP_COMPLETE = "jericho.setup_complete"


def init_app(app: Flask) -> None:
    login_manager.login_view = "auth.sign_in"
    login_manager.login_message = "Sign in to continue."
    login_manager.login_message_category = "info"
    app.before_request(first_run_gate)
    app.register_blueprint(bp)


# The admin, only while the session's version is still theirs, with the organization, which
# every page's header names: one query per request, built once (on every request, building it
# would cost more than running it).
_ADMIN = (
    select(AdminUser)
    .options(joinedload(AdminUser.organization))
    .where(AdminUser.id == bindparam("admin_id"), AdminUser.session_version == bindparam("version"))
)


@login_manager.user_loader
def load_admin(admin_id: str) -> AdminUser | None:
    version = sessions.session_version(now=utcnow())
    if version is None:
        return None
    admin = db.session.execute(_ADMIN, {"admin_id": int(admin_id), "version": version}).scalar_one_or_none()
    if admin is None or not sessions.session_is_of(admin):  # signed out elsewhere, password reset, or removed
        sessions.session_forget()
        return None
    return admin


def setup_pending() -> bool:
    # Setup never reopens once an admin exists, so each process stops asking the database then.
    if current_app.extensions.get(SETUP_COMPLETE):
        return False
    if signin.setup_needed():
        return True
    current_app.extensions[SETUP_COMPLETE] = True
    return False


def first_run_gate():
    if is_scim_request() or is_api_request() or request.endpoint in SETUP_ENDPOINTS or not setup_pending():
        return None
    return redirect(url_for("auth.setup"))


@bp.route("/setup", methods=["GET", "POST"])
def setup():
    if not setup_pending():
        return redirect(url_for("auth.sign_in"))
    form = SetupForm()
    complete_setup = partial(
        signin.complete_setup,
        secret_key=current_app.config["SECRET_KEY"],
        code=form.setup_code.data,
        organization_name=form.organization.data,
        email=form.email.data,
        password=form.password.data,
    )
    page = sign_in_or_page(form, "auth/setup.html", complete_setup)
    if page is not None:
        return page
    flash("Your organization and admin account are ready. Now connect your identity provider.", "success")
    return redirect(url_for("wizard.index"))


@bp.route("/sign-in", methods=["GET", "POST"])
def sign_in():
    target = request.args.get("next")
    if not is_safe_redirect(target):
        target = url_for("wizard.home")
    if current_user.is_authenticated:
        return redirect(target)
    form = SignInForm()
    check_password = partial(signin.sign_in, email=form.email.data, password=form.password.data)
    page = sign_in_or_page(form, "auth/sign_in.html", check_password)
    if page is not None:
        return page
    return redirect(target)


def sign_in_or_page(form: FlaskForm, template: str, attempt: Callable[..., AdminUser]) -> Response | None:
    """None once `attempt(remote_addr=..., now=...)`, for a valid submission, returned an admin,
    now signed in on this browser; else the page of the form, with the refusal as its error (429
    and Retry-After when there were too many failures)."""
    status, headers = 200, {}
    if form.validate_on_submit():
        now = utcnow()
        try:
            admin = attempt(remote_addr=request.remote_addr, now=now)
        except AccountError as error:
            form.form_errors.append(str(error))
            if isinstance(error, signin.TooManyAttempts):
                status, headers = 429, {"Retry-After": str(error.retry_after)}
                note_untrusted_proxy()
        else:
            sessions.session_begin(admin, now=now)
            return None
    return make_response(render_template(template, form=form), status, headers)


def note_untrusted_proxy() -> None:
    """Behind a reverse proxy that the app does not trust, every visitor has the proxy's address,
    so the per-address limit holds back all of them: say so where the operator looks."""
    if "X-Forwarded-For" in request.headers and not current_app.config["TRUST_PROXY"]:
        current_app.logger.warning(
            "Sign-in attempts from %s are held back after too many failures, and the requests "
            "carry X-Forwarded-For: if %s is your reverse proxy, set TRUST_PROXY=1, or every "
            "visitor counts as that one address.",
            request.remote_addr,
            request.remote_addr,
        )


@bp.post("/sign-out")
def sign_out():
    if current_user.is_authenticated:
        signin.sign_out(admin_id=current_user.id, remote_addr=request.remote_addr, now=utcnow())
    logout_user()
    session.clear()
    flash("You are signed out.", "info")
    return redirect(url_for("auth.sign_in"))
