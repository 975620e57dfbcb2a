"""Upload artwork (one file or several), get each chosen format (show, social or custom) for each."""

from __future__ import annotations

import hashlib

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
from webapp.autoformat.forms import BATCH_MAX_FILES, FILL_CHOICES, AutoformatForm, DuplicateChoiceForm
from webapp.extensions import db
from webapp.models import Asset, JobBatch
from webapp.params import parse_id
from webapp.services import actions
from webapp.services import formats as format_service
from webapp.services import jobs as job_service
from webapp.services import library as library_service
from webapp.services.actions import ACTION_STATUS
from webapp.storage import StorageError
from webapp.templating import is_htmx

bp = Blueprint("autoformat", __name__, url_prefix="/autoformat")


def _render_form(form: AutoformatForm, status: int = 200, choice: dict | None = None):
    """The upload form. `choice` preselects formats and fills: what was just posted, else the
    producer's remembered choice (issue 17)."""
    template = "autoformat/_form.html" if is_htmx() else "autoformat/new.html"
    if choice is None:
        choice = format_service.remembered(current_user)
        form.custom_sizes.data = form.custom_sizes.data or choice["custom"]
        if "custom" in choice["fills"]:
            form.fill_custom.data = choice["fills"]["custom"]
    presets = format_service.all_presets()
    return render_template(
        template,
        form=form,
        limits=_limits(),
        choice=choice,
        preset_groups=format_service.grouped_presets(presets),
        fill_choices=[(c.value, c.label) for c in FILL_CHOICES],
    ), status


def _remember(form: AutoformatForm) -> None:
    """Store what the producer chose, preselected on the next visit."""
    chosen = form.format_choice()
    fills = {k: v for k, v in chosen["fills"].items() if k in chosen["formats"]}
    fills["custom"] = chosen["fill_custom"] or "blur"
    format_service.remember(current_user, chosen["formats"], chosen["custom"], fills)
    db.session.commit()


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
        return _render_form(form, 422, form.format_choice())
    if len(files) > 1:
        return _create_batch(form, files)

    upload = files[0]
    data = upload.read(current_app.config["UPLOAD_MAX_BYTES"] + 1)
    try:
        outcome = actions.autoformat_upload(
            current_user,
            data,
            upload.filename,
            form.settings(),
            idempotency_key=_idempotency_key(":" + _fingerprint(data, form)),
            ask_about_near_duplicates=True,
        )
    except actions.ActionError as exc:
        if "formats" in exc.errors:
            form.custom_sizes.errors = list(exc.errors["formats"])
        form.image.errors = [
            exc.message,
            *[m for msgs in exc.errors.values() for m in msgs if m != exc.message],
        ]
        return _render_form(form, ACTION_STATUS.get(exc.code, 422), form.format_choice())
    except StorageError:
        current_app.logger.exception("storage failed during upload")
        form.image.errors = [
            "We could not store the image right now. Nothing was saved; try again in a minute."
        ]
        return _render_form(form, 503, form.format_choice())
    _remember(form)
    ingest = outcome.ingest
    if outcome.job is None:
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
            chosen=form.settings(),
        )
    return _job_response(outcome.job, duplicate=not ingest.created, asset=ingest.asset)


def _idempotency_key(suffix: str = "") -> str | None:
    """The form's one-time key (rendered into every upload form): a double-submitted form gets the
    job of the first submission back instead of a second job."""
    key = (request.form.get("idempotency_key") or request.headers.get("Idempotency-Key") or "").strip()
    if not key or len(key) > 64 or not key.isascii():
        return None
    return f"web:{key}{suffix}"


@bp.post("/duplicate")
@media_assistant_required
def resolve_duplicate():
    """The producer chose: keep both images (the default), or use the earlier one and discard the
    new upload. Only that explicit second choice deletes anything, and only the new upload itself."""
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
    discard = form.choice.data == "existing"
    if discard and (new.id == existing.id or new.source != "upload" or new.kind != "original"):
        abort(400)  # the choice only ever discards the upload it was offered for
    target = existing if discard else new
    try:
        job = actions.autoformat_asset(
            current_user, target.id, form.settings(), idempotency_key=_idempotency_key(":dup")
        )
    except actions.ActionError as exc:
        flash(exc.message, "error")
        return redirect(url_for("autoformat.new"))
    discarded = None
    if discard:
        discarded = new.filename
        library_service.delete_assets([new])
        if not is_htmx():
            flash(f"Discarded your upload {discarded}; auto-formatting {existing.filename} instead.", "info")
    return _job_response(job, duplicate=False, asset=target, discarded=discarded)


def _fingerprint(data: bytes, form: AutoformatForm) -> str:
    """The same form key with another file or other settings is a new request, not a resend."""
    digest = hashlib.sha256(data)
    digest.update(repr(form.settings()).encode())
    return digest.hexdigest()[:16]


def _create_batch(form: AutoformatForm, files):
    """Several files: one job each, grouped in a batch with one progress view and one ZIP."""
    batch = JobBatch(owner_id=current_user.id, kind="autoformat", title=f"{len(files)} images")
    db.session.add(batch)
    db.session.commit()
    refused: list[str] = []
    started = 0
    for index, upload in enumerate(files):
        data = upload.read(current_app.config["UPLOAD_MAX_BYTES"] + 1)
        try:
            outcome = actions.autoformat_upload(
                current_user,
                data,
                upload.filename,
                form.settings(),
                idempotency_key=_idempotency_key(f":{index}:" + _fingerprint(data, form)),
                batch_id=batch.id,
            )
        except actions.ActionError as exc:
            refused.append(f"{upload.filename}: {exc.message}")
            continue
        except StorageError:
            refused.append(f"{upload.filename}: storage was unavailable; nothing was saved. Try it again.")
            continue
        started += 1
        near = outcome.ingest.near_duplicates
        if near:
            note = f"looks like {near[0].filename}, already in your library"
            flash(f"{upload.filename} {note}. Both are kept; delete one from My images if you like.", "info")
    if not started:
        db.session.delete(batch)
        db.session.commit()
        form.image.errors = refused
        return _render_form(form, 422, form.format_choice())
    _remember(form)
    for line in refused:
        flash(f"Not processed — {line}", "error")
    target = url_for("activity.batch", batch_id=batch.id)
    if is_htmx():
        resp = make_response("", 204)
        resp.headers["HX-Redirect"] = target
        return resp
    return redirect(target)
