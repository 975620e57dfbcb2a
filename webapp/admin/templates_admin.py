"""Admin pages for the studio's prompt templates: list, create, edit, delete, reorder.

Registered on the admin `bp` (admin only; 404 for everyone else). Thin HTTP over services.studio; every
form posts and redirects, so the pages work without JavaScript.
"""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_wtf import FlaskForm

from webapp.admin.routes import bp
from webapp.authz import admin_required
from webapp.extensions import db
from webapp.models import PromptTemplate
from webapp.services import generation
from webapp.services import studio as studio_service
from webapp.studio.forms import TemplateForm


def _template_or_404(template_id: int) -> PromptTemplate:
    row = db.session.get(PromptTemplate, template_id)
    if row is None:
        abort(404)
    return row


def _render_list(form: TemplateForm, status: int = 200) -> ResponseReturnValue:
    return (
        render_template(
            "admin/prompt_templates.html",
            groups=studio_service.templates_by_type(),
            form=form,
            action_form=FlaskForm(),
        ),
        status,
    )


@bp.get("/templates")
@admin_required
def templates() -> ResponseReturnValue:
    """Every template, grouped by image type in the order producers see them, and a form to add one."""
    return _render_list(TemplateForm(image_type=request.args.get("type") or "poster"))


@bp.post("/templates")
@admin_required
def template_create() -> ResponseReturnValue:
    """Add a template at the end of its image type."""
    form = TemplateForm()
    if not form.validate_on_submit():
        return _render_list(form, 422)
    try:
        row = studio_service.save_template(None, form.image_type.data, form.name.data, form.text.data)
    except (studio_service.StudioError, generation.GenerationError) as exc:
        form.text.errors = [str(exc)]
        return _render_list(form, 422)
    flash(f"Template “{row.name}” added.", "success")
    return redirect(url_for("admin.templates"))


@bp.route("/templates/<int:template_id>", methods=["GET", "POST"])
@admin_required
def template_edit(template_id: int) -> ResponseReturnValue:
    """Edit one template (GET shows the form, POST saves it)."""
    row = _template_or_404(template_id)
    form = TemplateForm(obj=row)
    if request.method == "POST":
        if form.validate_on_submit():
            try:
                studio_service.save_template(row, form.image_type.data, form.name.data, form.text.data)
            except (studio_service.StudioError, generation.GenerationError) as exc:
                form.text.errors = [str(exc)]
            else:
                flash(f"Template “{row.name}” saved.", "success")
                return redirect(url_for("admin.templates"))
        return render_template("admin/prompt_templates_edit.html", row=row, form=form), 422
    return render_template("admin/prompt_templates_edit.html", row=row, form=form)


@bp.post("/templates/<int:template_id>/delete")
@admin_required
def template_delete(template_id: int) -> ResponseReturnValue:
    row = _template_or_404(template_id)
    if not FlaskForm().validate_on_submit():
        abort(400)
    name = row.name
    studio_service.delete_template(row)
    flash(f"Template “{name}” deleted.", "success")
    return redirect(url_for("admin.templates"))


@bp.post("/templates/<int:template_id>/move")
@admin_required
def template_move(template_id: int) -> ResponseReturnValue:
    """Move one place up or down within its image type."""
    row = _template_or_404(template_id)
    if not FlaskForm().validate_on_submit():
        abort(400)
    studio_service.move_template(row, -1 if request.form.get("direction") == "up" else 1)
    return redirect(url_for("admin.templates") + f"#tpl-{row.id}")
