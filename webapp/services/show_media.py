"""A show's media slots beside its images: the promo clip (a video) and the voice promo (an audio file).

Image slots check pixel sizes (`services.shows`); media slots check only what the file is (`media_kind`)
and whose it is: any of the owner's clips may be the promo, whatever its format.
"""

from __future__ import annotations

from typing import Any

from webapp.extensions import db
from webapp.models import MEDIA_SLOTS, Asset, Show

MEDIA_SLOT_LABELS = {"promo": "Promo clip", "voice": "Voice promo"}
NOT_YOURS = "That file is not in this show's library. Choose one of your own."


def assign_media_slot(show: Show, slot: str, asset: Asset | None) -> None:
    """Put a video in ``promo`` or an audio file in ``voice`` and commit; ValueError says why not."""
    if slot not in MEDIA_SLOTS:
        raise ValueError(f"There is no “{slot}” media slot: a show has a promo clip and a voice promo.")
    if asset is None or asset.owner_id != show.owner_id:
        raise ValueError(NOT_YOURS)
    wanted = MEDIA_SLOTS[slot]
    if asset.media_kind != wanted:
        needs = "a video" if wanted == "video" else "an audio file"
        got = "an image" if asset.media_kind == "image" else f"a {asset.media_kind} file"
        raise ValueError(f"The {MEDIA_SLOT_LABELS[slot].lower()} slot takes {needs}; that is {got}.")
    setattr(show, f"{slot}_asset_id", asset.id)
    setattr(show, slot, asset)
    if asset.show_id is None:
        asset.show_id = show.id
    db.session.commit()


def clear_media_slot(show: Show, slot: str) -> None:
    if slot not in MEDIA_SLOTS:
        raise ValueError(f"There is no “{slot}” media slot.")
    setattr(show, f"{slot}_asset_id", None)
    setattr(show, slot, None)
    db.session.commit()


def media_slot_views(show: Show) -> list[dict[str, Any]]:
    return [
        {"name": slot, "label": MEDIA_SLOT_LABELS[slot], "kind": kind, "asset": getattr(show, slot)}
        for slot, kind in MEDIA_SLOTS.items()
    ]
