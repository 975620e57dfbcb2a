"""Pages for people about the API: personal access tokens and the API reference."""

from __future__ import annotations

from flask import Blueprint, abort, flash, make_response, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from wtforms import DateField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional

from webapp.extensions import db
from webapp.models import ApiToken, utcnow
from webapp.services import tokens as token_service

bp = Blueprint("tokens", __name__)


class TokenForm(FlaskForm):
    name = StringField(
        "Name", validators=[DataRequired("Name the token after what will use it."), Length(max=80)]
    )
    scope = SelectField(
        "Scope",
        choices=[
            SelectChoice("read", "Read: look, download"),
            SelectChoice("write", "Write: also upload, generate, change"),
        ],
        default="read",
    )
    expiry = SelectField(
        "Expires",
        choices=[
            SelectChoice("never", "Never"),
            SelectChoice("7", "In 7 days"),
            SelectChoice("30", "In 30 days"),
            SelectChoice("90", "In 90 days"),
            SelectChoice("date", "On a date…"),
        ],
        default="never",
    )
    expiry_date = DateField("Expiry date (if “On a date”)", validators=[Optional()])

    def expiry_choice(self) -> str | None:
        """What services.tokens.resolve_expiry understands. "Never" on an admin token is refused
        there with a message saying why (admin tokens always expire)."""
        if self.expiry.data == "date":
            if self.expiry_date.data is None:
                raise token_service.ExpiryError("Pick the date the token should stop working.")
            return self.expiry_date.data.isoformat()
        return self.expiry.data


def _token_form(**kwargs) -> TokenForm:
    if current_user.is_admin:
        kwargs.setdefault("expiry", "default")
    form = TokenForm(**kwargs)
    if current_user.is_admin:
        form.scope.choices = [*form.scope.choices, SelectChoice("admin", "Admin: also manage providers")]
        days = token_service.admin_limits()[0]
        form.expiry.choices = [
            SelectChoice("default", f"Default: never (admin scope: in {days} days)"),
            *form.expiry.choices,
        ]
    return form


def _render(form: TokenForm, new: dict | None) -> str:
    default_days, max_days = token_service.admin_limits()
    return render_template(
        "settings/tokens.html",
        form=form,
        rows=token_service.for_user(current_user),
        new=new,
        revoke_form=FlaskForm(),
        now=utcnow(),
        admin_days=default_days,
        admin_max_days=max_days,
    )


@bp.route("/settings/tokens", methods=["GET", "POST"])
@login_required
def tokens():
    """Create (shown once), list and revoke personal access tokens."""
    form = _token_form()
    if form.validate_on_submit():
        try:
            row, plaintext = token_service.create(
                current_user, form.name.data, form.scope.data, form.expiry_choice()
            )
        except token_service.TokenError as exc:
            field = form.expiry if isinstance(exc, token_service.ExpiryError) else form.scope
            field.errors = [str(exc)]
        else:
            # Shown once, in this response only: the plaintext never goes into the session cookie
            # (signed, not encrypted: anyone holding the cookie could read it), and no-store keeps
            # it out of caches. Reloading would ask to re-submit, i.e. make another token.
            resp = make_response(_render(_token_form(formdata=None), {"id": row.id, "value": plaintext}))
            resp.headers["Cache-Control"] = "no-store"
            return resp
    return _render(form, None), 422 if request.method == "POST" else 200


@bp.post("/settings/tokens/<int:token_id>/revoke")
@login_required
def revoke(token_id: int):
    row = db.session.get(ApiToken, token_id)
    if row is None or row.owner_id != current_user.id:
        abort(404)
    if FlaskForm().validate_on_submit():
        token_service.revoke(row, current_user)
        flash(f"Revoked “{row.name}”. It stopped working immediately.", "success")
    return redirect(url_for("tokens.tokens"))


@bp.get("/api")
@login_required
def reference():
    """The API reference, rendered from the same OpenAPI document scripts can download."""
    from webapp.api.openapi import document
    from webapp.api.reference import example_response, grouped

    doc = document()
    return render_template(
        "api/reference.html", doc=doc, sections=grouped(doc), example_response=example_response
    )
