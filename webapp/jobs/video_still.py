"""Step 1 of a clip from a fresh generation: draw the still the clip animates.

The video job's input carries ``still``, a generation payload built by `services.actions.animate` with
the generation rules (`services.generation.quote`/`payload_for`: provider or tier, cleaned prompt,
estimate). The still is drawn by `jobs.generate.generate_variation` exactly as a studio generation's
variation 0: the price held on the provider's budget, the ledger row, a Runway task id stored on the
job (``v0:``) before polling so a killed worker's retry resumes it, the image stored at the format's
size. It is saved in the library (this job's output, the clip's parent) the moment it is drawn, so a
retry after a failure in step 2 reuses it instead of drawing (and paying for) it again.
"""

from __future__ import annotations

from typing import Any

from webapp.extensions import db
from webapp.jobs.runner import JobContext, JobError, RetryableJobError
from webapp.models import Asset, User
from webapp.services.jobs import stored_outputs

# The still's image type for each clip format (the renderer crops it to the format exactly).
STILL_TYPE = {"story": "poster", "square": "square", "landscape": "banner"}
SHARE = 45.0  # percent of the job's progress bar the still takes


def still_asset(ctx: JobContext) -> Asset:
    """The still this job animates: the one an earlier attempt drew, else a new one."""
    for asset in stored_outputs(ctx.job_id):
        if asset.media_kind == "image" and (asset.provenance or {}).get("variation") == 0:
            db.session.commit()
            return asset
    from webapp.jobs.generate import generate_variation
    from webapp.services.providers import RoutingError, plan

    p: dict[str, Any] = ctx.input["still"]
    user = db.session.get(User, ctx.owner_id)
    if user is None:
        raise JobError("The account that asked for this clip no longer exists.")
    try:
        routes = plan(user, p.get("provider"), "generate", p.get("use_own_key"), p.get("model"))
    except RoutingError as exc:
        raise JobError(f"{exc} The still could not be drawn; choose another image provider.") from None
    db.session.commit()
    ctx.progress(3, "Step 1 of 2: drawing the still")
    outcome = generate_variation(ctx, user, routes, p, 0, [], progress=(3, SHARE - 5))
    if not outcome.get("asset_id"):
        message = f"The still could not be drawn: {outcome.get('error') or 'no image came back.'}"
        raise (RetryableJobError if outcome.get("retryable") else JobError)(message)
    asset = db.session.get(Asset, outcome["asset_id"])
    db.session.commit()
    ctx.progress(SHARE, "Step 1 of 2 done: the still is in your library")
    return asset
