"""Upload artwork (one file or several), get poster, square and banner for each."""

from __future__ import annotations

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user

from webapp.authz import media_assistant_required
from webapp.autoformat.forms import BATCH_MAX_FILES, AutoformatForm, DuplicateChoiceForm
from webapp.extensions import db
from webapp.imaging import ImageRejected
from webapp.models import Asset, JobBatch
from webapp.params import parse_id
from webapp.services import jobs as job_service
from webapp.services import library as library_service
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
        "max_files": BATCH_MAX_FILES,
    }


def form_with_upload_error(message: str, status: int):
    """The form again with `message` on the file field (used by the 413 handler too)."""
    form = AutoformatForm(formdata=None)
    form.image.errors = [message]
    return _render_form(form, status)


def _job_response(job, **extra):
    """After starting one job: the polling partial (HTMX) or a redirect to the job page."""
    if is_htmx():
        resp = make_response(
            render_template("autoformat/_started.html", **extra, **job_service.job_view(job))
        )
        resp.headers["HX-Push-Url"] = url_for("activity.show", job_id=job.id)
        return resp
    return redirect(url_for("activity.show", job_id=job.id))


@bp.get("")
@media_assistant_required
def new():
    """The upload page."""
    return _render_form(AutoformatForm())


@bp.post("")
@media_assistant_required
def create():
    """Validate and store the upload(s), start one job per file, show progress."""
    form = AutoformatForm()
    files = [f for f in request.files.getlist("image") if f and f.filename]
    if not form.validate_on_submit() or not files or len(files) > BATCH_MAX_FILES:
        if not files:
            form.image.errors = ["Choose an image to upload: JPEG, PNG or WebP, up to 10 MB."]
        elif len(files) > BATCH_MAX_FILES:
            form.image.errors = [
                f"Upload at most {BATCH_MAX_FILES} files at once ({len(files)} were chosen)."
            ]
        return _render_form(form, 422)
    if len(files) > 1:
        return _create_batch(form, files)

    upload = files[0]
    data = upload.read(current_app.config["UPLOAD_MAX_BYTES"] + 1)
    try:
        ingest = ingest_upload(current_user, data, upload.filename)
    except ImageRejected as exc:
        form.image.errors = [exc.message]
        return _render_form(form, 422)
    except StorageError:
        current_app.logger.exception("storage failed during upload")
        form.image.errors = [
            "We could not store the image right now. Nothing was saved; try again in a minute."
        ]
        return _render_form(form, 503)
    if ingest.near_duplicates:
        choice = DuplicateChoiceForm(formdata=None, obj=None, data=form.data)
        choice.new_asset_id.data = str(ingest.asset.id)
        choice.existing_asset_id.data = str(ingest.near_duplicates[0].id)
        template = "autoformat/_near_duplicate.html" if is_htmx() else "autoformat/near_duplicate.html"
        return render_template(
            template,
            form=choice,
            new=ingest.asset,
            existing=ingest.near_duplicates[0],
            others=ingest.near_duplicates[1:],
        )
    job = job_service.start(current_user, "autoformat", form.job_payload(ingest.asset.id))
    return _job_response(job, duplicate=not ingest.created, asset=ingest.asset)


@bp.post("/duplicate")
@media_assistant_required
def resolve_duplicate():
    """The producer chose: keep both images, or use the one already in the library."""
    form = DuplicateChoiceForm()
    if not form.validate_on_submit():
        abort(400)
    new_id, existing_id = parse_id(form.new_asset_id.data), parse_id(form.existing_asset_id.data)
    if new_id is None or existing_id is None:
        abort(404)
    new = db.session.get(Asset, new_id)
    existing = db.session.get(Asset, existing_id)
    for asset in (new, existing):
        if asset is None or asset.owner_id != current_user.id:
            abort(404)
    if form.choice.data == "existing":
        library_service.delete_assets([new])
        target = existing
    else:
        target = new
    job = job_service.start(current_user, "autoformat", form.job_payload(target.id))
    return _job_response(job, duplicate=False, asset=target)


def _create_batch(form: AutoformatForm, files):
    """Several files: one job each, grouped in a batch with one progress view and one ZIP."""
    batch = JobBatch(owner_id=current_user.id, kind="autoformat", title=f"{len(files)} images")
    db.session.add(batch)
    db.session.commit()
    refused: list[str] = []
    started = 0
    for upload in files:
        data = upload.read(current_app.config["UPLOAD_MAX_BYTES"] + 1)
        try:
            ingest = ingest_upload(current_user, data, upload.filename)
        except ImageRejected as exc:
            refused.append(f"{upload.filename}: {exc.message}")
            continue
        except StorageError:
            refused.append(f"{upload.filename}: storage was unavailable; nothing was saved. Try it again.")
            continue
        note = None
        if ingest.near_duplicates:
            note = f"looks like {ingest.near_duplicates[0].filename}, already in your library"
        payload = form.job_payload(ingest.asset.id)
        payload["near_duplicate_of"] = ingest.near_duplicates[0].id if ingest.near_duplicates else None
        job_service.start(current_user, "autoformat", payload, batch_id=batch.id)
        started += 1
        if note:
            flash(f"{upload.filename} {note}. Both are kept; delete one from My images if you like.", "info")
    if not started:
        db.session.delete(batch)
        db.session.commit()
        form.image.errors = refused
        return _render_form(form, 422)
    for line in refused:
        flash(f"Not processed — {line}", "error")
    target = url_for("activity.batch", batch_id=batch.id)
    if is_htmx():
        resp = make_response("", 204)
        resp.headers["HX-Redirect"] = target
        return resp
    return redirect(target)
