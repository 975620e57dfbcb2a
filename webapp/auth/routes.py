"""Register, log in, log out."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask_login import current_user, login_required, logout_user

from webapp.auth.forms import LoginForm, RegisterForm
from webapp.extensions import db
from webapp.services import audit, sessions
from webapp.services.accounts import AccountError, authenticate, create_user

bp = Blueprint("auth", __name__)


def _safe_next(target: str | None) -> str:
    """Only same-site relative paths: an open redirect after login is a phishing gift."""
    if target and target.startswith("/") and not target.startswith("//") and not urlsplit(target).netloc:
        return target
    return url_for("autoformat.new")


@bp.route("/register", methods=["GET", "POST"])
def register():
    """Create a producer account and log straight in."""
    if current_user.is_authenticated:
        return redirect(url_for("autoformat.new"))
    form = RegisterForm()
    if form.validate_on_submit():
        try:
            user = create_user(form.email.data, form.password.data, form.display_name.data or "")
        except AccountError as exc:
            form.email.errors.append(str(exc))
        else:
            sessions.start(user)
            flash("Welcome to Marquee! Drop in your show artwork to get started.", "success")
            return redirect(url_for("autoformat.new"))
    return render_template("auth/register.html", form=form), 200 if request.method == "GET" else 422


@bp.route("/login", methods=["GET", "POST"])
def login():
    """Log in, with per-account throttling of failed attempts."""
    if current_user.is_authenticated:
        return redirect(url_for("autoformat.new"))
    form = LoginForm()
    if form.validate_on_submit():
        outcome = authenticate(form.email.data, form.password.data)
        if outcome.user is not None:
            sessions.start(outcome.user, remember=bool(form.remember.data))
            audit.record("auth.login", f"user:{outcome.user.id}", {}, outcome.user)
            db.session.commit()
            return redirect(_safe_next(request.args.get("next")))
        form.password.errors.append(outcome.message or "Wrong e-mail or password.")
    status = 200 if request.method == "GET" else 422
    return render_template("auth/login.html", form=form), status


@bp.post("/logout")
@login_required
def logout():
    """POST only (with CSRF), so a link elsewhere cannot log someone out.

    Ends every session of the account, not just this one: the session lives in a signed cookie,
    so only bumping the account's session version makes a copy of it (or of the remember-me
    cookie) useless.
    """
    user = current_user._get_current_object()  # type: ignore[attr-defined]
    audit.record("auth.logout", f"user:{user.id}", {}, user)
    sessions.end_all_sessions(user)
    session.clear()
    logout_user()
    flash("You are logged out.", "info")
    return redirect(url_for("auth.login"))
