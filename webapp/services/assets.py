"""Turning bytes into stored, recorded assets — once, and with nothing left behind on failure."""

from __future__ import annotations

import hashlib
import logging
import re
import secrets
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from flask import current_app
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import undefer

from webapp.extensions import db
from webapp.imaging import ImageInfo, ImageRejected, UploadLimits, inspect_upload
from webapp.imaging.metadata import MetadataError, strip_private
from webapp.models import Asset, AssetColor, AssetKind, User
from webapp.services.describe import describe_new
from webapp.storage import get_storage

if TYPE_CHECKING:
    from webapp.imaging import Analysis

log = logging.getLogger(__name__)

EXTENSIONS = {
    "image/jpeg": "jpg",
    "image/png": "png",
    "image/webp": "webp",
    "video/mp4": "mp4",
    "audio/mpeg": "mp3",
    "audio/wav": "wav",
    "audio/mp4": "m4a",
}


def upload_limits() -> UploadLimits:
    cfg = current_app.config
    return UploadLimits(
        max_bytes=int(cfg.get("UPLOAD_MAX_BYTES", 10 * 1024 * 1024)),
        max_width=int(cfg.get("UPLOAD_MAX_WIDTH", 4000)),
        max_height=int(cfg.get("UPLOAD_MAX_HEIGHT", 4000)),
    )


def clean_filename(name: str | None, fallback: str = "artwork") -> str:
    """A display/download name: no paths, no control characters, bounded length.

    Unicode letters are kept (a producer's show may well be called "Noël"); the storage key never
    uses this name, so it only needs to be safe inside a Content-Disposition header and HTML.
    """
    name = (name or "").replace("\\", "/").rsplit("/", 1)[-1]
    name = unicodedata.normalize("NFC", name)
    name = "".join(ch for ch in name if unicodedata.category(ch)[0] != "C")
    name = re.sub(r'[<>:"|?*;]', "_", name).strip(" .")
    if not name:
        name = fallback
    stem, dot, ext = name.rpartition(".")
    if not dot:
        stem, ext = name, ""
    stem = stem[:120] or fallback
    return f"{stem}.{ext[:10]}" if ext else stem


def stem_of(filename: str) -> str:
    stem = filename.rsplit(".", 1)[0] if "." in filename else filename
    return stem or "artwork"


def storage_key(owner_id: int, sha256: str, content_type: str, writer: str) -> str:
    """Where one writer's copy of these bytes lives.

    `writer` names the one job attempt (`j12a2`) or upload (`u3f9c…`) that wrote the file, so a
    failing or duplicate attempt that cleans up after itself can only ever delete its own files,
    never the copy another attempt committed an asset for (two identical jobs once deleted each
    other's outputs when keys were purely content-addressed)."""
    return f"users/{owner_id}/{sha256[:2]}/{sha256}-{writer}.{EXTENSIONS.get(content_type, 'bin')}"


def upload_writer() -> str:
    """A writer name for work outside a job (uploads, overlays saved from the studio)."""
    return "u" + secrets.token_hex(6)


@dataclass
class IngestResult:
    asset: Asset
    created: bool  # False when the same bytes were already in this producer's library
    info: ImageInfo
    near_duplicates: list[Asset] = field(default_factory=list)


def thumb_key_for(image_key: str) -> str:
    """The thumbnail's key follows its image's key, so it belongs to the same writer."""
    return "thumbs/" + image_key.rsplit(".", 1)[0] + ".webp"


def apply_analysis(
    asset: Asset, analysis: Analysis, put: Callable[[str, bytes, str], None], thumb_key: str | None = None
) -> None:
    """Store the thumbnail and record hash and dominant colours on a not-yet-committed asset.

    `put` is the storage writer of the caller (a job passes its tracked writer, so a failed job
    removes the thumbnail too); `thumb_key` defaults to the one derived from the image's key."""
    key = thumb_key or thumb_key_for(asset.storage_key)
    put(key, analysis.thumbnail, "image/webp")
    asset.thumb_key = key
    asset.phash = analysis.dhash
    asset.likeness = analysis.likeness or None
    asset.dominant_colors = [
        {"hex": c.hex, "rgb": list(c.rgb), "lab": [round(v, 2) for v in c.lab], "share": round(c.share, 4)}
        for c in analysis.colors
    ]
    asset.colors = [
        AssetColor(hex=c.hex, l=float(c.lab[0]), a=float(c.lab[1]), b=float(c.lab[2]), share=float(c.share))
        for c in analysis.colors
    ]


#: Hash matches looked at per upload (nearest first); each is confirmed by its likeness signature.
NEAR_DUPLICATE_CANDIDATES = 20


def find_near_duplicates(
    owner_id: int,
    dhash: str,
    likeness: bytes | None = None,
    exclude_id: int | None = None,
    limit: int = 3,
) -> list[Asset]:
    """Assets of this owner that look like the image with this hash and likeness signature.

    The perceptual hash only nominates candidates (within the near-duplicate distance); each is then
    confirmed by `imaging.likeness.same_picture` (colour and structure), because flat, low-detail and
    text-heavy pictures have near-constant hashes: a scanned page once "matched" a green square.
    Without a signature there is no confirmation, so nothing is reported. Hashes are 16 hex
    characters; comparing a few thousand in Python costs well under a millisecond each, and keeps
    the query portable (SQLite and Postgres)."""
    from webapp.imaging import NEAR_DUPLICATE_MAX_DISTANCE, hamming  # numpy: imported on use
    from webapp.imaging.likeness import is_current, same_picture

    if not is_current(likeness):
        return []
    rows = db.session.execute(
        select(Asset.id, Asset.phash).where(
            Asset.owner_id == owner_id,
            Asset.phash.is_not(None),
            # Auto-format outputs are derived from an original already here: offering to "use" a poster
            # instead of the upload would auto-format a poster.
            Asset.source != "autoformat",
        )
    ).all()
    close = sorted(
        (hamming(dhash, ph), aid)
        for aid, ph in rows
        if aid != exclude_id and len(ph) == len(dhash) and hamming(dhash, ph) <= NEAR_DUPLICATE_MAX_DISTANCE
    )[:NEAR_DUPLICATE_CANDIDATES]
    if not close:
        return []
    found = {
        a.id: a
        for a in db.session.scalars(
            select(Asset).options(undefer(Asset.likeness)).where(Asset.id.in_([aid for _, aid in close]))
        )
    }
    confirmed: list[Asset] = []
    backfilled = False
    for _, aid in close:
        asset = found.get(aid)
        if asset is None:
            continue
        if not is_current(asset.likeness):
            asset.likeness = likeness_of_stored(asset)
            backfilled = backfilled or asset.likeness is not None
        if asset.likeness is not None and same_picture(likeness, asset.likeness):
            confirmed.append(asset)
            if len(confirmed) >= limit:
                break
    if backfilled:
        try:
            db.session.commit()
        except Exception:  # only a cache: the next upload computes it again
            db.session.rollback()
            log.warning("could not store backfilled likeness signatures", exc_info=True)
    return confirmed


def likeness_of_stored(asset: Asset) -> bytes | None:
    """An older asset's likeness signature, made from its stored thumbnail (or its image if it has
    none). None when neither can be read: an unconfirmed candidate is simply not reported."""
    from webapp.imaging.analysis import near_duplicate_keys

    store = get_storage()
    for key in (asset.thumb_key, asset.storage_key):
        if not key:
            continue
        try:
            return near_duplicate_keys(store.get(key))[1]
        except Exception:
            log.warning("could not compute the likeness of asset %s from %s", asset.id, key, exc_info=True)
    return None


def find_by_sha(owner_id: int, sha256: str) -> Asset | None:
    return db.session.scalar(select(Asset).where(Asset.owner_id == owner_id, Asset.sha256 == sha256))


def without_private_metadata(data: bytes, info: ImageInfo) -> bytes:
    """The upload as it will be stored: without GPS, serial numbers, owner names, XMP/IPTC or text
    chunks (STRIP_PRIVATE_METADATA, on by default), pixels untouched (see imaging.metadata).

    A file whose structure the filter cannot walk is refused rather than stored with its private
    details; a changed file is validated again, so what is stored is always a decodable image."""
    if not current_app.config.get("STRIP_PRIVATE_METADATA", True):
        return data
    try:
        stripped = strip_private(data, info.format)
        if stripped is not data:
            _check_same_image(stripped, info)
    except (MetadataError, ImageRejected) as exc:
        log.warning("upload refused: metadata could not be removed (%s)", exc)
        raise ImageRejected(
            "We could not remove this image's private details (location, camera serial numbers) "
            "because its file structure is unusual. Re-save or export it as JPEG, PNG or WebP and "
            "upload it again.",
            "corrupt",
        ) from None
    return stripped


def _check_same_image(data: bytes, info: ImageInfo) -> None:
    """A cheap structural check of the filtered file: it parses (every JPEG marker up to the scan,
    every PNG chunk's CRC) as the same format and dimensions. The pixel data itself is copied unchanged
    by the filter, so a second full decode (which doubles validation time) would prove nothing new."""
    import io

    from PIL import Image

    try:
        with Image.open(io.BytesIO(data)) as im:
            # info's size is after EXIF orientation, Pillow's before it: compare the two sides.
            same = (im.format or "").lower() == info.format and sorted(im.size) == sorted(
                (info.width, info.height)
            )
            im.verify()
    except Exception as exc:
        raise MetadataError(f"filtered file does not parse: {exc}") from exc
    if not same:
        raise MetadataError("filtered file is not the same image")


def ingest_upload(
    owner: User,
    data: bytes,
    filename: str | None,
    *,
    info: ImageInfo | None = None,
    defer_analysis: bool = False,
) -> IngestResult:
    """Validate an upload by its content, store it once, record it. Raises ImageRejected.

    Order matters for "loses nothing, leaves nothing": validate fully first (nothing stored on a
    refusal), write the bytes, then insert and commit; if the commit fails the bytes are removed.

    Identity is the SHA-256 of the bytes as stored (after private metadata is removed): the asset's
    hash always matches its file, and two uploads differing only in metadata are the same image.

    `info` is `inspect_upload`'s verdict when the caller already has it. With `defer_analysis` only
    what the near-duplicate question needs (hash and likeness, from a decode of the image: an
    undecodable file is still refused here) is computed; the thumbnail and colours are left to the
    caller's job (`services.upload_analysis`).
    """
    if info is None:
        info = inspect_upload(data, upload_limits())
    data = without_private_metadata(data, info)
    sha = hashlib.sha256(data).hexdigest()
    existing = find_by_sha(owner.id, sha)
    if existing is not None:
        return IngestResult(existing, False, info)
    name = clean_filename(filename)
    stem = stem_of(name)
    ext = EXTENSIONS[info.mime_type]
    key = storage_key(owner.id, sha, info.mime_type, upload_writer())
    if defer_analysis:
        from webapp.imaging.analysis import near_duplicate_keys  # numpy: imported where used

        analysis = None
        dhash, likeness = near_duplicate_keys(data)
    else:
        from webapp.imaging import analyze  # numpy (and scikit-learn): imported where used, not at start-up

        analysis = analyze(data)
        dhash, likeness = analysis.dhash, analysis.likeness
    store = get_storage()
    written: list[str] = []

    def put(k: str, payload: bytes, content_type: str) -> None:
        store.put(k, payload, content_type)
        written.append(k)

    put(key, data, info.mime_type)
    asset = Asset(
        owner_id=owner.id,
        kind=AssetKind.ORIGINAL.value,
        storage_key=key,
        filename=f"{stem}.{ext}",
        content_type=info.mime_type,
        bytes=len(data),
        width=info.width,
        height=info.height,
        sha256=sha,
        source="upload",
        provenance={"source": "upload", "original_filename": name},
    )
    try:
        if analysis is not None:
            apply_analysis(asset, analysis, put)
        else:
            asset.phash, asset.likeness = dhash, likeness or None
        describe_new(asset)
        db.session.add(asset)
        db.session.commit()
    except IntegrityError:
        # The same bytes arrived twice at once: keep the row that won (and its own files), remove
        # the copy this request wrote — its keys are ours alone, so nothing of the winner's goes.
        db.session.rollback()
        discard_stored(written)
        winner = find_by_sha(owner.id, sha)
        if winner is None:
            raise
        return IngestResult(winner, False, info)
    except BaseException:
        db.session.rollback()
        discard_stored(written)
        raise
    near = find_near_duplicates(owner.id, dhash, likeness, exclude_id=asset.id)
    return IngestResult(asset, True, info, near)


def commit_new_asset(asset: Asset, written: list[str]) -> Asset:
    """Commit a new asset, or — when the same bytes were committed meanwhile by another request
    or job (unique per owner and sha256) — drop ours, delete only the files this writer stored,
    and return the winner. Either way the caller gets an asset whose files exist."""
    try:
        describe_new(asset)
        db.session.add(asset)
        db.session.commit()
        return asset
    except IntegrityError:
        db.session.rollback()
        discard_stored(written)
        winner = find_by_sha(asset.owner_id, asset.sha256)
        if winner is None:
            raise
        return winner
    except BaseException:
        db.session.rollback()
        discard_stored(written)
        raise


def discard_stored(keys: list[str], after: str = "a failed upload") -> None:
    """Best-effort removal of files an unfinished attempt wrote (a failure is logged, never raised:
    the caller is already handling the error that made the files orphans)."""
    store = get_storage()
    for k in keys:
        try:
            store.delete(k)
        except Exception:
            log.exception("could not remove %s after %s", k, after)


def get_owned_asset(asset_id: int, user: User) -> Asset | None:
    """The one place asset ownership is decided. Staff and admins may view everything."""
    asset = db.session.get(Asset, asset_id)
    if asset is None:
        return None
    if asset.owner_id != user.id and not user.is_staff:
        return None
    return asset


__all__ = [
    "ImageRejected",
    "IngestResult",
    "clean_filename",
    "commit_new_asset",
    "find_by_sha",
    "find_near_duplicates",
    "get_owned_asset",
    "ingest_upload",
    "storage_key",
    "upload_limits",
    "upload_writer",
]
