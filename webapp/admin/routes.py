"""Admin pages. Everything here is admin-only and answers 404 to anyone else."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user
from flask_wtf import FlaskForm

from webapp.authz import admin_required
from webapp.extensions import db
from webapp.models import Role, User
from webapp.services import accounts, audit, sessions
from webapp.services import users as user_service

bp = Blueprint("admin", __name__, url_prefix="/admin")


@bp.before_request
def _admin_mfa_gate():
    """MARQUEE_REQUIRE_ADMIN_MFA=1: admins and staff set up two-factor before any admin page.
    (A session of a user with two-factor on has already given it: see webapp.auth.mfa.) Others
    fall through to the views' own checks, which answer 404."""
    from webapp.services import mfa as mfa_service

    if (
        current_user.is_authenticated
        and not current_user.mfa_enabled
        and mfa_service.required_for(current_user)
    ):
        flash("Set up two-factor authentication before using the admin pages.", "error")
        return redirect(url_for("settings.two_factor"))
    return None


@bp.get("/users")
@admin_required
def users():
    """Every account with its role, media-assistant flag and what it owns."""
    q = (request.args.get("q") or "").strip()[:100]
    rows = user_service.list_users(q)
    return render_template(
        "admin/users.html", rows=rows, q=q, form=FlaskForm(), roles=[r.value for r in Role]
    )


@bp.post("/users/<int:user_id>")
@admin_required
def update_user(user_id: int):
    """Switch the media assistant, change the role, or disable / re-enable one account."""
    form = FlaskForm()
    user = db.session.get(User, user_id)
    if user is None:
        return redirect(url_for("admin.users"))
    if form.validate_on_submit():
        try:
            if "media_assistant" in request.form:
                enabled = request.form["media_assistant"] == "on"
                user_service.set_media_assistant(user, enabled)
                flash(f"Media assistant {'enabled' if enabled else 'disabled'} for {user.email}.", "success")
            if "role" in request.form:
                user_service.set_role(current_user, user, request.form["role"])
                flash(f"{user.email} is now {user.role}.", "success")
            if "active" in request.form:
                active = request.form["active"] == "on"
                accounts.set_active(current_user, user, active)
                flash(f"{user.email} is {'enabled' if active else 'disabled'}.", "success")
        except (user_service.AdminError, accounts.AccountError) as exc:
            flash(str(exc), "error")
    return redirect(url_for("admin.users", q=request.args.get("q") or None))


@bp.post("/users/<int:user_id>/sign-out")
@admin_required
def sign_out_everywhere(user_id: int):
    """End every session and remember-me cookie of one account at once (a lost laptop, a
    suspected takeover). The admin's own browser stays logged in when they pick themselves."""
    user = db.session.get(User, user_id)
    if user is None:
        return redirect(url_for("admin.users"))
    if FlaskForm().validate_on_submit():
        admin = current_user._get_current_object()  # type: ignore[attr-defined]
        audit.record("auth.sign_out_everywhere", f"user:{user.id}", {"email": user.email}, admin)
        sessions.end_all_sessions(user, keep_current=user.id == admin.id)
        flash(f"{user.email} is signed out on every device.", "success")
    return redirect(url_for("admin.users", q=request.args.get("q") or None))


from webapp.admin import (  # noqa: E402  (they register their views on bp, defined above)
    approvals,  # noqa: F401  (/admin/approvals)
    moderation_admin,  # noqa: F401  (/admin/approvals/images, /admin/moderation)
    queues,  # noqa: F401  (/admin/queues)
)
