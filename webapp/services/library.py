"""The media library: finding, describing and deleting a producer's images.

Queries here are written to stay at a constant number of SQL statements whatever the number of
assets (the gallery is one SELECT with its usage counts and show titles joined in), and to page
with keysets where the sort allows it, so page 40 costs what page 1 costs.
"""

from __future__ import annotations

import base64
import json
import logging
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Select, Text, and_, cast, func, literal, or_, select, tuple_
from sqlalchemy.orm import aliased

from webapp.extensions import db
from webapp.models import MEDIA_SLOTS, SLOTS, Asset, AssetColor, Show, StorageTombstone, User
from webapp.storage import get_storage

log = logging.getLogger(__name__)
ALL_SLOTS = SLOTS + tuple(MEDIA_SLOTS)  # images, then the promo clip and the voice promo

PAGE_SIZE = 48
SORTS = {"newest": "Newest first", "oldest": "Oldest first", "largest": "Largest first", "used": "Most used"}
KINDS = ("original", "poster", "square", "banner", "generated", "edited")
MEDIA = {"image": "Images", "video": "Videos", "audio": "Audio"}
SOURCES = {"upload": "Uploaded", "autoformat": "Auto-formatted", "ai": "AI", "animate": "Animated"}
COLOR_RADIUS = 22.0  # CIELAB distance: "close" colours for colour search
COLOR_MIN_SHARE = 0.08  # ignore specks: the colour must cover at least 8% of the image


@dataclass(frozen=True)
class LibraryFilter:
    """What the gallery was asked for; every field already validated by the form."""

    kind: str = ""
    source: str = ""
    media: str = ""  # image / video / audio
    status: str = ""  # draft / held / published / rejected (issue 17); "" = everything but rejected
    show_id: int | None = None
    q: str = ""
    sort: str = "newest"
    color: str = ""  # "#rrggbb"
    cursor: str = ""
    favorites: bool = False  # only the producer's starred images (and the stacks holding them)

    def as_args(self, **override: Any) -> dict[str, Any]:
        args = {
            "kind": self.kind,
            "source": self.source,
            "media": self.media,
            "status": self.status,
            "show": self.show_id or "",
            "q": self.q,
            "sort": self.sort,
            "color": self.color,
            "by_color": "1" if self.color else "",
            "favorites": "1" if self.favorites else "",
        }
        args.update(override)
        return {k: v for k, v in args.items() if v not in ("", None)}


@dataclass
class GalleryItem:
    asset: Asset
    usage: int
    show_title: str | None
    color_distance: float | None = None


@dataclass
class GalleryPage:
    items: list[GalleryItem]
    next_cursor: str | None
    filters: LibraryFilter
    total_hint: int | None = None
    notes: list[str] = field(default_factory=list)


def _encode_cursor(values: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(values, separators=(",", ":")).encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> dict[str, Any]:
    """Cursors come from the URL: anything malformed (or out of range) is "first page"."""
    if not cursor or len(cursor) > 200:
        return {}
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        data = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (ValueError, TypeError):
        return {}
    if not isinstance(data, dict):
        return {}
    limits = {"id": 2**31 - 1, "o": 10**7, "b": 2**62}
    clean = {}
    for key, value in data.items():
        if (
            key in limits
            and isinstance(value, int)
            and not isinstance(value, bool)
            and 0 <= value <= limits[key]
        ):
            clean[key] = value
    return clean


def usage_count_expr():
    """Correlated subquery: how many show slots use the asset."""
    per_slot = [
        select(func.count()).where(getattr(Show, f"{slot}_asset_id") == Asset.id).scalar_subquery()
        for slot in ALL_SLOTS
    ]
    total = per_slot[0]
    for extra in per_slot[1:]:
        total = total + extra
    return total.label("usage")


STATUSES = ("draft", "held", "published", "rejected")


def status_clause(status: str) -> tuple:
    """The library shows what is not hidden (bulk results under review are not), never rejected
    images unless asked for them by status; a status narrows to it."""
    if status == "rejected":
        return (Asset.status == "rejected",)
    base = (Asset.hidden.is_(False), Asset.status != "rejected")
    return (*base, Asset.status == status) if status else base


def gallery(user: User, flt: LibraryFilter, page_size: int = PAGE_SIZE) -> GalleryPage:
    """One page of the producer's assets: ONE SQL statement, however many assets there are."""
    usage = usage_count_expr()
    show = aliased(Show)
    query: Select = (
        select(Asset, usage, show.title)
        .outerjoin(show, show.id == Asset.show_id)
        .where(Asset.owner_id == user.id, *status_clause(flt.status))
    )
    query = apply_filters(query, flt, show)
    cursor = decode_cursor(flt.cursor)
    distance = None
    if flt.color:
        distance = _color_distance_subquery(flt.color)
        query = query.join(distance, distance.c.asset_id == Asset.id).add_columns(distance.c.dist)
        query = query.order_by(distance.c.dist.asc(), Asset.id.desc())
        offset = int(cursor.get("o", 0))
        query = query.offset(max(0, offset)).limit(page_size + 1)
    elif flt.sort == "used":
        query = query.order_by(usage.desc(), Asset.id.desc())
        offset = int(cursor.get("o", 0))
        query = query.offset(max(0, offset)).limit(page_size + 1)
    elif flt.sort == "oldest":
        if "id" in cursor:
            query = query.where(Asset.id > int(cursor["id"]))
        query = query.order_by(Asset.id.asc()).limit(page_size + 1)
    elif flt.sort == "largest":
        if "b" in cursor and "id" in cursor:
            query = query.where(
                tuple_(Asset.bytes, Asset.id) < tuple_(literal(int(cursor["b"])), literal(int(cursor["id"])))
            )
        query = query.order_by(Asset.bytes.desc(), Asset.id.desc()).limit(page_size + 1)
    else:
        if "id" in cursor:
            query = query.where(Asset.id < int(cursor["id"]))
        query = query.order_by(Asset.id.desc()).limit(page_size + 1)

    rows = db.session.execute(query).all()
    more = len(rows) > page_size
    rows = rows[:page_size]
    items = [
        GalleryItem(
            asset=row[0],
            usage=int(row[1] or 0),
            show_title=row[2],
            color_distance=float(row[3]) if distance is not None else None,
        )
        for row in rows
    ]
    next_cursor = None
    if more and items:
        last = items[-1].asset
        if flt.color or flt.sort == "used":
            next_cursor = _encode_cursor({"o": int(cursor.get("o", 0)) + page_size})
        elif flt.sort == "largest":
            next_cursor = _encode_cursor({"b": last.bytes, "id": last.id})
        else:
            next_cursor = _encode_cursor({"id": last.id})
    return GalleryPage(items=items, next_cursor=next_cursor, filters=flt)


def apply_filters(query: Select, flt: LibraryFilter, show) -> Select:
    """The filters and search of the gallery (``show``: the aliased Show joined for its title)."""
    if flt.favorites:
        query = query.where(Asset.favorite.is_(True))
    if flt.kind:
        query = query.where(Asset.kind == flt.kind)
    if flt.source:
        query = query.where(Asset.source == flt.source)
    if flt.media:
        query = query.where(Asset.media_kind == flt.media)
    if flt.show_id:
        in_slot = or_(*(getattr(Show, f"{s}_asset_id") == Asset.id for s in ALL_SLOTS))
        slot_of_show = select(Show.id).where(Show.id == flt.show_id, in_slot).exists()
        query = query.where(or_(Asset.show_id == flt.show_id, slot_of_show))
    if flt.q:
        like = f"%{_escape_like(flt.q)}%"
        query = query.where(
            or_(
                Asset.filename.ilike(like, escape="\\"),
                Asset.prompt.ilike(like, escape="\\"),
                show.title.ilike(like, escape="\\"),
                Asset.alt_text.ilike(like, escape="\\"),
                Asset.title.ilike(like, escape="\\"),
                Asset.description.ilike(like, escape="\\"),
                cast(Asset.tags, Text).ilike(like, escape="\\"),
            )
        )
    return query


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _color_distance_subquery(hex_color: str):
    """Per asset, the smallest CIELAB distance between the colour and one of its dominant colours,
    using the (l, a, b) index to pre-filter a box around the colour."""
    from webapp.imaging import hex_to_rgb, srgb_to_lab

    lab = srgb_to_lab([hex_to_rgb(hex_color)])[0]
    L, A, B = (float(v) for v in lab)
    r = COLOR_RADIUS
    d2 = (
        (AssetColor.l - L) * (AssetColor.l - L)
        + (AssetColor.a - A) * (AssetColor.a - A)
        + (AssetColor.b - B) * (AssetColor.b - B)
    )
    return (
        select(AssetColor.asset_id.label("asset_id"), func.min(d2).label("dist"))
        .where(
            and_(
                AssetColor.share >= COLOR_MIN_SHARE,
                AssetColor.l.between(L - r, L + r),
                AssetColor.a.between(A - r, A + r),
                AssetColor.b.between(B - r, B + r),
                d2 <= r * r,
            )
        )
        .group_by(AssetColor.asset_id)
        .subquery()
    )


def owned_assets(user: User, ids: list[int]) -> list[Asset]:
    """The subset of `ids` that the user owns (one query)."""
    if not ids:
        return []
    return list(db.session.scalars(select(Asset).where(Asset.owner_id == user.id, Asset.id.in_(ids[:500]))))


@dataclass
class Usage:
    slots: list[tuple[Show, str]]
    derived: list[Asset]


def usages(assets: list[Asset]) -> dict[int, Usage]:
    """Where each asset is used: show slots (and derived images that will lose their parent)."""
    ids = [a.id for a in assets]
    result = {i: Usage([], []) for i in ids}
    if not ids:
        return result
    conditions = [getattr(Show, f"{s}_asset_id").in_(ids) for s in ALL_SLOTS]
    for show in db.session.scalars(select(Show).where(or_(*conditions))).unique():
        for slot in ALL_SLOTS:
            aid = show.slot_asset_id(slot)
            if aid in result:
                result[aid].slots.append((show, slot))
    for child in db.session.scalars(select(Asset).where(Asset.parent_id.in_(ids))):
        result[child.parent_id].derived.append(child)
    return result


def family(asset: Asset, known: list[Asset], limit: int = 24) -> list[Asset]:
    """The rest of ``asset``'s stack (issue 19: everything whose ``group_id`` is the same original),
    newest first, without the assets in ``known`` (its parent and direct children, shown apart).

    An original's own page then lists what was made from what it made (an overlay render of its
    poster, a clip of that render), not only its direct children."""
    root = asset.group_id or asset.id
    skip = {asset.id, *(a.id for a in known)}
    rows = db.session.scalars(
        select(Asset)
        .where(
            Asset.owner_id == asset.owner_id,
            or_(Asset.group_id == root, Asset.id == root),
            Asset.id.not_in(skip),
        )
        .order_by(Asset.id.desc())
        .limit(limit)
    )
    return list(rows)


def delete_assets(assets: list[Asset]) -> int:
    """Delete assets and their stored bytes, with nothing orphaned either way.

    One transaction deletes the rows (show slots are cleared by their ON DELETE SET NULL foreign
    keys) and records a tombstone for every stored object. After the commit the objects are
    removed and their tombstones with them; whatever fails stays as a tombstone for
    `purge_tombstones()` to finish. A crash before the commit leaves everything as it was.
    """
    if not assets:
        return 0
    keys: list[str] = []
    for asset in assets:
        keys.append(asset.storage_key)
        if asset.thumb_key:
            keys.append(asset.thumb_key)
    try:
        from webapp.services.library_stacks import regroup_before_delete

        ids = [a.id for a in assets]
        regroup_before_delete(ids)  # the rest of a stack re-forms; an older render becomes current
        for key in keys:
            db.session.add(StorageTombstone(storage_key=key))
        db.session.execute(AssetColor.__table__.delete().where(AssetColor.asset_id.in_(ids)))
        for slot in ALL_SLOTS:
            col = getattr(Show, f"{slot}_asset_id")
            db.session.execute(Show.__table__.update().where(col.in_(ids)).values({col.key: None}))
        for asset in assets:
            db.session.delete(asset)
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    purge_tombstones(keys)
    return len(assets)


def purge_tombstones(keys: list[str] | None = None, limit: int = 500) -> int:
    """Remove stored objects listed as tombstones (all of them, or just `keys`)."""
    query = select(StorageTombstone).order_by(StorageTombstone.id).limit(limit)
    if keys is not None:
        query = query.where(StorageTombstone.storage_key.in_(keys))
    stones = list(db.session.scalars(query))
    store = get_storage()
    done = 0
    for stone in stones:
        # Another asset may have re-acquired the same bytes since (same owner re-uploaded them).
        still_used = db.session.scalar(
            select(func.count())
            .select_from(Asset)
            .where(or_(Asset.storage_key == stone.storage_key, Asset.thumb_key == stone.storage_key))
        )
        try:
            if not still_used:
                store.delete(stone.storage_key)
            db.session.delete(stone)
            done += 1
        except Exception:
            stone.attempts += 1
            log.warning("could not delete %s; will retry", stone.storage_key, exc_info=True)
    db.session.commit()
    return done


def ensure_thumbnail(asset: Asset) -> None:
    """Make the thumbnail (and hash and colours) of an asset stored without one: older than
    analysis, or an upload whose job did not get to it (services.upload_analysis)."""
    from webapp.services.assets import upload_writer
    from webapp.services.upload_analysis import complete_analysis

    complete_analysis(asset.id, upload_writer())
    db.session.refresh(asset)
    if not asset.thumb_key:  # not an image (audio): the caller serves the file itself
        raise ValueError(f"asset {asset.id} has no thumbnail and none can be made")
