"""Register, log in, log out."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required, login_user, logout_user

from webapp.auth.forms import LoginForm, RegisterForm
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
            login_user(user)
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
        if outcome.user is not None and outcome.user.mfa_enabled:
            from webapp.auth.mfa import start_second_step

            return start_second_step(outcome.user, bool(form.remember.data), request.args.get("next"))
        if outcome.user is not None:
            login_user(outcome.user, remember=bool(form.remember.data))
            return redirect(_safe_next(request.args.get("next")))
        form.password.errors.append(outcome.message or "Wrong e-mail or password.")
    status = 200 if request.method == "GET" else 422
    return render_template("auth/login.html", form=form), status


@bp.post("/logout")
@login_required
def logout():
    """POST only (with CSRF), so a link elsewhere cannot log someone out."""
    logout_user()
    flash("You are logged out.", "info")
    return redirect(url_for("auth.login"))


from webapp.auth import mfa  # noqa: E402, F401  (registers /login/verify and the second-factor gate)
