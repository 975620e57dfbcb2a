"""Overlay renders as versions: re-rendering the overlay of an image replaces its previous render.

A render is an "edited" asset whose provenance says ``source: overlay`` and whose parent is the clean
image it was set on (poster, square or banner: the source fixes the format). Per source there is one
*current* render; the previous ones are *superseded*:

- a previous render that a show slot uses (or that the producer starred) is kept as an older
  version, listed inside its stack, never as a tile of its own — a show never loses its file;
- an unused, unstarred previous render is deleted with its files: its overlay spec is kept on the
  clean image, so the same render can be made again at no cost.

Concurrent re-renders of one source are serialised by a row lock on the source; the usage check and
the delete run under a lock on the render, which a show assigning it must wait for (its foreign key),
so a render is never deleted from under a show that has just chosen it.
"""

from __future__ import annotations

import logging

from sqlalchemy import or_, select

from webapp.extensions import db
from webapp.models import SLOTS, Asset, Show

log = logging.getLogger(__name__)


def _renders_of(source_id: int, owner_id: int) -> list[Asset]:
    rows = db.session.scalars(
        select(Asset).where(Asset.parent_id == source_id, Asset.owner_id == owner_id).order_by(Asset.id)
    )
    return [a for a in rows if a.is_overlay_render]


def _lock(ids: list[int]) -> None:
    if ids and db.engine.dialect.name == "postgresql":
        db.session.execute(select(Asset.id).where(Asset.id.in_(ids)).with_for_update())


def _slot_users(ids: list[int]) -> set[int]:
    from webapp.models import MEDIA_SLOTS

    used: set[int] = set()
    slots = SLOTS + tuple(MEDIA_SLOTS)
    conditions = [getattr(Show, f"{s}_asset_id").in_(ids) for s in slots]
    for show in db.session.scalars(select(Show).where(or_(*conditions))).unique():
        used |= {show.slot_asset_id(s) for s in slots} & set(ids)
    return used


def make_current(render: Asset) -> list[str]:
    """``render`` (just saved, or an identical earlier render found by its bytes) becomes the current
    render of its source; the others become older versions, and the unused ones are deleted.
    Returns the file names of the deleted renders. Commits."""
    if not render.is_overlay_render or render.parent_id is None:
        return []
    source_id, owner_id = render.parent_id, render.owner_id
    _lock([source_id])  # one re-render of a source at a time
    others = [a for a in _renders_of(source_id, owner_id) if a.id != render.id]
    render.superseded = False
    for other in others:
        other.superseded = True
    db.session.commit()

    candidates = [a.id for a in others if not a.favorite]
    if not candidates:
        return []
    _lock(candidates)
    used = _slot_users(candidates)
    unused = [
        a
        for a in db.session.scalars(select(Asset).where(Asset.id.in_(candidates)))
        if a.id not in used and a.superseded and not a.favorite
    ]
    if not unused:
        db.session.commit()
        return []
    from webapp.services.library import delete_assets

    names = [a.filename for a in unused]
    delete_assets(unused)  # commits (and so releases the locks)
    log.info("re-render of asset %s replaced %d unused render(s)", source_id, len(names))
    return names


def promote_previous(deleted: Asset, exclude: set[int]) -> None:
    """A current render is being deleted: its newest older version becomes current again."""
    if deleted.parent_id is None:
        return
    older = [
        a for a in _renders_of(deleted.parent_id, deleted.owner_id) if a.superseded and a.id not in exclude
    ]
    if older:
        older[-1].superseded = False
