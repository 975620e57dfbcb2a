"""Removing private metadata from originals stored before uploads were filtered
(`flask maintenance strip-metadata`).

Each original is rewritten the way a new upload is stored (webapp.imaging.metadata: pixels
untouched), under a new key named after its new hash, and the row points at it in one commit
together with a tombstone for the old file, which is then removed — the same "nothing orphaned"
order as library deletes. An original whose stripped bytes equal another asset of the same owner
(two uploads that differed only in metadata) is left as it is and reported: merging assets is a
producer's decision, not housekeeping's. Idempotent: a clean file comes back unchanged.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass, field

from sqlalchemy import select

from webapp.extensions import db
from webapp.imaging.metadata import strip_private
from webapp.models import Asset, AssetKind, StorageTombstone
from webapp.services.assets import find_by_sha, storage_key, upload_writer
from webapp.storage import get_storage

log = logging.getLogger(__name__)

FORMATS = {"image/jpeg": "jpeg", "image/png": "png", "image/webp": "webp"}


@dataclass
class BackfillReport:
    checked: int = 0
    cleaned: list[int] = field(default_factory=list)  # asset ids rewritten (or, dry run, to rewrite)
    duplicates: list[int] = field(default_factory=list)  # left alone: clean bytes = another asset
    failed: list[int] = field(default_factory=list)  # unreadable structure or storage error
    saved_bytes: int = 0

    def as_dict(self) -> dict:
        return {
            "checked": self.checked,
            "cleaned": self.cleaned,
            "duplicates": self.duplicates,
            "failed": self.failed,
            "saved_bytes": self.saved_bytes,
        }


def strip_stored_originals(dry_run: bool = False, batch: int = 200) -> BackfillReport:
    """Rewrite every stored original that still carries private metadata (see module doc)."""
    from webapp.services.library import purge_tombstones

    report = BackfillReport()
    store = get_storage()
    last_id = 0
    while True:
        rows = list(
            db.session.scalars(
                select(Asset)
                .where(Asset.kind == AssetKind.ORIGINAL.value, Asset.id > last_id)
                .order_by(Asset.id)
                .limit(batch)
            )
        )
        if not rows:
            break
        for asset in rows:
            last_id = asset.id
            report.checked += 1
            fmt = FORMATS.get(asset.content_type)
            if fmt is None:
                continue
            try:
                data = store.get(asset.storage_key)
                clean = strip_private(data, fmt)
            except Exception as exc:  # unreadable (MetadataError) or missing: the rest still run
                log.warning("strip-metadata: asset %s skipped: %s", asset.id, exc)
                report.failed.append(asset.id)
                continue
            if clean is data:
                continue
            sha = hashlib.sha256(clean).hexdigest()
            if find_by_sha(asset.owner_id, sha) is not None:
                report.duplicates.append(asset.id)
                continue
            report.cleaned.append(asset.id)
            report.saved_bytes += len(data) - len(clean)
            if dry_run:
                continue
            old_key = asset.storage_key
            new_key = storage_key(asset.owner_id, sha, asset.content_type, upload_writer())
            store.put(new_key, clean, asset.content_type)
            try:
                asset.storage_key, asset.sha256, asset.bytes = new_key, sha, len(clean)
                db.session.add(StorageTombstone(storage_key=old_key))
                db.session.commit()
            except Exception:
                db.session.rollback()
                store.delete(new_key)
                report.cleaned.remove(asset.id)
                report.failed.append(asset.id)
                log.exception("strip-metadata: asset %s not updated", asset.id)
                continue
            purge_tombstones([old_key])
    return report
