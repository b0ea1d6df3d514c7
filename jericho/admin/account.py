"""The account page: who is signed in, since when, how long a session lasts, and signing out
everywhere else."""
from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from ..storage.models import utcnow
from ..text import counted, duration_words
from . import sessions, signin

bp = Blueprint("account", __name__, url_prefix="/account")


@bp.before_request
@login_required
def require_admin() -> None:
    """Every page here is for a signed-in admin."""


@bp.get("")
def index():
    hours = current_app.config["ADMIN_SESSION_LIFETIME_HOURS"]
    return render_template(
        "account/index.html",
        signed_in_at=sessions.signed_in_at(),
        idle=duration_words(current_app.config["ADMIN_SESSION_IDLE_MINUTES"]),
        lifetime=counted(hours // 24, "day") if hours % 24 == 0 else duration_words(hours * 60),
    )


@bp.post("/sign-out-everywhere-else")
def sign_out_everywhere_else():
    version = signin.sign_out_everywhere_else(
        admin_id=current_user.id, remote_addr=request.remote_addr, now=utcnow()
    )
    sessions.session_continue(version)
    flash("Every other session of your account has ended. This browser stays signed in.", "success")
    return redirect(url_for("account.index"))
