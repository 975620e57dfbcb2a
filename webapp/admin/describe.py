"""Admin: which provider and model write image descriptions (issue 17). Registered on the admin `bp`.

The choice is stored on the provider's row (`services.describe_ai.set_describer`, audited like
every provider setting); "offline only" keeps the free words composed from the prompt and show.
"""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user
from flask_wtf import FlaskForm

from webapp.admin.routes import bp
from webapp.authz import admin_required
from webapp.services import describe_ai


def _page(status: int = 200, error: str | None = None) -> ResponseReturnValue:
    found = describe_ai.describer()
    price = None
    if found is not None:
        price = describe_ai.caption_price(found[0], found[0].name, found[1])
    return (
        render_template(
            "admin/describe.html",
            form=FlaskForm(),
            choices=describe_ai.choices(),
            current=describe_ai.current_choice(),
            active=found,
            price=price,
            error=error,
        ),
        status,
    )


@bp.get("/providers/describe")
@admin_required
def describe_settings() -> ResponseReturnValue:
    return _page()


@bp.post("/providers/describe")
@admin_required
def describe_settings_save() -> ResponseReturnValue:
    if not FlaskForm().validate_on_submit():
        return _page(400, "The form expired; reload the page and choose again.")
    try:
        describe_ai.set_describer(request.form.get("describer", ""), current_user)
    except describe_ai.DescribeUnavailable as exc:
        return _page(422, str(exc))
    found = describe_ai.describer()
    if request.form.get("describer") and found is None:
        flash(
            "Saved, but that provider is not enabled: enable it (with a key) before producers can use it.",
            "warning",
        )
    else:
        flash("Image description settings saved.", "success")
    return redirect(url_for("admin.describe_settings"))
