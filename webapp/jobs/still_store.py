"""Storing a generated still: the exact format size, full-bleed, one asset row per distinct image.

Used by `jobs.generate` for every variation (and so by bulk items and the still of a fresh clip).
"""

from __future__ import annotations

import hashlib
from decimal import Decimal

from sqlalchemy.exc import IntegrityError

from webapp.extensions import db
from webapp.imaging import FORMATS, analyze, decode, encode
from webapp.imaging.bleed import full_bleed
from webapp.models import Asset
from webapp.services.assets import apply_analysis, storage_key
from webapp.services.describe import describe_new
from webapp.services.providers import Route


def store_still(ctx, image, p: dict, route: Route, index: int, cost: Decimal, size: str) -> Asset:
    """Bring the image to the exact format size full-bleed (crop when little is lost, else extend
    the art from its own edges: never a pad; see imaging.bleed), store it, and commit its asset row."""
    target = FORMATS[p["image_type"]]
    canvas = full_bleed(decode(image.data), target.size)
    data = encode(canvas, "jpeg")
    sha = hashlib.sha256(data).hexdigest()
    existing = db.session.query(Asset).filter_by(owner_id=ctx.owner_id, sha256=sha).one_or_none()
    if existing is not None:
        link_bulk(p, existing, image.revised_prompt)
        db.session.commit()
        return existing
    key = storage_key(ctx.owner_id, sha, "image/jpeg", ctx.writer)
    ctx.put(key, data, "image/jpeg")
    asset = Asset(
        owner_id=ctx.owner_id,
        kind="edited" if p.get("operation") == "edit" else "generated",
        storage_key=key,
        filename=f"{p['image_type']}-{getattr(ctx, 'label', ctx.job_id)}-{index + 1}.jpg",
        content_type="image/jpeg",
        bytes=len(data),
        width=canvas.width,
        height=canvas.height,
        sha256=sha,
        parent_id=p.get("source_asset_id"),
        job_id=ctx.job_id,
        show_id=p.get("show_id"),
        source="ai",
        hidden=bool(p.get("hidden", False)),
        status="draft",  # issue 17: an AI result is a draft until published (moderation first)
        prompt=p["prompt"],
        provenance={
            "source": "ai",
            "provider": route.provider_name,
            "model": route.model,
            "prompt": p["prompt"],
            "negative": p.get("negative") or None,
            "style": p.get("style"),
            "seed": p.get("seed"),
            "quality": p.get("quality"),
            "size": size,
            "key_owner": route.key_owner,
            "cost": str(cost),
            "revised_prompt": image.revised_prompt,
            "job": ctx.job_id,
            "variation": index,
            # A task-based provider's own figures (Runway: task id and the credits it charged), for
            # reconciling the ledger (priced from our table) with the provider's invoice.
            **(
                {"provider_task": {"id": image.usage["task_id"], "credits": image.usage.get("credits")}}
                if (image.usage or {}).get("task_id")
                else {}
            ),
        },
    )
    apply_analysis(asset, analyze(data), ctx.put)
    # Committed even when a cancel landed during the provider call: the image was drawn and paid
    # for, so it is kept and shown as "finished before the cancel" (the next checkpoint stops).
    try:
        describe_new(asset)
        db.session.add(asset)
        db.session.flush()
        link_bulk(p, asset, image.revised_prompt)
        db.session.commit()  # the asset and (for bulk) its BulkImage row land together
    except IntegrityError:
        # The same bytes were committed meanwhile by another job (a double submit with a fixed
        # seed): use that asset; remove only the copy this attempt wrote.
        db.session.rollback()
        ctx.discard_keys([k for k in (key, asset.thumb_key) if k])
        winner = db.session.query(Asset).filter_by(owner_id=ctx.owner_id, sha256=sha).one()
        link_bulk(p, winner, image.revised_prompt)
        db.session.commit()
        return winner
    ctx.stored_keys.clear()  # owned by the committed asset now
    return asset


def link_bulk(p: dict, asset: Asset, revised_prompt: str | None) -> None:
    if not p.get("bulk_item_id"):
        return
    from webapp.models import BulkImage

    exists = db.session.query(BulkImage).filter_by(item_id=p["bulk_item_id"], asset_id=asset.id).first()
    if exists is None:
        db.session.add(
            BulkImage(
                item_id=p["bulk_item_id"],
                batch_id=p["bulk_batch_id"],
                asset_id=asset.id,
                revised_prompt=revised_prompt,
            )
        )
