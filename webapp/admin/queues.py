"""/admin/queues: the job queue as an operator needs it (the plan's Flower), admin only.

Reading is `services.queue_admin.snapshot()`; retry and cancel of a job that has a row go through
the actions a producer's buttons use (`staff_retry_job`, `staff_cancel_job`); delete and "requeue
all failed" act on RQ itself. Every action is audited.
"""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user
from flask_wtf import FlaskForm

from webapp.admin.routes import bp
from webapp.authz import admin_required
from webapp.extensions import db
from webapp.services import actions, audit, queue_admin

OPS = ("retry", "cancel", "delete", "requeue_failed")


def _view() -> dict:
    return {"snap": queue_admin.snapshot(), "form": FlaskForm(formdata=None)}


@bp.get("/queues")
@admin_required
def queues() -> ResponseReturnValue:
    """Queues with depth and oldest job, workers with their current job, and the job lists."""
    return render_template("admin/queues.html", **_view())


@bp.get("/queues/panel")
@admin_required
def queues_panel() -> ResponseReturnValue:
    """The same content, re-rendered every few seconds by the page (HTMX)."""
    return render_template("admin/_queues_panel.html", **_view())


@bp.post("/queues/action")
@admin_required
def queue_action() -> ResponseReturnValue:
    """retry / cancel / delete one RQ job (by id), or requeue every failed one."""
    if not FlaskForm().validate_on_submit():
        flash("The form expired; reload the page and try again.", "error")
        return redirect(url_for("admin.queues"))
    op = request.form.get("op", "")
    rq_id = (request.form.get("rq_id") or "").strip()
    admin = current_user._get_current_object()  # type: ignore[attr-defined]
    if op not in OPS:
        flash("Unknown action.", "error")
        return redirect(url_for("admin.queues"))
    try:
        if op == "requeue_failed":
            flash(_requeue_all(admin), "success")
        else:
            flash(_one(admin, op, rq_id), "success")
    except actions.ActionError as exc:
        flash(exc.message, "error")
    return redirect(url_for("admin.queues"))


def _one(admin, op: str, rq_id: str) -> str:
    row = queue_admin.row_for(rq_id) if rq_id else None
    if op == "retry":
        if row is not None:
            actions.staff_retry_job(admin, row.id)
            return f"Job {row.id} is queued again."
        if not queue_admin.requeue_orphan(rq_id):
            raise actions.ActionError(
                "not_found", "That RQ job is not in a failed list any more; reload the page."
            )
        audit.record("queue.requeue", f"rq:{rq_id}", {"via": "queue dashboard"}, actor=admin)
        db.session.commit()
        return f"RQ job {rq_id} is queued again."
    if op == "cancel":
        if row is None:
            raise actions.ActionError(
                "not_found", "Only a job with a job row can be cancelled; delete this one instead."
            )
        actions.staff_cancel_job(admin, row.id)
        return f"Job {row.id} is cancelled."
    # delete: a queued or running row is cancelled first, so nothing waits for a job that is gone.
    if row is not None and row.can_cancel:
        actions.staff_cancel_job(admin, row.id, via="queue dashboard (delete)")
    info = queue_admin.delete(rq_id)
    if info is None:
        raise actions.ActionError("not_found", "That RQ job no longer exists; reload the page.")
    audit.record("queue.delete", f"rq:{rq_id}", {**info, "job_id": row.id if row else None}, actor=admin)
    db.session.commit()
    return f"RQ job {rq_id} is deleted."


def _requeue_all(admin) -> str:
    retried = requeued = skipped = 0
    for rq_id in queue_admin.failed_ids():
        row = queue_admin.row_for(rq_id)
        try:
            if row is None:
                requeued += int(queue_admin.requeue_orphan(rq_id))
            elif row.can_retry:
                actions.staff_retry_job(admin, row.id, via="queue dashboard (requeue all failed)")
                retried += 1
            else:
                skipped += 1  # its row was retried or finished another way since
        except actions.ActionError:
            skipped += 1  # e.g. the owner's allowance is used up: left in the list
    audit.record(
        "queue.requeue_all_failed",
        "queues",
        {"retried": retried, "requeued": requeued, "skipped": skipped},
        actor=admin,
    )
    db.session.commit()
    return f"Requeued {retried + requeued} failed job(s); {skipped} left as they were."
