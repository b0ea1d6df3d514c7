"""The signed-in admin's own account page: who they are, and the time zone their pages show."""
from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_login import current_user, login_required

from ..storage.accounts import admin_time_zone_set
from ..storage.models import utcnow
from .forms import TimeZoneForm

bp = Blueprint("account", __name__, url_prefix="/account")


@bp.before_request
@login_required
def require_admin() -> None:
    """Every page here is for a signed-in admin."""


@bp.route("", methods=["GET", "POST"])
def index():
    form = TimeZoneForm(time_zone=current_user.time_zone)
    if form.validate_on_submit():
        admin = admin_time_zone_set(admin_id=current_user.id, time_zone=form.time_zone.data)
        flash(f"Times are now shown in {admin.time_zone.replace('_', ' ')}.", "success")
        return redirect(url_for("account.index"))
    return render_template("account/index.html", form=form, now=utcnow())
