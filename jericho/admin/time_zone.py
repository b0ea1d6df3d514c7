"""The signed-in admin's time zone, which every time on the admin pages is shown in."""
from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_login import current_user, login_required

from ..storage.accounts import admin_time_zone_set
from ..storage.models import utcnow
from .forms import TimeZoneForm

bp = Blueprint("time_zone", __name__, url_prefix="/account/time-zone")


@bp.before_request
@login_required
def require_admin() -> None:
    """Every page here is for a signed-in admin."""


@bp.route("", methods=["GET", "POST"])
def edit():
    form = TimeZoneForm(time_zone=current_user.time_zone)
    if form.validate_on_submit():
        admin = admin_time_zone_set(admin_id=current_user.id, time_zone=form.time_zone.data)
        flash(f"Times are now shown in {admin.time_zone.replace('_', ' ')}.", "success")
        return redirect(url_for("time_zone.edit"))
    return render_template("account/time_zone.html", form=form, now=utcnow())
