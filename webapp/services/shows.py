"""Shows: the event a producer makes images for.

Creating and editing a show, putting artwork in its poster / square / banner slots, listing a
producer's shows, and what the show pages render. The routes stay thin; this module owns the
commits, so the library, the studio and the API can reuse them. The pure parts live apart:
input checks in services.show_rules, date and price wording in services.show_text. Their
public names are re-exported here so existing callers keep working.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC
from decimal import Decimal
from typing import Any, TypedDict

from sqlalchemy import ColumnElement, and_, func, or_, select, union_all, update

from webapp.extensions import db
from webapp.imaging import FORMATS
from webapp.imaging.overlay_text import MAX_TITLE_CHARS
from webapp.models import SLOTS, Asset, AssetKind, Job, JobStatus, Performance, Show, User
from webapp.services import jobs as job_service
from webapp.services.show_media import media_slot_views
from webapp.services.show_rules import (
    MAX_PERFORMER_CHARS,
    MAX_PERFORMERS,
    MAX_PRICE,
    ZONE_REGIONS,
    check_prices,
    check_ticket_url,
    check_zone,
    local_to_utc,
    parse_performers,
    parse_price,
    zone_choices,
)
from webapp.services.show_text import (
    CURRENCIES,
    date_summary,
    format_performance,
    format_performances,
    local_parts,
    next_performance,
    price_text,
)

__all__ = [
    "CURRENCIES",
    "DEFAULT_CTA",
    "MAX_PERFORMANCES",
    "MAX_PERFORMERS",
    "MAX_PERFORMER_CHARS",
    "MAX_PRICE",
    "SLOT_SIZES",
    "ZONE_REGIONS",
    "ShowData",
    "asset_fits_slot",
    "assign_slot",
    "check_prices",
    "check_ticket_url",
    "check_zone",
    "clear_slot",
    "create_show",
    "date_summary",
    "delete_show",
    "fill_slots_from_job",
    "fitting_assets",
    "format_performance",
    "format_performances",
    "local_parts",
    "local_to_utc",
    "next_performance",
    "parse_performers",
    "parse_price",
    "price_text",
    "shows_using_asset",
    "update_show",
    "usage_counts",
    "zone_choices",
]

#: Pixel size each slot expects; the same sizes auto-format produces.
SLOT_SIZES: dict[str, tuple[int, int]] = {name: FORMATS[name].size for name in SLOTS}
#: Kinds that may go in any slot, provided their pixel size matches it exactly.
SIZED_KINDS = (AssetKind.GENERATED.value, AssetKind.EDITED.value)
SLOT_LABELS = {"poster": "Poster", "square": "Square", "banner": "Banner"}

DEFAULT_CTA = "Get Tickets"
MAX_PERFORMANCES = 100


class ShowData(TypedDict, total=False):
    """What `create_show` / `update_show` accept. Keys left out are left unchanged on update.

    `performances` is the complete wanted list: items with an `id` of one of this show's
    performances update it, items without one are added, and performances not listed are
    removed. `starts_at` is timezone-aware (any zone; stored in UTC), or naive wall-clock time
    in the item's `timezone`.
    """

    title: str
    venue_name: str
    venue_address: str
    timezone: str
    currency: str
    price_min: Decimal | None
    price_max: Decimal | None
    performers: list[str]
    cta_text: str
    ticket_url: str
    performances: list[Mapping[str, Any]]


# --------------------------------------------------------------------------- create / edit / delete


def create_show(owner: User, data: Mapping[str, Any]) -> Show:
    """A new show for `owner`, committed. `data` as in ShowData; `title` is required."""
    show = Show(owner_id=owner.id, performers=[], performances=[])
    _apply(show, {"timezone": "UTC", "currency": "USD", "cta_text": DEFAULT_CTA, **data}, creating=True)
    db.session.add(show)
    db.session.commit()
    return show


def update_show(show: Show, data: Mapping[str, Any]) -> Show:
    """Apply the keys present in `data` (see ShowData) and commit."""
    _apply(show, data, creating=False)
    db.session.commit()
    return show


def delete_show(show: Show) -> None:
    """Delete the show and its performances. Its images stay in the library: the database's
    ON DELETE SET NULL clears Asset.show_id; we clear it here too so the session agrees."""
    db.session.execute(update(Asset).where(Asset.show_id == show.id).values(show_id=None))
    db.session.delete(show)
    db.session.commit()


def _apply(show: Show, data: Mapping[str, Any], creating: bool) -> None:
    if "title" in data or creating:
        title = " ".join(str(data.get("title") or "").split())
        if not title:
            raise ValueError("Give the show a title.")
        if len(title) > MAX_TITLE_CHARS:  # refused, never cut: the poster sets every word it is given
            raise ValueError(f"Keep the title to {MAX_TITLE_CHARS} characters (it has {len(title)}).")
        show.title = title
    for key, limit in (("venue_name", 200), ("venue_address", 1000)):
        if key in data:
            setattr(show, key, str(data[key] or "").strip()[:limit])
    if "timezone" in data:
        show.timezone = check_zone(data["timezone"])
    if "currency" in data:
        code = str(data["currency"] or "").upper()
        if not re.fullmatch(r"[A-Z]{3}", code):
            raise ValueError("Choose a currency, for example USD or EUR.")
        show.currency = code
    if "price_min" in data or "price_max" in data:
        pmin = data.get("price_min", show.price_min)
        pmax = data.get("price_max", show.price_max)
        pmin, pmax = parse_price(pmin), parse_price(pmax)
        check_prices(pmin, pmax)
        show.price_min, show.price_max = pmin, pmax
    if "performers" in data:
        show.performers = parse_performers(data["performers"] or [])
    if "cta_text" in data:
        show.cta_text = (str(data["cta_text"] or "").strip() or DEFAULT_CTA)[:60]
    if "ticket_url" in data:
        show.ticket_url = check_ticket_url(data["ticket_url"])
    if "performances" in data:
        _apply_performances(show, data["performances"] or [])


def _apply_performances(show: Show, items: Sequence[Mapping[str, Any]]) -> None:
    if len(items) > MAX_PERFORMANCES:
        raise ValueError(f"A show can have at most {MAX_PERFORMANCES} performances.")
    existing = {p.id: p for p in show.performances if p.id is not None}
    keep: list[Performance] = []
    for item in items:
        zone = check_zone(item.get("timezone") or show.timezone)
        starts = item["starts_at"]
        starts = local_to_utc(starts, zone) if starts.tzinfo is None else starts.astimezone(UTC)
        perf = existing.pop(item.get("id"), None) if item.get("id") is not None else None
        if perf is None:  # unknown ids (another show's) are treated as new rows, never moved
            perf = Performance()
        perf.starts_at, perf.timezone = starts, zone
        keep.append(perf)
    keep.sort(key=lambda p: p.starts_at)
    show.performances = keep  # delete-orphan removes the ones left out


# --------------------------------------------------------------------------- slots


def asset_fits_slot(asset: Asset, slot: str) -> bool:
    """A slot takes an image made for it (kind == slot), or a generated/edited image whose
    pixel size is exactly the slot's (poster 1200x1800, square 1200x1200, banner 2160x1089)."""
    if slot not in SLOT_SIZES:
        return False
    if asset.kind == slot:
        return True
    return asset.kind in SIZED_KINDS and (asset.width, asset.height) == SLOT_SIZES[slot]


def fits_slot_clause(slot: str) -> ColumnElement[bool]:
    """`asset_fits_slot` as SQL, for listing candidates. Keep the two side by side."""
    width, height = SLOT_SIZES[slot]
    return or_(
        Asset.kind == slot,
        and_(Asset.kind.in_(SIZED_KINDS), Asset.width == width, Asset.height == height),
    )


def fitting_assets(show: Show, slot: str, page: int = 1, per_page: int = 24) -> tuple[list[Asset], int]:
    """The show owner's images that fit `slot`, newest first: (one page, total count)."""
    where = (Asset.owner_id == show.owner_id, fits_slot_clause(slot))
    total = db.session.scalar(select(func.count()).select_from(Asset).where(*where)) or 0
    rows = db.session.scalars(
        select(Asset)
        .where(*where)
        .order_by(Asset.created_at.desc(), Asset.id.desc())
        .limit(per_page)
        .offset(max(page - 1, 0) * per_page)
    )
    return list(rows), total


def _refusal(asset: Asset, slot: str) -> str:
    width, height = SLOT_SIZES[slot]
    what = f"{asset.kind} image ({asset.width}×{asset.height})"
    return (
        f"That {what} does not fit the {slot} slot. The {slot} slot takes a {slot} image, or a "
        f"generated or edited image of exactly {width}×{height}."
    )


def assign_slot(show: Show, slot: str, asset: Asset) -> None:
    """Put `asset` in the show's `slot` and commit. Raises ValueError (a message for the
    producer) when the slot is unknown, the image is someone else's, or it does not fit.
    A slot shows the image publicly, so this is publishing (`services.publishing.ready_for_show`):
    a draft is moderated first; a held or rejected image is refused (ModerationError, a ValueError)."""
    from webapp.services.publishing import ready_for_show

    if slot not in SLOT_SIZES:
        raise ValueError(f"There is no “{slot}” slot: a show has poster, square and banner.")
    if asset.owner_id != show.owner_id:
        raise ValueError("That image is not in this show's library. Choose one of your own images.")
    if not asset_fits_slot(asset, slot):
        raise ValueError(_refusal(asset, slot))
    ready_for_show([asset])
    setattr(show, f"{slot}_asset_id", asset.id)
    setattr(show, slot, asset)
    db.session.commit()


def clear_slot(show: Show, slot: str) -> None:
    """Empty the slot (the image stays in the library) and commit."""
    if slot not in SLOT_SIZES:
        raise ValueError(f"There is no “{slot}” slot: a show has poster, square and banner.")
    setattr(show, f"{slot}_asset_id", None)
    setattr(show, slot, None)
    db.session.commit()


def fill_slots_from_job(show: Show, job: Job) -> list[str]:
    """Put an auto-format job's poster, square and banner into the show's slots in one commit.

    Returns the slots filled, in slot order. The outputs also become this show's images
    (Asset.show_id) unless they already belong to another show. Raises ValueError when the job
    is not the show owner's, has not succeeded, or left no usable images, and (like `assign_slot`)
    when an output is a draft moderation holds, or is held or rejected: then no slot changes.
    """
    from webapp.services.publishing import ready_for_show

    if job.owner_id != show.owner_id or job.kind != "autoformat":
        raise ValueError("Only your own auto-format results can be used for this show.")
    if job.status != JobStatus.SUCCEEDED.value:
        raise ValueError("That auto-format job has not finished successfully, so there is nothing to assign.")
    by_slot = {a.kind: a for a in job_service.outputs_of(job) if a.kind in SLOT_SIZES}
    filled = [slot for slot in SLOTS if slot in by_slot and asset_fits_slot(by_slot[slot], slot)]
    if not filled:
        raise ValueError("That job's images are no longer in your library. Run auto-format again.")
    ready_for_show([by_slot[slot] for slot in filled])
    for slot in filled:
        asset = by_slot[slot]
        setattr(show, f"{slot}_asset_id", asset.id)
        setattr(show, slot, asset)
        if asset.show_id is None:
            asset.show_id = show.id
    db.session.commit()
    return filled


def shows_using_asset(asset_id: int) -> list[tuple[Show, str]]:
    """Every (show, slot) that displays this image, e.g. to warn before it is deleted."""
    columns = {slot: getattr(Show, f"{slot}_asset_id") for slot in SLOTS}
    shows = db.session.scalars(
        select(Show).where(or_(*(col == asset_id for col in columns.values()))).order_by(Show.id)
    ).unique()
    return [(show, slot) for show in shows for slot in SLOTS if show.slot_asset_id(slot) == asset_id]


def usage_counts(asset_ids: Iterable[int]) -> dict[int, int]:
    """How many show slots use each asset, in ONE query; 0 for unused ids."""
    ids = sorted(set(asset_ids))
    if not ids:
        return {}
    parts = [
        select(getattr(Show, f"{slot}_asset_id").label("asset_id")).where(
            getattr(Show, f"{slot}_asset_id").in_(ids)
        )
        for slot in SLOTS
    ]
    used = union_all(*parts).subquery()
    rows = db.session.execute(select(used.c.asset_id, func.count()).group_by(used.c.asset_id))
    counts = dict.fromkeys(ids, 0)
    counts.update(dict(rows.all()))
    return counts


# --------------------------------------------------------------------------- listing


def list_shows(owner: User, page: int = 1, per_page: int = 20) -> tuple[list[Show], int]:
    """The producer's shows, newest first: (one page, total)."""
    where = Show.owner_id == owner.id
    total = db.session.scalar(select(func.count()).select_from(Show).where(where)) or 0
    rows = db.session.scalars(
        select(Show)
        .where(where)
        .order_by(Show.created_at.desc(), Show.id.desc())
        .limit(per_page)
        .offset(max(page - 1, 0) * per_page)
    ).unique()
    return list(rows), total


#: A show title in a select option: long enough to recognise, short enough for a 390 px phone.
OPTION_TITLE_CHARS = 26


def option_title(title: str, limit: int = OPTION_TITLE_CHARS) -> str:
    """``title`` for a select option: whole if it fits, else cut at a word (or mid-word) with "…"."""
    title = " ".join((title or "").split())
    if len(title) <= limit:
        return title
    cut = title[: limit - 1]
    space = cut.rfind(" ")
    return (cut[:space] if space >= limit // 2 else cut).rstrip(" ,;:-–—") + "…"


def show_choices(owner: User, limit: int = 200) -> list[tuple[int, str]]:
    """(id, title) of the producer's shows, newest first, for "use these for show" selects (titles
    shortened for the option: see `option_title`)."""
    rows = db.session.execute(
        select(Show.id, Show.title)
        .where(Show.owner_id == owner.id)
        .order_by(Show.created_at.desc(), Show.id.desc())
        .limit(limit)
    )
    return [(i, option_title(t)) for i, t in rows]


def _slot_ids(show: Show) -> list[int]:
    return [i for i in (show.slot_asset_id(slot) for slot in SLOTS) if i]


def image_counts(show_ids: Iterable[int]) -> dict[int, int]:
    """Images of each show: made for it (Asset.show_id) or placed in one of its slots."""
    ids = sorted(set(show_ids))
    if not ids:
        return {}
    pairs = set(db.session.execute(select(Asset.show_id, Asset.id).where(Asset.show_id.in_(ids))).tuples())
    for show in db.session.scalars(select(Show).where(Show.id.in_(ids))):
        pairs |= {(show.id, asset_id) for asset_id in _slot_ids(show)}
    counts = dict.fromkeys(ids, 0)
    for show_id, _asset_id in pairs:
        counts[show_id] += 1
    return counts


def show_images(show: Show, limit: int = 24) -> tuple[list[Asset], int]:
    """Images of this show, newest first: made for it, or chosen for one of its slots (an image
    uploaded for another purpose and placed in the poster slot is this show's image too). A render
    a newer one replaced (``superseded``, kept because it is starred or used elsewhere) is left out
    unless one of this show's slots uses it, as in the library. Returns (up to `limit`, total)."""
    made = and_(Asset.show_id == show.id, Asset.superseded.is_(False))
    mine = or_(made, Asset.id.in_(_slot_ids(show) or [-1]))
    total = db.session.scalar(select(func.count()).select_from(Asset).where(mine)) or 0
    rows = db.session.scalars(select(Asset).where(mine).order_by(Asset.id.desc()).limit(limit))
    return list(rows), total


def default_timezone(owner: User) -> str:
    """A new show starts in the zone of the producer's latest show (most tour in one region)."""
    zone = db.session.scalar(
        select(Show.timezone).where(Show.owner_id == owner.id).order_by(Show.id.desc()).limit(1)
    )
    return zone or "UTC"


def slots_filled(show: Show) -> int:
    return sum(1 for slot in SLOTS if show.slot_asset_id(slot))


# --------------------------------------------------------------------------- what pages render

NOT_YOURS = "That image is not in this show's library. Choose one of your own images."


def asset_for_show(show: Show, asset_id: int | None) -> Asset:
    """The show owner's asset with this id. Missing and someone else's read the same, so ids
    are not confirmed."""
    asset = db.session.get(Asset, asset_id) if asset_id else None
    if asset is None or asset.owner_id != show.owner_id:
        raise ValueError(NOT_YOURS)
    return asset


def slot_view(show: Show, slot: str) -> dict[str, Any]:
    width, height = SLOT_SIZES[slot]
    return {
        "name": slot,
        "label": SLOT_LABELS[slot],
        "asset": getattr(show, slot),
        "width": width,
        "height": height,
    }


def recent_autoformat_jobs(owner_id: int, limit: int = 10) -> list[dict[str, Any]]:
    """The producer's latest successful auto-format runs, with their source file names."""
    jobs = list(
        db.session.scalars(
            select(Job)
            .where(
                Job.owner_id == owner_id,
                Job.kind == "autoformat",
                Job.status == JobStatus.SUCCEEDED.value,
            )
            .order_by(Job.id.desc())
            .limit(limit)
        )
    )
    source_ids = {(j.input or {}).get("asset_id") for j in jobs} - {None}
    names = dict(
        db.session.execute(select(Asset.id, Asset.filename).where(Asset.id.in_(source_ids))).all()
        if source_ids
        else []
    )
    return [
        {"job": j, "source_name": names.get((j.input or {}).get("asset_id"), "deleted image")} for j in jobs
    ]


def show_view(show: Show, viewer: User) -> dict[str, Any]:
    """Everything the show page renders."""
    images, image_total = show_images(show)
    can_edit = viewer.id == show.owner_id
    return {
        "show": show,
        "can_edit": can_edit,
        "performance_lines": format_performances(show),
        "date_summary": date_summary(show),
        "price": price_text(show),
        "slots": [slot_view(show, slot) for slot in SLOTS],
        "media_slots": media_slot_views(show),
        "images": images,
        "image_total": image_total,
        "palette": None,  # the Show model has no applied palette yet
        "recent_jobs": recent_autoformat_jobs(show.owner_id) if can_edit else [],
    }


def list_view(owner: User, page: int = 1, per_page: int = 20) -> dict[str, Any]:
    """Everything the show list renders: one page of shows with their summaries and counts."""
    shows, total = list_shows(owner, page, per_page)
    images = image_counts(s.id for s in shows)
    rows = []
    for show in shows:
        upcoming = next_performance(show)
        rows.append(
            {
                "show": show,
                "next": format_performance(upcoming) if upcoming else None,
                "dates": date_summary(show),
                "price": price_text(show),
                "performances": len(show.performances),
                "images": images.get(show.id, 0),
                "filled": slots_filled(show),
                "slots": [slot_view(show, slot) for slot in SLOTS],
            }
        )
    pages = max(1, -(-total // per_page))
    return {"rows": rows, "total": total, "page": page, "pages": pages}
