"""The part of an upload's analysis that waits for its job: the thumbnail and the dominant colours.

Why (issue 18, docs/scaling.md "Pages under load"): an upload request used to run the whole
`imaging.analyze` — decode, 480 px thumbnail, k-means colours, WebP encoding — about 57% of its CPU.
What the request must know before it answers is only whether the file is acceptable (validated at
the door, a decode included, so hostile files are still refused there) and whether it looks like an
image already in the library (the near-duplicate question needs the hash and likeness signature:
`imaging.analysis.near_duplicate_keys`). The rest is done by the upload's auto-format job, before
the formats, at the job workers' lower priority: a burst of uploads then slows jobs, not pages.

An original whose analysis is still to come has `thumb_key` NULL. Until then `/assets/<id>/thumb`
serves the image itself; an asset no job finished is analysed on its first thumbnail view
(`library.ensure_thumbnail`, which calls :func:`complete_analysis`), as images older than
thumbnails always were.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from sqlalchemy import select

from webapp.extensions import db
from webapp.models import Asset, utcnow
from webapp.services.assets import apply_analysis, discard_stored, thumb_key_for
from webapp.services.describe import OFFLINE, describe_new
from webapp.storage import get_storage

log = logging.getLogger(__name__)

#: How long an upload's own job is given to make its thumbnail before a page view makes it instead.
PENDING_GRACE = timedelta(minutes=10)


def analysis_pending(asset: Asset) -> bool:
    """True while a fresh upload's thumbnail and colours are still its job's to make."""
    if asset.thumb_key or not asset.is_image or asset.source != "upload" or asset.created_at is None:
        return False
    if asset.dominant_colors or not asset.phash:  # analysed once already, or older than analysis
        return False
    created = asset.created_at
    now = utcnow()
    if created.tzinfo is None and now.tzinfo is not None:
        now = now.replace(tzinfo=None)
    return now - created < PENDING_GRACE


def complete_analysis(asset_id: int, writer: str) -> bool:
    """Store the thumbnail, colours (and colour words) of an image whose analysis was deferred.

    Returns True when this call completed it, False when there was nothing to do (already analysed,
    by a job or a thumbnail view meanwhile, or the asset is gone). Commits its own transaction. The
    thumbnail is written under a key of this `writer` alone, so when two callers race, the one that
    loses removes only its own file, and a failure leaves no file behind either way."""
    from webapp.imaging import analyze  # numpy and scikit-learn: imported where used

    asset = db.session.get(Asset, asset_id)
    if asset is None or asset.thumb_key or not asset.is_image:
        db.session.commit()
        return False
    image_key = asset.storage_key
    db.session.commit()  # no transaction held while the pixels are worked on
    analysis = analyze(get_storage().get(image_key))

    store = get_storage()
    written: list[str] = []

    def put(key: str, payload: bytes, content_type: str) -> None:
        store.put(key, payload, content_type)
        written.append(key)

    try:
        asset = db.session.scalars(select(Asset).where(Asset.id == asset_id).with_for_update()).first()
        if asset is None or asset.thumb_key:
            db.session.rollback()
            discard_stored(written, "an unfinished analysis")
            return False
        apply_analysis(asset, analysis, put, thumb_key=_thumb_key(image_key, writer))
        if asset.described_by == OFFLINE:  # words composed without colours at upload: compose again
            asset.described_by = None
            describe_new(asset)
        db.session.commit()
    except BaseException:
        db.session.rollback()
        discard_stored(written, "an unfinished analysis")
        raise
    return True


def _thumb_key(image_key: str, writer: str) -> str:
    return thumb_key_for(image_key).removesuffix(".webp") + f"-{writer}.webp"
