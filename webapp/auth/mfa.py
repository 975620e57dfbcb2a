"""The login's second step, and the gate that keeps a session without it from being logged in.

After the password, a user with two-factor on is NOT logged in: the session holds only a pending
marker (user id, remember-me choice, where to go next). `/login/verify` takes a TOTP or recovery
code and only then calls `login_user`. A logged-in session carries `SESSION_KEY` = the user id once
the second factor was given (or two-factor was turned on in that session); any other logged-in
session of such a user (an older cookie, a remember-me cookie) is sent back to the second step.
"""

from __future__ import annotations

from flask import flash, redirect, render_template, request, session, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user, login_user, logout_user
from flask_wtf import FlaskForm
from wtforms import StringField
from wtforms.validators import DataRequired, Length

from webapp.auth.routes import _safe_next, bp
from webapp.extensions import db
from webapp.models import User
from webapp.services import mfa as mfa_service

SESSION_KEY = "mfa_uid"
PENDING_KEY = "mfa_pending"
PENDING_SECONDS = 300


class SecondStepForm(FlaskForm):
    code = StringField(
        "Code from your authenticator app, or a recovery code",
        validators=[DataRequired("Enter the code."), Length(max=40)],
    )


def start_second_step(user: User, remember: bool, next_url: str | None) -> ResponseReturnValue:
    """The password was right: remember who is half-way in, log nobody in yet."""
    session.pop(SESSION_KEY, None)
    session[PENDING_KEY] = {
        "uid": user.id,
        "remember": bool(remember),
        "next": _safe_next(next_url),
        "since": mfa_service.clock(),
        "f0": user.totp_failures or 0,
    }
    return redirect(url_for("auth.verify_second_factor"))


def mark_verified(user: User) -> None:
    """This session has given the second factor (or just turned two-factor on)."""
    session[SESSION_KEY] = user.id


def _pending_user() -> tuple[User | None, dict]:
    pending = session.get(PENDING_KEY) or {}
    if not pending or mfa_service.clock() - float(pending.get("since", 0)) > PENDING_SECONDS:
        session.pop(PENDING_KEY, None)
        return None, {}
    user = db.session.get(User, int(pending.get("uid", 0)))
    if user is None or not user.is_active or not user.mfa_enabled:
        session.pop(PENDING_KEY, None)
        return None, {}
    return user, pending


@bp.route("/login/verify", methods=["GET", "POST"])
def verify_second_factor() -> ResponseReturnValue:
    """Second step of the login: a current TOTP code or an unused recovery code."""
    user, pending = _pending_user()
    if user is None:
        flash("Log in again: the second step expired.", "info")
        return redirect(url_for("auth.login"))
    form = SecondStepForm()
    if form.validate_on_submit():
        if (user.totp_failures or 0) - int(pending.get("f0", 0)) >= mfa_service.MAX_SECOND_STEP_FAILURES:
            session.pop(PENDING_KEY, None)
            flash("Too many wrong codes. Enter your password again.", "error")
            return redirect(url_for("auth.login"))
        if mfa_service.verify(user, form.code.data):
            session.pop(PENDING_KEY, None)
            login_user(user, remember=bool(pending.get("remember")))
            mark_verified(user)
            return redirect(_safe_next(pending.get("next")))
        form.code.errors.append("That code is not right, or it was already used.")
    status = 200 if request.method == "GET" else 422
    return render_template("auth/verify.html", form=form), status


@bp.before_app_request
def _second_factor_gate() -> ResponseReturnValue | None:
    """A logged-in session of a two-factor user that has not given the second factor (an old
    cookie, a remember-me cookie) is logged out and sent to the second step."""
    if request.endpoint in (None, "static", "auth.verify_second_factor"):
        return None
    if not current_user.is_authenticated or not current_user.mfa_enabled:
        return None
    if session.get(SESSION_KEY) == current_user.id:
        return None
    user = current_user._get_current_object()  # type: ignore[attr-defined]
    remember = bool(request.cookies.get("remember_token"))
    logout_user()
    if request.blueprint == "api":
        return None  # continues anonymous: the API answers 401 problem+json
    return start_second_step(user, remember, request.full_path if request.method == "GET" else None)
