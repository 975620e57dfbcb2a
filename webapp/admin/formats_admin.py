"""Admin page for output presets (issue 17): the built-in ones, and presets admins add or remove.

Registered on the admin `bp` (admin only; 404 for everyone else). Thin HTTP over services.formats,
which validates and audits; every form posts and redirects, so the page works without JavaScript.
"""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import IntegerField, StringField
from wtforms.validators import InputRequired, Optional

from webapp.admin.routes import bp
from webapp.authz import admin_required
from webapp.extensions import db
from webapp.imaging.presets import BUILTIN_PRESETS, MIN_SIDE
from webapp.models import FormatPreset
from webapp.params import parse_id
from webapp.services import formats as format_service


class PresetForm(FlaskForm):
    """A new preset; the service checks every field again (and answers with the same words)."""

    name = StringField("Name", validators=[InputRequired("Give the preset a name, e.g. tiktok-cover.")])
    label = StringField(
        "Label", validators=[InputRequired("Give a label producers will read, e.g. TikTok cover.")]
    )
    platform = StringField("Platform (the group it appears in)", validators=[Optional()])
    width = IntegerField("Width (px)", validators=[InputRequired("Give the width in pixels.")])
    height = IntegerField("Height (px)", validators=[InputRequired("Give the height in pixels.")])


def _render(form: PresetForm, status: int = 200) -> ResponseReturnValue:
    max_w, max_h = format_service.limits()
    return (
        render_template(
            "admin/formats.html",
            builtin=list(BUILTIN_PRESETS.values()),
            added=db.session.query(FormatPreset).order_by(FormatPreset.id).all(),
            form=form,
            action_form=FlaskForm(),
            min_side=MIN_SIDE,
            max_w=max_w,
            max_h=max_h,
        ),
        status,
    )


@bp.get("/formats")
@admin_required
def formats() -> ResponseReturnValue:
    """Every preset producers can pick, and a form to add one."""
    return _render(PresetForm())


@bp.post("/formats")
@admin_required
def format_create() -> ResponseReturnValue:
    form = PresetForm()
    if not form.validate_on_submit():
        return _render(form, 422)
    try:
        row = format_service.create_preset(
            current_user,
            form.name.data,
            form.label.data,
            form.platform.data,
            form.width.data,
            form.height.data,
        )
    except format_service.PresetError as exc:
        db.session.rollback()
        for name, messages in exc.errors.items():
            getattr(form, name).errors = list(messages)
        return _render(form, 422)
    flash(f"Preset “{row.name}” ({row.width}×{row.height}) added: producers can pick it now.", "success")
    return redirect(url_for("admin.formats"))


@bp.post("/formats/delete")
@admin_required
def format_delete() -> ResponseReturnValue:
    """Remove an added preset. Images already made in it keep their format name."""
    if not FlaskForm().validate_on_submit():
        abort(400)
    preset_id = parse_id(request.form.get("preset_id"))
    row = db.session.get(FormatPreset, preset_id) if preset_id is not None else None
    if row is None:
        flash("That preset was already removed.", "info")
        return redirect(url_for("admin.formats"))
    name = row.name
    format_service.delete_preset(current_user, row)
    flash(f"Preset “{name}” removed.", "success")
    return redirect(url_for("admin.formats"))
