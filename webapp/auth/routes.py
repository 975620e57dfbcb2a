"""Register, log in, log out, and reset a forgotten password by e-mail."""

from __future__ import annotations

import logging
import threading
from urllib.parse import urlsplit

from flask import Blueprint, Flask, current_app, flash, redirect, render_template, request, session, url_for
from flask_login import current_user, login_required, logout_user

from webapp.auth.forms import ForgotPasswordForm, LoginForm, RegisterForm, ResetPasswordForm
from webapp.extensions import db
from webapp.mail import send_mail
from webapp.services import accounts, audit, sessions, throttle
from webapp.services.accounts import AccountError, PasswordPolicyError, authenticate, register_account

log = logging.getLogger(__name__)

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
        refused = _throttled("register", "register", form, "auth/register.html")
        if refused is not None:
            return refused
    if form.validate_on_submit():
        try:
            register_account(form.email.data, form.password.data, form.display_name.data or "")
        except PasswordPolicyError as exc:
            form.password.errors.append(str(exc))
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
        if outcome.user is not None and outcome.user.mfa_enabled:
            from webapp.auth.mfa import start_second_step

            return start_second_step(outcome.user, bool(form.remember.data), request.args.get("next"))
        if outcome.user is not None:
            sessions.start(outcome.user, remember=bool(form.remember.data))
            audit.record("auth.login", f"user:{outcome.user.id}", {}, outcome.user)
            db.session.commit()
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


FORGOT_ANSWER = (
    "If an account uses that address, we have sent it a link to choose a new password. "
    "The link works once, within {minutes} minutes."
)


def _mail_reset_link(app: Flask, to: str, link: str, minutes: int) -> None:
    """Runs in a thread, so the answer takes as long whether or not the account exists."""
    text = (
        "Someone (hopefully you) asked to reset the password of your Marquee account.\n\n"
        f"Choose a new password here (the link works once, within {minutes} minutes):\n{link}\n\n"
        "If it was not you, ignore this message: your password stays as it is."
    )
    with app.app_context():
        try:
            send_mail([to], "Reset your Marquee password", text)
        except Exception:  # a thread has no one to report to but the log
            log.exception("could not send the password-reset mail")


def _throttled(scope: str, target: str, form, template: str, **context):
    """A per-client throttle on an anonymous form: None when allowed, else the audited 429 page
    saying when to try again."""
    decision = throttle.hit(scope, throttle.client_ip())
    if decision.allowed:
        return None
    audit.record(
        f"auth.{scope}.throttled", target, {"retry_after": decision.retry_after}, actor_label="anonymous"
    )
    db.session.commit()
    form.email.errors = [throttle.message(decision.retry_after)]
    page = render_template(template, form=form, **context)
    return page, 429, {"Retry-After": str(decision.retry_after)}


@bp.route("/password/forgot", methods=["GET", "POST"])
def forgot_password():
    """Ask for a reset link. The answer is the same whether or not the address has an account."""
    form = ForgotPasswordForm()
    minutes = accounts.reset_minutes()
    if request.method == "POST":
        refused = _throttled("reset", "password_reset", form, "auth/forgot.html", minutes=minutes)
        if refused is not None:
            return refused
    if form.validate_on_submit():
        found = accounts.request_reset(form.email.data)
        if found is not None:
            user, token = found
            link = url_for("auth.reset_password", token=token, _external=True)
            app = current_app._get_current_object()  # type: ignore[attr-defined]
            threading.Thread(
                target=_mail_reset_link, args=(app, user.email, link, minutes), daemon=True
            ).start()
        flash(FORGOT_ANSWER.format(minutes=minutes), "info")
        return redirect(url_for("auth.login"))
    status = 200 if request.method == "GET" else 422
    return render_template("auth/forgot.html", form=form, minutes=minutes), status


@bp.route("/password/reset/<token>", methods=["GET", "POST"])
def reset_password(token: str):
    """Choose a new password through a mailed link; the link dies with the old password."""
    user = accounts.user_for_reset_token(token)
    if user is None:
        return render_template("auth/reset_invalid.html"), 410
    form = ResetPasswordForm()
    if form.validate_on_submit():
        try:
            accounts.reset_password(token, form.password.data)
        except PasswordPolicyError as exc:
            form.password.errors.append(str(exc))
        except AccountError:
            return render_template("auth/reset_invalid.html"), 410
        else:
            if current_user.is_authenticated:
                logout_user()
            flash("Your password is changed. Log in with the new one.", "success")
            return redirect(url_for("auth.login"))
    status = 200 if request.method == "GET" else 422
    return render_template("auth/reset.html", form=form, token=token), status


from webapp.auth import mfa  # noqa: E402, F401  (registers /login/verify and the second-factor gate)
