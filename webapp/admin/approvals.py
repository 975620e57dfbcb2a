"""Staff approval of custom palettes, registered on the admin `bp` at /admin/approvals.

Staff and admins only (authz.staff_required): producers get 404, so the page is not advertised.
Thin HTTP: the decision, its rules and the e-mail to the producer live in services.palettes.review.
Without JS each decision posts and redirects; with HTMX the reviewed card swaps in place.
"""

from __future__ import annotations

from flask import flash, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user

from webapp.admin.routes import bp
from webapp.authz import staff_required
from webapp.extensions import db
from webapp.models import Palette, User
from webapp.palettes.forms import ReviewForm
from webapp.services import moderation_review
from webapp.services import palettes as palette_service
from webapp.templating import is_htmx


def _item(palette: Palette) -> dict:
    return {
        "palette": palette,
        "theme": palette_service.theme_view(palette.roles),
        "owner": db.session.get(User, palette.owner_id),
    }


@bp.get("/approvals")
@staff_required
def approvals() -> ResponseReturnValue:
    """Custom palettes waiting for a decision (oldest first) with report and preview; recent decisions."""
    return render_template(
        "admin/approvals.html",
        items=[_item(p) for p in palette_service.pending()],
        reviewed=palette_service.recently_reviewed(),
        form=ReviewForm(formdata=None),
        labels=palette_service.STATUS_LABELS,
        held_images=[(a, db.session.get(User, a.owner_id)) for a in moderation_review.held()],
    )


@bp.post("/approvals/<int:palette_id>")
@staff_required
def review_palette(palette_id: int) -> ResponseReturnValue:
    """Approve, or reject with a reason; the producer is e-mailed the decision with the contrast report."""
    palette = db.session.get(Palette, palette_id)
    if palette is None:
        return redirect(url_for("admin.approvals"))
    form = ReviewForm()
    error = None
    if not form.validate_on_submit():
        error = "Choose Approve or Reject."
    else:
        try:
            decision = palette_service.review(
                palette, current_user, form.decision.data == "approve", form.reason.data or ""
            )
        except palette_service.PaletteError as exc:
            error = str(exc)
    if is_htmx():
        status = 422 if error else 200
        return render_template("admin/approvals_item.html", **_item(palette), form=form, error=error), status
    if error:
        flash(error, "error")
    else:
        verb = "approved" if palette.status == palette_service.APPROVED else "rejected"
        mailed = "" if decision.mailed else " (the e-mail could not be sent; they will see it in the app)"
        flash(f"“{palette.name}” {verb}; the producer has been told{mailed}.", "success")
    return redirect(url_for("admin.approvals"))
