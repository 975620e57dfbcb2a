"""Register, log in, log out."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required, login_user, logout_user

from webapp.auth.forms import LoginForm, RegisterForm
from webapp.extensions import db
from webapp.services import audit, throttle
from webapp.services.accounts import AccountError, authenticate, register_account

bp = Blueprint("auth", __name__)


def _safe_next(target: str | None) -> str:
    """Only same-site relative paths: an open redirect after login is a phishing gift."""
    if target and target.startswith("/") and not target.startswith("//") and not urlsplit(target).netloc:
        return target
    return url_for("autoformat.new")


REGISTERED = (
    "Thanks! If this e-mail address is new, your account is ready: log in below. "
    "If it already has an account, we have e-mailed its owner."
)


@bp.route("/register", methods=["GET", "POST"])
def register():
    """Create a producer account, then send the visitor to the login page.

    A new e-mail and one that already has an account get the same answer (a redirect to the login
    page with the same message), so the form cannot be used to find out who has an account; the
    owner of an existing one is e-mailed instead. Attempts are throttled per client.
    """
    if current_user.is_authenticated:
        return redirect(url_for("autoformat.new"))
    form = RegisterForm()
    if request.method == "POST":
        decision = throttle.hit("register", throttle.client_ip())
        if not decision.allowed:
            audit.record(
                "auth.register.throttled",
                "register",
                {"retry_after": decision.retry_after},
                actor_label="anonymous",
            )
            db.session.commit()
            form.email.errors = [throttle.message(decision.retry_after)]
            page = render_template("auth/register.html", form=form)
            return page, 429, {"Retry-After": str(decision.retry_after)}
    if form.validate_on_submit():
        try:
            register_account(form.email.data, form.password.data, form.display_name.data or "")
        except AccountError as exc:
            form.password.errors.append(str(exc))
        else:
            flash(REGISTERED, "success")
            return redirect(url_for("auth.login"))
    return render_template("auth/register.html", form=form), 200 if request.method == "GET" else 422


@bp.route("/login", methods=["GET", "POST"])
def login():
    """Log in; failures are throttled per client and per (account, client), never locked out."""
    if current_user.is_authenticated:
        return redirect(url_for("autoformat.new"))
    form = LoginForm()
    if form.validate_on_submit():
        outcome = authenticate(form.email.data, form.password.data, throttle.client_ip())
        if outcome.user is not None:
            login_user(outcome.user, remember=bool(form.remember.data))
            return redirect(_safe_next(request.args.get("next")))
        form.password.errors.append(outcome.message or "Wrong e-mail or password.")
        if outcome.retry_after:
            page = render_template("auth/login.html", form=form)
            return page, 429, {"Retry-After": str(outcome.retry_after)}
    status = 200 if request.method == "GET" else 422
    return render_template("auth/login.html", form=form), status


@bp.post("/logout")
@login_required
def logout():
    """POST only (with CSRF), so a link elsewhere cannot log someone out."""
    logout_user()
    flash("You are logged out.", "info")
    return redirect(url_for("auth.login"))
