"""Job control (retry, cancel, the admin's queue steering) and favourites."""

from __future__ import annotations

from typing import Any

from webapp.extensions import db
from webapp.models import Asset, Job, User
from webapp.params import parse_id
from webapp.services import jobs as job_service
from webapp.services import limits
from webapp.services.actions.core import (
    ActionError,
    ActionSpec,
    _register,
    owned,
    require_feature,
)

# --------------------------------------------------------------------------------- job control


def retry_job(user: User, job_id: Any) -> Job:
    """Run a failed or cancelled job again; the allowance is taken again."""
    require_feature(user)
    job = owned(Job, job_id, user, "job")
    if not job.can_retry:
        raise ActionError("conflict", "Only a failed or cancelled job can be retried.")
    try:
        if not job_service.retry(job):
            raise ActionError("conflict", "Only a failed or cancelled job can be retried.")
    except limits.LimitReached as exc:
        raise ActionError.from_limit(exc) from None
    return job


def cancel_job(user: User, job_id: Any) -> Job:
    """Cancel a queued or running job (see `services.jobs.cancel` for what is kept)."""
    job = owned(Job, job_id, user, "job")
    if not job_service.cancel(job):
        raise ActionError("conflict", "This job has already finished.")
    return job


def _staff_job(staff: User, job_id: Any) -> Job:
    if not getattr(staff, "is_admin", False):
        raise ActionError("forbidden", "Only an admin can steer the job queue.")
    rid = parse_id(job_id)
    job = db.session.get(Job, rid) if rid is not None else None
    if job is None:
        raise ActionError("not_found", "That job no longer exists.")
    return job


def staff_retry_job(staff: User, job_id: Any, via: str = "queue dashboard") -> Job:
    """An admin runs someone's failed or cancelled job again (from /admin/queues). The owner's
    allowance is taken again exactly as if they had pressed Retry; the decision is audited."""
    from webapp.services import audit

    job = _staff_job(staff, job_id)
    if not job.can_retry:
        raise ActionError(
            "conflict", f"Job {job.id} is {job.status}: only a failed or cancelled job can be retried."
        )
    try:
        if not job_service.retry(job):
            raise ActionError("conflict", f"Job {job.id} changed meanwhile; reload the page.")
    except limits.LimitReached as exc:
        raise ActionError.from_limit(exc) from None
    audit.record(
        "job.retry", f"job:{job.id}", {"via": via, "owner_id": job.owner_id, "kind": job.kind}, actor=staff
    )
    db.session.commit()
    return job


def staff_cancel_job(staff: User, job_id: Any, via: str = "queue dashboard") -> Job:
    """An admin cancels someone's queued or running job; same meaning as the producer's Cancel."""
    from webapp.services import audit

    job = _staff_job(staff, job_id)
    if not job_service.cancel(job):
        raise ActionError("conflict", f"Job {job.id} has already finished ({job.status}).")
    audit.record(
        "job.cancel", f"job:{job.id}", {"via": via, "owner_id": job.owner_id, "kind": job.kind}, actor=staff
    )
    db.session.commit()
    return job


_register(ActionSpec("staff_retry_job", ("admin", "allowance"), ("web:admin.queue_action",)))
_register(ActionSpec("staff_cancel_job", ("admin",), ("web:admin.queue_action",)))

_register(
    ActionSpec(
        "retry_job",
        ("feature", "ownership", "allowance"),
        ("web:activity.retry", "api:api.retry_job"),
    )
)
_register(ActionSpec("cancel_job", ("ownership",), ("web:activity.cancel", "api:api.cancel_job")))


# --------------------------------------------------------------------------------- favourites


def set_favorite(user: User, asset_id: Any, value: Any) -> Asset:
    """Star (``True``) or unstar (``False``) one of the producer's assets. Setting a value, not
    flipping one, makes the request idempotent: two tabs pressing "star" at once both get a star,
    and the one UPDATE statement lands whole whatever else runs."""
    from sqlalchemy import update
    from sqlalchemy.orm.attributes import set_committed_value

    asset = owned(Asset, asset_id, user, "image")
    if not isinstance(value, bool):
        message = "Send favorite as true or false."
        raise ActionError("invalid", message, {"favorite": [message]})
    db.session.execute(
        update(Asset)
        .where(Asset.id == asset.id, Asset.owner_id == user.id)
        .values(favorite=value)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    db.session.refresh(asset)
    # Answer with what this request set (a request racing it may have set the other value since;
    # the row holds whichever committed last, whole).
    set_committed_value(asset, "favorite", value)
    return asset


_register(
    ActionSpec(
        "set_favorite",
        ("ownership", "validation"),
        ("web:library.favorite", "api:api.update_asset"),
    )
)
