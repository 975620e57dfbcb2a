"""What "publishing" means beyond the moderation check itself (issue 17's gaps, closed in issue 20).

- Putting an image in a show slot is publishing: `ready_for_show` runs the same path as bulk
  publish and the studio's "use as" (`moderation.ensure_publishable`) for every door — the shows
  page, the fill-from-auto-format form, the API and the studio all reach it through
  `services.shows.assign_slot` / `fill_slots_from_job`. A draft is checked first (clean → published,
  flagged → held and refused, moderation required but not set up → refused); held and rejected
  images are refused with what to do.
- Publishing writes alt text: when the admin chose an AI describer, the newly published images get
  a describe job through `actions.describe_images` (the one rulebook: allowance, budget, own key).
  Best effort — a refusal never fails or undoes the publish; the offline words stay.
- The bulk panel's summary counts published and held images apart.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from datetime import timedelta

from sqlalchemy import select

from webapp.extensions import db
from webapp.models import Asset, Job, User, utcnow

log = logging.getLogger(__name__)

DESCRIBING = "Descriptions (alt text, title, tags) are being written for {what}."


# --------------------------------------------------------------------------------- show slots


def ready_for_show(assets: Sequence[Asset]) -> None:
    """Before images go into a show slot: publish drafts (moderation first), refuse held or rejected
    ones. Raises moderation.ModerationError (a ValueError with what to do); commits what it publishes."""
    from webapp.services import moderation

    for asset in assets:
        owner = db.session.get(User, asset.owner_id)
        moderation.ensure_publishable(owner, asset)


# --------------------------------------------------------------------------------- descriptions


def describe_published(user: User, asset_ids: Iterable[int]) -> str:
    """Start AI describe jobs for newly published images when a describer is configured; returns
    what to tell the producer ('' when there is no describer). Never raises for a refusal."""
    from webapp.services import actions, describe_ai

    ids = list(dict.fromkeys(asset_ids))
    if not ids or describe_ai.describer() is None:
        return ""
    started = 0
    for start in range(0, len(ids), describe_ai.MAX_ASSETS):
        chunk = ids[start : start + describe_ai.MAX_ASSETS]
        try:
            actions.describe_images(user, chunk)
        except actions.ActionError as exc:
            db.session.rollback()
            log.info("describe after publish refused for user %s: %s", user.id, exc.message)
            if not started:
                return f"Descriptions were not started ({exc.message}); the offline words are kept."
            return (
                f"Descriptions are being written for {started} of {len(ids)} images; "
                f"the rest were not started ({exc.message})."
            )
        started += len(chunk)
    return DESCRIBING.format(what="it" if started == 1 else f"{started} images")


def describing_note(asset: Asset, within: timedelta = timedelta(minutes=5)) -> str:
    """ "Descriptions are being written" when a describe job for this image was started just now
    (by the publish behind a slot assignment or "use as") and has not finished; else ''."""
    jobs = db.session.scalars(
        select(Job)
        .where(
            Job.owner_id == asset.owner_id,
            Job.kind == "describe",
            Job.status.in_(("queued", "running")),
            Job.created_at >= utcnow() - within,
        )
        .order_by(Job.id.desc())
        .limit(5)
    )
    if any(asset.id in ((j.input or {}).get("asset_ids") or []) for j in jobs):
        return DESCRIBING.format(what="it")
    return ""


# --------------------------------------------------------------------------------- bulk summary


def bulk_summary(published: int, held: int) -> str:
    """'3 published, 1 held for review' (the held part only when some are held)."""
    text = f"{published} published"
    return f"{text}, {held} held for review" if held else text
