"""Moderation in the admin area (issue 17), registered on the admin `bp`.

- /admin/approvals/images/<id> (staff): approve or reject an image moderation held; the decision,
  its audit and the producer's e-mail live in services.moderation_review.decide (one decision wins).
- /admin/moderation (admins): the moderation provider (or none), whether publishing requires a
  check, and the prompt block list; every change audited.
"""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user
from flask_wtf import FlaskForm

from webapp.admin.routes import bp
from webapp.authz import admin_required, staff_required
from webapp.services import moderation, moderation_review, prompt_screen


@bp.post("/approvals/images/<int:asset_id>")
@staff_required
def review_image(asset_id: int) -> ResponseReturnValue:
    """Approve (published) or reject (kept out of the library and shows); the producer is e-mailed."""
    decision = request.form.get("decision")
    if not FlaskForm().validate_on_submit() or decision not in ("approve", "reject"):
        flash("Choose Approve or Reject.", "error")
        return redirect(url_for("admin.approvals"))
    staff = current_user._get_current_object()  # type: ignore[attr-defined]
    try:
        reason = request.form.get("reason", "")
        done = moderation_review.decide(asset_id, staff, decision == "approve", reason)
    except moderation.ModerationError as exc:
        flash(str(exc), "error")
        return redirect(url_for("admin.approvals"))
    verb = "approved and published" if decision == "approve" else "rejected"
    mailed = "" if done.mailed else " (the e-mail could not be sent; they will see it in the app)"
    flash(
        f"Image {done.asset.title or done.asset.filename} {verb}; the producer has been told{mailed}.",
        "success",
    )
    return redirect(url_for("admin.approvals"))


@bp.route("/moderation", methods=["GET", "POST"])
@admin_required
def moderation_settings() -> ResponseReturnValue:
    """The moderation provider, the MODERATION_REQUIRED switch and the prompt block list."""
    form = FlaskForm()
    error = None
    if request.method == "POST" and form.validate_on_submit():
        admin = current_user._get_current_object()  # type: ignore[attr-defined]
        try:
            if request.form.get("what") == "blocklist":
                saved = prompt_screen.save(admin, request.form.get("blocklist", ""))
                flash(f"Block list saved: {len(saved)} term{'s' if len(saved) != 1 else ''}.", "success")
            else:
                moderation.update_settings(
                    admin, request.form.get("provider") or None, request.form.get("required") == "1"
                )
                flash("Moderation settings saved.", "success")
            return redirect(url_for("admin.moderation_settings"))
        except ValueError as exc:
            error = str(exc)
    elif request.method == "POST":
        error = "The form expired; try again."
    return render_template(
        "admin/moderation.html",
        form=form,
        error=error,
        providers=moderation.PROVIDERS,
        provider=moderation.provider_name(),
        required=moderation.required(),
        blocklist="\n".join(prompt_screen.terms()),
    ), (422 if error else 200)
