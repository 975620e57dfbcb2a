"""Jobs: list, live status partial, cancel, retry, and the ZIP of a job's outputs."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_login import current_user, login_required
from sqlalchemy import func, select

from webapp.authz import get_owned_or_404, get_viewable_or_404
from webapp.downloads import zip_response
from webapp.extensions import db
from webapp.models import Job, JobBatch
from webapp.params import MAX_ID, int_arg
from webapp.services import actions
from webapp.services import jobs as job_service
from webapp.services.actions import ACTION_STATUS
from webapp.templating import is_htmx

bp = Blueprint("activity", __name__, url_prefix="/jobs")

PAGE_SIZE = 25


def get_owned_job(job_id: int) -> Job:
    """View: owner or staff; 404 (not 403) for anyone else, so ids are not confirmed."""
    return get_viewable_or_404(Job, job_id)


@bp.get("")
@login_required
def index():
    """The producer's jobs, newest first, with status."""
    before = int_arg("before", 0, lo=1, hi=MAX_ID)
    query = select(Job).where(Job.owner_id == current_user.id).order_by(Job.id.desc()).limit(PAGE_SIZE + 1)
    if before:
        query = query.where(Job.id < before)
    rows = list(db.session.scalars(query))
    more = len(rows) > PAGE_SIZE
    rows = rows[:PAGE_SIZE]
    for job in rows:
        job_service.refresh_if_stale(job)
    return render_template(
        "activity/index.html",
        jobs=rows,
        subjects=_subjects(rows),
        next_before=rows[-1].id if more else None,
    )


KIND_LABELS = {
    "autoformat": "Auto-format",
    "generate": "AI image",
    "palette": "Palette",
    "video": "Clip",
    "voice": "Voice-over",
    "describe": "AI description",
}


def _subjects(jobs: list[Job]) -> dict[int, dict]:
    """What each job worked on, for the list: the image it started from (or its first output) with
    a thumbnail, else the words it was given (prompt, script) — two queries for the whole page."""
    from webapp.models import Asset

    source_ids = {}
    for job in jobs:
        payload = job.input or {}
        aid = (
            payload.get("asset_id")
            or payload.get("source_asset_id")
            or (payload.get("asset_ids") or [None])[0]
        )
        if isinstance(aid, int):
            source_ids[job.id] = aid
    firsts = (
        dict(
            db.session.execute(
                select(Asset.job_id, func.min(Asset.id))
                .where(Asset.job_id.in_([j.id for j in jobs]), Asset.owner_id == current_user.id)
                .group_by(Asset.job_id)
            ).all()
        )
        if jobs
        else {}
    )
    wanted = set(source_ids.values()) | set(firsts.values())
    assets = (
        {
            a.id: a
            for a in db.session.scalars(
                select(Asset).where(Asset.id.in_(wanted), Asset.owner_id == current_user.id)
            )
        }
        if wanted
        else {}
    )
    out: dict[int, dict] = {}
    for job in jobs:
        payload = job.input or {}
        asset = assets.get(source_ids.get(job.id)) or assets.get(firsts.get(job.id))
        words = payload.get("prompt") or payload.get("text") or ""
        out[job.id] = {
            "label": KIND_LABELS.get(job.kind, job.kind.capitalize()),
            "asset": asset,
            "name": asset.filename if asset is not None else "",
            "words": words if isinstance(words, str) else "",
        }
    return out


@bp.get("/<int:job_id>")
@login_required
def show(job_id: int):
    """The job page: includes the same partial the poller swaps."""
    job = get_owned_job(job_id)
    return render_template("activity/show.html", **job_service.job_view(job))


@bp.get("/<int:job_id>/status")
@login_required
def status(job_id: int):
    """The live partial. While the job is not final it carries its own hx-get trigger."""
    job = get_owned_job(job_id)
    if not is_htmx():
        return redirect(url_for("activity.show", job_id=job.id))
    return render_template("_partials/_job.html", **job_service.job_view(job))


@bp.post("/<int:job_id>/cancel")
@login_required
def cancel(job_id: int):
    """Door for `actions.cancel_job`."""
    return _control(job_id, actions.cancel_job)


@bp.post("/<int:job_id>/retry")
@login_required
def retry(job_id: int):
    """Door for `actions.retry_job` (the allowance is taken again)."""
    return _control(job_id, actions.retry_job)


def _control(job_id: int, action):
    job = get_owned_or_404(Job, job_id)
    notice, status = None, 200
    try:
        action(current_user, job.id)
    except actions.ActionError as exc:
        notice, status = exc.message, ACTION_STATUS.get(exc.code, 409)
    db.session.refresh(job)
    if is_htmx():
        return render_template("_partials/_job.html", notice=notice, **job_service.job_view(job)), status
    if notice:
        flash(notice, "error")
    return redirect(url_for("activity.show", job_id=job.id))


@bp.get("/<int:job_id>/download.zip")
@login_required
def download_zip(job_id: int):
    """All of a job's outputs in one streamed ZIP."""
    job = get_owned_job(job_id)
    outputs = job_service.outputs_of(job)
    if not outputs:
        abort(404)
    stem = outputs[0].filename.rsplit("-", 1)[0] or "marquee"
    return zip_response(outputs, f"{stem}-formats.zip")


@bp.get("/batches/<int:batch_id>")
@login_required
def batch(batch_id: int):
    """Several uploads at once: every job's live partial on one page, and one ZIP."""
    batch = _owned_batch(batch_id)
    jobs = list(db.session.scalars(select(Job).where(Job.batch_id == batch.id).order_by(Job.id)))
    views = [job_service.job_view(j) for j in jobs]
    done = sum(1 for j in jobs if j.is_final)
    return render_template("activity/batch.html", batch=batch, views=views, done=done, total=len(jobs))


@bp.get("/batches/<int:batch_id>/download.zip")
@login_required
def batch_zip(batch_id: int):
    """Every finished output of the batch, in one streamed ZIP."""
    batch = _owned_batch(batch_id)
    jobs = db.session.scalars(select(Job).where(Job.batch_id == batch.id).order_by(Job.id))
    outputs = [a for j in jobs for a in job_service.outputs_of(j)]
    if not outputs:
        abort(404)
    return zip_response(outputs, f"marquee-batch-{batch.id}.zip")


def _owned_batch(batch_id: int) -> JobBatch:
    return get_viewable_or_404(JobBatch, batch_id)
