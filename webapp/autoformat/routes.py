"""Upload one artwork, get poster, square and banner."""

from __future__ import annotations

from flask import Blueprint, current_app, make_response, redirect, render_template, url_for
from flask_login import current_user, login_required

from webapp.autoformat.forms import AutoformatForm
from webapp.imaging import ImageRejected
from webapp.services import jobs as job_service
from webapp.services.assets import ingest_upload
from webapp.storage import StorageError
from webapp.templating import is_htmx

bp = Blueprint("autoformat", __name__, url_prefix="/autoformat")


def _render_form(form: AutoformatForm, status: int = 200):
    template = "autoformat/_form.html" if is_htmx() else "autoformat/new.html"
    return render_template(template, form=form, limits=_limits()), status


def _limits() -> dict:
    cfg = current_app.config
    return {
        "max_bytes": cfg["UPLOAD_MAX_BYTES"],
        "max_mb": cfg["UPLOAD_MAX_BYTES"] / (1024 * 1024),
        "max_width": cfg["UPLOAD_MAX_WIDTH"],
        "max_height": cfg["UPLOAD_MAX_HEIGHT"],
    }


def form_with_upload_error(message: str, status: int):
    """The form again with `message` on the file field (used by the 413 handler too)."""
    form = AutoformatForm(formdata=None)
    form.image.errors = [message]
    return _render_form(form, status)


@bp.get("")
@login_required
def new():
    """The upload page."""
    return _render_form(AutoformatForm())


@bp.post("")
@login_required
def create():
    """Validate and store the upload, start the job, show its progress."""
    form = AutoformatForm()
    if not form.validate_on_submit():
        return _render_form(form, 422)
    data = form.image.data.read(current_app.config["UPLOAD_MAX_BYTES"] + 1)
    try:
        ingest = ingest_upload(current_user, data, form.image.data.filename)
    except ImageRejected as exc:
        form.image.errors = [exc.message]
        return _render_form(form, 422)
    except StorageError:
        current_app.logger.exception("storage failed during upload")
        form.image.errors = [
            "We could not store the image right now. Nothing was saved; try again in a minute."
        ]
        return _render_form(form, 503)
    job = job_service.start(current_user, "autoformat", form.job_payload(ingest.asset.id))
    if is_htmx():
        resp = make_response(
            render_template(
                "autoformat/_started.html",
                duplicate=not ingest.created,
                asset=ingest.asset,
                **job_service.job_view(job),
            )
        )
        resp.headers["HX-Push-Url"] = url_for("activity.show", job_id=job.id)
        return resp
    return redirect(url_for("activity.show", job_id=job.id))
