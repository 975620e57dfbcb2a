"""Settings → Two-factor: set up TOTP (QR code + secret), confirm with a code, see the recovery
codes once, replace them (all old ones at once), turn it off again (password and a current code).

Thin HTTP over services.mfa. The recovery codes are rendered straight into the response of the
confirming POST (never flashed: flashes travel in the session cookie) with `no-store`.
"""

from __future__ import annotations

from flask import flash, make_response, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, Length

from webapp.auth.mfa import mark_verified
from webapp.services import mfa as mfa_service
from webapp.settings.routes import bp


class ConfirmForm(FlaskForm):
    code = StringField(
        "6-digit code from the app", validators=[DataRequired("Enter the code."), Length(max=12)]
    )


class DisableForm(FlaskForm):
    password = PasswordField("Your password", validators=[DataRequired("Enter your password.")])
    code = StringField(
        "Current code (or a recovery code)", validators=[DataRequired("Enter a code."), Length(max=40)]
    )


class RegenerateForm(FlaskForm):
    proof = PasswordField(
        "Your password or a current 6-digit code",
        validators=[DataRequired("Enter your password or a code from the app."), Length(max=200)],
    )


def _render(
    confirm: ConfirmForm | None = None,
    disable: DisableForm | None = None,
    regenerate: RegenerateForm | None = None,
    codes: list[str] | None = None,
    status: int = 200,
    regenerated: bool = False,
) -> ResponseReturnValue:
    user = current_user._get_current_object()  # type: ignore[attr-defined]
    resp = make_response(
        render_template(
            "settings/two_factor.html",
            user=user,
            setup=mfa_service.pending_setup(user),
            required=mfa_service.required_for(user),
            remaining=mfa_service.remaining_recovery_codes(user) if user.mfa_enabled else 0,
            confirm_form=confirm or ConfirmForm(),
            disable_form=disable or DisableForm(),
            regenerate_form=regenerate or RegenerateForm(),
            start_form=FlaskForm(),
            codes=codes,
            regenerated=regenerated,
        ),
        status,
    )
    resp.headers["Cache-Control"] = "no-store"
    return resp


@bp.get("/two-factor")
@login_required
def two_factor() -> ResponseReturnValue:
    """Status, or the pending setup's QR code and secret."""
    return _render()


@bp.post("/two-factor/start")
@login_required
def two_factor_start() -> ResponseReturnValue:
    """A fresh secret (not in force until confirmed with a code)."""
    form = FlaskForm()
    if form.validate_on_submit():
        try:
            mfa_service.begin_setup(current_user)
        except mfa_service.MfaError as exc:
            flash(str(exc), "error")
    return redirect(url_for("settings.two_factor"))


@bp.post("/two-factor/confirm")
@login_required
def two_factor_confirm() -> ResponseReturnValue:
    """Turn two-factor on with a valid code; show the recovery codes this once."""
    form = ConfirmForm()
    if form.validate_on_submit():
        try:
            codes = mfa_service.confirm_setup(current_user, form.code.data)
        except mfa_service.MfaError as exc:
            form.code.errors.append(str(exc))
        else:
            mark_verified(current_user)
            return _render(codes=codes)
    return _render(confirm=form, status=422)


@bp.post("/two-factor/disable")
@login_required
def two_factor_disable() -> ResponseReturnValue:
    """Turn two-factor off: the password and a current code (or recovery code)."""
    form = DisableForm()
    if form.validate_on_submit():
        try:
            mfa_service.disable(current_user, form.password.data, form.code.data)
        except mfa_service.MfaError as exc:
            form.code.errors.append(str(exc))
        else:
            flash("Two-factor is off.", "info")
            return redirect(url_for("settings.two_factor"))
    return _render(disable=form, status=422)


@bp.post("/two-factor/recovery-codes")
@login_required
def two_factor_regenerate() -> ResponseReturnValue:
    """New recovery codes (password or a current code first); every old one stops working. The new
    codes are in this response only (no-store), never in a flash or the session cookie."""
    form = RegenerateForm()
    if not current_user.mfa_enabled:
        flash("Two-factor is not on: there are no recovery codes to replace.", "error")
        return redirect(url_for("settings.two_factor"))
    if form.validate_on_submit():
        try:
            codes = mfa_service.regenerate_recovery_codes(current_user, form.proof.data)
        except mfa_service.MfaError as exc:
            form.proof.errors.append(str(exc))
        else:
            return _render(codes=codes, regenerated=True)
    return _render(regenerate=form, status=422)
