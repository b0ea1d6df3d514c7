"""Admin sign-in: the first-run gate, the first-run and sign-in pages, sign-out, Flask-Login."""
from __future__ import annotations

from flask import (
    Blueprint,
    Flask,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_login import current_user, login_user, logout_user
from sqlalchemy import bindparam, select
from sqlalchemy.orm import joinedload

from . import signin
from ..storage.accounts import AccountError
from ..errors import is_api_request, is_scim_request
from ..extensions import db, login_manager
from .forms import SetupForm, SignInForm
from ..storage.models import AdminUser, utcnow
from ..security import is_safe_redirect

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


# With the organization, which every page's header names: one query, built once (on every
# request, building it would cost more than running it).
_ADMIN = select(AdminUser).options(joinedload(AdminUser.organization)).where(AdminUser.id == bindparam("admin_id"))


@login_manager.user_loader
def load_admin(admin_id: str) -> AdminUser | None:
    return db.session.execute(_ADMIN, {"admin_id": int(admin_id)}).scalar_one_or_none()


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


def start_session(admin: AdminUser) -> None:
    session.clear()  # a fresh session (and CSRF token) for the signed-in admin
    login_user(admin)


def refusal_status(error: AccountError) -> int:
    return 429 if isinstance(error, signin.TooManyAttempts) else 200


@bp.route("/setup", methods=["GET", "POST"])
def setup():
    if not setup_pending():
        return redirect(url_for("auth.sign_in"))
    form = SetupForm()
    status = 200
    if form.validate_on_submit():
        try:
            admin = signin.complete_setup(
                secret_key=current_app.config["SECRET_KEY"],
                code=form.setup_code.data,
                organization_name=form.organization.data,
                email=form.email.data,
                password=form.password.data,
                remote_addr=request.remote_addr,
                now=utcnow(),
            )
        except AccountError as error:
            form.form_errors.append(str(error))
            status = refusal_status(error)
        else:
            start_session(admin)
            flash("Your organization and admin account are ready. Now connect Entra.", "success")
            return redirect(url_for("wizard.index"))
    return render_template("auth/setup.html", form=form), status


@bp.route("/sign-in", methods=["GET", "POST"])
def sign_in():
    target = request.args.get("next")
    if not is_safe_redirect(target):
        target = url_for("wizard.home")
    if current_user.is_authenticated:
        return redirect(target)
    form = SignInForm()
    status = 200
    if form.validate_on_submit():
        try:
            admin = signin.sign_in(
                email=form.email.data,
                password=form.password.data,
                remote_addr=request.remote_addr,
                now=utcnow(),
            )
        except AccountError as error:
            form.form_errors.append(str(error))
            status = refusal_status(error)
        else:
            start_session(admin)
            return redirect(target)
    return render_template("auth/sign_in.html", form=form), status


@bp.post("/sign-out")
def sign_out():
    if current_user.is_authenticated:
        signin.sign_out(admin_id=current_user.id, remote_addr=request.remote_addr, now=utcnow())
    logout_user()
    session.clear()
    flash("You are signed out.", "info")
    return redirect(url_for("auth.sign_in"))
