"""What "publishing" means beyond the moderation check itself (issue 17's gaps, closed in issue 20).

- Putting an image in a show slot is publishing: `ready_for_show` runs the same path as bulk
  publish and the studio's "use as" (`ensure_publishable`, below) for every door — the shows
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
from typing import Any

from sqlalchemy import func, select

from webapp.extensions import db
from webapp.models import Asset, AssetStatus, Job, User, utcnow
from webapp.services import moderation

log = logging.getLogger(__name__)

DESCRIBING = "Descriptions (alt text, title, tags) are being written for {what}."


# --------------------------------------------------------------------------------- show slots


def ready_for_show(assets: Sequence[Asset]) -> None:
    """Before images go into a show slot: publish drafts (moderation first), refuse held or rejected
    ones. Raises moderation.ModerationError (a ValueError with what to do); commits what it publishes."""
    for asset in assets:
        owner = db.session.get(User, asset.owner_id)
        ensure_publishable(owner, asset)


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


# --------------------------------------------------------------------------------- publishing


def _unique_filename(asset: Asset) -> str:
    from webapp.services.describe import download_filename

    name = download_filename(asset)
    taken = db.session.scalar(
        select(func.count())
        .select_from(Asset)
        .where(Asset.owner_id == asset.owner_id, Asset.filename == name, Asset.id != asset.id)
    )
    if taken:
        stem, _, ext = name.rpartition(".")
        name = f"{stem}-{asset.id}.{ext}"
    return name


def make_published(asset: Asset) -> None:
    """Status, alt text and the search-friendly name a published image carries."""
    from webapp.services.describe import describe_new

    describe_new(asset)
    asset.status = AssetStatus.PUBLISHED.value
    asset.hidden = False
    asset.filename = _unique_filename(asset)


def publish_assets(user: User, assets: list[Asset], show_id: int | None = None) -> moderation.Outcome:
    """Check and publish drafts (and held images whose check failed). Raises ModerationError,
    with nothing changed, when moderation is required and not set up, or the allowance/budget
    cannot cover the checks. Commits."""
    todo = [
        a
        for a in assets
        if a.status == AssetStatus.DRAFT.value
        or (a.status == AssetStatus.HELD.value and (a.moderation or {}).get("state") == moderation.ERROR)
    ]
    outcome = moderation.Outcome()
    if not todo:
        return outcome
    name = moderation.provider_name()
    if name is None and moderation.required():
        raise moderation.ModerationError(moderation.REQUIRED_NO_PROVIDER)
    if name is not None:
        moderation.take_allowance_and_budget(user, len(todo))
    verdicts = moderation.check_many(user, todo, moderation.resolve(user) if name is not None else None)
    for asset, verdict in zip(todo, verdicts, strict=True):
        asset.moderation = verdict.as_json()
        if show_id is not None:
            asset.show_id = show_id
        if verdict.state in (moderation.CLEAN, moderation.NOT_CHECKED):
            make_published(asset)
            outcome.published.append(asset.id)
            outcome.not_checked = outcome.not_checked or verdict.state == moderation.NOT_CHECKED
        else:
            asset.status = AssetStatus.HELD.value
            asset.hidden = False
            outcome.held.append(asset.id)
            outcome.held_notes.append(
                ", ".join(verdict.categories)
                if verdict.state == moderation.FLAGGED
                else "check failed, retry"
            )
        db.session.commit()
    if outcome.published:  # alt text from the AI describer when one is set up (best effort)
        outcome.describe_note = describe_published(user, outcome.published)
    return outcome


def publish_bulk(
    user: User,
    images: list[Any],
    assets: list[Asset],
    show_id: int | None,
    report: moderation.Outcome | None = None,
) -> moderation.Outcome:
    """Bulk publish: the selected images leave the review (published or held either way). The
    caller's `report`, when given, is filled in too (the bulk route words its flash from it)."""
    outcome = publish_assets(user, assets, show_id)
    for img in images:
        img.published = True
    for a in assets:  # already published (an upload picked into a batch): it joins the show too
        if a.status == AssetStatus.PUBLISHED.value and a.id not in outcome.published:
            a.hidden = False
            a.show_id = show_id if show_id is not None else a.show_id
            outcome.published.append(a.id)
    db.session.commit()
    if report is not None:
        report.__dict__.update(outcome.__dict__)
    return outcome


def ensure_publishable(user: User, asset: Asset) -> moderation.Outcome:
    """Before an image is used (studio "use as", a show slot): publish a draft, refuse a held or
    rejected one."""
    if asset.status == AssetStatus.REJECTED.value:
        raise moderation.ModerationError(
            "Staff rejected this image in moderation, so it cannot be used in a show."
        )
    outcome = publish_assets(user, [asset])
    if asset.status == AssetStatus.HELD.value:
        verdict = asset.moderation or {}
        if verdict.get("state") == moderation.ERROR:
            message = f"{verdict.get('message')} The image is held until it is checked."
            raise moderation.ModerationError(message)
        why = ", ".join(verdict.get("categories") or []) or "flagged"
        raise moderation.ModerationError(
            f"Moderation flagged this image ({why}); it is held until a staff member approves it."
        )
    return outcome
